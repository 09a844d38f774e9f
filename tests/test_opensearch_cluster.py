"""The local OpenSearch cluster itself (scripts/opensearch-cluster), checked over plain HTTP.

These tests need the cluster .ci/run starts; without it they skip and say what is missing.
They check what the engine's tests rely on: three nodes forming one green cluster, and a node
SIGKILLed and brought back by the fault fixtures while an index with one replica keeps answering.
"""

from __future__ import annotations

import json
import uuid

import pytest

from opensearch_cluster_support import bulk, cluster_name_of, health, node_urls, request, wait_for_health

pytestmark = pytest.mark.opensearch

HEADLINES = {
    "cl-1": "Hà Nội khởi công tuyến metro số 3 nối Nhổn với ga Hà Nội",
    "cl-2": "Đà Nẵng đón hơn một triệu lượt khách du lịch quốc tế",
    "cl-3": "Giá lúa gạo ở Đồng bằng sông Cửu Long tăng mạnh",
    "cl-4": "Sở Công Thương Hà Nội kiểm tra các chợ đầu mối trước Tết",
}


def test_every_node_answers_and_the_three_form_one_green_cluster(opensearch_url):
    nodes = node_urls(opensearch_url)
    assert len(nodes) == 3, f"the local cluster has three nodes, VNSEARCH_OPENSEARCH_URL names {nodes}"
    names = {cluster_name_of(node) for node in nodes}
    assert len(names) == 1, f"the nodes belong to different clusters: {names}"
    for node in nodes:
        answer = request("GET", f"{node}/_cluster/health")
        assert (answer["status"], answer["number_of_nodes"]) == ("green", 3), node


@pytest.fixture
def replicated_index(opensearch_cluster):
    """A throw-away index of four Vietnamese headlines: three shards, one replica each."""
    name = f"vnsearch-cluster-test-{uuid.uuid4().hex[:8]}"
    first = opensearch_cluster.node(1)
    created = request("PUT", f"{first}/{name}", {"settings": {"number_of_shards": 3, "number_of_replicas": 1}})
    assert created.get("acknowledged"), created
    lines = []
    for id, title in HEADLINES.items():
        lines += [json.dumps({"index": {"_index": name, "_id": id}}), json.dumps({"title": title}, ensure_ascii=False)]
    answer = bulk(first, "\n".join(lines) + "\n")
    assert not answer["errors"], answer
    wait_for_health(opensearch_cluster.url, "green", 3)
    yield name
    request("DELETE", f"{first}/{name}")


def ids_matching(node: str, index: str, phrase: str) -> set[str]:
    """The ids whose title holds ``phrase``, asked of one node; every shard must answer."""
    answer = request("POST", f"{node}/{index}/_search", {"query": {"match_phrase": {"title": phrase}}, "size": 10})
    assert answer["_shards"]["failed"] == 0, answer["_shards"]
    return {hit["_id"] for hit in answer["hits"]["hits"]}


def copies_on(node: str, index: str, node_name: str) -> int:
    shards = request("GET", f"{node}/_cat/shards/{index}?format=json")
    return sum(1 for shard in shards if shard.get("node") == node_name) if isinstance(shards, list) else 0


@pytest.mark.slow
def test_a_killed_node_leaves_the_replicas_answering_and_comes_back_green(opensearch_cluster, replicated_index):
    cluster = opensearch_cluster
    assert ids_matching(cluster.node(1), replicated_index, "Hà Nội") == {"cl-1", "cl-4"}
    assert copies_on(cluster.node(1), replicated_index, "node-2") > 0, "node-2 holds no copy: killing it tests nothing"

    cluster.kill_node(2)
    assert health(cluster.node(2), timeout=2) is None, "node 2 still answers after kill-node 2"
    wait_for_health(cluster.others(2), ("yellow", "green"), 2)  # replicas of its primaries are promoted
    for node in (1, 3):
        assert ids_matching(cluster.node(node), replicated_index, "Hà Nội") == {"cl-1", "cl-4"}
        assert ids_matching(cluster.node(node), replicated_index, "sông Cửu Long") == {"cl-3"}

    cluster.start_node(2)
    back = health(cluster.url)
    assert (back["status"], back["number_of_nodes"]) == ("green", 3)
    assert ids_matching(cluster.node(2), replicated_index, "Đà Nẵng") == {"cl-2"}
