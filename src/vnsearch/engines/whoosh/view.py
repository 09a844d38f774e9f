"""A numeric view of one index generation: per-document arrays and cached postings.

Whoosh stores the postings, columns and stored fields; scoring and faceting every
matching document through Whoosh's Python matchers is too slow on 100,000 articles.
So each index segment is read once into numpy arrays (facet codes, dates, field
lengths, deletions) and reused across commits while the segment lives; postings are
read a block at a time. Searching then is array arithmetic.

Memory is bounded: segment files are read through the map (:mod:`.mapped`),
not copied; postings are cached per segment in one :class:`ByteCache` that every
generation shares (a commit that adds a segment keeps the postings read from the
others), and what a view merges over its segments in a smaller one of its own; both
hold at most ``VNSEARCH_CACHE_MB`` megabytes between them.
"""

from __future__ import annotations

import fnmatch
import math
import re
from dataclasses import dataclass

import numpy as np

from vnsearch.documents import is_dated
from vnsearch.engines.whoosh import internals
from vnsearch.engines.whoosh.caches import ByteCache, Vocabulary
from vnsearch.engines.whoosh.internals import EMPTY_IDS, EMPTY_TF
from vnsearch.engines.whoosh.phrases import segment_phrase_docs

TEXT_FIELDS = ("title_fold", "body_fold", "title_syl", "body_syl")
FACET_COLUMNS = ("category_key", "author_key", "source_key")
POSITIONAL_FIELD = {"title_fold": "title_fold", "body_fold": "body_pos"}
EXPAND_SCAN = 50_000  # term index entries a wildcard may read, over all segments
DF_CACHE_ENTRIES = 50_000
NEAR_FIELD = "body_fold"  # where spelling correction looks for the words a misspelling is near


@dataclass
class SegmentArrays:
    """Per-document arrays of one Whoosh segment (docnums local to the segment)."""

    live: np.ndarray
    date: np.ndarray
    year: np.ndarray
    month: np.ndarray
    lengths: dict[str, np.ndarray]
    facets: dict[str, tuple[list[str], np.ndarray]]  # column -> (values, codes)

    @classmethod
    def read(cls, reader) -> "SegmentArrays":
        """Read from the segment's files: numeric columns straight from the map as numpy
        arrays, facet codes from the facet fields' terms (a few hundred posting lists),
        not a Python object per document and column (6 s for 150,000 articles)."""
        n = reader.doc_count_all()
        live = np.ones(n, dtype=bool)
        if reader.has_deletions():
            live[np.fromiter(reader.segment().deleted_docs(), dtype=np.int64)] = False
        numbers = {name: _numeric_column(reader, name, n) for name in ("date", "year", "month")}
        lengths = {name: _field_lengths(reader, name, n) for name in TEXT_FIELDS}
        facets = {name: _facet_codes(reader, name, n) for name in FACET_COLUMNS}
        return cls(live, numbers["date"], numbers["year"], numbers["month"], lengths, facets)


def _numeric_column(reader, fieldname: str, n: int) -> np.ndarray:
    """A NUMERIC int field's values as int64 (Whoosh stores them shifted to sort unsigned)."""
    field = reader.schema[fieldname]
    raw = internals.column_array(reader.column_reader(fieldname, translate=False), n)
    if raw is None:
        internals.count_slow_column()
        return np.fromiter(reader.column_reader(fieldname), dtype=np.int64, count=n)
    raw = raw.astype(np.uint64)
    if field.signed:  # from_sortable: x - 2**(bits - 1), in 64-bit two's complement
        raw = raw - np.uint64(1 << (field.bits - 1))
    return raw.view(np.int64)


def _facet_codes(reader, fieldname: str, n: int) -> tuple[list[str], np.ndarray]:
    """A facet's values (sorted, "" first) and each document's code, from the field's terms.

    The facet fields are ID fields, indexed as well as stored in a column: a document's
    term is its value as written, so the postings of the few distinct values give every
    document's code without reading the column a document at a time.
    """
    values = [""]
    codes = np.zeros(n, dtype=np.int32)
    for term in reader.lexicon(fieldname):
        value = term.decode("utf-8") if isinstance(term, bytes) else term
        if not value:
            continue
        ids, _ = internals.read_postings(reader, fieldname, value)
        codes[ids] = len(values)
        values.append(value)
    return values, codes


