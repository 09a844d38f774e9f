"""Search on the cluster: the cluster matches, counts and aggregates; Python ranks.

One search is two requests (three when a wildcard must be expanded for ranking):

1. counts: which relaxation admits something (as typed, ``accents``, ``words``), how
   many live articles hold each unit of the query (for the share of the query an
   article holds, and the words no article holds), the document frequency of every
   term the ranking will read, the article count, average field lengths, the newest date;
2. the admitted articles: total, facets (terms, monthly ``date_histogram`` in Vietnam
   time), and the best few hundred by the cluster's own BM25 with the same field
   weights and recency boost, with their analysed fields.

Those candidates are then scored by the embedded engine's formula (:mod:`.view`), the
top hundred re-ranked by their titles, and the page's hits built with the shared
snippets; the suggestion reads the best titles, as in the embedded engine.
"""

from __future__ import annotations

import numpy as np

from vnsearch.query import parse
from vnsearch.search import snippets
from vnsearch.search.matching import MAX_WILDCARD_TERMS, Plan, highlight_terms, relaxations
from vnsearch.search.ranking import RERANK_DEPTH, W_COMPOUND, W_TITLE, title_boosts
from vnsearch.search.results import FacetValue, Hit, SearchResult, vietnam_time
from vnsearch.search.suggest import suggestion_for

from . import queries as q
from .documents import TEXT_FIELDS
from .ranking import relevance
from .view import CandidateView, os_field

SUGGESTION_EVIDENCE = 100  # top-ranked titles read for accented word pairs (as the embedded engine)
CANDIDATES = 2 * RERANK_DEPTH  # the cluster's best, re-scored exactly, for the first pages
# Pages further down re-score the cluster's best EXACT_DEPTH; beyond, the cluster's order. The
# re-scored hits are the cluster's top EXACT_DEPTH reordered, so an export's pages never
# repeat or miss an article across that line.
EXACT_DEPTH = 1000
WINDOW = 20000  # hits a search can page through (the index's max_result_window)
STORED_FIELDS = ["title_terms", "title_syl", "body_syl", "title_fold", "title_fold_c", "body_fold",
                 "body_fold_c"]  # read without parsing _source
NUMBERS = [f"qlen.{f}" for f in TEXT_FIELDS] + ["ts"]  # from doc values
MONTHLY = {"time_zone": "+07:00", "min_doc_count": 1}
DATED = {"exists": {"field": "ts"}}


class Attempt:
    """One step of the relaxation chain (``relaxations``): accent rule, syllables needed, how relaxed."""

    def __init__(self, exact: bool, need: int, relaxed: list[str]):
        self.exact, self.need, self.relaxed = exact, need, relaxed


class _Recorder:
    """A view that only notes which terms ranking reads (and which wildcards it expands)."""

    def __init__(self, expansions: dict):
        self.pairs: list[tuple[str, str]] = []
        self.patterns: list[str] = []
        self.expansions = expansions
        self.size = 1
        self.newest = 0

    def bm25(self, fieldname, term_, docs, **_):
        self.pairs.append((fieldname, term_))
        return np.zeros(len(docs), dtype=np.float32)

    def expand(self, fieldname, pattern, limit):
        self.patterns.append(pattern)
        return self.expansions.get(pattern, [])


