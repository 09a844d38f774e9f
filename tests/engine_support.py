"""Opening engines in tests: through the storage boundary, as the CLI and the web do.

Under ``VNSEARCH_BACKEND=opensearch`` (the ``backend`` fixture sets it) an index directory
stands for an index of its own on the cluster, named after the directory: each test writes
its own index, so tests can share one cluster.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace

from vnsearch.readers import read_paths
from vnsearch.config import Settings
from vnsearch.engines import Engine, open_engine


TEST_INDEX_PREFIX = f"vnsearch-test-{os.getpid()}-"


def cluster_index_for(index_dir) -> str:
    """The cluster index that stands for ``index_dir`` in this test session."""
    digest = hashlib.blake2b(os.path.abspath(os.fspath(index_dir)).encode(), digest_size=6).hexdigest()
    return TEST_INDEX_PREFIX + digest


def settings_for(index_dir, settings: Settings | None = None) -> Settings:
    """Settings for ``index_dir`` under the configured backend (from the environment unless given)."""
    settings = replace(settings or Settings.from_env(), index_dir=os.fspath(index_dir))
    if settings.backend == "opensearch":
        settings = replace(settings, opensearch_index=cluster_index_for(index_dir))
    return settings


def engine_at(index_dir, settings: Settings | None = None) -> Engine:
    """The configured engine over ``index_dir`` (settings from the environment unless given)."""
    return open_engine(settings_for(index_dir, settings))


def index_paths(index_dir, paths, settings: Settings | None = None, **options):
    """Index files or directories into ``index_dir``; the run's report."""
    return engine_at(index_dir, settings).index(read_paths(paths), **options)
