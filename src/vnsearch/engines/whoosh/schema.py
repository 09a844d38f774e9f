"""The Whoosh schema: which fields an article becomes, and why each one exists.

Vietnamese analysis runs once per article in :mod:`vnsearch.analysis` (pyvi is the
costly step, and it can run in worker processes); the searchable fields receive its
output (:func:`vnsearch.documents.document_fields`) as space-separated terms, which the
fields' formats, :class:`TextPositions` and :class:`TermCounts`, turn into postings
directly. Running pyvi inside a per-field Whoosh analyzer would segment the same text once
per field.

Postings are most of an index's bytes, so the formats store no more than search reads
(``bench/index_size.py`` shows where the bytes go): a count is a posting's weight and
nothing else; positions are short ASCII text, which Whoosh's pickled blocks hold at a byte a
character (its encoding, pickled lists inside pickled bytes, took twice the room).
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from itertools import accumulate

from whoosh import columns, fields, formats
from whoosh.analysis import Token, Tokenizer
from whoosh.system import pack_uint

from vnsearch.engines.whoosh import mapped

# Every process that opens an index builds this schema first (the indexer, the searcher,
# the site's workers), so this is where Whoosh is told to read segments without copying them.
mapped.install()

# 3: TextPositions and TermCounts replace TermPositions and TermFrequency (same terms and
# weights, fewer bytes); date and content_hash are columns only. Indexes of version 2 name the
# old formats in their pickled schema: those classes stay, so such an index opens, searches
# and takes new articles as it is (its new segments use its own schema); --rebuild shrinks it.
SCHEMA_VERSION = 3
# Whoosh pickles the schema into every index's table of contents, naming this module. Indexes
# written before the engines/ layout name it ``vnsearch.schema``: the alias opens them as they
# are (the index format did not change with the move).
sys.modules.setdefault("vnsearch.schema", sys.modules[__name__])


class TermListAnalyzer(Tokenizer):
    """Yields the whitespace-separated terms of pre-analysed text, with positions.

    Indexing never calls it (the formats read the terms themselves); it is the analyzer
    Whoosh keeps with each field, and so part of the schema pickled in every index: any
    Whoosh code that analyses a value of these fields gets the same terms the formats index.

    Terms joined by ``/`` share a position (a compound word beside its first syllable).

    >>> [(t.text, t.pos) for t in TermListAnalyzer()("so cong/cong_thuong thuong", positions=True)]
    [('so', 0), ('cong', 1), ('cong_thuong', 1), ('thuong', 2)]
    """

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, slot in enumerate(value.split(), start=start_pos):
            for text in slot.split("/"):
                token.text = text
                token.boost = 1.0
                token.stopped = False
                if positions:
                    token.pos = pos
                yield token


def term_positions(value: str) -> dict[str, list[int]]:
    """Each term of pre-analysed text with its positions; terms joined by ``/`` share one.

    >>> term_positions("so cong/cong_thuong thuong cong")
    {'so': [0], 'cong': [1, 3], 'cong_thuong': [1], 'thuong': [2]}
    """
    positions = defaultdict(list)
    for pos, slot in enumerate(value.split()):
        if "/" in slot:
            for term in slot.split("/"):
                positions[term].append(pos)
        else:
            positions[slot].append(pos)
    return dict(positions)


class TermPositions(formats.Positions):
    """Whoosh's positions format, fed pre-analysed text without building Token objects
    (schema 2; kept so indexes written with it open and search as they are).

    Postings are encoded exactly as :class:`whoosh.formats.Positions` encodes them, so
    Whoosh's phrase queries read them as usual; only indexing is faster.
    """

    def word_values(self, value, analyzer, **kwargs):
        fb = self.field_boost
        positions = term_positions(value)
        encode = self.encode
        return [(term, len(p), len(p) * fb, encode(p)) for term, p in positions.items()]


class TermFrequency(formats.Frequency):
    """Whoosh's frequency format, counted straight from pre-analysed text (schema 2: each
    posting also held its count as 4 value bytes, beside the same count as its weight)."""

    def word_values(self, value, analyzer, **kwargs):
        fb = self.field_boost
        return [(term, n, n * fb, pack_uint(n)) for term, n in Counter(value.split()).items()]


class TermCounts(formats.Existence):
    """A term's count in the field as its posting's weight, and no value bytes: search reads
    weights only (:func:`vnsearch.engines.whoosh.internals.read_postings`)."""

    def word_values(self, value, analyzer, **kwargs):
        fb = self.field_boost
        return [(term, n, n * fb, b"") for term, n in Counter(value.split()).items()]


class TextPositions(formats.Positions):
    """Positions as ASCII text, the gaps between them in decimal: ``b"3 14 2"`` is 3, 17, 19.

    The segment writer hands such values to Whoosh's block pickle as ``str`` (one byte a
    character; ``bytes`` pickle through a latin-1 round trip), so a reader may get either.
    ``weighted=False`` (body_pos, read only by phrases) gives every posting weight 1, which
    Whoosh then stores as nothing.

    >>> fmt = TextPositions()
    >>> fmt.encode([3, 17, 19]), fmt.decode_positions("3 14 2"), fmt.decode_frequency(b"3 14 2")
    (b'3 14 2', [3, 17, 19], 3)
    """

    ascii_values = True  # read by the segment writer (see above)

    def __init__(self, field_boost: float = 1.0, weighted: bool = True, **options):
        super().__init__(field_boost=field_boost, **options)
        self.weighted = weighted

    def word_values(self, value, analyzer, **kwargs):
        fb = self.field_boost
        positions = term_positions(value)
        encode = self.encode
        if not self.weighted:
            return [(term, len(p), 1.0, encode(p)) for term, p in positions.items()]
        return [(term, len(p), len(p) * fb, encode(p)) for term, p in positions.items()]

    def encode(self, positions) -> bytes:
        previous, gaps = 0, []
        for pos in positions:
            gaps.append(pos - previous)
            previous = pos
        return " ".join(map(str, gaps)).encode("ascii")

    def decode_positions(self, value) -> list[int]:
        return list(accumulate(map(int, value.split())))

    def decode_frequency(self, value) -> int:
        return len(value.split())

    def decode_weight(self, value) -> float:
        return self.decode_frequency(value) * self.field_boost


def _positional(scorable: bool = True) -> fields.TEXT:
    field = fields.TEXT(analyzer=TermListAnalyzer(), phrase=True)
    field.format = TextPositions(field_boost=1.0, weighted=scorable)
    field.scorable = scorable  # body_pos is only read for phrases: no length column, no weights
    return field


def _bag() -> fields.TEXT:
    field = fields.TEXT(analyzer=TermListAnalyzer(), phrase=False)
    field.format = TermCounts(field_boost=1.0)
    return field


def _column_only(field: fields.FieldType) -> fields.FieldType:
    """``field``'s column without its terms: search reads these values a segment at a time
    from the column, and never looks a term of them up (a date's terms took 4% of an index)."""
    field.indexed = False
    return field


def build_schema() -> fields.Schema:
    return fields.Schema(
        # Identity and change detection.
        id=fields.ID(stored=True, unique=True, sortable=True),
        content_hash=_column_only(fields.ID(stored=False, sortable=True)),
        # Display: stored as written, never analysed.
        title=fields.STORED(),
        body=fields.STORED(),
        summary=fields.STORED(),
        url=fields.STORED(),
        tags=fields.STORED(),
        date_iso=fields.STORED(),
        author=fields.STORED(),
        source=fields.STORED(),
        category=fields.STORED(),
        # Folded syllables: the recall backbone. A query typed with or without accents
        # matches here. pyvi's compound words ride along ("cong_thuong"): they add
        # precision to ranking, never a requirement to match. Titles keep positions
        # (short, cheap); for bodies positions live in body_pos, read only by quoted
        # phrases, because Whoosh stores positions inside each posting block and reading
        # them would slow every query on common words.
        title_fold=_positional(),
        body_fold=_bag(),
        body_pos=_positional(scorable=False),
        # Accented syllables and compounds: the accents a user typed count ("mã" is not "má").
        title_syl=_bag(),
        body_syl=_bag(),
        # The title's canonical syllables (UTF-8, space-separated) as a column, so ranking
        # can look at the top titles without unpickling whole stored documents.
        title_terms=fields.COLUMN(columns.VarBytesColumn()),
        # Precomputed facet and filter columns, read once per index segment.
        category_key=fields.ID(sortable=True),
        author_key=fields.ID(sortable=True),
        source_key=fields.ID(sortable=True),
        date=_column_only(fields.NUMERIC(numtype=int, bits=64, sortable=True, signed=True)),
        year=fields.NUMERIC(numtype=int, sortable=True),
        month=fields.NUMERIC(numtype=int, sortable=True),
    )
