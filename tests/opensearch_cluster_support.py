"""The local OpenSearch cluster as the tests see it: its URL, its health, and its nodes to kill.

Plain urllib and json, no opensearch-py: these helpers check the cluster itself, under any engine.
The cluster is the one ``scripts/opensearch-cluster start`` runs (``.ci/run`` starts it and exports
``VNSEARCH_OPENSEARCH_URL``); fault tests kill and restart its nodes through the same script, and
only when the URL they were given is that script's cluster, never a cluster someone else runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_SCRIPT = ROOT / "scripts" / "opensearch-cluster"
START_COMMAND = "scripts/opensearch-cluster start"


def node_urls(url: str) -> list[str]:
    """``VNSEARCH_OPENSEARCH_URL`` (comma-separated node addresses) as a list."""
    return [part.strip().rstrip("/") for part in url.split(",") if part.strip()]


def request(method: str, url: str, body: dict | list | None = None, timeout: float = 10) -> dict:
    """One JSON request; an HTTP error status returns its JSON body all the same (with ``status``)."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        answer = json.loads(error.read() or b"{}")
        return {**answer, "status": error.code} if isinstance(answer, dict) else {"status": error.code}


def health(url: str, timeout: float = 5) -> dict | None:
    """Cluster health from the first node of ``url`` that answers; None when none does."""
    for node in node_urls(url):
        try:
            return request("GET", f"{node}/_cluster/health", timeout=timeout)
        except (OSError, ValueError):
            continue
    return None


def bulk(node: str, ndjson: str) -> dict:
    """A _bulk request (newline-delimited JSON), searchable when it returns."""
    req = urllib.request.Request(f"{node}/_bulk?refresh=wait_for", data=ndjson.encode(), method="POST",
                                 headers={"Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.load(response)


def wait_for_health(url: str, status: str | tuple[str, ...], nodes: int, timeout: float = 120) -> dict:
    """Poll until the cluster reports ``status`` (or one of them) with exactly ``nodes`` nodes;
    AssertionError otherwise."""
    wanted = (status,) if isinstance(status, str) else status
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = health(url)
        if seen and seen.get("status") in wanted and seen.get("number_of_nodes") == nodes:
            return seen
        time.sleep(0.5)
    raise AssertionError(f"the cluster at {url} was not {status} with {nodes} nodes after {timeout:.0f} s: {seen}")


def why_no_cluster() -> str:
    """Why the OpenSearch tests cannot run here, and what would make them run."""
    missing = [tool for tool, command in (("Java", "java"), ("Maven", "mvn")) if not shutil.which(command)]
    if missing:
        return (f"{' and '.join(missing)} missing, so the local OpenSearch cluster cannot start "
                f"(Debian: apt-get install openjdk-17-jre-headless maven); OpenSearch tests skipped")
    return ("VNSEARCH_OPENSEARCH_URL is not set: run `export VNSEARCH_OPENSEARCH_URL=$("
            f"{START_COMMAND} | tail -n 1)` (or `bash .ci/run`, which does it); OpenSearch tests skipped")


class LocalCluster:
    """The cluster ``scripts/opensearch-cluster`` runs, with its nodes numbered from 1 as the script does."""

    def __init__(self, url: str):
        self.url = url
        self.nodes = node_urls(url)
        self.killed: set[int] = set()

    def script(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        result = subprocess.run([str(CLUSTER_SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise AssertionError(f"scripts/opensearch-cluster {' '.join(args)} failed "
                                 f"(exit {result.returncode}): {result.stderr.strip()}")
        return result

    def is_ours(self) -> bool:
        """Whether ``url`` is the cluster the script runs (with the same VNSEARCH_CLUSTER_PORT)."""
        try:
            return self.script("url", timeout=30).stdout.strip() == ",".join(self.nodes)
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            return False

    def node(self, i: int) -> str:
        return self.nodes[i - 1]

    def kill_node(self, i: int) -> None:
        """SIGKILL node i (no shutdown: what a crash or a pulled plug does)."""
        self.killed.add(i)
        self.script("kill-node", str(i))

    def start_node(self, i: int) -> None:
        """Bring node i back; returns when the cluster is green again with every node."""
        self.script("start-node", str(i))
        self.killed.discard(i)

    def restore(self) -> None:
        """Restart whatever a test killed, so the next test finds the whole cluster green."""
        for i in sorted(self.killed):
            self.start_node(i)

    def others(self, i: int) -> str:
        """The URL without node i: what a client still reaches while node i is down."""
        return ",".join(node for j, node in enumerate(self.nodes, 1) if j != i)


def cluster_name_of(node: str) -> str:
    return request("GET", f"{node}/")["cluster_name"]
