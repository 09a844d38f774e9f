"""The index as the shared ranking and suggestion code reads it, backed by the cluster.

The embedded engine's ranking (BM25 per field, the re-ranking of top titles) and its
suggester read an *index view*: postings, field lengths, document frequencies, titles.
Here the view covers the few hundred candidates the cluster returned for a query
(document numbers are positions in that list): their analysed fields come with them,
and what is global (document frequencies of live articles, the article count, the
average field lengths, the newest date) comes from aggregations. So the scores are the
embedded engine's, computed by the same formula on the same numbers.
"""

from __future__ import annotations

import math
import string

import numpy as np

from vnsearch.documents import UNDATED
from vnsearch.search.suggest import accent_variants

from .documents import TEXT_FIELDS
from .queries import fold_field, term

ALPHABET = string.ascii_lowercase + string.digits  # of folded syllables: what one edit may insert
PREFIX_TERMS = 5000  # title terms a completion reads, as the embedded engine


class GlobalTerms:
    """Document frequencies over the live articles, asked of the cluster in batches and kept."""

    def __init__(self, search):
        """``search``: a function of a request body returning the cluster's answer (the engine's,
        which never lets a partial answer through)."""
        self.search = search
        self.known: dict[tuple[str, str], int] = {}
        self.doc_texts: dict[tuple[str, str], str] = {}  # (article id, field) -> its padded tokens

    def prefetch(self, pairs) -> None:
        """Ask for every (field, term) of ``pairs`` not known yet, in one request."""
        wanted = list(dict.fromkeys(p for p in pairs if p not in self.known))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            filters = {str(i): term(os_field(f, t), t) for i, (f, t) in enumerate(chunk)}
            got = self.search({
                "size": 0, "track_total_hits": False,
                "aggs": {"df": {"filters": {"filters": filters}}}})
            buckets = got["aggregations"]["df"]["buckets"]
            for i, pair in enumerate(chunk):
                self.known[pair] = buckets[str(i)]["doc_count"]

    def prefetch_suggestion(self, query) -> None:
        """What the suggester will ask of a query's words, asked in two requests instead of one
        per look-up: every accented spelling of each syllable, then the pairs of the spellings
        held next to each other (the compounds that decide between them)."""
        words = [c for c in query.required if not c.is_filter and not c.wildcard and not c.negated]
        folded = [f for c in words for f in c.folded]
        if not folded or len(folded) > 12 or query.any_of:
            return
        variants = [accent_variants(f) for f in folded]
        self.prefetch((field, v) for vs in variants for v in vs for field in ("body_syl", "title_syl"))
        held = [[v for v in vs if self.known[("body_syl", v)]] for vs in variants]
        self.prefetch(("body_syl", f"{a}_{b}") for left, right in zip(held, held[1:]) for a in left for b in right)

    def df(self, fieldname: str, term_: str) -> int:
        pair = (fieldname, term_)
        if pair not in self.known:
            self.prefetch([pair])
        return self.known[pair]


def os_field(fieldname: str, term_: str) -> str:
    """The cluster's field for a term of one of the ranking's fields."""
    if fieldname in ("title_fold", "body_fold"):
        return fold_field(fieldname, term_)
    return fieldname


