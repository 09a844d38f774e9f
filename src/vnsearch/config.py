"""Settings with one path: defaults, then ``VNSEARCH_*`` environment variables, then arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace


def default_index_dir(environ=os.environ) -> str:
    """Where the index lives when no ``--index-dir`` says: ``$VNSEARCH_INDEX_DIR``, else
    ``$XDG_DATA_HOME/vnsearch/index`` (``~/.local/share/vnsearch/index``).

    Never relative to the working directory, so every command, and the site, finds the same
    index from any folder. An ``XDG_DATA_HOME`` that is not absolute is ignored, as the XDG
    Base Directory specification says.

    >>> default_index_dir({"XDG_DATA_HOME": "/srv/data", "HOME": "/home/bientap"})
    '/srv/data/vnsearch/index'
    >>> default_index_dir({"HOME": "/home/bientap"})
    '/home/bientap/.local/share/vnsearch/index'
    """
    explicit = environ.get("VNSEARCH_INDEX_DIR")
    if explicit:
        return explicit
    data_home = environ.get("XDG_DATA_HOME") or ""
    if not os.path.isabs(data_home):
        home = environ.get("HOME") or os.path.expanduser("~")
        data_home = os.path.join(home, ".local", "share")
    return os.path.join(data_home, "vnsearch", "index")


@dataclass(frozen=True)
class Settings:
    """Every setting of vnsearch; each is read from ``VNSEARCH_<NAME>`` (the README lists them)."""

    backend: str = "whoosh"  # the storage engine (see vnsearch.engines): "whoosh" (embedded) or "opensearch"
    index_dir: str = field(default_factory=default_index_dir)  # see default_index_dir
    lock_timeout: float = 10.0  # seconds a second indexer waits for the write lock
    commit_every: int = 20000  # articles per commit in a long run (a publish commits once, at its end)
    commit_seconds: float = 60.0  # and at least this often, so readers see a long import progress
    batch_size: int = 2000  # articles analysed per batch (bounds memory)
    workers: int = min(2, os.cpu_count() or 1)  # processes for pyvi on large batches
    recency_weight: float = 0.15  # how much a brand-new article gains over an old one
    recency_half_life_days: float = 30.0
    cache_size: int = 256  # search results kept per index generation
    synonyms: str = ""  # a newsroom's own synonyms file (Solr's format), added to the built-in list
    cache_mb: float = 96.0  # postings and match masks kept in memory, per server process
    cors_origins: str = ""  # web origins whose pages may read /api/ and /feed (comma-separated; * for any)
    serve_workers: int = 0  # server processes for `vnsearch serve` (0: one per core)
    opensearch_url: str = "http://127.0.0.1:9200"  # one or more node addresses, comma-separated
    opensearch_index: str = "vnsearch"  # the index name (an alias) on the cluster
    opensearch_shards: int = 1  # primary shards of a new index: one keeps facet counts and scores exact
    opensearch_replicas: int = 1  # copies of each shard on other nodes: search survives a lost node

    @classmethod
    def from_env(cls, environ=os.environ, **overrides) -> "Settings":
        """Defaults, overridden by ``VNSEARCH_<NAME>`` variables, then by explicit arguments."""
        values = {"index_dir": default_index_dir(environ)}
        for f in fields(cls):
            if f.name == "index_dir":
                continue  # read above, with its own fallback
            raw = environ.get(f"VNSEARCH_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = type(getattr(cls, f.name))
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise ValueError(f"VNSEARCH_{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)
