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

import pickle
import struct
import zlib
from functools import lru_cache

import numpy as np
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo, _lenfield
from whoosh.filedb import filetables
from whoosh.util.numeric import byte_to_length

from vnsearch.engines.whoosh import mapped

# (object, attribute) pairs the fast paths need; a class, or a description of an instance's.
PRIVATE_API = (
    (whoosh3, "_lenfield"),  # the name of a field's length column
    (whoosh3.W3LeafMatcher, "_read_data"),  # decode the current posting block
    (whoosh3.W3LeafMatcher, "_next_block"),
    (whoosh3.W3PerDocReader, "_cached_reader"),  # a column reader by name, cached
    (whoosh3.W3FieldWriter, "start_field"),  # overridden to choose block sizes (segment_writer)
    (whoosh3.W3PostingsWriter, "_mini_ids"),  # overridden: ids packed in an array (segment_writer)
    (whoosh3.W3PostingsWriter, "_mini_weights"),  # overridden: counts packed in an array
    (whoosh3.W3PostingsWriter, "_mini_values"),  # overridden: positions pickled as str
    (whoosh3.W3PostingsWriter, "written"),  # whether a term has blocks (inlining one posting)
    (whoosh3.W3TermInfo, "set_inlined"),
    (whoosh3.W3TermsReader, "_keycoder"),  # a term's key in the term index (direct block reads)
    (whoosh3.W3TermInfo, "_struct"),  # the layout of a term's entry: its document frequency
    (filetables, "_pointer"),  # a term index's hash slot (term_entry)
    (filetables, "_lengths"),  # a term index entry's key and value lengths
    (filetables, "_hash_functions"),
)
INSTANCE_ATTRIBUTES = {
    "W3LeafMatcher": ("_data", "_blocklength", "_byteids"),
    "NumericColumn.Reader": ("_dbfile", "_typecode", "_count", "_default", "_basepos"),
    "SegmentReader": ("_perdoc", "_terms"),
    "W3TermsReader": ("_tindex", "_postfile", "_fieldunmap"),  # _fieldunmap: segment_merge
    "OrderedHashReader": ("dbfile", "tables", "hashtype"),
    "Searcher": ("_ix",),
}
_LENGTH_TABLE = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
EMPTY_IDS = np.zeros(0, dtype=np.int64)
EMPTY_TF = np.zeros(0, dtype=np.float32)
_BLOCK_SIZE = struct.Struct("!i")  # before each posting block: its size, negative for the last
_TERM_INFO = W3TermInfo._struct  # a term index entry: flags, weight, document frequency, ...
_HASH_SLOT = filetables._pointer  # a term index hash table slot: the key's hash, the entry's position
_ENTRY_LENGTHS = filetables._lengths  # before a term index entry: its key's and value's lengths
_DOC_FREQUENCY = 2

slow_reads = 0  # term lookups and posting reads that took Whoosh's public path: a direct one did not apply
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


def _count_slow_read() -> None:
    """A Whoosh change broke a direct read: tests/test_whoosh_internals.py notices."""
    global slow_reads
    slow_reads += 1


def count_slow_column() -> None:
    global slow_columns
    slow_columns += 1


def _leaf(matcher):
    """The block-reading matcher under Whoosh's deletion filter, if any."""
    while hasattr(matcher, "child") and not hasattr(matcher, "_read_data"):
        matcher = matcher.child
    return matcher


def _blocks(segreader, fieldname: str, term: str):
    """Each block of a term's postings in one segment as (ids, weights, values, length), ids
    as segment docnums in a numpy array, deleted documents included; nothing when the segment
    lacks the term.

    Read straight from the mapped postings file after one term-index lookup: Whoosh's own
    path looks the term up twice and builds two matcher objects per segment, which was a
    third of the time a common word's postings took to read. Postings inlined in the term
    index (a term of one article in the segment) come with the lookup.
    """
    terms = term_index(segreader)
    buf = mapped.buffer_of(getattr(terms, "_postfile", None))
    if buf is None:
        return _matcher_blocks(segreader, fieldname, term)
    raw = term_entry(terms, fieldname, term.encode("utf-8"))
    if raw is None:
        return ()  # most lookups: a word absent from most segments
    return entry_blocks(segreader, fieldname, term, raw, buf)


def term_index(segreader):
    """A segment's term index reader (whoosh3's ``W3TermsReader``) if it has what the direct
    lookups of :func:`term_entry` use, else None (and Whoosh's public path is taken)."""
    terms = getattr(segreader, "_terms", None)
    return terms if hasattr(terms, "_tindex") and hasattr(terms, "_keycoder") else None


def entry_blocks(segreader, fieldname: str, term: str | bytes, raw: bytes, buf):
    """:func:`_blocks` of a term found in the term index (``raw``: its entry)."""
    info = W3TermInfo.from_bytes(raw)
    if info.is_inlined():
        ids, weights, values = info.inlined_postings()
        yield np.array(ids, dtype=np.int64), weights, values, len(ids)
        return
    offset, _length = info.extent()
    if bytes(buf[offset : offset + len(WHOOSH3_HEADER_MAGIC)]) != WHOOSH3_HEADER_MAGIC:
        yield from _matcher_blocks(segreader, fieldname, term)  # Whoosh names the damage
        return
    position = offset + len(WHOOSH3_HEADER_MAGIC)
    file = segreader._terms._postfile.file
    while True:
        (size,) = _BLOCK_SIZE.unpack_from(buf, position)  # negative for the last block
        file.seek(position + _BLOCK_SIZE.size)
        length, _maxid, _maxweight, compressed, _minlen, _maxlen = pickle.load(file)
        end = position + _BLOCK_SIZE.size + abs(size)
        data = buf[file.tell() : end]
        ids, weights, values = pickle.loads(zlib.decompress(data) if compressed else data)
        yield np.cumsum(np.asarray(ids, dtype=np.int64)), weights, values, length
        if size < 0:
            return
        position = end


