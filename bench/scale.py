"""A real archive on a small machine: the whole vietnews corpus (150,703 articles), every row of issue 11.

One run prints, with the machine and its load:

- ``vnsearch serve``: memory after the first query, after N publishes, after M queries, and the
  high-water mark (``VmRSS`` and ``RssAnon`` from ``/proc/PID/status``, sampled every 50 ms;
  with ``--workers`` above 1, the largest worker and the sum over the server's processes);
- ``vnsearch search "ha noi"``, ``vnsearch stats`` and a one-article ``vnsearch index`` as whole
  processes, no server running (wall time, median of 3; peak RSS from ``wait4``, peak RssAnon sampled);
- a one-article publish until the running site answers it (``/api/search`` polled every 50 ms);
- ``/api/search``: M mixed queries one at a time (drawn from the articles, half without accents,
  a tenth misspelled), p50/p95/p99/max, and the zero-hit queries apart;
- site throughput on dantri, 8 clients, the varied mix of ``bench/web_load.py``;
- the index on disk against the raw text (title, summary and body as UTF-8).

The vietnews index is built once into ``bench/out/vietnews150k`` (with ``bench/latency.py``'s
builder: synthetic dates and categories) and reused; ``--rebuild`` builds it afresh. Published
articles (ids ``scale-bench-*``) are withdrawn again at the end.

    python bench/scale.py                               # every row, default sizes
    python bench/scale.py --publishes 1000 --queries 10000   # the issue's flatness check (long)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import common
import latency
import web_load

ARTICLES = 150_703
PORT = 8330
POLL_SECONDS = 0.05
TARGETS = {  # issue 11
    "anon_mb": 400, "search_s": 0.6, "search_mb": 300, "stats_s": 0.5, "index_s": 0.5, "index_mb": 300,
    "publish_median_s": 1.0, "publish_max_s": 2.0, "p95_ms": 60, "p99_ms": 150, "rps": 240, "size_ratio": 2.5,
}


# -- memory -------------------------------------------------------------------

def status_kb(pid: int) -> dict[str, int]:
    """VmRSS, RssAnon, RssFile, VmHWM of a process in kB ({} once it has gone)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


class MemorySampler:
    """Samples a process tree every 50 ms; keeps the peak RssAnon of any one process and of the sum."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_anon = self.peak_total_anon = self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.05)

    def sample(self) -> dict:
        per = [status_kb(p) for p in common.process_tree(self.pid)]
        per = [s for s in per if s]
        now = {
            "anon_max": max((s.get("RssAnon", 0) for s in per), default=0),
            "anon_sum": sum(s.get("RssAnon", 0) for s in per),
            "rss_max": max((s.get("VmRSS", 0) for s in per), default=0),
            "rss_sum": sum(s.get("VmRSS", 0) for s in per),
            "processes": len(per),
        }
        self.peak_anon = max(self.peak_anon, now["anon_max"])
        self.peak_total_anon = max(self.peak_total_anon, now["anon_sum"])
        self.peak_rss = max(self.peak_rss, now["rss_max"])
        return now

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB"


def memory_line(sample: dict) -> str:
    if sample["processes"] == 1:
        return f"VmRSS {mb(sample['rss_max'])}, RssAnon {mb(sample['anon_max'])}"
    return (f"largest process VmRSS {mb(sample['rss_max'])}, RssAnon {mb(sample['anon_max'])}; "
            f"{sample['processes']} processes: VmRSS {mb(sample['rss_sum'])}, RssAnon {mb(sample['anon_sum'])} "
            "(file pages are shared, so VmRSS overcounts)")


# -- whole processes ----------------------------------------------------------

def timed_process(args: list[str], stdin: str | None = None) -> tuple[float, int, int, float]:
    """Run a command to its end: wall seconds, peak RSS (kB, from wait4), peak RssAnon (kB, sampled)
    and CPU seconds (user + system: on a busy machine, wall time also counts waiting for a core)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_anon = 0
    stopped = threading.Event()

    def sample():
        nonlocal peak_anon
        while not stopped.is_set():
            peak_anon = max(peak_anon, status_kb(proc.pid).get("RssAnon", 0))
            stopped.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if stdin:
        proc.stdin.write(stdin)
        proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    stopped.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.exit(f"scale: {' '.join(args)} failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    return seconds, usage.ru_maxrss, peak_anon, usage.ru_utime + usage.ru_stime


def article_file(n: int, word: str) -> Path:
    """One new article, as a publish would send it, with a word no other article holds."""
    path = common.OUT / f"scale-publish-{n}.jsonl"
    record = {"id": f"scale-bench-{n}-{word}", "title": f"Tin mới {word}: Hà Nội khai trương tuyến buýt điện",
              "body": f"Sáng nay tuyến xe buýt điện {word} bắt đầu chạy qua trung tâm Hà Nội.",
              "date": time.strftime("%Y-%m-%dT%H:%M:%S+07:00"), "category": "Thời sự"}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def fresh_word(rng: random.Random) -> str:
    return "zq" + "".join(rng.choice("bcdfghklmnpstvx") for _ in range(8))


def cli(*args: str) -> list[str]:
    return [str(common.VNSEARCH), *args]


# -- the server ---------------------------------------------------------------

def start_server(index: Path, port: int, workers: int) -> subprocess.Popen:
    args = cli("serve", "--index-dir", str(index), "--host", "127.0.0.1", "--port", str(port))
    if workers:
        args += ["--workers", str(workers)]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"scale: vnsearch serve exited with {server.returncode}")
        try:
            get(port, "/api/search?per_page=1&q=xin+chao")
            return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    sys.exit("scale: vnsearch serve did not answer within 120 s")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def get(port: int, path: str, conn: http.client.HTTPConnection | None = None) -> dict:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
        return json.loads(body)
    finally:
        if own:
            conn.close()


