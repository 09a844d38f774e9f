"""The OpenSearch engine: vnsearch's analysis and ranking on a newsroom's own cluster.

Settings: ``VNSEARCH_OPENSEARCH_URL`` (nodes, comma-separated), ``VNSEARCH_OPENSEARCH_INDEX``
(the alias searched and written), ``VNSEARCH_OPENSEARCH_SHARDS``, ``VNSEARCH_OPENSEARCH_REPLICAS``.
"""

from __future__ import annotations

import threading
import time

from dataclasses import asdict
from datetime import datetime

import numpy as np
from opensearchpy import exceptions as os_errors

from vnsearch import analysis
from vnsearch.articles import VIETNAM_TZ
from vnsearch.documents import MergeReport
from vnsearch.engines import EngineUnavailable, IndexMissingError
from vnsearch.search import SearchRequest, SearchResult, pipeline
from vnsearch.search.ranking import W_BODY, W_TITLE
from vnsearch.search.results import vietnam_time
from vnsearch.search.suggest import Suggester
from vnsearch.synonyms import load_cached as load_synonyms

from . import queries as q
from .client import connect, reachable
from .documents import TEXT_FIELDS
from vnsearch.search.scoring import related_scores
from .search import DATED, NUMBERS, STORED_FIELDS, ClusterSearch, average_lengths, candidate, facet_aggs, hit_of, read_facets
from .view import CandidateView, GlobalTerms
from .writer import ClusterWriter

RELATED_CANDIDATES = 100
SHARD_RETRIES = 5  # a search some shards did not answer is asked again, never shown partial
SHARD_RETRY_SECONDS = 0.5
TERMS_CACHE_ENTRIES = 200_000
FORCE_MERGE_SECONDS = 3600  # an archive's force-merge answers when it is done


