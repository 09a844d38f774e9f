"""Settings with one path: defaults, then ``VNSEARCH_*`` environment variables, then arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

DEFAULT_INDEX_DIR = "index"


@dataclass(frozen=True)
class Settings:
    index_dir: str = DEFAULT_INDEX_DIR
    lock_timeout: float = 10.0  # seconds a second indexer waits for the write lock
    commit_every: int = 20000  # articles per commit in a long run (a publish commits once, at its end)
    commit_seconds: float = 60.0  # and at least this often, so readers see a long import progress
    batch_size: int = 2000  # articles analysed per batch (bounds memory)
    workers: int = min(2, os.cpu_count() or 1)  # processes for pyvi on large batches
    recency_weight: float = 0.15  # how much a brand-new article gains over an old one
    recency_half_life_days: float = 30.0
    cache_size: int = 256  # search results kept per index generation
    cache_mb: float = 96.0  # postings and match masks kept in memory, per server process

    @classmethod
    def from_env(cls, environ=os.environ, **overrides) -> "Settings":
        """Defaults, overridden by ``VNSEARCH_<NAME>`` variables, then by explicit arguments."""
        values = {}
        for f in fields(cls):
            raw = environ.get(f"VNSEARCH_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = type(getattr(cls, f.name))(raw)
            except ValueError:
                raise ValueError(f"VNSEARCH_{f.name.upper()}={raw!r} is not a valid {type(getattr(cls, f.name)).__name__}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)
