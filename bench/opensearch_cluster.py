"""The local OpenSearch cluster's costs: start times, stop time, a node's return, memory per node.

Runs scripts/opensearch-cluster on its own ports (VNSEARCH_CLUSTER_PORT, default here 9280) and in its
own folder under bench/out/, so a cluster already running for tests or development is left alone.

- first start: an empty Maven repository and an empty cache (what a fresh machine does: Maven fetches
  its dependency plugin and the 56 MB distribution, the script unpacks it), empty data;
- warm start: the distribution cached, the data of the previous run (median of --runs);
- stop; kill-node 2 then start-node 2 (back to green);
- VmRSS of each node from /proc after --idle seconds of idleness, with the heap set by --heap.

    python bench/opensearch_cluster.py [--runs 3] [--heap 384m] [--idle 20] [--no-first]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, ROOT, print_footer, print_header, spread  # noqa: E402

SCRIPT = ROOT / "scripts" / "opensearch-cluster"


def run(env: dict, *args: str) -> float:
    """Seconds one script command takes; exits with its message when it fails."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"bench: opensearch-cluster {' '.join(args)} failed (exit {result.returncode}):\n{result.stderr}")
    return time.monotonic() - started


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--heap", default="384m")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds idle before reading memory")
    parser.add_argument("--port", type=int, default=9280)
    parser.add_argument("--no-first", action="store_true", help="skip the first start with an empty cache")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="opensearch-cluster-", dir=OUT))
    os.chmod(work, 0o755)  # the node user (when we are root) walks through it
    env = {**os.environ, "VNSEARCH_CLUSTER_PORT": str(args.port), "VNSEARCH_CLUSTER_HEAP": args.heap,
           "VNSEARCH_CLUSTER_DIR": str(work / "cluster")}
    print_header("local OpenSearch cluster: start, stop, memory",
                 f"3 nodes, heap {args.heap} each, ports {args.port}.. (HTTP) and {args.port + 100}.. (transport)")
    try:
        if not args.no_first:
            first_env = {**env, "VNSEARCH_CACHE_DIR": str(work / "cache"),
                         "MAVEN_OPTS": f"-Dmaven.repo.local={work / 'm2'}"}
            print(f"first start (empty Maven repository and cache): {run(first_env, 'start', '--fresh'):.1f} s")
            run(first_env, "stop")
            shutil.rmtree(work / "cache")
            shutil.rmtree(work / "m2")
        run(env, "start", "--fresh")  # the distribution from the usual cache, as later starts find it
        run(env, "stop")
        warm, stop = [], []
        for _ in range(args.runs):
            warm.append(run(env, "start"))
            stop.append(run(env, "stop"))
        print(f"warm start (3 nodes to green): {spread(warm)} s")
        print(f"stop: {spread(stop, '{:.2f}')} s")
        run(env, "start")
        back = []
        for _ in range(args.runs):
            run(env, "kill-node", "2")
            back.append(run(env, "start-node", "2"))
        print(f"kill-node 2, then start-node 2 to green: {spread(back)} s")
        time.sleep(args.idle)
        for i in range(1, 4):
            pid = int((work / "cluster" / f"node-{i}.pid").read_text())
            print(f"node-{i} VmRSS after {args.idle:.0f} s idle: {rss_mib(pid):.0f} MiB")
    finally:
        subprocess.run([sys.executable, str(SCRIPT), "stop"], env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print_footer()


if __name__ == "__main__":
    main()
