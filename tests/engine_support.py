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


def on_cluster() -> bool:
    """Whether the tests run on OpenSearch (the ``backend`` fixture set ``VNSEARCH_BACKEND``)."""
    return os.environ.get("VNSEARCH_BACKEND") == "opensearch"


def cli_env(args, env: dict | None = None) -> dict | None:
    """The environment for a ``vnsearch`` command in a test: on the cluster, the index that the
    command's ``--index-dir`` (or ``VNSEARCH_INDEX_DIR``) stands for."""
    if not on_cluster():
        return env
    env = dict(env or {})
    args = [str(a) for a in args]
    index_dir = args[args.index("--index-dir") + 1] if "--index-dir" in args else env.get("VNSEARCH_INDEX_DIR")
    index_dir = index_dir or os.environ.get("VNSEARCH_INDEX_DIR")
    if index_dir:
        env["VNSEARCH_OPENSEARCH_INDEX"] = cluster_index_for(index_dir)
    return env


def app_at(config: dict | None = None):
    """The site as ``create_app(config)`` builds it; on the cluster, over the index that
    ``config["INDEX_DIR"]`` stands for."""
    from vnsearch.web import create_app

    saved = os.environ.get("VNSEARCH_OPENSEARCH_INDEX")
    if on_cluster() and config and config.get("INDEX_DIR"):
        os.environ["VNSEARCH_OPENSEARCH_INDEX"] = cluster_index_for(config["INDEX_DIR"])
    try:
        return create_app(config)
    finally:
        if saved is None:
            os.environ.pop("VNSEARCH_OPENSEARCH_INDEX", None)
        else:
            os.environ["VNSEARCH_OPENSEARCH_INDEX"] = saved
