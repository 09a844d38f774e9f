"""Shared fixtures: sample articles written for the project, small indexes, the shared corpus."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from vnsearch import sample_articles_path
from engine_support import index_paths

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VNSEARCH_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
SEED = SHARED / "seed"


@pytest.fixture(scope="session")
def samples_file() -> Path:
    return Path(str(sample_articles_path()))


@pytest.fixture(scope="session")
def sample_records(samples_file) -> list[dict]:
    return [json.loads(line) for line in samples_file.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="session")
def _sample_index_template(tmp_path_factory, samples_file) -> Path:
    path = tmp_path_factory.mktemp("sample-index")
    report = index_paths(path, [samples_file])
    assert report.rejected == 0
    return path


@pytest.fixture
def sample_index(_sample_index_template, tmp_path, samples_file) -> Path:
    """A fresh copy of an index of the sample articles, safe to modify (on the cluster, when
    the tests run there: a fresh index of its own)."""
    from engine_support import on_cluster

    target = tmp_path / "index"
    if on_cluster():
        target.mkdir()
        index_paths(target, [samples_file])
        return target
    shutil.copytree(_sample_index_template, target)
    return target


@pytest.fixture
def write_jsonl(tmp_path):
    """Write records (dicts or raw strings) to a .jsonl file and return its path."""

    def write(records, name="articles.jsonl") -> Path:
        path = tmp_path / name
        lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


def article(id, title="Tin mới ở Hà Nội", body="Người dân Hà Nội đón tin vui.", **extra) -> dict:
    """A small valid article record for tests."""
    return {"id": id, "title": title, "body": body, **extra}


@pytest.fixture(scope="session")
def dantri() -> Path:
    path = CORPUS / "dantri.jsonl.gz"
    if not path.exists():
        pytest.skip(f"the shared corpus is absent: {path} (tests that need real articles are skipped)")
    return path


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    if not SEED.exists():
        pytest.skip(f"the shared seed page is absent: {SEED}")
    return SEED


@pytest.fixture(scope="session")
def dantri_index(tmp_path_factory, dantri, seed_dir) -> Path:
    """dantri, then the seed page, indexed once for the session (read-only use).

    The reports of both runs are kept in ``dantri_index.reports`` for the tests that check them.
    """
    path = tmp_path_factory.mktemp("dantri-index")
    reports = [index_paths(path, [dantri]), index_paths(path, [seed_dir])]
    _DANTRI_REPORTS[:] = reports
    return path


_DANTRI_REPORTS: list = []


@pytest.fixture(scope="session")
def dantri_reports(dantri_index):
    return list(_DANTRI_REPORTS)


# --- OpenSearch: the cluster .ci/run starts (tests marked `opensearch`) --------------------------


@pytest.fixture(scope="session")
def opensearch_url() -> str:
    """VNSEARCH_OPENSEARCH_URL when it is set and the cluster answers; otherwise the test is skipped
    with what is missing (Java, Maven, the variable, or a cluster that does not answer)."""
    from opensearch_cluster_support import START_COMMAND, health, why_no_cluster

    url = os.environ.get("VNSEARCH_OPENSEARCH_URL", "").strip()
    if not url:
        pytest.skip(why_no_cluster())
    if health(url) is None:
        pytest.skip(f"VNSEARCH_OPENSEARCH_URL={url} but no node answers: start the local cluster with "
                    f"`{START_COMMAND}` (or check the one it names); OpenSearch tests skipped")
    return url


@pytest.fixture(scope="session")
def _local_cluster(opensearch_url):
    from opensearch_cluster_support import LocalCluster

    cluster = LocalCluster(opensearch_url)
    if not cluster.is_ours():
        pytest.skip(f"fault tests kill nodes only of the cluster scripts/opensearch-cluster runs; "
                    f"VNSEARCH_OPENSEARCH_URL={opensearch_url} is another one")
    return cluster


@pytest.fixture
def opensearch_cluster(_local_cluster):
    """The local cluster for a fault test: ``kill_node(i)``, ``start_node(i)``, ``node(i)``, ``others(i)``.
    Every node the test killed is started again afterwards, and the cluster is green again."""
    from opensearch_cluster_support import wait_for_health

    yield _local_cluster
    _local_cluster.restore()
    wait_for_health(_local_cluster.url, "green", len(_local_cluster.nodes))


# --- Both engines: tests of the engine-independent rules run on each ------------------------


@pytest.fixture(scope="module", params=["whoosh", pytest.param("opensearch", marks=pytest.mark.opensearch)])
def backend(request):
    """The storage engine a test module runs on: the embedded one always, the cluster when
    ``VNSEARCH_OPENSEARCH_URL`` answers (tests marked ``opensearch``). It is set in the
    environment (``VNSEARCH_BACKEND``), as a newsroom sets it, so the CLI and the site built
    inside the tests use it too; ``engine_support`` gives each index directory its own index
    on the cluster."""
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "opensearch":
            url = request.getfixturevalue("opensearch_url")
            patch.setenv("VNSEARCH_OPENSEARCH_URL", url)
            _CLUSTERS_USED.add(url)
        patch.setenv("VNSEARCH_BACKEND", request.param)
        yield request.param


_CLUSTERS_USED: set = set()


@pytest.fixture(scope="session", autouse=True)
def _remove_test_indexes():
    """Delete the indexes this session wrote on a cluster (and their aliases) when it ends."""
    yield
    from engine_support import TEST_INDEX_PREFIX
    from opensearch_cluster_support import node_urls, request as cluster_request

    for url in _CLUSTERS_USED:
        try:
            cluster_request("DELETE", f"{node_urls(url)[0]}/{TEST_INDEX_PREFIX}*")
        except OSError:
            pass