class CandidateView:
    """An index view over ``sources`` (the candidates' analysed fields), see the module docstring."""

    def __init__(self, sources: list[dict], stats: dict, terms: GlobalTerms):
        self.sources = sources
        self.size = len(sources)
        self.doc_count = stats["doc_count"]
        self.avg_length = stats["avg_length"]
        self.newest = stats["newest"]
        self.terms = terms
        self.live = np.ones(self.size, dtype=bool)
        self.lengths = {f: np.array([s.get("qlen", {}).get(f, 0) for s in sources], dtype=np.float32)
                        for f in TEXT_FIELDS}
        self.date = np.array([s.get("ts", UNDATED) for s in sources], dtype=np.int64)
        self._padded: dict[str, list[str]] = {}

    # -- what ranking reads --------------------------------------------------

    def _texts(self, field: str) -> list[str]:
        """Each candidate's tokens of one of the cluster's fields, each between two spaces of its
        own (kept for the whole search: its correction and its broadest form read the same
        candidates again), so ``str.count(" term ")`` counts every occurrence, neighbours too."""
        texts = self._padded.get(field)
        if texts is None:
            kept = self.terms.doc_texts
            texts = []
            for s in self.sources:
                key = (s.get("_id"), field)
                text = kept.get(key)
                if text is None:
                    text = " " + s.get(field, "").replace(" ", "  ") + " "
                    if key[0] is not None:
                        kept[key] = text
                texts.append(text)
            self._padded[field] = texts
        return texts

    def postings(self, fieldname: str, term_: str) -> tuple[np.ndarray, np.ndarray]:
        """Candidates holding ``term_`` in one of the ranking's fields, and how often."""
        needle = f" {term_} "
        tf = [text.count(needle) for text in self._texts(os_field(fieldname, term_))]
        ids = [i for i, n in enumerate(tf) if n]
        return np.array(ids, dtype=np.int64), np.array([tf[i] for i in ids], dtype=np.float32)

    def bm25(self, fieldname: str, term_: str, docs: np.ndarray, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
        """The embedded engine's BM25, with the document frequency of the whole index."""
        out = np.zeros(len(docs), dtype=np.float32)
        if not len(docs):
            return out
        ids, tf = self.postings(fieldname, term_)
        if not len(ids):
            return out
        dense = np.zeros(self.size, dtype=np.float32)
        dense[ids] = tf
        freq = dense[docs]
        where = np.flatnonzero(freq)
        f = freq[where]
        idf = self.idf_of_count(self.terms.df(fieldname, term_))
        norm = k1 * (1.0 - b + b * self.lengths[fieldname][docs[where]] / max(self.avg_length[fieldname], 1.0))
        out[where] = idf * f * (k1 + 1.0) / (f + norm)
        return out

    def idf_of_count(self, df: int) -> float:
        return math.log(1.0 + (self.doc_count - df + 0.5) / (df + 0.5))

    def idf(self, fieldname: str, term_: str) -> float:
        return self.idf_of_count(self.terms.df(fieldname, term_))

    def df(self, fieldname: str, term_: str) -> int:
        return self.terms.df(fieldname, term_)

    def title_syllables(self, docnum: int) -> list[str]:
        return self.sources[docnum].get("title_terms", "").split()

    # -- what the suggester reads beyond that --------------------------------

    def near_words(self, word: str) -> list[str]:
        """Indexed body syllables one edit away from ``word``, same first letter, in order."""
        if not word:
            return []
        first, rest = word[0], word[1:]
        splits = [(rest[:i], rest[i:]) for i in range(len(rest) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits.update(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1)
        edits.update(a + c + b[1:] for a, b in splits if b for c in ALPHABET)
        edits.update(a + c + b for a, b in splits for c in ALPHABET)
        candidates = sorted(t for t in (first + e for e in edits) if t != word)
        self.terms.prefetch(("body_fold", t) for t in candidates)
        near = [t for t in candidates if self.terms.df("body_fold", t)]
        # the suggester weighs the spellings of the nearest ones next
        self.terms.prefetch(("body_syl", v) for t in near[:50] for v in accent_variants(t))
        return near

    def prefix_terms(self, fieldname: str, prefix: str) -> list[str]:
        """Terms of ``fieldname`` (the title's folded syllables) beginning with ``prefix``, in term
        order; their document frequencies come with them."""
        got = self.terms.search({
            "size": 0, "track_total_hits": False,
            "aggs": {"t": {"terms": {"field": fieldname, "include": _escape(prefix) + ".*", "size": PREFIX_TERMS,
                                     "order": [{"_count": "desc"}, {"_key": "asc"}]}}}})
        buckets = got["aggregations"]["t"]["buckets"]
        for bucket in buckets:
            self.terms.known[(fieldname, bucket["key"])] = bucket["doc_count"]
        return sorted(b["key"] for b in buckets)

    def titles_holding(self, fieldname: str, term_: str, limit: int) -> list[list[str]]:
        """The titles of at most ``limit`` articles holding ``term_`` (the first in index order)."""
        got = self.terms.search({
            "size": limit, "track_total_hits": False, "query": term(fieldname, term_),
            "_source": ["title_terms"], "sort": ["_doc"]})
        return [hit["_source"].get("title_terms", "").split() for hit in got["hits"]["hits"]]


def _escape(text: str) -> str:
    return "".join(c if c.isalnum() else "\\" + c for c in text)
