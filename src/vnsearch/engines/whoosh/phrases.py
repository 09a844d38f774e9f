"""Phrase checks over one segment's positions, as numpy arithmetic.

Whoosh checks a phrase by walking the documents that hold all its words and building
Python span objects from each one's positions: a common phrase ("hoa kỳ", a synonym of
"Mỹ") took 0.3-1.5 s on 150,000 articles, each time the postings cache had let it go.
Here the positions of the documents that hold every word are read a block at a time,
parsed in one call, and matched as (document, position) keys: term ``i`` of the phrase
must stand at ``p + i`` for some position ``p`` of its first term in the same document,
which is what Whoosh's ``Phrase`` (slop 1, ordered) admits, and nothing else.

Only :class:`~vnsearch.engines.whoosh.schema.TextPositions` values (ASCII gaps) are read
this way; a field with another format (indexes of schema 2) is checked by Whoosh as before.
"""

from __future__ import annotations

import numpy as np
from whoosh.query import Phrase

from vnsearch.engines.whoosh import internals
from vnsearch.engines.whoosh.internals import EMPTY_IDS
from vnsearch.engines.whoosh.schema import TextPositions

_STRIDE = np.int64(1 << 32)  # (document, position) as one key: positions stay below 2**32


def segment_phrase_docs(segreader, subsearcher, fieldname: str, terms: tuple[str, ...]) -> np.ndarray:
    """Local docnums of one segment where ``terms`` stand in order in ``fieldname``
    (deleted documents may be included: the caller masks them)."""
    if not isinstance(segreader.schema[fieldname].format, TextPositions):
        return np.fromiter(subsearcher.docs_for_query(Phrase(fieldname, list(terms))), dtype=np.int64)
    if any((fieldname, term) not in segreader for term in terms):
        return EMPTY_IDS
    read = {term: internals.read_values(segreader, fieldname, term) for term in set(terms)}
    docs = None
    for ids, _values in read.values():
        docs = ids if docs is None else np.intersect1d(docs, ids, assume_unique=True)
    if not len(docs):
        return EMPTY_IDS
    keys = {term: _position_keys(ids, values, docs) for term, (ids, values) in read.items()}
    held = keys[terms[0]]  # sorted, as every key array is
    for i, term in enumerate(terms[1:], start=1):
        held = held[_sorted_isin(held + i, keys[term])]
        if not len(held):
            return EMPTY_IDS
    held //= _STRIDE
    return docs[held[np.r_[True, held[1:] != held[:-1]]]]


def _sorted_isin(wanted: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    where = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
    return sorted_keys[where] == wanted


def _position_keys(ids: np.ndarray, values: list, docs: np.ndarray) -> np.ndarray:
    """``index in docs * _STRIDE + position`` for every position of the term in ``docs``, sorted.

    The chosen values are joined with ``-1`` between documents (gaps are never negative) and
    parsed in one call; a document's positions are the running sum of its gaps.
    """
    chosen = [values[i] for i in np.searchsorted(ids, docs).tolist()]
    try:
        text = " -1 ".join(chosen)
    except TypeError:  # bytes, as Whoosh may hand them back
        text = " -1 ".join(v.decode("ascii") if isinstance(v, bytes) else v for v in chosen)
    numbers = np.array(text.split(), dtype=np.int64)
    marker = numbers < 0
    numbers[marker] = 0
    running = np.cumsum(numbers)
    doc = np.cumsum(marker)  # each number's index in docs
    base = np.concatenate(([0], running[marker]))  # the running sum where each document starts
    keep = ~marker
    return doc[keep] * _STRIDE + (running[keep] - base[doc[keep]])
