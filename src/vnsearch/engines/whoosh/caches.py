"""Memory bounded in bytes: the postings and phrase caches every index generation shares,
and the vocabulary spelling correction searches.

``VNSEARCH_CACHE_MB`` megabytes per server process (:func:`cache_budget`): a quarter for what a
view merges over its segments, a tenth for phrase answers per segment, the rest for postings per
segment; the last two outlive generations.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

import numpy as np

VIEW_CACHE_SHARE = 0.25  # of the cache budget, for what a view merges over its segments
PHRASE_CACHE_SHARE = 0.10  # for phrase answers: small, and the dearest thing search computes
ENTRY_OVERHEAD = 200  # bytes counted per cache entry beyond its arrays (key, tuple, bookkeeping)


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


class Budget(NamedTuple):
    """Bytes for each cache: per-segment postings and phrase answers (shared by every
    generation), and what one view merges over its segments."""

    segments: int
    phrases: int
    view: int


def cache_budget(megabytes: float) -> Budget:
    """``megabytes`` split between the caches.

    Phrase answers have a slice of their own: checking a phrase reads the positions of every
    word in it (60-300 ms for a synonym such as "hoa kỳ" on 150,000 articles), and in one
    cache with postings the answer was pushed out by the postings of a few hundred varied
    queries, then checked again by the next query that asked for it.
    """
    total = int(megabytes * 2**20)
    view = int(total * VIEW_CACHE_SHARE)
    phrases = int(total * PHRASE_CACHE_SHARE)
    return Budget(total - view - phrases, phrases, view)