class ClusterSearch:
    """One search request run against the cluster (see the module docstring)."""

    def __init__(self, engine, request):
        self.engine = engine
        self.client, self.index, self.settings = engine.client, engine.alias, engine.settings
        self.request = request
        self.query = parse(request.query)
        self.plan = Plan.build(self.query, engine.synonyms)
        self.base = q.filter_queries(request)

    def run(self) -> SearchResult:
        request, plan = self.request, self.plan
        wordless = not plan.units() and not plan.exclude
        tries = [Attempt(True, 0, [])] if wordless else [Attempt(*t) for t in relaxations(plan)]
        expansions = {}
        recorder = _Recorder(expansions)
        relevance(recorder, plan, None, (), self.settings)
        counts = self._counts(tries, recorder.pairs, recorder.patterns)
        chosen = next((i for i, n in enumerate(counts["attempts"]) if n), 0)
        attempt = tries[chosen]
        expansions.update(counts["expansions"])
        if recorder.patterns:
            recorder.pairs.clear()
            relevance(recorder, plan, None, (), self.settings)
            self.engine.terms.prefetch(recorder.pairs)
        admitted = (q.all_of(self.base) if wordless
                    else q.admitted_query(plan, attempt.exact, attempt.need, self.base))
        start = (request.page - 1) * request.per_page
        wanted = max(start + request.per_page, SUGGESTION_EVIDENCE)
        sort = request.sort
        if sort == "relevance" and not self.query.positive_clauses():
            sort = "newest"
        deep = start >= EXACT_DEPTH
        found = self._candidates(admitted, attempt, sort, wanted, recorder.pairs, counts["stats"], deep)
        total, facets, hits_raw = found["total"], found["facets"], found["hits"]
        view = CandidateView([candidate(h) for h in hits_raw], counts["stats"], self.engine.terms)
        view.expand = lambda fieldname, pattern, limit: expansions.get(pattern, [])[:limit]
        if deep:  # a page far down (an export): the cluster's order, from ``start``
            page = [(i, 0.0 if sort != "relevance" else round(float(h["_score"] or 0), 4))
                    for i, h in enumerate(hits_raw)]
            order = []
        else:
            if not hits_raw:
                order = []
            elif sort != "relevance":
                order = [(i, 0.0) for i in range(min(len(hits_raw), wanted))]
            else:
                order = self._order(view, attempt, counts, hits_raw, wanted)
            page = order[start : start + request.per_page]
        missing = [] if wordless else counts["missing"][attempt.exact]
        terms_ = highlight_terms(plan, attempt.exact)
        hits = self._hits(hits_raw, page, terms_)
        self.engine.terms.prefetch_suggestion(self.query)
        suggestion = suggestion_for(view, self.query, [d for d, _ in order[:SUGGESTION_EVIDENCE]])
        return SearchResult(request.query, total, request.page, request.per_page, hits, facets, suggestion,
                            relaxed=attempt.relaxed if total else [], missing=missing)

    # -- request 1 -----------------------------------------------------------

    def _counts(self, tries: list[Attempt], pairs, patterns) -> dict:
        plan = self.plan
        rules = sorted({t.exact for t in tries}, reverse=True)
        units = plan.must + plan.should
        global_aggs = {
            "live": {"filter": q.MATCH_ALL},
            "newest": {"filter": DATED, "aggs": {"max": {"max": {"field": "ts"}}}},
            **{f"len_{f}": {"avg": {"field": f"qlen.{f}", "missing": 0}} for f in TEXT_FIELDS},
        }
        for exact in rules:
            if units:
                global_aggs[f"units_{int(exact)}"] = {"filters": {"filters": {
                    str(i): q.unit_query(u, exact) for i, u in enumerate(units)}}}
        for i, pattern in enumerate(dict.fromkeys(patterns)):
            for field in ("title_fold", "title_fold_c"):  # the ranking's title_fold holds both
                global_aggs[f"expand_{i}_{field}"] = {"terms": {
                    "field": field, "include": q.wildcard_regexp(pattern), "size": MAX_WILDCARD_TERMS,
                    "order": [{"_count": "desc"}, {"_key": "asc"}]}}
        wanted_pairs = [p for p in dict.fromkeys(pairs) if p not in self.engine.terms.known]
        if wanted_pairs:
            global_aggs["df"] = {"filters": {"filters": {
                str(i): q.term(os_field(f, t), t) for i, (f, t) in enumerate(wanted_pairs)}}}
        aggs = {"all": {"global": {}, "aggs": global_aggs}}
        if len(tries) > 1 or tries[0].need:
            aggs["attempts"] = {"filters": {"filters": {
                str(i): q.admitted_query(plan, t.exact, t.need, []) for i, t in enumerate(tries)}}}
        got = self.engine.call("search", index=self.index, body={
            "size": 0, "track_total_hits": True, "query": q.all_of(self.base), "aggs": aggs})
        g = got["aggregations"]["all"]
        for i, pair in enumerate(wanted_pairs):
            self.engine.terms.known[pair] = g["df"]["buckets"][str(i)]["doc_count"]
        if "attempts" in got["aggregations"]:
            buckets = got["aggregations"]["attempts"]["buckets"]
            attempt_counts = [buckets[str(i)]["doc_count"] for i in range(len(tries))]
        else:
            attempt_counts = [got["hits"]["total"]["value"]]
        unit_counts, missing = {}, {}
        for exact in rules:
            counts_ = [g[f"units_{int(exact)}"]["buckets"][str(i)]["doc_count"] for i in range(len(units))] \
                if units else []
            unit_counts[exact] = counts_
            missing[exact] = [u.label for u, n in zip(units, counts_)
                              if not any(c.is_filter for c in u.typed) and not n]
        newest = g["newest"]["max"]["value"]
        stats = {"doc_count": g["live"]["doc_count"],
                 "avg_length": average_lengths(g, g["live"]["doc_count"]),
                 "newest": int(newest) if newest is not None else 0}
        expansions = {}
        for i, pattern in enumerate(dict.fromkeys(patterns)):
            found = [(b["doc_count"], b["key"]) for field in ("title_fold", "title_fold_c")
                     for b in g[f"expand_{i}_{field}"]["buckets"]]
            expansions[pattern] = [term_ for _, term_ in sorted(found, key=lambda x: (-x[0], x[1]))][:MAX_WILDCARD_TERMS]
        return {"attempts": attempt_counts, "units": unit_counts, "missing": missing, "stats": stats,
                "expansions": expansions}

    # -- request 2 -----------------------------------------------------------

    def _candidates(self, admitted: dict, attempt: Attempt, sort: str, wanted: int, pairs, stats,
                    deep: bool) -> dict:
        """The total, the facets and the hits to rank: the best candidates with their analysed
        fields; by date, the first ``wanted`` with their titles; far down, the page alone."""
        request = self.request
        start = (request.page - 1) * request.per_page
        ranked = sort == "relevance" and not deep
        body: dict = {"track_total_hits": True, "_source": False, "docvalue_fields": NUMBERS,
                      "stored_fields": STORED_FIELDS if ranked else ["title_terms"], "aggs": facet_aggs()}
        if sort != "relevance":
            body["query"] = admitted
            body["sort"] = [{"ts": {"order": "desc" if sort == "newest" else "asc", "missing": "_last"}}]
            body["size"] = wanted
        else:
            named = [{"constant_score": {"filter": q.unit_query(u, attempt.exact), "_name": f"u{i}"}}
                     for i, u in enumerate(self.plan.should)]
            scoring = [{"term": {os_field(f, t): {"value": t, "boost": approximate_weight(f, t)}}}
                       for f, t in dict.fromkeys(pairs)]
            scored = {"bool": {"filter": [admitted], "should": scoring + [
                {"bool": {"should": named, "minimum_should_match": 0, "boost": 0.0}}] if named else scoring}}
            body["query"] = recency(scored, stats, self.settings)
            end = start + request.per_page
            body["size"] = CANDIDATES if end + RERANK_DEPTH <= CANDIDATES else max(EXACT_DEPTH, end)
        if deep:
            body["from"], body["size"] = start, request.per_page
        if start + request.per_page > WINDOW:
            body["size"] = 0  # past the window: a count and facets, no hits
            body.pop("from", None)
        body["size"] = min(body["size"], WINDOW)
        got = self.engine.call("search", index=self.index, body=body)
        return {"total": got["hits"]["total"]["value"], "facets": read_facets(got["aggregations"]),
                "hits": got["hits"]["hits"]}

    def _order(self, view, attempt, counts, hits_raw, wanted) -> list[tuple[int, float]]:
        """The embedded engine's ``_order`` over the candidates: exact scores, the top re-ranked."""
        plan = self.plan
        held = None
        weights = []
        if plan.should:
            held = np.zeros((len(hits_raw), len(plan.should)), dtype=bool)
            for d, hit in enumerate(hits_raw):
                for name in hit.get("matched_queries", ()):
                    held[d, int(name[1:])] = True
            n_must = len(plan.must)
            for i, unit in enumerate(plan.should):
                weights.append(unit.width * view.idf_of_count(counts["units"][attempt.exact][n_must + i]))
        scores = relevance(view, plan, held, weights, self.settings)
        docs = np.arange(len(scores))
        head = docs[np.lexsort((-view.date, -scores))][:RERANK_DEPTH]
        reranked = scores.copy()
        boosts = title_boosts(self.query, [view.title_syllables(int(d)) for d in head])
        if boosts is not None:
            reranked[head] = scores[head] * np.asarray(boosts, dtype=np.float32)
        order = docs[np.lexsort((-view.date, -reranked))][:wanted]
        return [(int(i), round(float(reranked[i]), 4)) for i in order]

    def _hits(self, hits_raw, page, terms_) -> list[Hit]:
        if not page:
            return []
        ids = [hits_raw[d]["_id"] for d, _ in page]
        got = self.engine.call("mget", index=self.index, body={"ids": ids},
                               _source_includes=["shown", "category_key"])
        by_id = {doc["_id"]: doc["_source"] for doc in got["docs"] if doc.get("found")}
        return [hit_of(by_id.get(hits_raw[d]["_id"], {}), hits_raw[d]["_id"], score, terms_) for d, score in page]