def search_path(query: str) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": query})


def publish(index: Path, port: int, n: int, rng: random.Random) -> float:
    """Index one article while the site runs; seconds until /api/search answers it."""
    word = fresh_word(rng)
    path = article_file(n, word)
    started = time.perf_counter()
    proc = subprocess.Popen(cli("index", str(path), "--index-dir", str(index), "-q"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        while time.perf_counter() - started < 60:
            if get(port, search_path(word), conn)["total"]:
                break
            time.sleep(POLL_SECONDS)
        else:
            sys.exit(f"scale: the site did not answer article {n} within 60 s")
    finally:
        conn.close()
    seconds = time.perf_counter() - started
    proc.wait()
    path.unlink()
    return seconds


def mixed_queries(count: int, seed: int) -> list[str]:
    """Queries drawn from the articles (half unaccented), a tenth of them misspelled."""
    rng = random.Random(seed)
    queries = latency.draw_queries(ARTICLES, count, seed)
    while len(queries) < count:  # a draw may give fewer: repeat some, as real traffic does
        queries.append(rng.choice(queries))
    out = []
    for q in queries:
        if rng.random() < 0.1 and len(q) > 3:
            i = rng.randrange(len(q))
            q = q[:i] + rng.choice("xzqwj") + q[i + 1:]
        out.append(q)
    return out


def one_at_a_time(port: int, queries: list[str]) -> tuple[list[float], list[float]]:
    """Milliseconds per request, all and zero-hit ones."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, zero = [], []
    try:
        for q in queries:
            started = time.perf_counter()
            total = get(port, search_path(q), conn)["total"]
            ms = (time.perf_counter() - started) * 1000
            times.append(ms)
            if not total:
                zero.append(ms)
    finally:
        conn.close()
    return times, zero


# -- the index ----------------------------------------------------------------

def ensure_index(rebuild: bool) -> Path:
    index = latency.index_dir(ARTICLES)
    if rebuild and index.exists():
        print(f"removing {index} (--rebuild)", flush=True)
        shutil.rmtree(index)
        latency._record_path(ARTICLES).unlink(missing_ok=True)
    if not latency.index_is_complete(ARTICLES):
        latency.build_index(ARTICLES)
    return index


def raw_text_bytes() -> int:
    """Title, summary and body of every vietnews article as UTF-8 (computed once, kept in bench/out/)."""
    cache = common.OUT / "vietnews-raw-bytes.json"
    if cache.is_file():
        return json.loads(cache.read_text())["bytes"]
    total = sum(len((r.get("title") or "").encode()) + len((r.get("summary") or "").encode())
                + len((r.get("body") or "").encode()) for r in common.iter_corpus("vietnews", synthetic=False))
    cache.write_text(json.dumps({"bytes": total}))
    return total


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


def withdraw_published(index: Path) -> None:
    from common import engine_at

    engine = engine_at(str(index))
    result = engine.search(query="zq*", per_page=100)
    ids = [h.id for h in result.hits if h.id.startswith("scale-bench-")]
    engine.close()
    if ids:
        subprocess.run(cli("delete", *ids, "--index-dir", str(index)), check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# -- the run ------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true", help="build the vietnews index afresh")
    parser.add_argument("--publishes", type=int, default=5, help="one-article publishes with the site running")
    parser.add_argument("--queries", type=int, default=2000, help="/api/search requests one at a time")
    parser.add_argument("--workers", type=int, default=0,
                        help="vnsearch serve --workers (default: the command's own default)")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--seconds", type=float, default=20, help="seconds per throughput run (3 runs)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--index-dir", type=Path,
                        help="measure this index instead (a quick check of the script; the raw-text row assumes vietnews)")
    args = parser.parse_args()

    index = args.index_dir or ensure_index(args.rebuild)
    rng = random.Random(args.seed)
    common.print_header(f"scale: the full vietnews corpus ({ARTICLES:,} articles)", common.SYNTHETIC_NOTE,
                        f"serve {'--workers ' + str(args.workers) if args.workers else '(default workers)'}")
    rows: list[tuple[str, str, str]] = []

    def row(what: str, figure: str, target: str = "") -> None:
        rows.append((what, figure, target))
        print(f"{what}: {figure}" + (f"   [{target}]" if target else ""), flush=True)

    # Whole processes first, with no server running.
    for name, command in (("vnsearch search \"ha noi\"", cli("search", "ha noi", "--index-dir", str(index))),
                          ("vnsearch stats", cli("stats", "--index-dir", str(index)))):
        runs = [timed_process(command) for _ in range(3)]
        secs, cpu = common.median(r[0] for r in runs), common.median(r[3] for r in runs)
        peak, anon = max(r[1] for r in runs), max(r[2] for r in runs)
        if name.startswith("vnsearch search"):
            target = f"target <= 0.6 s, <= 300 MB: {common.verdict(secs <= 0.6 and peak <= 300 * 1024)}"
        else:
            target = f"target <= 0.5 s: {common.verdict(secs <= 0.5)}"
        row(f"{name} as a whole process",
            f"{secs:.2f} s (median of 3; CPU {cpu:.2f} s), peak VmRSS {mb(peak)}, RssAnon {mb(anon)}", target)
    runs = []
    for n in range(3):
        runs.append(timed_process(cli("index", str(article_file(10_000 + n, fresh_word(rng))),
                                      "--index-dir", str(index), "-q")))
        (common.OUT / f"scale-publish-{10_000 + n}.jsonl").unlink()
    secs, cpu = common.median(r[0] for r in runs), common.median(r[3] for r in runs)
    peak, anon = max(r[1] for r in runs), max(r[2] for r in runs)
    row("one-article vnsearch index (no server)",
        f"{secs:.2f} s (median of 3; CPU {cpu:.2f} s), peak VmRSS {mb(peak)}, RssAnon {mb(anon)}",
        f"target <= 0.5 s, <= 300 MB: {common.verdict(secs <= 0.5 and peak <= 300 * 1024)}")

    # The site.
    server = start_server(index, args.port, args.workers)
    sampler = MemorySampler(server.pid)
    try:
        get(args.port, search_path("ha noi"))
        time.sleep(0.5)
        row("serve: memory after the first query", memory_line(sampler.sample()))
        times = [publish(index, args.port, n, rng) for n in range(args.publishes)]
        row(f"one-article publish until the site answers it ({args.publishes} publishes, poll 50 ms)",
            f"median {common.median(times):.2f} s ({min(times):.2f}-{max(times):.2f})",
            f"target median <= 1.0 s, max <= 2 s: "
            f"{common.verdict(common.median(times) <= 1.0 and max(times) <= 2.0)}")
        time.sleep(0.5)
        row(f"serve: memory after {args.publishes} publishes", memory_line(sampler.sample()))
        queries = mixed_queries(args.queries, args.seed)
        times, zero = one_at_a_time(args.port, queries)
        p = lambda q, xs=times: common.percentile(xs, q)  # noqa: E731
        row(f"/api/search, {len(times):,} mixed queries one at a time",
            f"p50 {p(50):.0f}, p95 {p(95):.0f}, p99 {p(99):.0f}, max {max(times):.0f} ms; "
            f"{len(zero)} zero-hit: p95 {common.percentile(zero, 95):.0f}, max {max(zero, default=0):.0f} ms",
            f"target p95 <= 60, p99 <= 150: {common.verdict(p(95) <= 60 and p(99) <= 150)}")
        row(f"serve: memory after {len(times):,} queries", memory_line(sampler.sample()))
        row("serve: high-water mark (sampled every 50 ms)",
            f"RssAnon {mb(sampler.peak_anon)} (largest process), {mb(sampler.peak_total_anon)} (all processes); "
            f"VmRSS {mb(sampler.peak_rss)} (largest process)",
            f"target RssAnon <= 400 MB: {common.verdict(sampler.peak_anon <= TARGETS['anon_mb'] * 1024)}")
    finally:
        sampler.stop()
        stop_server(server)
    withdraw_published(index)

    # Throughput on dantri, as bench/web_load.py measures it.
    dantri = web_load.DEFAULT_INDEX
    web_load.ensure_index(dantri)
    server = start_server(dantri, args.port + 1, args.workers)
    try:
        choices = web_load.paths("varied")
        web_load.run(args.port + 1, server.pid, choices, 8, 3, seed=0)  # warm-up
        results = [web_load.run(args.port + 1, server.pid, choices, 8, args.seconds, seed=n) for n in (1, 2, 3)]
        rps = common.median(r["rps"] for r in results)
        row("site throughput, dantri, 8 clients, varied queries",
            f"{rps:.0f} requests/s (median of 3 runs of {args.seconds:g} s; p95 "
            f"{common.median(r['p95'] for r in results):.0f} ms, errors {sum(r['errors'] for r in results)})",
            f"target >= 240: {common.verdict(rps >= TARGETS['rps'])}")
    finally:
        stop_server(server)

    size, raw = directory_bytes(index), raw_text_bytes()
    row("index on disk", f"{size / 1e9:.2f} GB, {size / raw:.2f}x the raw text ({raw / 1e6:.1f} MB)",
        f"target <= 2.5x: {common.verdict(size / raw <= TARGETS['size_ratio'])}")

    print("\n| what | figure | target |\n|---|---|---|")
    for what, figure, target in rows:
        print(f"| {what} | {figure} | {target} |")
    common.print_footer()


if __name__ == "__main__":
    main()
