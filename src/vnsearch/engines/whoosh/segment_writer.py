"""Whoosh's segment writing, made fast for vnsearch: postings kept in memory, large blocks.

Whoosh is pure Python, and writing postings was two thirds of indexing time:

- :class:`MemoryPostingPool` replaces Whoosh's ``PostingPool``, which pickles every
  posting (about 800 per article) to a temporary run file and merge-sorts them back at
  commit. Here postings are grouped by field and term as they arrive, in compact arrays,
  and come out sorted with no pickling.
- :class:`SegmentWriter` uses that pool, and reads each field's lengths once per
  segment instead of once per posting.
- :class:`_PostingsWriter` pickles blocks smaller and faster to read: a block's ids (the
  gaps between them) and its counts as :class:`PackedNumbers`, which unpickle as one
  ``array.array`` each, not a tuple of Python ints (reading a common word's postings is
  what search spends most of its time on; numpy takes an array's buffer as it is), and
  the ASCII position values of :class:`~vnsearch.engines.whoosh.schema.TextPositions` as
  ``str``. Whoosh's reader takes all of them as they are (an array is a sequence of ints);
  and it puts a term of one posting into the term index (see
  :meth:`_PostingsWriter.finish_postings`).

Whoosh internals this module relies on (whoosh3 3.54; see :mod:`.internals` for the
reading side and the test that checks them all): ``SegmentWriter._flush_segment``
(replaced), ``.pool``, ``._tempstorage``, ``._added``, ``._finalize_segment()``,
``._finish()``, ``W3FieldWriter._postwriter/_postfile/_codec``, ``W3Codec._compression``
and ``._inlinelimit``, ``W3PostingsWriter._mini_ids/_mini_weights/_mini_values/finish_postings/._weights/._ids/._format/
._terminfo/._inlinelimit``, ``W3TermInfo.set_inlined`` (read back by Whoosh's ``ListMatcher``).
"""

from __future__ import annotations

from array import array
from typing import Callable, Iterator

import numpy as np
from whoosh import writing
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3PostingsWriter, W3Segment
from whoosh.filedb.filestore import RamStorage
from whoosh.reading import SegmentReader

from vnsearch.engines.whoosh import segment_merge

# Postings per block, by field. Whoosh's default, 128, suits its own matchers, which skip
# blocks; search reads whole posting lists of the frequency fields, and each block
# costs an unpickle and a zlib call. Positions (title_fold, body_pos) keep small blocks:
# phrase checks decode the positions of every posting in a block they touch.
BLOCK_LIMITS = {"body_fold": 4096, "body_syl": 4096, "title_syl": 4096}


class Codec(W3Codec):
    """Whoosh's codec with :data:`BLOCK_LIMITS`. Segments it writes name the standard
    codec, which reads blocks of any size: an index never depends on this class."""

    def field_writer(self, storage, segment):
        return _FieldWriter(self, storage, segment)

    def new_segment(self, storage, indexname):
        return W3Segment(W3Codec(), indexname)


class _FieldWriter(W3FieldWriter):
    def start_field(self, fieldname, fieldobj):
        super().start_field(fieldname, fieldobj)
        codec = self._codec
        self._postwriter = _PostingsWriter(self._postfile, blocklimit=BLOCK_LIMITS.get(fieldname, codec._blocklimit),
                                           compression=codec._compression, inlinelimit=codec._inlinelimit)


