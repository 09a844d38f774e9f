"""A numeric view of one index generation: per-document arrays and cached postings.

Whoosh stores the postings, columns and stored fields; scoring and faceting every
matching document through Whoosh's Python matchers is too slow on 100,000 articles.
So each index segment is read once into numpy arrays (facet codes, dates, field
lengths, deletions) and reused across commits while the segment lives; postings are
read a block at a time. Searching then is array arithmetic.

Memory is bounded: segment files are read through the map (:mod:`vnsearch.mapped`),
not copied; postings are cached per segment in one :class:`ByteCache` that every
generation shares (a commit that adds a segment keeps the postings read from the
others), and what a view merges over its segments in a smaller one of its own; both
hold at most ``VNSEARCH_CACHE_MB`` megabytes between them.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.query import Phrase
from whoosh.util.numeric import byte_to_length

from vnsearch import mapped

TEXT_FIELDS = ("title_fold", "body_fold", "title_syl", "body_syl")
FACET_COLUMNS = ("category_key", "author_key", "source_key")
POSITIONAL_FIELD = {"title_fold": "title_fold", "body_fold": "body_pos"}
_LENGTH_TABLE = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
EMPTY_IDS = np.zeros(0, dtype=np.int64)
EMPTY_TF = np.zeros(0, dtype=np.float32)
EXPAND_SCAN = 50_000  # term index entries a wildcard may read, over all segments
VIEW_CACHE_SHARE = 0.25  # of the cache budget, for what a view merges over its segments
ENTRY_OVERHEAD = 200  # bytes counted per cache entry beyond its arrays (key, tuple, bookkeeping)
DF_CACHE_ENTRIES = 50_000
NEAR_FIELD = "body_fold"  # where spelling correction looks for the words a misspelling is near


class ByteCache:
    """A least-recently-used cache bounded by the bytes of the arrays it holds.

    Values are numpy arrays, tuples of them, or small lists; an entry larger than the
    whole budget is not kept. Not thread-safe: the search engine serialises access.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max(0, int(max_bytes))
        self.nbytes = 0
        self._entries: OrderedDict = OrderedDict()  # key -> (value, size)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key):
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key, value) -> None:
        size = _size_of(value) + ENTRY_OVERHEAD
        old = self._entries.pop(key, None)
        if old is not None:
            self.nbytes -= old[1]
        if size > self.max_bytes:
            return
        self._entries[key] = (value, size)
        self.nbytes += size
        while self.nbytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.nbytes -= evicted



