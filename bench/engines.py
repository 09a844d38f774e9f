"""Both storage engines side by side on the same vietnews articles, in one run.

For each engine (``--backends``, default ``whoosh,opensearch``; OpenSearch needs
``VNSEARCH_OPENSEARCH_URL``, e.g. the local cluster ``scripts/opensearch-cluster start`` runs):

1. indexing throughput: ``vnsearch index FILE --rebuild -q`` on the first ``--articles``
   vietnews articles (synthetic dates and categories), wall time and the command's peak memory
   (its own and its workers', the largest process);
2. publish to searchable: ``vnsearch index`` of one new article, timed from the command's
   start until ``/api/search`` of a site already serving the index (a Flask test client of
   ``create_app``) returns it; the median of ``--publishes``;
3. search latency: ``--queries`` queries of 1-4 words drawn as ``latency.py`` draws them,
   every facet, snippets and the suggestion, no result cache; p50 and p95 of two passes (the
   first warms caches, the second is reported), and this process's memory after them;
4. for OpenSearch, each node's memory (resident set, heap in use).

Usage: ``cd bench && ../.venv/bin/python engines.py [--articles 20000] [--queries 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import common
import latency

from vnsearch.search import SearchRequest


def rss_mb(pid: int | str = "self") -> float:
    """The resident set of a process, in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def env_for(backend: str, index_dir: Path) -> dict:
    env = {**os.environ, "VNSEARCH_BACKEND": backend, "VNSEARCH_INDEX_DIR": str(index_dir)}
    if backend == "opensearch":
        env["VNSEARCH_OPENSEARCH_INDEX"] = common.cluster_index(index_dir)
    return env


def index_throughput(backend: str, index_dir: Path, source: Path, count: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run([str(common.VNSEARCH), "index", str(source), "--rebuild", "-q"],
                          env=env_for(backend, index_dir), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"engines: vnsearch index on {backend} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "per_second": count / seconds, "summary": proc.stdout.strip(),
            "peak_mb": max(peak, before) / 1024}


def publish_to_searchable(backend: str, index_dir: Path, publishes: int) -> list[float]:
    from vnsearch.web import create_app

    saved = {k: os.environ.get(k) for k in ("VNSEARCH_BACKEND", "VNSEARCH_OPENSEARCH_INDEX")}
    os.environ.update({k: v for k, v in env_for(backend, index_dir).items() if k in saved})
    try:
        client = create_app({"TESTING": True, "INDEX_DIR": str(index_dir)}).test_client()
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    client.get("/api/search?q=tin")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(publishes):
            word = f"xuatban{os.getpid()}x{i}x{int(time.time())}"
            path = Path(tmp) / f"{word}.jsonl"
            path.write_text(json.dumps({"id": word, "title": f"Tin mới {word}", "body": f"Nội dung {word}."},
                                       ensure_ascii=False) + "\n", encoding="utf-8")
            started = time.perf_counter()
            subprocess.run([str(common.VNSEARCH), "index", str(path), "-q"], env=env_for(backend, index_dir),
                           check=True, capture_output=True)
            while client.get(f"/api/search?q={word}&exact=1").get_json()["total"] != 1:
                if time.perf_counter() - started > 30:
                    raise SystemExit(f"engines: a publish on {backend} was not searchable after 30 s")
                time.sleep(0.01)
            times.append(time.perf_counter() - started)
    return times


def search_latency(backend: str, index_dir: Path, queries: list[str]) -> dict:
    engine = common.engine_at(index_dir, backend, cache_size=0)
    passes = []
    for _ in range(2):
        times = []
        for query in queries:
            t0 = time.perf_counter()
            engine.search(SearchRequest(query=query, per_page=10))
            times.append((time.perf_counter() - t0) * 1000)
        passes.append(times)
    engine.close()
    times = passes[-1]
    return {"p50": common.percentile(times, 50), "p95": common.percentile(times, 95), "max": max(times),
            "first_p50": common.percentile(passes[0], 50), "rss_mb": rss_mb()}


def cluster_memory() -> list[str]:
    from opensearchpy import OpenSearch

    url = os.environ.get("VNSEARCH_OPENSEARCH_URL", "")
    client = OpenSearch(hosts=[u for u in url.split(",") if u])
    stats = client.nodes.stats(metric="jvm")["nodes"]
    info = client.nodes.info(metric="process")["nodes"]
    out = []
    for node_id, node in sorted(stats.items(), key=lambda item: item[1]["name"]):
        pid = info.get(node_id, {}).get("process", {}).get("id")
        heap = node["jvm"]["mem"]["heap_used_in_bytes"] / 2**20
        rss = rss_mb(pid) if pid and Path(f"/proc/{pid}").exists() else float("nan")
        out.append(f"{node['name']}: resident {rss:.0f} MB, heap in use {heap:.0f} MB")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20_000, help="vietnews articles indexed (default 20000)")
    parser.add_argument("--queries", type=int, default=200, help="distinct queries timed (default 200)")
    parser.add_argument("--publishes", type=int, default=5, help="one-article publishes timed (default 5)")
    parser.add_argument("--backends", default="whoosh,opensearch", help="engines, comma-separated")
    parser.add_argument("--seed", type=int, default=20240501, help="seed for drawing queries")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    common.print_header(f"storage engines side by side: {', '.join(backends)}, {args.articles:,} vietnews articles",
                        common.SYNTHETIC_NOTE,
                        f"OpenSearch: {os.environ.get('VNSEARCH_OPENSEARCH_URL', '(not set)')}")
    common.OUT.mkdir(parents=True, exist_ok=True)
    source = common.OUT / f"engines-vietnews{args.articles // 1000}k.jsonl"
    count = common.write_jsonl(common.iter_corpus("vietnews", args.articles), source)
    queries = latency.draw_queries(args.articles, args.queries, args.seed)
    rows = {}
    for backend in backends:
        index_dir = common.OUT / f"engines-{backend}-{args.articles // 1000}k"
        index_dir.mkdir(parents=True, exist_ok=True)
        print(f"\n== {backend}", flush=True)
        built = index_throughput(backend, index_dir, source, count)
        print(f"indexing: {built['summary']} in {built['seconds']:.0f} s: {built['per_second']:.0f} articles/s; "
              f"peak memory of the command {built['peak_mb']:.0f} MB", flush=True)
        published = publish_to_searchable(backend, index_dir, args.publishes)
        print(f"publish to searchable: median {common.median(published):.2f} s "
              f"({', '.join(f'{t:.2f}' for t in published)})", flush=True)
        timed = search_latency(backend, index_dir, queries)
        print(f"search ({len(queries)} queries, second pass): p50 {timed['p50']:.1f} ms, p95 {timed['p95']:.1f} ms, "
              f"max {timed['max']:.0f} ms (first pass p50 {timed['first_p50']:.1f} ms); "
              f"this process {timed['rss_mb']:.0f} MB", flush=True)
        if backend == "opensearch":
            for line in cluster_memory():
                print(f"  {line}")
        rows[backend] = (built, published, timed)
    print(f"\n{'engine':<12} {'index/s':>8} {'publish s':>10} {'p50 ms':>7} {'p95 ms':>7}")
    for backend, (built, published, timed) in rows.items():
        print(f"{backend:<12} {built['per_second']:8.0f} {common.median(published):10.2f} "
              f"{timed['p50']:7.1f} {timed['p95']:7.1f}")
    source.unlink()
    common.print_footer()


if __name__ == "__main__":
    main()
