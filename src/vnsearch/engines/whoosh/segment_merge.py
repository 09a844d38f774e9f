"""Merging segments a block at a time: postings decoded and re-blocked with numpy, never one
posting at a time in Python.

Whoosh merges by reading every posting of every merged segment through its matchers and
writing it again (100,000 articles took over 12 minutes here), so a bulk import was left in
dozens of segments, and search paid for each: on the full vietnews corpus, 34 segments gave a
p95 of 50 ms where 2 gave 33 ms (``bench/tail.py``). Here a merged segment's postings are read
a block at a time from the mapped file (:func:`~.internals.entry_blocks`), their ids moved to
the new segment's numbering (shifted, or mapped and filtered when the segment had deletions),
and written as the new segment's blocks (:meth:`~.segment_writer._PostingsWriter.write_arrays`).
Stored fields, lengths and columns are copied by Whoosh, a document at a time, as before.

:func:`merge_postings` writes the merged terms in Whoosh's order: by field, then term bytes,
each term's sources in document order. A term with few postings in all goes through the field
writer's usual path, which inlines a term of one posting in the term index.
"""

from __future__ import annotations

import heapq
from itertools import compress
from typing import Callable, Iterable, Iterator, NamedTuple

import numpy as np
from whoosh.reading import SegmentReader

from vnsearch.engines.whoosh import internals, mapped

# Below this many postings a merged term is written a posting at a time (and a term of one
# posting is inlined in the term index, as the writer does for new documents).
FEW_POSTINGS = 8
# A merge asks whether to stop (another indexer waits) after this many terms or documents:
# some 50 ms of work here.
CHECK_EVERY = 1024


class MergeStopped(Exception):
    """A merge gave way (to an indexer waiting for the index); its half-written segment is
    in no table of contents, and the next commit deletes its files."""


class MergedSegment(NamedTuple):
    """A segment whose documents were copied into the new one from ``basedoc`` on; ``docmap``
    (old docnum -> new, -1 for a deleted document) when it had deletions, else None."""
    segment: object
    basedoc: int
    docmap: np.ndarray | None


def docmap_array(docmap: dict | None, doc_count_all: int) -> np.ndarray | None:
    """Whoosh's docmap (live documents only) as an array, -1 for deleted documents."""
    if docmap is None:
        return None
    out = np.full(doc_count_all, -1, dtype=np.int64)
    if docmap:
        out[np.fromiter(docmap.keys(), dtype=np.int64)] = np.fromiter(docmap.values(), dtype=np.int64)
    return out


def can_merge(reader) -> bool:
    """Whether a segment's postings can be read a block at a time (else Whoosh's merge is used)."""
    terms = internals.term_index(reader)
    if terms is None or not hasattr(terms._tindex, "items") or not hasattr(terms, "_fieldunmap"):
        return False
    if mapped.buffer_of(getattr(terms, "_postfile", None)) is None:
        return False
    names = [name for name in terms._fieldunmap if name is not None]
    return names == sorted(names)  # the term index is then in (field name, term) order


def merge_postings(fieldwriter, schema, lengths, storage, merged: list[MergedSegment],
                   stop: Callable[[], bool] | None = None) -> None:
    """Write the postings of the ``merged`` segments into ``fieldwriter`` (a new segment's);
    ``lengths`` gives each field's length column of the new segment as an array. Raises
    :class:`MergeStopped` when ``stop()`` turns true."""
    readers = [SegmentReader(storage, schema, m.segment) for m in merged]
    try:
        sources = [_Source(reader, m, schema) for reader, m in zip(readers, merged)]
        _write_terms(fieldwriter, schema, lengths, sources, stop)
    finally:
        for reader in readers:
            reader.close()


def checked(items: Iterable, stop: Callable[[], bool] | None) -> Iterator:
    """``items``, raising :class:`MergeStopped` when ``stop()`` is true (asked every :data:`CHECK_EVERY`)."""
    for n, item in enumerate(items, start=1):
        if stop is not None and not n % CHECK_EVERY and stop():
            raise MergeStopped("another indexer is waiting for the index")
        yield item


def _write_terms(fieldwriter, schema, lengths, sources: list["_Source"], stop) -> None:
    streams = [source.entries(order) for order, source in enumerate(sources)]
    field = text = None
    parts: list[tuple] = []
    field_lengths = fixed = None
    for fieldname, btext, order, raw in checked(heapq.merge(*streams), stop):
        if (fieldname, btext) != (field, text):
            if parts:
                _write_term(fieldwriter, text, parts, field_lengths)
                parts = []
            if fieldname != field:
                if field is not None:
                    fieldwriter.finish_field()
                fieldwriter.start_field(fieldname, schema[fieldname])
                field_lengths = lengths(fieldname)
                fixed = schema[fieldname].format.fixed_value_size()
            field, text = fieldname, btext
        part = sources[order].postings(fieldname, btext, raw, fixed)
        if part is not None:
            parts.append(part)
    if parts:
        _write_term(fieldwriter, text, parts, field_lengths)
    if field is not None:
        fieldwriter.finish_field()