class OpenSearchEngine:
    """Index, delete, search, stats, article, related and completions on a cluster."""

    def __init__(self, settings):
        self.settings = settings
        self.url = settings.opensearch_url
        self.alias = settings.opensearch_index
        self.client = connect(self.url)
        self.synonyms = load_synonyms(settings.synonyms or None)
        self._lock = threading.Lock()
        self._terms = self._new_terms()

    # -- plumbing ------------------------------------------------------------

    @property
    def terms(self) -> GlobalTerms:
        """Document frequencies, kept for one search: the index changes under us."""
        return self._terms

    def _new_terms(self) -> GlobalTerms:
        return GlobalTerms(lambda body: self.call("search", index=self.alias, body=body))

    def call(self, method: str, **kwargs):
        """A client call with the cluster's failures as :class:`EngineUnavailable`, and a missing
        index as :class:`IndexMissingError`."""
        with reachable(self.url):
            for attempt in range(SHARD_RETRIES + 1):
                try:
                    got = getattr(self.client, method)(**kwargs)
                except os_errors.NotFoundError as exc:
                    if "index_not_found" in str(exc):
                        raise IndexMissingError(self._missing_message()) from None
                    raise
                shards = got.get("_shards", {}) if isinstance(got, dict) else {}
                if not shards.get("failed"):
                    return got
                time.sleep(SHARD_RETRY_SECONDS)  # a node just lost: its shards' copies take over
        raise EngineUnavailable(f"the OpenSearch cluster at {self.url} answered without some of its shards "
                                f"({shards.get('failed')} of {shards.get('total')}): a node is down and no copy "
                                "of its shards is left; see the cluster's health")

    def _missing_message(self) -> str:
        return (f"no vnsearch index {self.alias!r} on the OpenSearch cluster at {self.url}: "
                "run 'vnsearch index FILE' first")

    def check(self) -> None:
        with reachable(self.url):
            if not (self.client.indices.exists_alias(name=self.alias) or self.client.indices.exists(index=self.alias)):
                raise IndexMissingError(self._missing_message())

    def close(self) -> None:
        self.client.close()

    # -- writing -------------------------------------------------------------

    def index(self, records, *, rebuild=False, on_reject=None, on_progress=None, on_warning=None):
        with reachable(self.url):
            return ClusterWriter(self.client, self.alias, self.settings).index(
                records, rebuild=rebuild, on_reject=on_reject, on_progress=on_progress, on_warning=on_warning)

    def delete(self, ids):
        with reachable(self.url):
            return ClusterWriter(self.client, self.alias, self.settings).delete(ids)

    def optimize(self) -> MergeReport:
        """Force-merge each shard into one segment. Lucene merges beside the writer, so
        publishing goes on meanwhile (nothing to give way to)."""
        self.check()
        before = self._segment_count()
        with reachable(self.url):
            self.client.indices.forcemerge(index=self.alias, max_num_segments=1,
                                           request_timeout=FORCE_MERGE_SECONDS)
        return MergeReport(before, self._segment_count())

    # -- reading -------------------------------------------------------------

    def search(self, request: SearchRequest | None = None, **kwargs) -> SearchResult:
        """Hits, facets and a suggestion (see :func:`vnsearch.search.pipeline.search`).

        Document frequencies are kept for the one search (the correction and the
        suggestion's broadest form re-use them): the index changes under us.
        """
        with self._lock:
            self._terms = self._new_terms()
            return pipeline.search(self._run, request or SearchRequest(**kwargs))

    def _run(self, request: SearchRequest) -> SearchResult:
        with reachable(self.url):
            return ClusterSearch(self, request).run()

    def _get(self, article_id: str) -> dict | None:
        try:
            got = self.call("get", index=self.alias, id=article_id)
        except os_errors.NotFoundError:
            return None
        return got["_source"]

    def article(self, article_id: str) -> dict | None:
        source = self._get(article_id)
        if source is None:
            return None
        stored = dict(source["shown"], id=article_id, docnum=article_id)
        if stored.get("date_iso"):
            stored["date_iso"] = vietnam_time(stored["date_iso"])
        return stored

    def related(self, article_id: str, n: int = 5) -> list:
        """The articles most like one: its most distinctive words, scored like a query."""
        source = self._get(article_id)
        if source is None:
            return []
        shown = source["shown"]
        text = f"{shown.get('title', '')}\n{shown.get('summary', '')}\n{shown.get('body', '')[:3000]}"
        folded = analysis.fold_terms(analysis.analyze(text).words)
        terms = self._new_terms()
        with reachable(self.url):
            terms.prefetch(("body_fold", t) for t in folded)
            weights: dict[str, float] = {}
            stats = self._global_stats()
            idf = (lambda df: CandidateView([], stats, terms).idf_of_count(df))
            for term_ in folded:
                weights[term_] = weights.get(term_, 0.0) + idf(terms.df("body_fold", term_))
            keys = sorted(weights, key=weights.get, reverse=True)[:12]
            pairs = [(f, t) for t in keys for f in ("title_fold", "body_fold")]
            terms.prefetch(pairs)
            should = [{"term": {q.fold_field(f, t): {"value": t, "boost": W_TITLE if f == "title_fold" else W_BODY}}}
                      for f, t in pairs]
            got = self.call("search", index=self.alias, body={
                "size": RELATED_CANDIDATES, "track_total_hits": False, "_source": False,
                "stored_fields": STORED_FIELDS, "docvalue_fields": NUMBERS,
                "query": {"bool": {"should": should, "minimum_should_match": 1,
                                   "must_not": [{"ids": {"values": [article_id]}}]}}})
        hits = got["hits"]["hits"]
        if not hits:
            return []
        view = CandidateView([candidate(h) for h in hits], stats, terms)
        scores = related_scores(view, keys, np.arange(len(hits)))
        top = np.argsort(-scores, kind="stable")[:n]
        ids = [hits[i]["_id"] for i in top]
        shown_docs = self.call("mget", index=self.alias, body={"ids": ids}, _source_includes=["shown", "category_key"])
        by_id = {d["_id"]: d["_source"] for d in shown_docs["docs"] if d.get("found")}
        return [hit_of(by_id.get(hits[i]["_id"], {}), hits[i]["_id"], round(float(scores[i]), 4), set()) for i in top]

    def _global_stats(self) -> dict:
        got = self.call("search", index=self.alias, body={"size": 0, "track_total_hits": True, "aggs": {
            "newest": {"filter": DATED, "aggs": {"max": {"max": {"field": "ts"}}}},
            **{f"len_{f}": {"avg": {"field": f"qlen.{f}", "missing": 0}} for f in TEXT_FIELDS}}})
        count = got["hits"]["total"]["value"]
        newest = got["aggregations"]["newest"]["max"]["value"]
        return {"doc_count": count, "newest": int(newest) if newest is not None else 0,
                "avg_length": average_lengths(got["aggregations"], count)}

    def complete(self, text: str, limit: int = 8) -> list[str]:
        with self._lock, reachable(self.url):
            view = CandidateView([], {"doc_count": 0, "avg_length": {}, "newest": 0},
                                 self._new_terms())
            return Suggester(view).completions(text, limit)

    def stats(self) -> dict:
        """Article count, categories with counts, sources and the date range (as the embedded engine)."""
        aggs = facet_aggs()
        aggs["source"]["terms"].update(size=10000)
        aggs = {"category": aggs["category"], "source": aggs["source"],
                "dated": {"filter": DATED, "aggs": {
                    "min": {"min": {"field": "ts"}}, "max": {"max": {"field": "ts"}}}},
                "undated": {"missing": {"field": "ts"}}}
        got = self.call("search", index=self.alias, body={"size": 0, "track_total_hits": True, "aggs": aggs})
        a = got["aggregations"]
        fmt = (lambda ts: datetime.fromtimestamp(ts, VIETNAM_TZ).isoformat())
        oldest, newest = a["dated"]["min"]["value"], a["dated"]["max"]["value"]
        facets = read_facets({"category": a["category"], "source": a["source"], "year": {"buckets": []},
                              "month": {"buckets": []}, "author": {"buckets": []}})
        return {
            "articles": got["hits"]["total"]["value"],
            "categories": [asdict(v) for v in facets["category"]],
            "sources": [asdict(v) for v in facets["source"]],
            "date_from": fmt(int(oldest)) if oldest is not None else None,
            "date_to": fmt(int(newest)) if newest is not None else None,
            "undated": a["undated"]["doc_count"],
            "segments": self._segment_count(),
            "index_dir": f"{self.url.split(',')[0].rstrip('/')}/{self.alias}",
        }

    def _segment_count(self) -> int:
        with reachable(self.url):
            stats = self.client.indices.stats(index=self.alias, metric="segments")
        return int(stats["_all"]["primaries"]["segments"]["count"])