class _PostingsWriter(W3PostingsWriter):
    """Whoosh's postings writer, with smaller blocks (see the module docstring); the blocks
    are Whoosh's own pickled tuples, read by Whoosh's unchanged reader."""

    def add_posting(self, id_, weight, vbytes, length=None):
        # Postings merged in from a segment come back as they were read: no value (None)
        # for TermCounts, str for TextPositions.
        if vbytes is None:
            vbytes = b""
        elif isinstance(vbytes, str):
            vbytes = vbytes.encode("ascii")
        super().add_posting(id_, weight, vbytes, length)

    def _mini_ids(self):
        ids = self._ids
        if isinstance(ids, array) and len(ids) >= PACK_AT_LEAST:
            return PackedNumbers.of(np.diff(np.frombuffer(ids, dtype=np.uint32), prepend=np.uint32(0)))
        return PackedNumbers.of(super()._mini_ids())

    def _mini_weights(self):
        weights = self._weights
        if len(weights) >= PACK_AT_LEAST:
            return _mini_weights_of(np.frombuffer(weights, dtype=np.float32))
        first = weights[0]
        if all(w == first for w in weights):
            return None if first == 1.0 else float(first)  # as Whoosh: its reader expects a float
        if all(map(_small_whole, weights)):
            return PackedNumbers.of(map(int, weights))
        return tuple(weights)

    def finish_postings(self):
        """A term of one posting (about half of all terms) goes into the term index, as the
        codec's ``inlinelimit`` means: whoosh3 compares ``len < inlinelimit`` and so never
        inlines, and each such term took a block of its own (about 85 bytes in all)."""
        if self.written() or not 0 < len(self._ids) <= self._inlinelimit:
            return super().finish_postings()
        terminfo = self._terminfo
        terminfo.add_block(self)
        weights = [int(w) if _small_whole(w) else w for w in self._weights]
        values = self._values
        if getattr(self._format, "ascii_values", False):
            values = [v.decode("ascii") for v in values]
        terminfo.set_inlined(self._ids, weights, values)
        self._terminfo = None
        return terminfo

    def _mini_values(self):
        values = super()._mini_values()
        if (isinstance(values, tuple) and values and isinstance(values[0], bytes)
                and getattr(self._format, "ascii_values", False)):
            return tuple(v.decode("ascii") for v in values)  # merged blocks come as str already
        return values

    def write_arrays(self, ids: np.ndarray, weights: np.ndarray, values: list | None,
                     lengths: np.ndarray) -> None:
        """A whole term's postings at once, in blocks (a merge: :mod:`.segment_merge`):
        ``ids`` ascending, ``weights`` float32, ``values`` one per posting (None: the
        format has none), ``lengths`` each document's length in the field."""
        count = len(ids)
        ids = ids.astype(np.uint32)
        weights = weights.astype(np.float32)
        for start in range(0, count, self._blocklimit):
            end = min(start + self._blocklimit, count)
            self._ids = array("I", ids[start:end].tobytes())
            self._weights = array("f", weights[start:end].tobytes())
            self._values = values[start:end] if values is not None else []
            block_lengths = lengths[start:end]
            counted = block_lengths[block_lengths > 0]  # as add_posting: a length of 0 is none
            self._minlength = int(counted.min()) if len(counted) else None
            self._maxlength = int(block_lengths.max())
            self._maxweight = float(weights[start:end].max())
            self._write_block(last=end == count)


def _small_whole(weight) -> bool:
    """Whether a weight is a count (packed as an unsigned int, not pickled as a float's 9 bytes)."""
    return float(weight).is_integer() and 0 <= weight < 2**31


def _mini_weights_of(weights: np.ndarray):
    """:meth:`_PostingsWriter._mini_weights` of a block's float32 weights, with numpy."""
    first = float(weights[0])
    if (weights == weights[0]).all():
        return None if first == 1.0 else first
    if ((weights >= 0) & (weights < 2**31) & (weights == np.floor(weights))).all():
        return PackedNumbers.of(weights.astype(np.uint32))
    return tuple(weights.tolist())


PACK_AT_LEAST = 64  # postings in a block for its ids and counts to be packed
_NUMPY_TYPES = {"B": np.uint8, "H": np.uint16, "I": np.uint32}  # array typecodes (native order)


class PackedNumbers(array):
    """Unsigned ints in the narrowest array type that holds them, pickled as a plain
    ``array.array`` built from its bytes: the index depends on no class of ours.

    Whoosh pickles a block with protocol 2, where an array pickles as a list of ints;
    this one pickles as ``array(typecode, bytes)`` (native byte order), which unpickles
    in one call.

    >>> import pickle
    >>> packed = PackedNumbers.of([3, 1, 300] * 40)
    >>> back = pickle.loads(pickle.dumps(packed, 2))
    >>> type(back).__name__, back.typecode, list(back[:4]), PackedNumbers.of([3, 1])
    ('array', 'H', [3, 1, 300, 3], (3, 1))
    """

    @classmethod
    def of(cls, numbers) -> "PackedNumbers | tuple":
        """Packed, or a tuple when there are fewer than :data:`PACK_AT_LEAST` (an array's
        pickle costs some 40 bytes more, and a short tuple is quick to read anyway)."""
        if isinstance(numbers, np.ndarray):
            if len(numbers) < PACK_AT_LEAST:
                return tuple(numbers.tolist())
            top = int(numbers.max())
            typecode = "B" if top < 2**8 else "H" if top < 2**16 else "I"
            return cls(typecode, numbers.astype(_NUMPY_TYPES[typecode]).tobytes())
        numbers = tuple(numbers)
        if len(numbers) < PACK_AT_LEAST:
            return numbers
        top = max(numbers)
        return cls("B" if top < 2**8 else "H" if top < 2**16 else "I", numbers)

    def __reduce_ex__(self, protocol):
        return array, (self.typecode, self.tobytes())