def inlined_postings(raw: bytes) -> tuple | None:
    """(ids, weights, values) of a term index entry whose postings are inlined in it, else None:
    the entry's flags byte says so (``W3TermInfo.to_bytes``), without building a term info."""
    if not raw[0]:
        return None
    return pickle.loads(raw[_TERM_INFO.size:])


def _matcher_blocks(segreader, fieldname: str, term: str):
    """:func:`_blocks` through Whoosh's matcher: for files not read through the map, and as
    Whoosh's own check of a damaged posting list."""
    _count_slow_read()
    if (fieldname, term) not in segreader:
        return
    matcher = _leaf(segreader.postings(fieldname, term))
    if hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block"):
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            ids, weights, values = matcher._data[0], matcher._data[1], matcher._data[2]
            block_ids = np.asarray(ids, dtype=np.int64)
            yield (block_ids if matcher._byteids else np.cumsum(block_ids)), weights, values, matcher._blocklength
            matcher._next_block()
        return
    ids, weights, values = [], [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        values.append(matcher.value())
        matcher.next()
    yield np.array(ids, dtype=np.int64), weights, values, len(ids)


def term_entry(terms, fieldname: str, tbytes: bytes) -> bytes | None:
    """A term's entry in one segment's term index (its term info, as bytes), or None.

    Whoosh's hash table, probed straight from the map: its own ``get`` hashed the key with
    md5 in every segment and read each slot through three layers of calls; search looks a
    term up in every segment, a thousand times a query. The key's hash is computed once
    for all segments (:func:`_key_hash`); the probe is Whoosh's (``HashReader.ranges_for_key``).
    """
    tindex = terms._tindex
    key = terms._keycoder(fieldname, tbytes)
    buf = mapped.buffer_of(getattr(tindex, "dbfile", None))
    if buf is None or not hasattr(tindex, "tables") or not hasattr(tindex, "hashtype"):
        _count_slow_read()
        return tindex.get(key)
    keyhash = _key_hash(tindex.hashtype, key)
    start, slots = tindex.tables[keyhash & 255]
    if not slots:
        return None
    pointer, lengths = _HASH_SLOT, _ENTRY_LENGTHS
    end = start + slots * pointer.size
    slot = start + ((keyhash >> 8) % slots) * pointer.size
    for _ in range(slots):
        slot_hash, position = pointer.unpack_from(buf, slot)
        if not position:
            return None
        if slot_hash == keyhash:
            key_length, value_length = lengths.unpack_from(buf, position)
            key_start = position + lengths.size
            if key_length == len(key) and buf[key_start : key_start + key_length] == key:
                return bytes(buf[key_start + key_length : key_start + key_length + value_length])
        slot += pointer.size
        if slot == end:
            slot = start
    return None


@lru_cache(maxsize=8192)
def _key_hash(hashtype: int, key: bytes) -> int:
    return filetables._hash_functions[hashtype](key)


def doc_frequency(segreaders, fieldname: str, term: str) -> int:
    """How many documents of the segments hold ``term`` (deleted ones included), from one
    term-index lookup in each: Whoosh's merged reader looks a term up through four layers
    of calls per segment, and spelling correction asks for hundreds of words a query."""
    tbytes = term.encode("utf-8")
    total = 0
    for segreader in segreaders:
        terms = term_index(segreader)
        if terms is None:
            _count_slow_read()
            total += segreader.doc_frequency(fieldname, term)
            continue
        raw = term_entry(terms, fieldname, tbytes)
        if raw is not None:
            total += _TERM_INFO.unpack_from(raw)[_DOC_FREQUENCY]
    return total


def read_postings(segreader, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """All ids and weights of a term in one segment (deleted documents included: the caller
    masks them with the view's live mask), a block at a time.

    Blocks hold pickled ids (gaps) and weights: packed in arrays by this version's writer
    (:class:`~vnsearch.engines.whoosh.segment_writer.PackedNumbers`), tuples of ints by older
    ones; numpy decodes either a block at a time, not a posting at a time as Whoosh's
    matchers do.
    """
    ids_blocks, tf_blocks = [], []
    for ids, weights, _values, n in _blocks(segreader, fieldname, term):
        ids_blocks.append(ids)
        if weights is None:
            tf_blocks.append(np.ones(n, dtype=np.float32))
        elif isinstance(weights, float):
            tf_blocks.append(np.full(n, weights, dtype=np.float32))
        else:
            tf_blocks.append(np.asarray(weights, dtype=np.float32))
    if not ids_blocks:
        return EMPTY_IDS, EMPTY_TF
    if len(ids_blocks) == 1:
        return ids_blocks[0], tf_blocks[0]
    return np.concatenate(ids_blocks), np.concatenate(tf_blocks)


def read_values(segreader, fieldname: str, term: str) -> tuple[np.ndarray, list]:
    """All ids and encoded values (positions, as the field's format wrote them) of a term in
    one segment, a block at a time; deleted documents included, as in :func:`read_postings`."""
    ids_blocks, values = [], []
    for ids, _weights, block_values, _n in _blocks(segreader, fieldname, term):
        ids_blocks.append(ids)
        values.extend(block_values)
    if not ids_blocks:
        return EMPTY_IDS, []
    return np.concatenate(ids_blocks), values