class Vocabulary:
    """The syllables (no compounds) of one field over every segment seen, for spelling correction.

    Finding the indexed words one edit away from a misspelling by scanning the term index
    (Whoosh's ``terms_within``) walked every term with the same first letter in every
    segment, in Python: 0.2 s and more on a large archive, for each unknown word. Here
    each segment's terms are read once, the first time a misspelling is corrected (the
    set only grows: a word whose articles were withdrawn stays a candidate and is ranked
    by its document frequency like any other), and the neighbours of a word are
    generated and looked up in the set. The alphabet is the one the words use, so the
    neighbours found are exactly those within one edit.
    """

    def __init__(self, fieldname: str):
        self.fieldname = fieldname
        self.words: set[str] = set()
        self.alphabet: set[str] = set()
        self._segments: set = set()

    def update(self, leaves, segment_ids) -> None:
        """Read the terms of the segments not seen yet."""
        for (segreader, _offset), segment_id in zip(leaves, segment_ids):
            if segment_id in self._segments:
                continue
            for term in segreader.lexicon(self.fieldname):
                term = term.decode("utf-8") if isinstance(term, bytes) else term
                if "_" not in term and term not in self.words:
                    self.words.add(term)
                    self.alphabet.update(term)
            self._segments.add(segment_id)

    def within_one_edit(self, word: str) -> list[str]:
        """Held words one insertion, deletion, substitution or swap of neighbours away that
        keep the first letter (rarely the mistake), in alphabetical order.

        >>> v = Vocabulary("body_fold"); v.words = {"noi", "nuoi", "ngoi", "moi", "nooi"}; v.alphabet = set("noiumg")
        >>> v.within_one_edit("nooi"), v.within_one_edit("nio")
        (['ngoi', 'noi', 'nuoi'], ['noi'])
        """
        if not word:
            return []
        first, rest = word[0], word[1:]
        letters = self.alphabet
        splits = [(rest[:i], rest[i:]) for i in range(len(rest) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits.update(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1)
        edits.update(a + c + b[1:] for a, b in splits if b for c in letters)
        edits.update(a + c + b for a, b in splits for c in letters)
        return sorted(t for t in (first + e for e in edits) if t != word and t in self.words)


def _size_of(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_size_of(v) for v in value) + 8 * len(value)
    if isinstance(value, dict):  # segment id -> postings; empty postings share two arrays
        return sum(_size_of(v) if len(v[0]) else 0 for v in value.values()) + 100 * len(value)
    if isinstance(value, str):
        return len(value) + 50
    return 32


def cache_budget(megabytes: float) -> tuple[int, int]:
    """Bytes for the shared per-segment postings cache and for each view's own cache."""
    total = int(megabytes * 2**20)
    view = int(total * VIEW_CACHE_SHARE)
    return total - view, view


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


slow_columns = 0  # columns read a value at a time because the mapped path did not apply


def _column_array(column, n: int) -> np.ndarray | None:
    """A Whoosh NumericColumn reader's raw values for docnums 0..n-1, read from the map."""
    buf = mapped.buffer_of(getattr(column, "_dbfile", None))
    if buf is None or not hasattr(column, "_typecode") or not hasattr(column, "_count"):
        return None
    count = min(column._count, n)
    out = np.full(n, column._default, dtype=np.dtype(column._typecode))
    out[:count] = np.frombuffer(buf, dtype=">" + column._typecode, count=count, offset=column._basepos)
    return out


def _numeric_column(reader, fieldname: str, n: int) -> np.ndarray:
    """A NUMERIC int field's values as int64 (Whoosh stores them shifted to sort unsigned)."""
    global slow_columns
    field = reader.schema[fieldname]
    raw = _column_array(reader.column_reader(fieldname, translate=False), n)
    if raw is None:
        slow_columns += 1
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
        ids, _ = _read_postings(reader.postings(fieldname, term))
        codes[ids] = len(values)
        values.append(value)
    return values, codes


def _field_lengths(reader, fieldname: str, n: int) -> np.ndarray:
    global slow_columns
    column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return np.zeros(n, dtype=np.float32)
    raw = _column_array(column, n)
    if raw is None:
        slow_columns += 1
        raw = np.fromiter(column, dtype=np.uint8, count=n)
    return _LENGTH_TABLE[raw]


class IndexView:
    """Everything search needs from one index generation, as global-docnum arrays."""

    def __init__(self, searcher, segment_cache: dict, postings_cache: ByteCache | None = None,
                 view_cache_bytes: int = 16 * 2**20, vocabulary: Vocabulary | None = None):
        """``segment_cache`` (segment arrays), ``postings_cache`` (per-segment postings) and
        ``vocabulary`` outlive the view: the engine passes the same ones to every generation."""
        self.searcher = searcher
        self.reader = searcher.reader()
        self.generation = getattr(searcher._ix, "latest_generation", lambda: 0)()
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
        dated = self.date[self.live & (self.date > 0)]
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
                segreader = self.leaves[i][0]
                if (fieldname, term) in segreader:
                    per_segment[self.segment_ids[i]] = _read_postings(segreader.postings(fieldname, term))
                else:
                    per_segment[self.segment_ids[i]] = (EMPTY_IDS, EMPTY_TF)
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
        """Documents where the folded terms occur in order in any of the fields.

        ``fieldnames`` are the frequency fields used for a cheap prefilter; positions are
        checked by Whoosh in the matching positional field (``body_fold`` -> ``body_pos``).
        """
        key = ("phrase", fieldnames, terms)
        hit = self._postings.get(key)
        if hit is None:
            mask = np.ones(self.size, dtype=bool)
            for term in set(terms):  # every term must occur somewhere, or no phrase can
                mask &= self.term_mask(fieldnames, term)
            result = np.zeros(self.size, dtype=bool)
            if mask.any():
                for fieldname in fieldnames:
                    per_segment = self._segment_phrase_docs(POSITIONAL_FIELD[fieldname], terms)
                    for segment_id, (_segreader, offset) in zip(self.segment_ids, self.leaves):
                        result[per_segment[segment_id][0] + offset] = True
            hit = result & mask & self.live
            self._postings.put(key, hit)
        return hit

    def _segment_phrase_docs(self, positional: str, terms: tuple[str, ...]) -> dict:
        """The documents of each segment (local docnums) where ``terms`` stand in order, by segment id.

        Checking positions is the costliest thing search does (Whoosh decodes them in Python: a
        common phrase takes most of a second on 150,000 articles), so, like postings, the answer
        is kept per segment in the cache every generation shares: a commit costs a check of its
        new segment only.
        """
        key = ("phrase", positional, terms)
        per_segment = self._segment_postings.get(key)
        missing = {sid for sid in self.segment_ids if per_segment is None or sid not in per_segment}
        if missing:
            live = set(self.segment_ids)
            per_segment = {sid: v for sid, v in (per_segment or {}).items() if sid in live}
            by_offset = {offset: sid for sid, (_r, offset) in zip(self.segment_ids, self.leaves)}
            query = Phrase(positional, list(terms))
            for subsearcher, offset in self.searcher.leaf_searchers():
                segment_id = by_offset[offset]
                if segment_id in missing:
                    # a 1-tuple, as the cache sizes a segment's entry by its first array
                    per_segment[segment_id] = (np.fromiter(subsearcher.docs_for_query(query), dtype=np.int64),)
            self._segment_postings.put(key, per_segment)
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
            value = self.reader.doc_frequency(fieldname, term)
            if len(self._df_cache) > DF_CACHE_ENTRIES:
                self._df_cache.clear()
            self._df_cache[key] = value
        return value


slow_reads = 0  # posting lists read a posting at a time because the block path did not apply


def _read_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """All ids and weights of a Whoosh leaf matcher, a block at a time.

    Whoosh's on-disk blocks hold pickled tuples of delta-coded ids and weights; decoding
    them with numpy instead of Whoosh's per-posting Python loop is what makes reading a
    posting list of 50,000 documents take milliseconds. Deleted documents are filtered
    by the caller (the view's live mask), so Whoosh's deletion filter is unwrapped.
    """
    while hasattr(matcher, "child") and not hasattr(matcher, "_read_data"):
        matcher = matcher.child
    ids_blocks, tf_blocks = [], []
    if hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block"):
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            ids, weights = matcher._data[0], matcher._data[1]
            n = matcher._blocklength
            block_ids = np.asarray(ids, dtype=np.int64)
            ids_blocks.append(block_ids if matcher._byteids else np.cumsum(block_ids))
            if weights is None:
                tf_blocks.append(np.ones(n, dtype=np.float32))
            elif isinstance(weights, float):
                tf_blocks.append(np.full(n, weights, dtype=np.float32))
            else:
                tf_blocks.append(np.asarray(weights, dtype=np.float32))
            matcher._next_block()
    else:  # postings inlined in the term index (a rare term): the public way, a few at most
        if type(matcher).__name__ != "ListMatcher":
            global slow_reads
            slow_reads += 1  # a Whoosh change broke the block path: tests/test_scale.py notices
        ids, tf = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            tf.append(matcher.weight())
            matcher.next()
        ids_blocks.append(np.array(ids, dtype=np.int64))
        tf_blocks.append(np.array(tf, dtype=np.float32))
    if not ids_blocks:
        return EMPTY_IDS, EMPTY_TF
    return np.concatenate(ids_blocks), np.concatenate(tf_blocks)