def candidate(hit: dict) -> dict:
    """A hit's stored fields and numbers as the view reads them."""
    fields = hit.get("fields", {})
    out = {name: fields[name][0] for name in STORED_FIELDS if fields.get(name)}
    out["_id"] = hit["_id"]
    out["qlen"] = {f: fields.get(f"qlen.{f}", [0])[0] for f in TEXT_FIELDS}
    if fields.get("ts"):
        out["ts"] = int(fields["ts"][0])
    return out


def average_lengths(aggs: dict, count: int) -> dict[str, float]:
    """Each field's average length over the live articles, in single precision as the embedded
    engine's numpy mean gives it (a last digit of a score would differ otherwise)."""
    return {f: float(np.float32(aggs[f"len_{f}"]["value"] or 1.0)) if count else 1.0 for f in TEXT_FIELDS}


def approximate_weight(fieldname: str, term_: str) -> float:
    """The cluster's first ranking: title over body, compounds less (the exact weights follow)."""
    weight = W_TITLE if fieldname.startswith("title") else 1.0
    return weight * (W_COMPOUND if "_" in term_ else 1.0)


def recency(query: dict, stats: dict, settings) -> dict:
    """The recency boost, as the embedded engine gives it: times 1 + w * 2^(-age / half-life)."""
    if not settings.recency_weight or not stats["newest"]:
        return query
    return {"function_score": {"query": query, "score_mode": "sum", "boost_mode": "multiply", "functions": [
        {"weight": 1.0},
        {"filter": DATED, "weight": settings.recency_weight,
         "exp": {"ts": {"origin": stats["newest"], "scale": settings.recency_half_life_days * 86400,
                        "decay": 0.5}}},
    ]}}


