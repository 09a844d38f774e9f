"""Faults on a three-node cluster: a node SIGKILLed while readers search, and while an import
runs. Needs the local cluster (scripts/opensearch-cluster, as .ci/run starts it): the tests kill
its nodes only, and start them again."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace

import pytest

from conftest import article
from engine_support import engine_at, index_paths
from vnsearch.engines import open_engine
from opensearch_cluster_support import request, wait_for_health
from vnsearch.config import Settings
from vnsearch.search import SearchRequest

pytestmark = [pytest.mark.opensearch, pytest.mark.slow]

PLACES = ["Hà Nội", "Đà Nẵng", "Huế", "Cần Thơ", "Hải Phòng", "Nha Trang"]


def articles(n: int, word: str = "mưa") -> list[dict]:
    """``n`` short articles, each holding ``word`` once and a place."""
    return [article(f"{word}-{i}", f"Tin {word} số {i} ở {PLACES[i % len(PLACES)]}",
                    f"Bản tin thời tiết {i}: trời {word} rào, người dân {PLACES[i % len(PLACES)]} mang áo mưa.",
                    date=f"2021-0{1 + i % 9}-1{i % 9}T08:00:00+07:00", category="Thời sự")
            for i in range(n)]


def spread_settings(url: str) -> Settings:
    """Three shards with one replica each: every node holds primaries and copies."""
    return replace(Settings.from_env(), backend="opensearch", opensearch_url=url, opensearch_shards=3,
                   opensearch_replicas=1)


def test_search_keeps_answering_while_a_node_is_killed(opensearch_cluster, tmp_path, write_jsonl):
    settings = spread_settings(opensearch_cluster.url)
    index_paths(tmp_path / "o", [write_jsonl(articles(120))], settings)
    wait_for_health(opensearch_cluster.url, "green", 3)
    engine = engine_at(tmp_path / "o", settings)
    expected = engine.search(SearchRequest(query="mua rao ha noi")).to_dict()
    assert expected["total"] == 20
    answers, errors, stop = [], [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                answers.append(engine.search(SearchRequest(query="mua rao ha noi")).to_dict())
            except Exception as exc:  # noqa: BLE001 - every failure is what the test reports
                errors.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(1)
    before = len(answers)
    opensearch_cluster.kill_node(2)
    time.sleep(8)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:3]
    assert len(answers) > before + 5, "searches stopped while the node was down"
    assert all(a["total"] == 20 and a["hits"] == expected["hits"] for a in answers)


def indexed_so_far(node: str, index: str) -> int:
    """Documents an import has written to ``index``, searchable yet or not: a big import turns the
    index's refresh off, and ``_count`` then says 0 until its end."""
    stats = request("GET", f"{node}/{index}/_stats/indexing")
    return stats.get("_all", {}).get("primaries", {}).get("indexing", {}).get("index_total", 0)


def test_an_import_that_loses_a_node_is_rerun_to_completion_exactly_once(opensearch_cluster, tmp_path,
                                                                          write_jsonl):
    settings = spread_settings(opensearch_cluster.url)
    index = f"vnsearch-test-faults-{os.getpid()}"
    source = write_jsonl(articles(3000, "nắng"))
    env = {**os.environ, "VNSEARCH_BACKEND": "opensearch", "VNSEARCH_OPENSEARCH_URL": opensearch_cluster.url,
           "VNSEARCH_OPENSEARCH_INDEX": index, "VNSEARCH_OPENSEARCH_SHARDS": "3",
           "VNSEARCH_OPENSEARCH_REPLICAS": "1", "VNSEARCH_BATCH_SIZE": "300"}
    vnsearch = [os.path.join(os.path.dirname(sys.executable), "vnsearch")]
    try:
        first = subprocess.Popen([*vnsearch, "index", str(source), "-q"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        node = opensearch_cluster.node(1)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # wait until the import has written a part
            if indexed_so_far(node, index) >= 300 or first.poll() is not None:
                break
            time.sleep(0.2)
        assert first.poll() is None, "the import ended before a node could be killed: give it more articles"
        opensearch_cluster.kill_node(2)
        out, err = first.communicate(timeout=600)
        print(f"the import that lost a node: exit {first.returncode}: {out.strip()} {err.strip()[-300:]}")
        opensearch_cluster.start_node(2)
        rerun = subprocess.run([*vnsearch, "index", str(source), "-q"], env=env, capture_output=True, text=True,
                               timeout=600)
        assert rerun.returncode == 0, rerun.stderr
        added, updated, unchanged = (int(rerun.stdout.split(" ")[i]) for i in (0, 2, 4))
        assert updated == 0 and added + unchanged == 3000, rerun.stdout
        engine = open_engine(replace(settings, opensearch_index=index))
        assert engine.stats()["articles"] == 3000
        assert engine.search(SearchRequest(query="nắng rào", per_page=1)).total == 3000
        third = subprocess.run([*vnsearch, "index", str(source), "-q"], env=env, capture_output=True, text=True)
        assert third.stdout.strip() == "0 added, 0 updated, 3000 unchanged, 0 deleted, 0 rejected"
    finally:
        request("DELETE", f"{opensearch_cluster.node(1)}/{index}*")
