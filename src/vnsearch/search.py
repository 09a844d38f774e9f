"""Search: a query and filters in; hits, facets and a suggestion out. No Flask, no click.

Matching runs on folded syllables, so accents, tone-mark placement, NFC/NFD and case
never change *what* matches. Ranking is ours (BM25 per field over numpy arrays, see
:mod:`vnsearch.view`): title over body, accents the user typed, pyvi compound words,
the query's words, word pairs and runs held by the title, and a gentle recency boost.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta

import numpy as np

from vnsearch import analysis, snippets
from vnsearch.articles import VIETNAM_TZ
from vnsearch.config import Settings
from vnsearch.indexer import open_index
from vnsearch.masks import MAX_WILDCARD_TERMS, Match, highlight_terms, match
from vnsearch.matching import Plan, Unit
from vnsearch.query import MAX_QUERY_CHARS, Clause, Query, parse
from vnsearch.suggest import Suggester, keep_case_of_text, proper_case
from vnsearch.synonyms import load_cached as load_synonyms
from vnsearch.view import NEAR_FIELD, ByteCache, IndexView, Vocabulary, cache_budget

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
RERANK_DEPTH = 100
SUGGESTION_EVIDENCE = 100  # top-ranked titles read for accented word pairs
# Field weights: a title match outweighs a body match; a word typed with accents matches
# other accents at a fraction of the weight; compounds reward words kept together.
W_TITLE, W_BODY = 5.0, 1.0
W_FOLDED_ONLY = 0.1  # other spellings of a word typed with accents, where the article holds it too
COVERAGE_POWER = 2.0  # how steeply the share of the query held weighs (see _coverage)
# A run of words longer than this (a pasted lead) forms no compounds: hundreds of look-ups,
# for ranking that the share of the query held decides anyway (long leads, seed 11: MRR
# 0.883 without, 0.888 with, at a third of the time).
COMPOUND_RUN_LIMIT = 16
W_COMPOUND = 0.3
# Re-ranking of the top titles (see _rerank): a title holding every query word scores x3,
# every word pair x2.5 more, and the words in the order typed x1.5 more.
TITLE_WORDS_BOOST = 2.0
TITLE_PHRASE_BOOST = 1.5
TITLE_RUN_BOOST = 0.5
REFRESH_SECONDS = 0.05  # how often a request may look for a new commit (a directory listing, 0.1 ms)


class SearchError(ValueError):
    """A request the user must change (unknown sort, page below 1, bad date range)."""


@dataclass(frozen=True)
class SearchRequest:
    """What to search for. ``category`` takes one section or several (a tuple: any of them).

    ``no_correction``: search the words as typed even when nothing matches them (see
    :meth:`SearchEngine.search`).
    """

    query: str = ""
    category: str | tuple[str, ...] | None = None
    author: str | None = None
    source: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    no_correction: bool = False

    def validated(self) -> "SearchRequest":
        """The request with its query trimmed and its categories a tuple (or None), or a
        SearchError saying what to change."""
        if len(self.query) > MAX_QUERY_CHARS:
            raise SearchError(f"the query is too long ({len(self.query):,} characters; at most {MAX_QUERY_CHARS:,})")
        if self.sort not in SORTS:
            raise SearchError(f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}")
        if not isinstance(self.page, int) or self.page < 1:
            raise SearchError("page must be a whole number from 1")
        if not isinstance(self.per_page, int) or not 1 <= self.per_page <= MAX_PER_PAGE:
            raise SearchError(f"per_page must be a whole number from 1 to {MAX_PER_PAGE}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise SearchError("the 'from' date is after the 'to' date")
        query = self.query.strip()
        categories = _categories(self.category)
        if query == self.query and categories == self.category:
            return self
        return replace(self, query=query, category=categories)


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    url: str
    date: str | None
    category: str
    author: str
    source: str
    score: float
    snippet: str


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass
class SearchResult:
    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    suggestion: str | None
    relaxed: list[str] = field(default_factory=list)  # "accents", "words": how the query was relaxed
    missing: list[str] = field(default_factory=list)  # words typed that no article holds
    took_ms: float = 0.0
    corrected_from: str | None = None  # the query as typed, when the hits are for its suggestion

    def to_dict(self) -> dict:
        """Exactly what the JSON API serves."""
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "hits": [asdict(h) for h in self.hits],
            "facets": {name: [asdict(v) for v in values] for name, values in self.facets.items()},
            "suggestion": self.suggestion,
            "corrected_from": self.corrected_from,
            "relaxed": self.relaxed,
            "missing": self.missing,
        }


class SearchEngine:
    """A long-lived searcher over one index directory; thread-safe; follows new commits."""

    def __init__(self, index_dir: str, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.index_dir = index_dir
        self._ix = open_index(index_dir)
        self._lock = threading.RLock()
        # Shared by every generation: arrays and postings of segments a commit left alone.
        self._segment_cache: dict = {}
        segment_bytes, self._view_cache_bytes = cache_budget(self.settings.cache_mb)
        self._postings_cache = ByteCache(segment_bytes)
        self._vocabulary = Vocabulary(NEAR_FIELD)
        self._searcher = self._ix.searcher()
        self._view = self._new_view(self._searcher)
        self._checked = time.monotonic()
        self._cache: OrderedDict = OrderedDict()
        self.synonyms = load_synonyms(self.settings.synonyms or None)

    def close(self) -> None:
        with self._lock:
            self._searcher.close()

    def _new_view(self, searcher) -> IndexView:
        return IndexView(searcher, self._segment_cache, self._postings_cache, self._view_cache_bytes,
                         self._vocabulary)

    # -- generations ---------------------------------------------------------

    def view(self) -> IndexView:
        """The current view, renewed when the indexer has committed since (checked at most every 0.05 s).

        A new commit gets a new Whoosh searcher, not ``Searcher.refresh()``: whoosh3 3.54's
        reader reuse keeps segments that a merge replaced and old deletions, which would
        count articles twice and keep withdrawn ones. Segment files are mapped, not copied,
        and our per-segment arrays and postings are reused (keyed by segment id), so a
        fresh searcher costs a few milliseconds: a commit is searchable at the next request.
        """
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= REFRESH_SECONDS:
                self._checked = now
                if not self._searcher.up_to_date():
                    old = self._searcher
                    self._searcher = self._ix.searcher()
                    self._view = self._new_view(self._searcher)
                    self._cache.clear()
                    old.close()
            return self._view

    # -- search --------------------------------------------------------------

    def search(self, request: SearchRequest | None = None, **kwargs) -> SearchResult:
        """Hits, facets and a suggestion for a request.

        When nothing holds the words as typed (or only some of them: the "words" relaxation)
        and the suggestion finds articles holding them ("bóng đáa" -> "bóng đá"), the result
        is the suggestion's, with ``corrected_from`` saying what was typed; ``no_correction``
        asks for the words as typed whatever they find.
        """
        request = (request or SearchRequest(**kwargs)).validated()
        started = time.perf_counter()
        with self._lock:
            view = self.view()
            result = self._cached(view, request)
            broadest = _unnarrowed(request)
            if result.suggestion and broadest != request:
                # Filters and sorting leave fewer or other titles to learn from: the
                # suggestion is the query's own, as if neither were there.
                result = replace(result, suggestion=self._cached(view, broadest).suggestion)
            if (not result.total or "words" in result.relaxed) and result.suggestion and not request.no_correction:
                # A correction that finds the words whole beats articles holding only some of them.
                corrected = self._cached(view, replace(request, query=result.suggestion))
                if corrected.total and "words" not in corrected.relaxed:
                    result = replace(corrected, corrected_from=request.query, suggestion=result.suggestion)
        return replace(result, hits=list(result.hits), facets=dict(result.facets),
                       took_ms=(time.perf_counter() - started) * 1000)

    def _cached(self, view: IndexView, request: SearchRequest) -> SearchResult:
        """:meth:`_search`, remembered per index generation (``no_correction`` plays no part in it)."""
        key = (view.generation, replace(request, no_correction=False))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        result = self._search(view, request)
        self._cache[key] = result
        if len(self._cache) > self.settings.cache_size:
            self._cache.popitem(last=False)
        return result

    def _search(self, view: IndexView, request: SearchRequest) -> SearchResult:
        query = parse(request.query)
        plan = Plan.build(query, self.synonyms)
        base = view.live & self._filter_mask(view, request)
        found = self._match(view, plan, base)
        docs = found.docs
        total = int(len(docs))
        facets = self._facets(view, docs)
        start = (request.page - 1) * request.per_page
        # One ranking serves the page and the suggestion's evidence (its top titles).
        order = self._order(view, plan, found, request, max(start + request.per_page, SUGGESTION_EVIDENCE))
        page_docs = order[start : start + request.per_page]
        terms = highlight_terms(plan, found.exact)
        hits = [self._hit(view, int(d), float(s), terms) for d, s in page_docs]
        suggestion = self._suggestion(view, query, [d for d, _ in order[:SUGGESTION_EVIDENCE]])
        if suggestion:
            suggestion = proper_case(suggestion, [h.title for h in hits])  # "ca mau" -> "Cà Mau"
        return SearchResult(request.query, total, request.page, request.per_page, hits, facets, suggestion,
                            relaxed=found.relaxed, missing=found.missing)

    @staticmethod
    def _match(view: IndexView, plan: Plan, base: np.ndarray) -> Match:
        """The documents within ``base`` that the plan admits (every one when it asks for nothing)."""
        if not plan.units() and not plan.exclude:
            return Match(np.flatnonzero(base), True, 0)
        return match(view, plan, base)

    def _filter_mask(self, view: IndexView, request: SearchRequest) -> np.ndarray:
        mask = np.ones(view.size, dtype=bool)
        for column, values in (("category_key", _categories(request.category)),
                               ("author_key", (request.author,)), ("source_key", (request.source,))):
            wanted = {analysis.normalize(v).strip() for v in values or () if v}
            if wanted:
                folded = {analysis.fold(w) for w in wanted}
                codes = [i for i, name in enumerate(view.facet_values[column])
                         if name in wanted or analysis.fold(name) in folded]
                mask &= np.isin(view.facet_codes[column], codes)
        if request.date_from:
            start = datetime.combine(request.date_from, datetime.min.time(), VIETNAM_TZ)
            mask &= view.date >= int(start.timestamp())
        if request.date_to:
            if request.date_to < date.max:
                end = datetime.combine(request.date_to + timedelta(days=1), datetime.min.time(), VIETNAM_TZ)
                mask &= view.date < int(end.timestamp())
            mask &= view.date > -(2**61)  # undated articles are outside any range
        return mask

    # -- facets --------------------------------------------------------------

    @staticmethod
    def _facets(view: IndexView, docs: np.ndarray) -> dict[str, list[FacetValue]]:
        def counted(values: list[str], codes: np.ndarray, top: int | None = None, by_value=False):
            counts = np.bincount(codes[docs], minlength=len(values)) if len(docs) else np.zeros(len(values), int)
            items = [(values[i], int(c)) for i, c in enumerate(counts) if c and values[i]]
            items.sort(key=(lambda x: x[0]) if by_value else (lambda x: (-x[1], x[0])))
            return [FacetValue(v, c) for v, c in items[:top]]

        def numeric(array: np.ndarray, fmt):
            values, counts = np.unique(array[docs], return_counts=True)
            return [FacetValue(fmt(int(v)), int(c)) for v, c in zip(values, counts) if v > 0]

        return {
            "category": counted(view.facet_values["category_key"], view.facet_codes["category_key"]),
            "year": numeric(view.year, str),
            "month": numeric(view.month, lambda m: f"{m // 100:04d}-{m % 100:02d}"),
            "author": counted(view.facet_values["author_key"], view.facet_codes["author_key"], top=10),
            "source": counted(view.facet_values["source_key"], view.facet_codes["source_key"], top=10),
        }

    # -- ranking -------------------------------------------------------------

    def _order(self, view, plan: Plan, found: Match, request, wanted: int) -> list[tuple[int, float]]:
        """The first ``wanted`` admitted documents in the requested order, with their scores."""
        query, docs = plan.query, found.docs
        if not len(docs):
            return []
        sort = request.sort
        if sort == "relevance" and not query.positive_clauses():
            sort = "newest"  # browsing without words: the newest first
        wanted = min(len(docs), wanted)
        if sort != "relevance":
            dates = view.date[docs]
            key = -dates if sort == "newest" else np.where(dates > -(2**61), dates, 2**62)
            order = np.lexsort((docs, key))[:wanted]
            return [(int(docs[i]), 0.0) for i in order]
        scores = self.score(view, plan, found, docs)
        top = min(len(docs), max(RERANK_DEPTH, wanted))
        if len(docs) > top:  # only the best few hundred need a full sort
            candidates = np.argpartition(-scores, top - 1)[:top]
        else:
            candidates = np.arange(len(docs))
        head = candidates[np.lexsort((-view.date[docs[candidates]], -scores[candidates]))][:RERANK_DEPTH]
        reranked = scores.copy()
        reranked[head] = self._rerank(view, query, docs[head], scores[head])
        order = candidates[np.lexsort((-view.date[docs[candidates]], -reranked[candidates]))][:wanted]
        return [(int(docs[i]), round(float(reranked[i]), 4)) for i in order]

    def score(self, view: IndexView, plan: Plan, found: Match, docs: np.ndarray) -> np.ndarray:
        """Relevance of each doc in ``docs`` (before title-phrase re-ranking).

        BM25 of the words as typed (title over body), of the compounds they form, and of the
        synonyms that stood in for them; times the share of the query the article holds
        (:func:`_coverage`) and a gentle recency boost.
        """
        total = np.zeros(len(docs), dtype=np.float32)
        clauses = plan.query.positive_clauses()
        for clause in clauses:
            if clause.is_filter:
                continue
            title_only = clause.field == "title"
            if clause.wildcard:
                for term in view.expand("title_fold", clause.wildcard, MAX_WILDCARD_TERMS)[:5]:
                    total += W_TITLE * view.bm25("title_fold", term, docs)
                continue
            for syl, folded in zip(clause.syllables, clause.folded):
                _add_as_typed(total, view, syl, folded, docs, title_only=title_only)
        for syls, folds in self._runs(clauses):
            if len(folds) > COMPOUND_RUN_LIMIT:
                continue
            for n in (2, 3):
                for i in range(len(folds) - n + 1):
                    _add_as_typed(total, view, "_".join(syls[i : i + n]), "_".join(folds[i : i + n]), docs,
                                  scale=W_COMPOUND)
        for unit in plan.should:  # only runs of plain words are matched to synonyms
            if unit.synonym:
                total += _synonym_score(view, unit, docs)
        if len(found.unit_masks) > 1:
            total *= _coverage(view, plan, found, docs) ** COVERAGE_POWER
        if self.settings.recency_weight and view.newest:
            dates = view.date[docs]
            age_days = np.maximum(0, (view.newest - dates) / 86400.0)
            fresh = np.where(dates > 0, np.exp2(-age_days / self.settings.recency_half_life_days), 0.0)
            total *= (1.0 + self.settings.recency_weight * fresh).astype(np.float32)
        return total

    @staticmethod
    def _runs(clauses: list[Clause]) -> list[tuple[list[str], list[str]]]:
        """Maximal sequences of adjacent words typed together: where compounds can form.

        A hyphenated word ("GD-ĐT") continues the sequence around it; a quoted phrase, a
        wildcard or a filter stands apart.
        """
        runs, syls, folds = [], [], []
        for clause in clauses:
            if clause.wildcard or clause.is_filter or clause.quoted:
                if folds:
                    runs.append((syls, folds))
                syls, folds = [], []
                if clause.quoted:
                    runs.append((list(clause.syllables), list(clause.folded)))
                continue
            syls.extend(clause.syllables)
            folds.extend(clause.folded)
        if folds:
            runs.append((syls, folds))
        return [r for r in runs if len(r[1]) > 1]

    def _rerank(self, view, query, docs, scores) -> np.ndarray:
        """Reward the top documents whose title holds the query's words, and holds them together.

        A title word agrees with a query word when their folded forms are equal and, if the
        user typed that word with accents, the accents are equal too: for "đổi tuyển" a
        title with "đội tuyển" agrees on "tuyển" only. Three rewards multiply the score:
        the share of the query's words the title holds, squared so that holding all of them
        counts most (a title holding "Ngao" and "phán" beats a shorter one holding "ngao"
        whose body says "phần"); the share of the query's adjacent word
        pairs found as pairs in the title (a title holding "Bí thư Tỉnh ủy" and "Sở Công
        Thương" beats one that only mentions "Ban Bí thư"); and the share of its words
        in runs found whole, in order, in the title.
        """
        clauses = query.positive_clauses()
        runs = [[_agreement_key(s, f) for s, f in zip(syls, folds)] for syls, folds in self._runs(clauses)]
        pairs = {(run[i], run[i + 1]) for run in runs for i in range(len(run) - 1)}
        words = {_agreement_key(s, f) for c in clauses if not c.wildcard and not c.is_filter
                 for s, f in zip(c.syllables, c.folded)}
        run_words = sum(len(run) for run in runs)
        if not pairs and len(words) < 2:
            return scores
        out = scores.copy()
        for i, docnum in enumerate(docs):
            syls = view.title_syllables(docnum)
            # title position -> the query words the title word there agrees with
            agree = {p: words.intersection((s, f)) for p, (s, f) in enumerate(zip(syls, analysis.fold_terms(syls)))
                     if s in words or f in words}
            boost = 1.0
            if len(words) > 1:
                held = set().union(*agree.values())
                boost *= 1.0 + TITLE_WORDS_BOOST * (len(held) / len(words)) ** 2
            if pairs:
                title_pairs = {(a, b) for p, left in agree.items() if p + 1 in agree
                               for a in left for b in agree[p + 1]}
                boost *= 1.0 + TITLE_PHRASE_BOOST * len(pairs & title_pairs) / len(pairs)
                whole = sum(len(run) for run in runs if _holds_run(agree, run))
                boost *= 1.0 + TITLE_RUN_BOOST * whole / run_words
            out[i] *= boost
        return out

    # -- results -------------------------------------------------------------

    def _hit(self, view: IndexView, docnum: int, score: float, terms: set[str]) -> Hit:
        stored = view.stored(docnum)
        body = stored.get("body", "")
        text = body or stored.get("summary", "")  # a title-only article shows its summary, if any
        if terms and body and stored.get("summary"):
            text = stored["summary"] + "\n" + body
        return Hit(
            id=stored["id"], title=stored.get("title", ""), url=stored.get("url", ""),
            date=vietnam_time(stored.get("date_iso")), category=_indexed_name(view, "category_key", docnum, stored),
            author=stored.get("author", ""), source=stored.get("source", ""), score=score,
            snippet=snippets.snippet(text, terms),
        )

    def _suggestion(self, view: IndexView, query: Query, top_docs: list[int]) -> str | None:
        words = [c for c in query.required if not c.is_filter and not c.wildcard and not c.negated]
        if not words or query.any_of:
            return None
        syls = [s for c in words for s in c.syllables]
        folds = [f for c in words for f in c.folded]
        respelled = Suggester(view, top_docs).suggestion(syls, folds, query.accented)
        if respelled is None:
            return None
        # The suggestion is the query as typed, its words respelled: exclusions, phrases,
        # field prefixes and wildcards stay, or following it would change what is asked.
        new_syllables = iter(respelled.split(" "))
        rendered = " ".join(_render(c, [next(new_syllables) for _ in c.syllables] if c in words else c.syllables)
                            for c in query.clauses)
        return keep_case_of_text(query.text, rendered)  # "Ca Mau" -> "Cà Mau"

    # -- articles ------------------------------------------------------------

    def article(self, article_id: str) -> dict | None:
        """The stored article, or None when no live article has this id."""
        with self._lock:
            view = self.view()
            docnum = view.searcher.document_number(id=article_id)
            if docnum is None:
                return None
            stored = dict(view.stored(docnum))
            stored["docnum"] = docnum
            if stored.get("date_iso"):
                stored["date_iso"] = vietnam_time(stored["date_iso"])
            return stored

    def related(self, article_id: str, n: int = 5) -> list[Hit]:
        """The articles most like one: its most distinctive words, scored like a query."""
        with self._lock:
            view = self.view()
            docnum = view.searcher.document_number(id=article_id)
            if docnum is None:
                return []
            stored = view.stored(docnum)
            text = f"{stored.get('title', '')}\n{stored.get('summary', '')}\n{stored.get('body', '')[:3000]}"
            folded = analysis.fold_terms(analysis.analyze(text).words)
            weights: dict[str, float] = {}
            for term in folded:
                weights[term] = weights.get(term, 0.0) + view.idf("body_fold", term)
            keys = sorted(weights, key=weights.get, reverse=True)[:12]
            mask = np.zeros(view.size, dtype=bool)
            for term in keys:
                mask[view.postings("body_fold", term)[0]] = True
                mask[view.postings("title_fold", term)[0]] = True
            mask &= view.live
            mask[docnum] = False
            docs = np.flatnonzero(mask)
            if not len(docs):
                return []
            scores = np.zeros(len(docs), dtype=np.float32)
            for term in keys:
                scores += W_TITLE * view.bm25("title_fold", term, docs) + W_BODY * view.bm25("body_fold", term, docs)
            top = np.argsort(-scores, kind="stable")[:n]
            return [self._hit(view, int(docs[i]), round(float(scores[i]), 4), set()) for i in top]

    def complete(self, text: str, limit: int = 8) -> list[str]:
        with self._lock:
            return Suggester(self.view()).completions(text, limit)

    def stats(self) -> dict:
        """Article count, categories with counts and the date range."""
        with self._lock:
            view = self.view()
            docs = np.flatnonzero(view.live)
            facets = self._facets(view, docs)
            fmt = (lambda ts: datetime.fromtimestamp(ts, VIETNAM_TZ).isoformat() if ts else None)
            return {
                "articles": view.doc_count,
                "categories": [asdict(v) for v in facets["category"]],
                "sources": [{"value": v, "count": int(c)} for v, c in _counts(view, "source_key", docs)],
                "date_from": fmt(view.oldest),
                "date_to": fmt(view.newest),
                "undated": int(np.sum(view.date[docs] < -(2**61))),
                "segments": len(view.leaves),
                "index_dir": str(self.index_dir),
            }


def _categories(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...] | None:
    """One category or several as a tuple of the non-empty ones, or None.

    >>> _categories("Thể thao"), _categories(("Thể thao", "", "Giáo dục")), _categories(("",))
    (('Thể thao',), ('Thể thao', 'Giáo dục'), None)
    """
    values = (value,) if isinstance(value, str) else tuple(value or ())
    return tuple(v for v in values if v and v.strip()) or None


def _unnarrowed(request: SearchRequest) -> SearchRequest:
    """The request's query over the whole index, ranked by relevance: the suggestion's evidence."""
    return replace(request, category=None, author=None, source=None, date_from=None, date_to=None,
                   sort="relevance", page=1, per_page=10)


def _indexed_name(view: IndexView, column: str, docnum: int, stored: dict) -> str:
    """A category as its facet spells it ("Sức khoẻ"), not as the article did ("Sức khỏe")."""
    name = view.facet_values[column][view.facet_codes[column][docnum]]
    return name or stored.get(column.removesuffix("_key"), "")


def _render(clause: Clause, syllables: list[str]) -> str:
    """A clause as query text again, with ``syllables`` for its words.

    >>> from vnsearch.query import parse
    >>> [_render(c, list(c.syllables)) for c in parse('-covid "bí thư" author:"Minh Anh" th* GD-ĐT').clauses]
    ['-covid', '"bí thư"', 'author:"minh anh"', 'th*', 'gd-đt']
    """
    if clause.wildcard:
        body = clause.text
    elif clause.quoted or (clause.is_filter and len(syllables) > 1):
        body = '"' + " ".join(syllables) + '"'
    else:
        body = "-".join(syllables)  # one syllable, or a hyphenated word kept as one
    return ("-" if clause.negated else "") + (f"{clause.field}:" if clause.field else "") + body


def vietnam_time(iso: str | None) -> str | None:
    """A stored ISO date in Vietnam time, the time that date filters and facets use.

    >>> vietnam_time("2023-12-31T17:30:00+00:00"), vietnam_time("2021-04-12")
    ('2024-01-01T00:30:00+07:00', '2021-04-12')
    """
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return moment.astimezone(VIETNAM_TZ).isoformat() if moment.tzinfo else iso


def _add_as_typed(total: np.ndarray, view: IndexView, exact: str, folded: str, docs: np.ndarray,
                  scale: float = 1.0, title_only: bool = False) -> None:
    """Add to ``total`` the BM25 of a word or compound as the user typed it, title over body.

    Typed with accents, it counts in its own spelling, and spellings that only fold like it
    ("mà", "má" for "mã") count a fraction; typed without, it counts in every spelling.
    """
    fields = ((W_TITLE, "title"),) if title_only else ((W_TITLE, "title"), (W_BODY, "body"))
    folded_weight = scale
    if analysis.has_diacritics(exact):
        folded_weight = scale * W_FOLDED_ONLY
        for weight, field_ in fields:
            total += scale * weight * view.bm25(f"{field_}_syl", exact, docs)
    for weight, field_ in fields:
        total += folded_weight * weight * view.bm25(f"{field_}_fold", folded, docs)


def _synonym_score(view: IndexView, unit: Unit, docs: np.ndarray) -> np.ndarray:
    """BM25 of the best synonym variant in each document, scaled to the syllables typed:
    an article that says "cảnh sát giao thông" scores for "CSGT" about as one that says "CSGT"."""
    best = np.zeros(len(docs), dtype=np.float32)
    for option in unit.options[1:]:
        variant = np.zeros(len(docs), dtype=np.float32)
        syllables = [f for clause in option for f in clause.folded]
        for folded in syllables:
            variant += W_TITLE * view.bm25("title_fold", folded, docs) + W_BODY * view.bm25("body_fold", folded, docs)
        np.maximum(best, variant * (unit.width / len(syllables)), out=best)
    return best


def _coverage(view: IndexView, plan: Plan, found: Match, docs: np.ndarray) -> np.ndarray:
    """The share of the query each document holds, each plain word weighted by its idf and the
    syllables it spans: an article holding 7 of 8 words outranks one holding 5."""
    held = np.zeros(len(docs), dtype=np.float32)
    whole = 0.0
    for unit, mask in zip(plan.should, found.unit_masks):
        weight = unit.width * view.idf_of_count(int(np.count_nonzero(mask & view.live)))
        held += weight * mask[docs]
        whole += weight
    return held / whole if whole else np.ones(len(docs), dtype=np.float32)


def _agreement_key(syllable: str, folded: str) -> str:
    """What a title word must equal to agree with a query word: the accented form if typed so."""
    return syllable if analysis.has_diacritics(syllable) else folded


def _holds_run(agree: dict[int, set[str]], run: list[str]) -> bool:
    """Whether the title words agree with ``run`` at consecutive positions (``agree``: see _rerank)."""
    return any(all(word in agree.get(start + j, ()) for j, word in enumerate(run))
               for start, held in agree.items() if run[0] in held)


def _counts(view: IndexView, column: str, docs: np.ndarray):
    values = view.facet_values[column]
    counts = np.bincount(view.facet_codes[column][docs], minlength=len(values))
    return sorted(((values[i], c) for i, c in enumerate(counts) if c and values[i]), key=lambda x: -x[1])
