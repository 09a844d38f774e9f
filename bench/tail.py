"""The slowest queries of ``bench/scale.py``'s /api/search row, in process, and where their time goes.

Runs ``scale.mixed_queries(N, seed)`` one at a time against the embedded engine (result
cache off, so each query does its work; the postings caches on, as in the server), after
the same warm-up query as ``vnsearch serve``. Prints p50/p95/p99/max, the zero-hit
queries apart, and the slowest queries with each pipeline step's milliseconds
(``latency.PhaseTimer``). Names the machine's load: the figures move with it.

    python bench/tail.py --index-dir bench/out/vietnews150k-v3
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import common
import latency
import scale
from vnsearch.search import SearchRequest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--slowest", type=int, default=25)
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    queries = scale.mixed_queries(args.queries, args.seed)
    engine = common.engine_at(args.index_dir, cache_size=0)
    engine.search(SearchRequest(query="Hà Nội qxzqvw"))  # vnsearch serve's warm-up query
    timer = latency.PhaseTimer(engine)
    rows = []
    for query in queries:
        started = time.perf_counter()
        result = engine.search(SearchRequest(query=query, per_page=10))
        rows.append(((time.perf_counter() - started) * 1000, query, result.total, timer.take()))
    engine.close()
    times = np.array([r[0] for r in rows])
    zero = np.array([r[0] for r in rows if not r[2]])
    pc = (lambda a, p: float(np.percentile(a, p)) if len(a) else 0.0)
    print(f"{len(times)} queries: p50 {pc(times, 50):.1f}, p95 {pc(times, 95):.1f}, p99 {pc(times, 99):.1f}, "
          f"max {times.max():.1f} ms; {len(zero)} zero-hit: p95 {pc(zero, 95):.1f} ms")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for ms, query, total, steps in sorted(rows, key=lambda r: -r[0])[: args.slowest]:
        named = " ".join(f"{k}={v:.0f}" for k, v in sorted(steps.items(), key=lambda x: -x[1]) if v >= 3)
        print(f"{ms:8.1f} ms {total:7d} hits  {query!r}  {named}")


if __name__ == "__main__":
    main()
