"""The storage boundary: what the CLI, the web and the benches ask of a storage engine.

An engine stores the analysed documents of :mod:`vnsearch.documents` and answers the
requests of :mod:`vnsearch.search` by the rules and the ranking that package defines:

- ``whoosh`` (:mod:`vnsearch.engines.whoosh`): embedded, an index directory, nothing to start;
- ``opensearch`` (:mod:`vnsearch.engines.opensearch`): a newsroom's OpenSearch cluster, the
  same analysis and ranking (only that folder imports ``opensearchpy``).

May import: every lower layer (the text layer, articles, documents, search, config).
Only ``engines/whoosh/`` imports Whoosh. Never the CLI or the web.
"""

from __future__ import annotations

from typing import Callable, Iterable, Protocol

from vnsearch.articles import Record, Rejection
from vnsearch.config import Settings
from vnsearch.documents import IndexReport, MergeReport
from vnsearch.search import Hit, SearchRequest, SearchResult

BACKENDS = ("whoosh", "opensearch")


class EngineError(RuntimeError):
    """The engine cannot do what was asked; the message says why and what to do."""


class IndexMissingError(EngineError, FileNotFoundError):
    """There is no vnsearch index where the settings point."""


class IndexFormatError(EngineError):
    """The index was built by another version of vnsearch, with other fields."""


class IndexBusyError(EngineError):
    """Another indexer holds the write lock for longer than we were willing to wait."""


class WorkerError(EngineError):
    """An indexing worker process stopped without reporting why."""


class EngineUnavailable(EngineError):
    """The engine's store cannot be reached (a cluster down): the CLI exits 2, the site answers 503."""


class Engine(Protocol):
    """One index, to write and to search. Thread-safe for searching; one writer at a time."""

    settings: Settings

    def index(self, records: Iterable[Record], *, rebuild: bool = False,
              on_reject: Callable[[Rejection], None] | None = None,
              on_progress: Callable[[int], None] | None = None,
              on_warning: Callable[[str], None] | None = None) -> IndexReport:
        """Index every Article of ``records``: unchanged ones are skipped, changed ones replaced;
        rejections and duplicate-id warnings are counted and passed on."""

    def delete(self, ids: Iterable[str]) -> IndexReport:
        """Withdraw articles by id; ids not in the index are listed in ``report.missing``."""

    def optimize(self) -> MergeReport:
        """Merge the index into as few segments as it takes (one, or one per shard), deleted
        articles dropped: fewer places for every search to look. Gives way to an indexer
        that waits, so a publish never waits on it."""

    def search(self, request: SearchRequest) -> SearchResult:
        """Hits, facets and suggestions (raises :class:`vnsearch.search.SearchError` for a bad request)."""

    def article(self, article_id: str) -> dict | None:
        """The stored article (dates in Vietnam time), or None."""

    def related(self, article_id: str, n: int = 5) -> list[Hit]:
        """The ``n`` articles most like one."""

    def complete(self, text: str, limit: int = 8) -> list[str]:
        """Ways to finish what is being typed."""

    def stats(self) -> dict:
        """Article count, categories and sources with counts, the date range, undated articles."""

    def check(self) -> None:
        """Raise an :class:`EngineError` when there is no index to search (fail before serving)."""

    def close(self) -> None:
        """Release files and connections."""


def open_engine(settings: Settings | None = None) -> Engine:
    """The engine ``settings.backend`` names, over the index the settings point at.

    Opening reads nothing yet: an engine opens its index when first asked to search or write.
    """
    settings = settings or Settings.from_env()
    if settings.backend == "whoosh":
        from vnsearch.engines.whoosh import WhooshEngine

        return WhooshEngine(settings)
    if settings.backend == "opensearch":
        try:
            from vnsearch.engines.opensearch import OpenSearchEngine
        except ImportError as exc:
            raise EngineError(f"VNSEARCH_BACKEND=opensearch needs opensearch-py ({exc}): "
                              "pip install 'vnsearch[opensearch]'") from None
        return OpenSearchEngine(settings)
    raise EngineError(f"unknown storage engine {settings.backend!r} (VNSEARCH_BACKEND): "
                      f"use one of {', '.join(BACKENDS)}")