def _field_lengths(reader, fieldname: str, n: int) -> np.ndarray:
    column = internals.length_column(reader, fieldname)
    if column is None:
        return np.zeros(n, dtype=np.float32)
    raw = internals.column_array(column, n)
    if raw is None:
        internals.count_slow_column()
        raw = np.fromiter(column, dtype=np.uint8, count=n)
    return internals.length_values(raw)


class IndexView:
    """Everything search needs from one index generation, as global-docnum arrays."""

    def __init__(self, searcher, segment_cache: dict, postings_cache: ByteCache | None = None,
                 view_cache_bytes: int = 16 * 2**20, vocabulary: Vocabulary | None = None,
                 phrase_cache: ByteCache | None = None):
        """``segment_cache`` (segment arrays), ``postings_cache`` (per-segment postings),
        ``phrase_cache`` (per-segment phrase answers) and ``vocabulary`` outlive the view:
        the engine passes the same ones to every generation."""
        self.searcher = searcher
        self.reader = searcher.reader()
        self.generation = internals.generation(searcher)
        # An index with no segments yet (nothing committed) has no leaves at all.
        leaves = self.reader.leaf_readers() if self.reader.doc_count_all() else []
        self.leaves = leaves
        parts = []
        for segreader, _offset in leaves:
            segment = segreader.segment()
            key = (segment.segment_id(), segment.deleted_count())
            if key not in segment_cache:
                segment_cache[key] = SegmentArrays.read(segreader)
            parts.append(segment_cache[key])
        live_keys = {(r.segment().segment_id(), r.segment().deleted_count()) for r, _ in leaves}
        for stale in set(segment_cache) - live_keys:
            del segment_cache[stale]
        self.segment_ids = [r.segment().segment_id() for r, _ in leaves]
        self._segment_postings = postings_cache if postings_cache is not None else ByteCache(3 * view_cache_bytes)
        self._segment_phrases = phrase_cache if phrase_cache is not None else ByteCache(view_cache_bytes // 2)
        # One leaf without deletions: its postings are the view's, no merge or copy needed.
        self._single = len(leaves) == 1 and not leaves[0][0].has_deletions()
        self._vocabulary = vocabulary if vocabulary is not None else Vocabulary(NEAR_FIELD)
        self.size = sum(len(p.live) for p in parts)
        cat = (lambda xs, dtype: np.concatenate(xs) if xs else np.zeros(0, dtype=dtype))
        self.live = cat([p.live for p in parts], bool)
        self.date = cat([p.date for p in parts], np.int64)
        self.year = cat([p.year for p in parts], np.int64)
        self.month = cat([p.month for p in parts], np.int64)
        self.lengths = {f: cat([p.lengths[f] for p in parts], np.float32) for f in TEXT_FIELDS}
        self.doc_count = int(self.live.sum())
        self.avg_length = {f: float(self.lengths[f][self.live].mean()) if self.doc_count else 1.0
                           for f in TEXT_FIELDS}
        self.facet_values: dict[str, list[str]] = {}
        self.facet_codes: dict[str, np.ndarray] = {}
        for name in FACET_COLUMNS:
            vocab = sorted({v for p in parts for v in p.facets[name][0]})
            index = {v: i for i, v in enumerate(vocab)}
            codes = [np.array([index[v] for v in p.facets[name][0]], dtype=np.int32)[p.facets[name][1]]
                     if len(p.live) else np.zeros(0, dtype=np.int32) for p in parts]
            self.facet_values[name] = vocab
            self.facet_codes[name] = cat(codes, np.int32)
        dated = self.date[self.live & is_dated(self.date)]
        self.newest = int(dated.max()) if len(dated) else 0
        self.oldest = int(dated.min()) if len(dated) else 0
        self._postings = ByteCache(view_cache_bytes)
        self._titles = None
        self._df_cache: dict[tuple[str, str], int] = {}

    # -- postings ------------------------------------------------------------

    def postings(self, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted global docnums of live documents holding ``term``, and its frequency in each."""
        per_segment = self._segment_postings_of(fieldname, term)
        if self._single:
            return per_segment[self.segment_ids[0]]
        key = (fieldname, term)
        hit = self._postings.get(key)
        if hit is not None:
            return hit
        ids_parts, tf_parts = [], []
        for segment_id, (_segreader, offset) in zip(self.segment_ids, self.leaves):
            ids, tf = per_segment[segment_id]
            if len(ids):
                ids_parts.append(ids + offset)
                tf_parts.append(tf)
        if ids_parts:
            ids = np.concatenate(ids_parts)
            tf = np.concatenate(tf_parts)
            keep = self.live[ids]
            result = (ids[keep], tf[keep])
        else:
            result = (EMPTY_IDS, EMPTY_TF)
        self._postings.put(key, result)
        return result

    def _segment_postings_of(self, fieldname: str, term: str) -> dict:
        """A term's postings in each segment (local docnums, deleted ones included), by segment id.

        One cache entry per term, shared across views: a new generation reads only the
        segments the entry lacks, and a term absent from most segments costs one entry,
        not one per segment (an index of 70 segments filled the cache with empty ones).
        """
        key = (fieldname, term)
        per_segment = self._segment_postings.get(key)
        missing = [i for i, sid in enumerate(self.segment_ids) if per_segment is None or sid not in per_segment]
        if missing:
            live = set(self.segment_ids)  # segments merged away are dropped from the entry
            per_segment = {sid: v for sid, v in (per_segment or {}).items() if sid in live}
            for i in missing:
                per_segment[self.segment_ids[i]] = internals.read_postings(self.leaves[i][0], fieldname, term)
            self._segment_postings.put(key, per_segment)
        return per_segment

    def near_words(self, word: str) -> list[str]:
        """Indexed body syllables one edit away from ``word``, same first letter (see Vocabulary)."""
        self._vocabulary.update(self.leaves, self.segment_ids)
        return self._vocabulary.within_one_edit(word)

    def doc_frequency(self, fieldname: str, term: str) -> int:
        return len(self.postings(fieldname, term)[0])

    def term_mask(self, fieldnames: tuple[str, ...], term: str) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        for fieldname in fieldnames:
            mask[self.postings(fieldname, term)[0]] = True
        return mask

    def phrase_mask(self, fieldnames: tuple[str, ...], terms: tuple[str, ...]) -> np.ndarray:
        """Live documents where the folded terms occur in order in any of the fields (their
        positions are in the matching positional field: ``body_fold`` -> ``body_pos``)."""
        result = np.zeros(self.size, dtype=bool)
        for fieldname in fieldnames:
            per_segment = self._segment_phrase_docs(POSITIONAL_FIELD[fieldname], terms)
            for segment_id, (_segreader, offset) in zip(self.segment_ids, self.leaves):
                result[per_segment[segment_id][0] + offset] = True
        return result & self.live

    def _segment_phrase_docs(self, positional: str, terms: tuple[str, ...]) -> dict:
        """The documents of each segment (local docnums) where ``terms`` stand in order, by segment id.

        Checking positions is the costliest thing search does (:mod:`.phrases`: a common phrase
        reads thousands of position blocks), so the answer is kept per segment in a cache of its
        own that every generation shares: a commit costs a check of its new segment only, and
        postings read by other queries do not push it out.
        """
        key = (positional, terms)
        per_segment = self._segment_phrases.get(key)
        missing = {sid for sid in self.segment_ids if per_segment is None or sid not in per_segment}
        if missing:
            live = set(self.segment_ids)
            per_segment = {sid: v for sid, v in (per_segment or {}).items() if sid in live}
            # Matched by position, not by offset: an empty segment shares its offset with the next.
            subsearchers = [s for s, _offset in self.searcher.leaf_searchers()]
            for segment_id, (segreader, _offset), subsearcher in zip(self.segment_ids, self.leaves, subsearchers):
                if segment_id in missing:
                    docs = segment_phrase_docs(segreader, subsearcher, positional, terms).astype(np.int32)
                    per_segment[segment_id] = (docs,)  # a 1-tuple, as the cache sizes an entry by its first array
            self._segment_phrases.put(key, per_segment)
        return per_segment

    def expand(self, fieldname: str, pattern: str, limit: int) -> list[str]:
        """Terms of ``fieldname`` matching a folded wildcard pattern, the most frequent first.

        Each segment's term index is read from the pattern's literal prefix, at most
        ``EXPAND_SCAN`` terms in all: Whoosh's merged reader looks each term's frequency up
        again in every segment, which took a second for ``th*`` on 100,000 articles.
        """
        key = ("expand", fieldname, pattern, limit)
        hit = self._postings.get(key)
        if hit is not None:
            return hit
        head = pattern.split("*")[0].split("?")[0]
        rx = re.compile(fnmatch.translate(pattern))
        frequency: dict[str, int] = {}
        budget = EXPAND_SCAN
        for segreader, _offset in self.leaves:
            for term, info in segreader.iter_prefix(fieldname, head):
                budget -= 1
                if budget < 0:
                    break
                term = term.decode("utf-8") if isinstance(term, bytes) else term
                if rx.match(term):
                    frequency[term] = frequency.get(term, 0) + info.doc_frequency()
        found = sorted(frequency, key=lambda t: (-frequency[t], t))[:limit]
        self._postings.put(key, found)
        return found

    # -- scoring -------------------------------------------------------------

    def bm25(self, fieldname: str, term: str, docs: np.ndarray, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
        """BM25 of ``term`` in ``fieldname`` for each of ``docs`` (sorted global docnums).

        The term's frequencies are scattered into a dense array over the whole index and
        gathered at ``docs`` (two linear passes, instead of a binary search per document),
        and the length norm is computed only where the term occurs.
        """
        ids, tf = self.postings(fieldname, term)
        out = np.zeros(len(docs), dtype=np.float32)
        if not len(ids) or not len(docs):
            return out
        dense = np.zeros(self.size, dtype=np.float32)
        dense[ids] = tf
        freq = dense[docs]
        where = np.flatnonzero(freq)
        if not len(where):
            return out
        f = freq[where]
        idf = self.idf_of_count(len(ids))
        norm = k1 * (1.0 - b + b * self.lengths[fieldname][docs[where]] / max(self.avg_length[fieldname], 1.0))
        out[where] = idf * f * (k1 + 1.0) / (f + norm)
        return out

    def idf(self, fieldname: str, term: str) -> float:
        return self.idf_of_count(self.doc_frequency(fieldname, term))

    def idf_of_count(self, df: int) -> float:
        """The idf of something ``df`` live documents hold (a term, or a word in any of its spellings)."""
        return math.log(1.0 + (self.doc_count - df + 0.5) / (df + 0.5))

    def stored(self, docnum: int) -> dict:
        return self.searcher.stored_fields(int(docnum))

    def prefix_terms(self, fieldname: str, prefix: str):
        """The terms of ``fieldname`` that begin with ``prefix``, in term order (suggestions)."""
        for term in self.reader.expand_prefix(fieldname, prefix):
            yield term.decode("utf-8") if isinstance(term, bytes) else term

    def titles_holding(self, fieldname: str, term: str, limit: int) -> list[list[str]]:
        """The titles of at most ``limit`` articles holding ``term``, spread evenly over them."""
        held = self.postings(fieldname, term)[0]
        if len(held) > limit:
            held = held[np.linspace(0, len(held) - 1, limit).astype(np.int64)]
        return [self.title_syllables(int(docnum)) for docnum in held]

    def title_syllables(self, docnum: int) -> list[str]:
        """The canonical syllables of a document's title, from its column."""
        if self._titles is None:
            self._titles = self.reader.column_reader("title_terms")
        return self._titles[int(docnum)].decode("utf-8").split()

    def df(self, fieldname: str, term: str) -> int:
        """Document frequency from the term index (deleted documents included), cached."""
        key = (fieldname, term)
        value = self._df_cache.get(key)
        if value is None:
            value = internals.doc_frequency((r for r, _offset in self.leaves), fieldname, term)
            if len(self._df_cache) > DF_CACHE_ENTRIES:
                self._df_cache.clear()
            self._df_cache[key] = value
        return value