def _write_term(fieldwriter, btext: bytes, parts: list[tuple], field_lengths: np.ndarray) -> None:
    """One term's postings, gathered from its segments (``parts``: ids, weights, values; the
    ids a list for postings inlined in a term index, else an array)."""
    count = sum(len(part[0]) for part in parts)
    if not count:
        return  # only deleted documents held it
    values = None if parts[0][2] is None else [value for part in parts for value in part[2]]
    fieldwriter.start_term(btext)
    if count < FEW_POSTINGS:
        ids = [int(docnum) for part in parts for docnum in part[0]]
        weights = [float(weight) for part in parts for weight in part[1]]
        for i, docnum in enumerate(ids):
            fieldwriter.add(docnum, weights[i], b"" if values is None else values[i], int(field_lengths[docnum]))
    else:
        ids = np.concatenate([np.asarray(part[0], dtype=np.int64) for part in parts])
        weights = np.concatenate([np.asarray(part[1], dtype=np.float32) for part in parts])
        fieldwriter._postwriter.write_arrays(ids, weights, values, field_lengths[ids])
    fieldwriter.finish_term()


class _Source:
    """One merged segment: its term index in order, and a term's postings renumbered."""

    def __init__(self, reader, merged: MergedSegment, schema):
        self.reader = reader
        self.basedoc = merged.basedoc
        self.docmap = merged.docmap
        self.schema = schema
        self.terms = internals.term_index(reader)
        self.buf = mapped.buffer_of(self.terms._postfile)

    def entries(self, order: int) -> Iterator[tuple[str, bytes, int, bytes]]:
        """(field name, term bytes, ``order``, term info bytes) of every term, in order."""
        unmap = self.terms._fieldunmap
        schema = self.schema
        for key, raw in self.terms._tindex.items():
            fieldname = unmap[key[0] << 8 | key[1]]  # a key: the field's number ("!H"), the term
            if fieldname in schema:
                yield fieldname, key[2:], order, raw

    def postings(self, fieldname: str, btext: bytes, raw: bytes, fixed: int | None):
        """(new ids, weights, values or None) of a term; None if none is live. ``fixed``: the
        field format's value size (0: no values, None: variable)."""
        inlined = internals.inlined_postings(raw)
        if inlined is not None:  # most entries of a segment: a term of one posting
            return self._renumbered_few(*inlined, fixed)
        ids_parts, weight_parts, values = [], [], None if fixed == 0 else []
        for ids, weights, block_values, count in internals.entry_blocks(
                self.reader, fieldname, btext, raw, self.buf):
            ids_parts.append(ids)
            weight_parts.append(_weights(weights, count))
            if values is not None:
                values.extend(_values(block_values, fixed, count))
        ids = np.concatenate(ids_parts) if len(ids_parts) > 1 else ids_parts[0]
        weights = np.concatenate(weight_parts) if len(weight_parts) > 1 else weight_parts[0]
        if self.docmap is None:
            return ids + self.basedoc, weights, values
        new = self.docmap[ids]
        live = new >= 0
        if not live.any():
            return None
        if values is not None:
            values = list(compress(values, live.tolist()))
        return new[live], weights[live], values

    def _renumbered_few(self, ids: tuple, weights: tuple, values: tuple, fixed: int | None):
        values = None if fixed == 0 else values
        if self.docmap is None:
            return [docnum + self.basedoc for docnum in ids], weights, values
        new = [int(self.docmap[docnum]) for docnum in ids]
        live = [docnum >= 0 for docnum in new]
        if not any(live):
            return None
        return (list(compress(new, live)), list(compress(weights, live)),
                None if values is None else list(compress(values, live)))


def _weights(weights, count: int) -> np.ndarray:
    """A block's weights as Whoosh stores them (None: all 1, a float: all that) as float32."""
    if weights is None:
        return np.ones(count, dtype=np.float32)
    if isinstance(weights, float):
        return np.full(count, weights, dtype=np.float32)
    return np.asarray(weights, dtype=np.float32)


def _values(values, fixed: int | None, count: int) -> list:
    """A block's values, one per posting (``str`` for ASCII formats, as pickled, else bytes)."""
    if fixed is None or fixed < 0:
        return list(values)
    return [values[i:i + fixed] for i in range(0, fixed * count, fixed)]
