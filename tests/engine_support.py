"""Opening engines in tests: through the storage boundary, as the CLI and the web do."""

from __future__ import annotations

import os
from dataclasses import replace

from vnsearch.readers import read_paths
from vnsearch.config import Settings
from vnsearch.engines import Engine, open_engine


def engine_at(index_dir, settings: Settings | None = None) -> Engine:
    """The configured engine over ``index_dir`` (settings from the environment unless given)."""
    return open_engine(replace(settings or Settings.from_env(), index_dir=os.fspath(index_dir)))


def index_paths(index_dir, paths, settings: Settings | None = None, **options):
    """Index files or directories into ``index_dir``; the run's report."""
    return engine_at(index_dir, settings).index(read_paths(paths), **options)