class MemoryPostingPool:
    """A segment's postings by field and term, in memory, yielded in Whoosh's order.

    About 60 bytes a posting (two array slots and a reference to the value, whose
    short ones are shared), against some 200 for a Python tuple per posting.
    """

    def __init__(self):
        self._fields: dict[str, dict[bytes, tuple[array, array, list]]] = {}
        self._unsorted: set[tuple[str, bytes]] = set()
        self._shared: dict[bytes, bytes] = {}  # frequency values are a few distinct bytes
        self.postings = 0
        self.terms = 0

    def add(self, item: tuple) -> None:
        fieldname, btext, docnum, weight, value = item
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
        postings = terms.get(btext)
        if postings is None:
            postings = terms[btext] = (array("i"), array("f"), [])
            self.terms += 1
        docnums = postings[0]
        if docnums and docnum < docnums[-1]:
            self._unsorted.add((fieldname, btext))  # documents merged in from other segments
        docnums.append(docnum)
        postings[1].append(weight)
        if value is not None and len(value) <= 4:
            value = self._shared.setdefault(value, value)
        postings[2].append(value)
        self.postings += 1

    def approx_bytes(self) -> int:
        return self.postings * 60 + self.terms * 400

    def iter_postings(self) -> Iterator[tuple]:
        """(fieldname, btext, docnum, weight, value) sorted as Whoosh's field writer needs."""
        for fieldname in sorted(self._fields):
            terms = self._fields[fieldname]
            for btext in sorted(terms):
                docnums, weights, values = terms[btext]
                if (fieldname, btext) in self._unsorted:
                    rows = sorted(zip(docnums, weights, values), key=lambda row: row[0])
                else:
                    rows = zip(docnums, weights, values)
                for docnum, weight, value in rows:
                    yield fieldname, btext, docnum, weight, value

    def cleanup(self) -> None:
        self._fields.clear()
        self._unsorted.clear()
        self._shared.clear()
        self.postings = self.terms = 0


class _FieldLengths:
    """Each field's length column read once, for the field writer's per-posting lookups."""

    def __init__(self, per_document_reader, doc_count: int):
        self._reader = per_document_reader
        self._doc_count = doc_count

    def doc_field_length_reader(self, fieldname):
        return self.lengths(fieldname).__getitem__

    def lengths(self, fieldname) -> list[int]:
        length = self._reader.doc_field_length_reader(fieldname)
        return [length(docnum) for docnum in range(self._doc_count)]


class _LengthArrays:
    """Each field's lengths in the new segment as an array, for a merge (zeros without a column)."""

    def __init__(self, lengths: _FieldLengths | None, doc_count: int):
        self._lengths = lengths
        self._doc_count = doc_count

    def __call__(self, fieldname: str) -> np.ndarray:
        if self._lengths is None:
            return np.zeros(self._doc_count, dtype=np.int64)
        return np.array(self._lengths.lengths(fieldname), dtype=np.int64)


