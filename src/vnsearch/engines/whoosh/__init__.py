"""The embedded engine: an index directory of Whoosh segments, nothing to start.

The only code that imports Whoosh. Writing: :mod:`.indexer` (runs, locks, commits),
:mod:`.workers` (analysis and segments in worker processes), :mod:`.segment_writer`
(postings in memory, merge tiers), :mod:`.schema`, :mod:`.store`. Reading:
:mod:`.searcher` (the search pipeline over one generation), :mod:`.view` (per-document
arrays and postings), :mod:`.masks` (matching), :mod:`.scoring`, :mod:`.caches`.
Whoosh's private internals are named in :mod:`.internals`, :mod:`.segment_writer` and
:mod:`.mapped`.

May import: Whoosh, numpy and every lower vnsearch layer; never the CLI or the web.
"""

from __future__ import annotations

import os
import threading

from vnsearch.config import Settings
from vnsearch.documents import IndexReport, MergeReport
from vnsearch.search import Hit, SearchRequest, SearchResult


class WhooshEngine:
    """The :class:`vnsearch.engines.Engine` over the index directory ``settings.index_dir``.

    The searcher opens on the first read (an indexing command never opens one) and follows
    every commit by itself; each write opens an :class:`.indexer.Indexer` of its own.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.index_dir = settings.index_dir
        self._searcher = None
        self._lock = threading.Lock()

    def index(self, records, **options) -> IndexReport:
        from vnsearch.engines.whoosh.indexer import Indexer

        return Indexer(self.index_dir, self.settings).index(records, **options)

    def delete(self, ids) -> IndexReport:
        from vnsearch.engines.whoosh.indexer import Indexer

        return Indexer(self.index_dir, self.settings).delete(ids)

    def optimize(self) -> MergeReport:
        from vnsearch.engines.whoosh.indexer import Indexer

        return Indexer(self.index_dir, self.settings).optimize()

    def search(self, request: SearchRequest | None = None, **kwargs) -> SearchResult:
        return self.searcher().search(request, **kwargs)

    def article(self, article_id: str) -> dict | None:
        return self.searcher().article(article_id)

    def related(self, article_id: str, n: int = 5) -> list[Hit]:
        return self.searcher().related(article_id, n)

    def complete(self, text: str, limit: int = 8) -> list[str]:
        return self.searcher().complete(text, limit)

    def stats(self) -> dict:
        return self.searcher().stats()

    def check(self) -> None:
        """Raise IndexMissingError or IndexFormatError unless there is an index to search; opens no segment."""
        from vnsearch.engines.whoosh.store import open_index

        open_index(self.index_dir)

    def searcher(self):
        """The long-lived :class:`.searcher.WhooshSearcher`, opened on first use."""
        with self._lock:
            if self._searcher is None:
                from vnsearch.engines.whoosh.searcher import WhooshSearcher

                self._searcher = WhooshSearcher(os.fspath(self.index_dir), self.settings)
            return self._searcher

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
