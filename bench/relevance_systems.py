"""The systems the relevance benchmarks compare: vnsearch and two plain Whoosh baselines.

B1 is Whoosh's ``StandardAnalyzer`` (which also drops English stopwords and one-letter
tokens); B2 is Whoosh with NFC, lowercase and diacritics folded (đ -> d), nothing dropped,
the query folded the same way. Both index title and body as TEXT (the summary, when kept,
first in the body) and parse with a ``MultifieldParser`` over title^2 and body, with the
default AND group and with an OrGroup. A sortable ``date`` column (seconds since the epoch,
0 when the article has none) lets them sort newest first. vnsearch is only reached through
its public API, ``Engine.search(SearchRequest(...))``, so the benchmarks keep working
whatever its matching becomes.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

from whoosh import fields, index
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StandardAnalyzer
from whoosh.filedb.filestore import RamStorage
from whoosh.qparser import MultifieldParser, OrGroup

from vnsearch.search import SearchRequest


def strip_diacritics(text: str) -> str:
    """B2's folding, independent of vnsearch: NFC, lowercase, đ -> d, combining marks dropped.

    >>> strip_diacritics("Lửa Đỏ")
    'lua do'
    """
    text = unicodedata.normalize("NFC", text).lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


class NFCTokenizer(RegexTokenizer):
    """Whoosh's word tokenizer on NFC text (on NFD text ``\\w`` would stop at every mark)."""

    def __call__(self, value, **kwargs):
        return super().__call__(unicodedata.normalize("NFC", value), **kwargs)


class FoldFilter(Filter):
    def __call__(self, tokens):
        for t in tokens:
            t.text = strip_diacritics(t.text)
            yield t


def b1_analyzer():
    return StandardAnalyzer()


def b2_analyzer():
    return NFCTokenizer() | LowercaseFilter() | FoldFilter()


def timestamp(record: dict) -> int:
    """The article's date in seconds since the epoch, for sorting; 0 when it has none."""
    date = record.get("date")
    return int(datetime.fromisoformat(date).timestamp()) if date else 0


def whoosh_index(analyzer, records, with_summary: bool = True, directory: Path | None = None):
    """An index of title and body (summary first when ``with_summary`` and there is one)
    through ``analyzer``, with a sortable date; in RAM, or in ``directory`` when given."""
    schema = fields.Schema(id=fields.ID(stored=True), title=fields.TEXT(analyzer=analyzer),
                           body=fields.TEXT(analyzer=analyzer),
                           date=fields.NUMERIC(bits=64, sortable=True))
    if directory is None:
        ix = RamStorage().create_index(schema)
    else:
        directory.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(directory), schema)
    with ix.writer(limitmb=256) as writer:
        for r in records:
            body = f"{r.get('summary', '')}\n{r['body']}" if with_summary else r["body"]
            writer.add_document(id=r["id"], title=r["title"], body=body, date=timestamp(r))
    return ix


class WhooshBaseline:
    """Whoosh's BM25F over title^2 and body, through a MultifieldParser (AND or OR group)."""

    def __init__(self, ix, or_group: bool, fold_query: bool):
        self.searcher = ix.searcher()
        self.fold_query = fold_query
        kwargs = {"group": OrGroup} if or_group else {}
        self.parser = MultifieldParser(["title", "body"], ix.schema, fieldboosts={"title": 2.0}, **kwargs)

    def top10(self, query: str, newest: bool = False, count: bool = True) -> tuple[list[str], int]:
        """The ids of the first 10 hits (by score, or newest first) and the number of matches
        (without ``count``, only whether there are any: counting every match of a long OR
        query costs Whoosh as much again)."""
        text = strip_diacritics(query) if self.fold_query else query
        order = {"sortedby": "date", "reverse": True} if newest else {}
        hits = self.searcher.search(self.parser.parse(text), limit=10, **order)
        return [h["id"] for h in hits], len(hits) if count else hits.scored_length()


class VnsearchSystem:
    def __init__(self, engine):
        self.engine = engine

    def top10(self, query: str, newest: bool = False, count: bool = True) -> tuple[list[str], int]:
        result = self.engine.search(SearchRequest(query=query, per_page=10,
                                                  sort="newest" if newest else "relevance"))
        return [h.id for h in result.hits], result.total


def systems(engine, b1, b2) -> dict:
    """vnsearch and the four baseline settings, by the name the tables print."""
    return {
        "vnsearch": VnsearchSystem(engine),
        "B1 AND": WhooshBaseline(b1, or_group=False, fold_query=False),
        "B1 OR": WhooshBaseline(b1, or_group=True, fold_query=False),
        "B2 AND": WhooshBaseline(b2, or_group=False, fold_query=True),
        "B2 OR": WhooshBaseline(b2, or_group=True, fold_query=True),
    }