def facet_aggs() -> dict:
    order = [{"_count": "desc"}, {"_key": "asc"}]
    return {
        "category": {"terms": {"field": "category_key", "size": 10000, "order": order}},
        "author": {"terms": {"field": "author_key", "size": 10, "shard_size": 1000, "order": order}},
        "source": {"terms": {"field": "source_key", "size": 10, "shard_size": 1000, "order": order}},
        "year": {"date_histogram": {"field": "date", "calendar_interval": "year", "format": "yyyy", **MONTHLY}},
        "month": {"date_histogram": {"field": "date", "calendar_interval": "month", "format": "yyyy-MM",
                                     **MONTHLY}},
    }


def read_facets(aggs: dict) -> dict[str, list[FacetValue]]:
    def values(name):
        return [FacetValue(str(b.get("key_as_string", b["key"])), b["doc_count"]) for b in aggs[name]["buckets"]
                if b["doc_count"]]
    return {name: values(name) for name in ("category", "year", "month", "author", "source")}


def hit_of(source: dict, article_id: str, score: float, terms_: set[str]) -> Hit:
    """A hit as the embedded engine builds it (``SearchEngine._hit``)."""
    shown = source.get("shown", {})
    body = shown.get("body", "")
    text = body or shown.get("summary", "")
    if terms_ and body and shown.get("summary"):
        text = shown["summary"] + "\n" + body
    return Hit(id=article_id, title=shown.get("title", ""), url=shown.get("url", ""),
               date=vietnam_time(shown.get("date_iso")), category=source.get("category_key") or shown.get("category", ""),
               author=shown.get("author", ""), source=shown.get("source", ""), score=score,
               snippet=snippets.snippet(text, terms_))

