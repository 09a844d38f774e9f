"""The Whoosh schema: which fields an article becomes, and why each one exists.

Vietnamese analysis runs once per article in :mod:`vnsearch.analysis` (pyvi is the
costly step, and it can run in worker processes); the searchable fields receive its
output (:func:`vnsearch.documents.document_fields`) as space-separated terms, which the
fields' formats, :class:`TermPositions` and :class:`TermFrequency`, turn into postings
directly. Running pyvi inside a per-field Whoosh analyzer would segment the same text once
per field.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

from whoosh import columns, fields, formats
from whoosh.analysis import Token, Tokenizer
from whoosh.system import pack_uint

from vnsearch.engines.whoosh import mapped

# Every process that opens an index builds this schema first (the indexer, the searcher,
# the site's workers), so this is where Whoosh is told to read segments without copying them.
mapped.install()

SCHEMA_VERSION = 2
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


class TermPositions(formats.Positions):
    """Whoosh's positions format, fed pre-analysed text without building Token objects.

    Postings are encoded exactly as :class:`whoosh.formats.Positions` encodes them, so
    Whoosh's phrase queries read them as usual; only indexing is faster.
    """

    def word_values(self, value, analyzer, **kwargs):
        fb = self.field_boost
        positions = defaultdict(list)
        for pos, slot in enumerate(value.split()):
            if "/" in slot:
                for term in slot.split("/"):
                    positions[term].append(pos)
            else:
                positions[slot].append(pos)
        encode = self.encode
        return [(term, len(p), len(p) * fb, encode(p)) for term, p in positions.items()]


class TermFrequency(formats.Frequency):
    """Whoosh's frequency format, counted straight from pre-analysed text."""

    def word_values(self, value, analyzer, **kwargs):
        fb = self.field_boost
        return [(term, n, n * fb, pack_uint(n)) for term, n in Counter(value.split()).items()]


def _positional(scorable: bool = True) -> fields.TEXT:
    field = fields.TEXT(analyzer=TermListAnalyzer(), phrase=True)
    field.format = TermPositions(field_boost=1.0)
    field.scorable = scorable  # body_pos is only read for phrases: no length column needed
    return field


def _bag() -> fields.TEXT:
    field = fields.TEXT(analyzer=TermListAnalyzer(), phrase=False)
    field.format = TermFrequency(field_boost=1.0)
    return field


def build_schema() -> fields.Schema:
    return fields.Schema(
        # Identity and change detection.
        id=fields.ID(stored=True, unique=True, sortable=True),
        content_hash=fields.ID(stored=False, sortable=True),
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
        date=fields.NUMERIC(numtype=int, bits=64, sortable=True, signed=True),
        year=fields.NUMERIC(numtype=int, sortable=True),
        month=fields.NUMERIC(numtype=int, sortable=True),
    )