class SegmentWriter(writing.SegmentWriter):
    """Whoosh's segment writer with postings in memory (see the module docstring).

    Documents, commits, merges and deletions work exactly as in Whoosh's writer; only
    how postings wait between ``add_document`` and the segment's files changes.
    ``worker=True`` is a writer in a worker process: it takes no lock (the indexer
    holds it) and never commits, it only finishes a segment (:meth:`finish_segment`).
    """

    def __init__(self, ix, worker: bool = False, **kwargs):
        kwargs.setdefault("codec", Codec())
        super().__init__(ix, _lk=not worker, **kwargs)
        self.pool = MemoryPostingPool()
        self._merged: list[segment_merge.MergedSegment] = []  # merged a block at a time, at flush
        # Asked during a merge: true stops it (raising segment_merge.MergeStopped).
        self.merge_stop: Callable[[], bool] | None = None
        if worker:
            # Whoosh gives every writer of an index the same temporary directory and
            # deletes it when the writer finishes; a worker's postings never go there.
            self._tempstorage = RamStorage()

    def add_reader(self, reader):
        """Merge a segment (a merge policy calls this at commit): its documents are copied now,
        its postings a block at a time when the segment is written (:mod:`.segment_merge`).
        Postings already in the pool, or a segment that cannot be read so, take Whoosh's way."""
        if self.pool.postings or not segment_merge.can_merge(reader):
            self._pool_merged()
            return super().add_reader(reader)
        self._check_state()
        basedoc = self.docnum
        fieldnames = set(self.schema.names()) | {
            name for name in reader.indexed_field_names() if name in self.schema}
        iter_docs = reader.iter_docs
        reader.iter_docs = lambda: segment_merge.checked(iter_docs(), self.merge_stop)
        docmap = self.write_per_doc(fieldnames, reader)
        self._merged.append(segment_merge.MergedSegment(
            reader.segment(), basedoc, segment_merge.docmap_array(docmap, reader.doc_count_all())))
        self._added = True

    def add_document(self, **fields):
        self._pool_merged()
        super().add_document(**fields)

    def _pool_merged(self) -> None:
        """Segments merged so far go through the pool after all: the pool's postings and
        theirs must come out in document order, which only the pool sorts."""
        for merged in self._merged:
            reader = SegmentReader(self.storage, self.schema, merged.segment)
            docmap = None if merged.docmap is None else {
                old: new for old, new in enumerate(merged.docmap.tolist()) if new >= 0}
            self.add_postings_to_pool(reader, merged.basedoc, docmap)
            reader.close()
        self._merged = []

    def _flush_segment(self):
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        lengths = _FieldLengths(pdr, self.docnum) if pdr else None
        if self._merged:
            segment_merge.merge_postings(self.fieldwriter, self.schema, _LengthArrays(lengths, self.docnum),
                                         self.storage, self._merged, self.merge_stop)
        else:
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if pdr:
            pdr.close()

    def finish_segment(self):
        """Write this worker's segment (no table of contents) and close; None if it is empty."""
        if not self._added:
            self.cancel()
            return None
        segment = self._finalize_segment()
        self._finish()
        return segment


def with_segments(mergetype, segments: list) -> Callable:
    """A Whoosh merge policy that keeps what ``mergetype`` keeps and adds finished ``segments``."""

    def policy(writer, existing):
        return mergetype(writer, existing) + list(segments)

    return policy


MERGE_FACTOR = 10
# A run merges segments of at most this many articles in all, or of a few times what it wrote
# (MERGE_PER_ARTICLE): the merge holds the index's lock after the run's commit, so a publish
# of one article never waits on the rewrite of the archive, while a bulk import ends merged.
MERGE_LIMIT = 20000
MERGE_PER_ARTICLE = 4


def segments_to_merge(segments, written: int = 0) -> list:
    """The segments a run that wrote ``written`` articles merges after its commit: grouped
    in tiers by size (powers of ten), a tier holding ``MERGE_FACTOR`` segments is merged into
    one, and a segment mostly deleted is rewritten; within :data:`MERGE_LIMIT` articles (or
    ``MERGE_PER_ARTICLE`` times ``written``). A publish of a few articles never rewrites the
    big segments of a bulk import, yet thousands of publishes do not leave thousands of tiny
    segments for every search to visit, and a bulk import's segments end as one.
    """
    limit = max(MERGE_LIMIT, MERGE_PER_ARTICLE * written)
    tiers: dict[int, list] = {}
    for segment in segments:
        tiers.setdefault(len(str(max(1, segment.doc_count()))), []).append(segment)
    chosen: list = []
    for tier in sorted(tiers):  # small tiers first: their merges are cheap and most useful
        group = tiers[tier]
        if len(group) >= MERGE_FACTOR and sum(s.doc_count_all() for s in chosen + group) <= limit:
            chosen += group
    for segment in segments:
        if (segment not in chosen and segment.doc_count_all()
                and segment.deleted_count() > segment.doc_count_all() / 2
                and sum(s.doc_count_all() for s in chosen) + segment.doc_count_all() <= limit):
            chosen.append(segment)
    return chosen


def merging(chosen: list) -> Callable:
    """A Whoosh merge policy that merges the ``chosen`` segments into one and keeps the rest."""
    chosen_ids = {segment.segment_id() for segment in chosen}

    def policy(writer, segments):
        merged = [segment for segment in segments if segment.segment_id() in chosen_ids]
        for segment in merged:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            writer.add_reader(reader)
            reader.close()
        return [segment for segment in segments if segment.segment_id() not in chosen_ids]

    return policy
