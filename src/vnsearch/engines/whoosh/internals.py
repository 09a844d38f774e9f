"""Every use of Whoosh's private internals on the read side, named in one place.

Search reads Whoosh's files faster than Whoosh's public API allows: posting blocks decoded
with numpy, numeric and length columns read straight from the mapped file. Each of these
relies on attributes of whoosh3 3.54 that are not its public API; :data:`PRIVATE_API` names
them, :func:`missing_internals` says which the installed Whoosh lacks, and the counters
:data:`slow_reads` and :data:`slow_columns` count every time a fast path fell back to the
public one (tests/test_whoosh_internals.py fails on either, so a Whoosh release that renames
an internal cannot make search quietly slow). The write side's internals are named in
:mod:`.segment_writer`; :mod:`.mapped` holds the zero-copy file patch.
"""

from __future__ import annotations

import numpy as np
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

from vnsearch.engines.whoosh import mapped

# (object, attribute) pairs the fast paths need; a class, or a description of an instance's.
PRIVATE_API = (
    (whoosh3, "_lenfield"),  # the name of a field's length column
    (whoosh3.W3LeafMatcher, "_read_data"),  # decode the current posting block
    (whoosh3.W3LeafMatcher, "_next_block"),
    (whoosh3.W3PerDocReader, "_cached_reader"),  # a column reader by name, cached
    (whoosh3.W3FieldWriter, "start_field"),  # overridden to choose block sizes (segment_writer)
    (whoosh3.W3PostingsWriter, "_mini_weights"),  # overridden: counts pickled as ints (segment_writer)
    (whoosh3.W3PostingsWriter, "_mini_values"),  # overridden: positions pickled as str
    (whoosh3.W3PostingsWriter, "written"),  # whether a term has blocks (inlining one posting)
    (whoosh3.W3TermInfo, "set_inlined"),
)
INSTANCE_ATTRIBUTES = {
    "W3LeafMatcher": ("_data", "_blocklength", "_byteids"),
    "NumericColumn.Reader": ("_dbfile", "_typecode", "_count", "_default", "_basepos"),
    "SegmentReader": ("_perdoc",),
    "Searcher": ("_ix",),
}
_LENGTH_TABLE = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
EMPTY_IDS = np.zeros(0, dtype=np.int64)
EMPTY_TF = np.zeros(0, dtype=np.float32)

slow_reads = 0  # posting lists read a posting at a time because the block path did not apply
slow_columns = 0  # columns read a value at a time because the mapped path did not apply


def missing_internals() -> list[str]:
    """The private attributes of :data:`PRIVATE_API` that the installed Whoosh lacks."""
    return [f"{getattr(owner, '__name__', owner)}.{name}" for owner, name in PRIVATE_API
            if not hasattr(owner, name)]


def generation(searcher) -> int:
    """The index generation a searcher reads (its commit number)."""
    return searcher._ix.latest_generation()


def length_column(reader, fieldname: str):
    """A segment reader's column of field lengths (one byte per document), or None."""
    return reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)


def length_values(codes: np.ndarray) -> np.ndarray:
    """Whoosh's one-byte length codes as lengths."""
    return _LENGTH_TABLE[codes]


def column_array(column, n: int) -> np.ndarray | None:
    """A Whoosh NumericColumn reader's raw values for docnums 0..n-1, read from the map."""
    buf = mapped.buffer_of(getattr(column, "_dbfile", None))
    if buf is None or not hasattr(column, "_typecode") or not hasattr(column, "_count"):
        return None
    count = min(column._count, n)
    out = np.full(n, column._default, dtype=np.dtype(column._typecode))
    out[:count] = np.frombuffer(buf, dtype=">" + column._typecode, count=count, offset=column._basepos)
    return out


def count_slow_column() -> None:
    global slow_columns
    slow_columns += 1


def _leaf(matcher):
    """The block-reading matcher under Whoosh's deletion filter, if any."""
    while hasattr(matcher, "child") and not hasattr(matcher, "_read_data"):
        matcher = matcher.child
    return matcher


def _blocks(matcher):
    """Each block of a leaf matcher as (ids, weights, values, length), ids as global-order
    numpy docnums. Postings inlined in the term index (a term of one article in a segment)
    come as one block read the public way, a posting at a time."""
    matcher = _leaf(matcher)
    if hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block"):
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            ids, weights, values = matcher._data[0], matcher._data[1], matcher._data[2]
            block_ids = np.asarray(ids, dtype=np.int64)
            yield (block_ids if matcher._byteids else np.cumsum(block_ids)), weights, values, matcher._blocklength
            matcher._next_block()
        return
    if type(matcher).__name__ != "ListMatcher":
        global slow_reads
        slow_reads += 1  # a Whoosh change broke the block path: tests/test_whoosh_internals.py notices
    ids, weights, values = [], [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        values.append(matcher.value())
        matcher.next()
    yield np.array(ids, dtype=np.int64), weights, values, len(ids)


def read_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """All ids and weights of a Whoosh leaf matcher, a block at a time.

    Whoosh's on-disk blocks hold pickled tuples of delta-coded ids and weights; decoding
    them with numpy instead of Whoosh's per-posting Python loop is what makes reading a
    posting list of 50,000 documents take milliseconds. Deleted documents are filtered
    by the caller (the view's live mask), so Whoosh's deletion filter is unwrapped.
    """
    ids_blocks, tf_blocks = [], []
    for ids, weights, _values, n in _blocks(matcher):
        ids_blocks.append(ids)
        if weights is None:
            tf_blocks.append(np.ones(n, dtype=np.float32))
        elif isinstance(weights, float):
            tf_blocks.append(np.full(n, weights, dtype=np.float32))
        else:
            tf_blocks.append(np.asarray(weights, dtype=np.float32))
    if not ids_blocks:
        return EMPTY_IDS, EMPTY_TF
    return np.concatenate(ids_blocks), np.concatenate(tf_blocks)


def read_values(matcher) -> tuple[np.ndarray, list]:
    """All ids and encoded values (positions, as the field's format wrote them) of a Whoosh
    leaf matcher, a block at a time; deleted documents included, as in :func:`read_postings`."""
    ids_blocks, values = [], []
    for ids, _weights, block_values, _n in _blocks(matcher):
        ids_blocks.append(ids)
        values.extend(block_values)
    if not ids_blocks:
        return EMPTY_IDS, []
    return np.concatenate(ids_blocks), values
