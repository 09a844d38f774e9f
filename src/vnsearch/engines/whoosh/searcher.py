"""Search over the Whoosh index: one index generation at a time, as a pipeline of small steps.

:meth:`WhooshSearcher.run` is the pipeline: parse the query, plan it, filter, match (with
relaxation), count facets, rank and re-rank, build the page's hits, suggest. The steps
around it (checking the request, the result cache, the correction) are
:mod:`vnsearch.search.pipeline`'s, shared by every engine.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np

from vnsearch import analysis
from vnsearch.articles import VIETNAM_TZ
from vnsearch.config import Settings
from vnsearch.documents import is_dated
from vnsearch.engines.whoosh import scoring
from vnsearch.engines.whoosh.masks import Match, match
from vnsearch.engines.whoosh.store import open_index
from vnsearch.engines.whoosh.caches import ByteCache, Vocabulary, cache_budget
from vnsearch.engines.whoosh.view import NEAR_FIELD, IndexView
from vnsearch.query import parse
from vnsearch.search import pipeline, snippets
from vnsearch.search.scoring import related_scores
from vnsearch.search.matching import Plan, highlight_terms
from vnsearch.search.request import SearchRequest, categories_of
from vnsearch.search.results import FacetValue, Hit, SearchResult, month_label, vietnam_time
from vnsearch.search.suggest import Suggester, suggestion_for
from vnsearch.synonyms import load_cached as load_synonyms

SUGGESTION_EVIDENCE = 100  # top-ranked titles read for accented word pairs
RELATED_WORDS = 12  # an article's most distinctive words, searched for its related articles


class WhooshSearcher:
    """A long-lived searcher over one index directory; thread-safe; follows new commits."""

    def __init__(self, index_dir: str, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.index_dir = index_dir
        self._ix = open_index(index_dir)
        self._lock = threading.RLock()
        # Shared by every generation: arrays and postings of segments a commit left alone.
        self._segment_cache: dict = {}
        budget = cache_budget(self.settings.cache_mb)
        self._view_cache_bytes = budget.view
        self._postings_cache = ByteCache(budget.segments)
        self._phrase_cache = ByteCache(budget.phrases)
        self._vocabulary = Vocabulary(NEAR_FIELD)
        self._searcher = self._ix.searcher()
        self._view = self._new_view(self._searcher)
        self._results = pipeline.ResultCache(self.settings.cache_size)
        self._rankings = pipeline.ResultCache(self.settings.cache_size)
        self.synonyms = load_synonyms(self.settings.synonyms or None)

    def close(self) -> None:
        with self._lock:
            self._searcher.close()

    def _new_view(self, searcher) -> IndexView:
        return IndexView(searcher, self._segment_cache, self._postings_cache, self._view_cache_bytes,
                         self._vocabulary, self._phrase_cache)

    def view(self) -> IndexView:
        """The current view, renewed when the indexer has committed since.

        Every call looks (a listing of the index directory, 8 µs): a request that starts
        after another one ended never sees an older commit, whichever server process each
        lands on. Checking at most every 0.05 s let a process answer from the commit before
        while its sibling already showed the new one: a total went down between two requests.

        A new commit gets a new Whoosh searcher, not ``Searcher.refresh()``: whoosh3 3.54's
        reader reuse keeps segments that a merge replaced and old deletions, which would
        count articles twice and keep withdrawn ones. Segment files are mapped, not copied,
        and our per-segment arrays and postings are reused (keyed by segment id), so a
        fresh searcher costs a few milliseconds: a commit is searchable at the next request.
        """
        with self._lock:
            if not self._searcher.up_to_date():
                old = self._searcher
                self._searcher = self._ix.searcher()
                self._view = self._new_view(self._searcher)
                old.close()
            return self._view

    # -- search --------------------------------------------------------------

    def search(self, request: SearchRequest | None = None, **kwargs) -> SearchResult:
        """Hits, facets and a suggestion for a request (see :func:`vnsearch.search.pipeline.search`)."""
        with self._lock:
            view = self.view()
            run = self._results.cached(lambda r: self.run(view, r), view.generation)
            return pipeline.search(run, request or SearchRequest(**kwargs))

    def run(self, view: IndexView, request: SearchRequest) -> SearchResult:
        """The pipeline for one checked request over one generation: its ranking (remembered
        for the request's other pages), then the page's hits."""
        start = (request.page - 1) * request.per_page
        ranking = self._rankings.cached(lambda r: self.rank(view, r), view.generation)(ranking_key(request))
        hits = [build_hit(view, d, s, ranking.terms) for d, s in ranking.ranked[start : start + request.per_page]]
        return SearchResult(request.query, ranking.total, request.page, request.per_page, hits,
                            dict(ranking.facets), ranking.suggestion, relaxed=list(ranking.relaxed),
                            missing=list(ranking.missing))

    def rank(self, view: IndexView, request: SearchRequest) -> Ranking:
        """Parse, plan, filter, match (with relaxation), count facets, rank and re-rank, suggest:
        everything but the hits, for the request's page and those before it."""
        query = parse(request.query)
        plan = Plan.build(query, self.synonyms)
        found = self.matched(view, plan, view.live & filter_mask(view, request))
        # One ranking serves the pages and the suggestion's evidence (its top titles).
        wanted = max(request.page * request.per_page, SUGGESTION_EVIDENCE)
        ranked = scoring.order(view, plan, found, request.sort, wanted, self.settings)
        return Ranking(total=len(found.docs), facets=count_facets(view, found.docs), ranked=ranked,
                       terms=frozenset(highlight_terms(plan, found.exact)),
                       suggestion=suggestion_for(view, query, [d for d, _ in ranked[:SUGGESTION_EVIDENCE]]),
                       relaxed=tuple(found.relaxed), missing=tuple(found.missing))

    @staticmethod
    def matched(view: IndexView, plan: Plan, base: np.ndarray) -> Match:
        """The documents within ``base`` that the plan admits (every one when it asks for nothing)."""
        if not plan.units() and not plan.exclude:
            return Match(np.flatnonzero(base), True, 0)
        return match(view, plan, base)

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
            weights: dict[str, float] = {}
            for term in analysis.fold_terms(analysis.analyze(text).words):
                weights[term] = weights.get(term, 0.0) + view.idf("body_fold", term)
            keys = sorted(weights, key=weights.get, reverse=True)[:RELATED_WORDS]
            mask = np.zeros(view.size, dtype=bool)
            for term in keys:
                mask[view.postings("body_fold", term)[0]] = True
                mask[view.postings("title_fold", term)[0]] = True
            mask &= view.live
            mask[docnum] = False
            docs = np.flatnonzero(mask)
            scores = related_scores(view, keys, docs)
            top = np.argsort(-scores, kind="stable")[:n]
            return [build_hit(view, int(docs[i]), round(float(scores[i]), 4), set()) for i in top]

    def complete(self, text: str, limit: int = 8) -> list[str]:
        with self._lock:
            return Suggester(self.view()).completions(text, limit)

    def stats(self) -> dict:
        """Article count, categories with counts and the date range."""
        with self._lock:
            view = self.view()
            docs = np.flatnonzero(view.live)
            facets = count_facets(view, docs)
            fmt = (lambda ts: datetime.fromtimestamp(ts, VIETNAM_TZ).isoformat() if ts else None)
            return {
                "articles": view.doc_count,
                "categories": [{"value": v.value, "count": v.count} for v in facets["category"]],
                "sources": [{"value": v.value, "count": v.count}
                            for v in _counted(view, "source_key", docs)],
                "date_from": fmt(view.oldest),
                "date_to": fmt(view.newest),
                "undated": int(np.count_nonzero(~is_dated(view.date[docs]))),
                "segments": len(view.leaves),
                "index_dir": str(self.index_dir),
            }


@dataclass(frozen=True)
class Ranking:
    """What the pages of one request share: the count, the facets, the best-ranked
    documents (at least :data:`SUGGESTION_EVIDENCE`), the words to mark and the suggestion."""

    total: int
    facets: dict[str, list[FacetValue]]
    ranked: list[tuple[int, float]]
    terms: frozenset[str]
    suggestion: str | None
    relaxed: tuple[str, ...]
    missing: tuple[str, ...]


def ranking_key(request: SearchRequest) -> SearchRequest:
    """The request whose ranking serves ``request``: its first page when the ranking that
    page gets (at least :data:`SUGGESTION_EVIDENCE` articles) reaches this page too."""
    if request.page * request.per_page <= max(request.per_page, SUGGESTION_EVIDENCE):
        return replace(request, page=1, no_correction=False)
    return replace(request, no_correction=False)


def filter_mask(view: IndexView, request: SearchRequest) -> np.ndarray:
    """The documents the request's category, author, source and dates allow (accents count
    when typed; undated articles are outside any date range)."""
    mask = np.ones(view.size, dtype=bool)
    for column, values in (("category_key", categories_of(request.category)),
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
        mask &= is_dated(view.date)
    return mask


def count_facets(view: IndexView, docs: np.ndarray) -> dict[str, list[FacetValue]]:
    """Category, year, month, author and source counts of the admitted documents."""

    def numeric(array: np.ndarray, fmt):
        values, counts = np.unique(array[docs], return_counts=True)
        return [FacetValue(fmt(int(v)), int(c)) for v, c in zip(values, counts) if v > 0]

    return {
        "category": _counted(view, "category_key", docs),
        "year": numeric(view.year, str),
        "month": numeric(view.month, month_label),
        "author": _counted(view, "author_key", docs, top=10),
        "source": _counted(view, "source_key", docs, top=10),
    }


def _counted(view: IndexView, column: str, docs: np.ndarray, top: int | None = None) -> list[FacetValue]:
    """The values of a name column among ``docs``, most frequent first (ties by name)."""
    values, codes = view.facet_values[column], view.facet_codes[column]
    counts = np.bincount(codes[docs], minlength=len(values)) if len(docs) else np.zeros(len(values), int)
    items = sorted(((values[i], int(c)) for i, c in enumerate(counts) if c and values[i]),
                   key=lambda x: (-x[1], x[0]))
    return [FacetValue(v, c) for v, c in items[:top]]


def build_hit(view: IndexView, docnum: int, score: float, terms: set[str]) -> Hit:
    """A hit as a page shows it: stored fields, the date in Vietnam time, a snippet marking ``terms``."""
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


def _indexed_name(view: IndexView, column: str, docnum: int, stored: dict) -> str:
    """A category as its facet spells it ("Sức khoẻ"), not as the article did ("Sức khỏe")."""
    name = view.facet_values[column][view.facet_codes[column][docnum]]
    return name or stored.get(column.removesuffix("_key"), "")
