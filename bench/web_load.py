"""Load on /api/search: concurrent clients against `vnsearch serve` on loopback, dantri index.

Prints requests/s and p50/p95 latency for each run and the median of the runs, plus the
machine and how busy the server was (CPU seconds per wall second over all its processes: 1.0
is one core) and its CPU per request.

Two mixes of requests, drawn from a fixed list of realistic 1-4 word queries, accented and not:
- ``repeat``: the query only. The engine caches results per index generation, so after the
  first pass this measures the web layer plus cache hits: the cost of a popular search.
- ``varied``: query x sort x page 1-5 x sometimes a category (over 2,000 combinations, more
  than the cache holds): mostly real searches.

    python bench/web_load.py                      # both mixes, 8 clients, 30 s, 3 runs
    python bench/web_load.py --mix varied --seconds 10 --runs 1
    python bench/web_load.py --workers 1          # one waitress process

The server runs as ``vnsearch serve`` does by default (one gunicorn worker per core) unless
``--workers`` says otherwise.

The index is built in bench/out/ when missing; without ../shared the benchmark is skipped.
Client and server share the machine's cores (loopback only: 127.0.0.1).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import common
from vnsearch.serving import default_workers, uses_gunicorn

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VNSEARCH_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "dantri.jsonl.gz"
DEFAULT_INDEX = ROOT / "bench" / "out" / "dantri-index"

QUERIES = [
    "covid", "vắc xin", "vac xin", "tiêm vắc xin", "tiem vac xin covid", "hà nội", "ha noi",
    "tp hcm", "bóng đá", "bong da viet nam", "giá vàng", "gia vang hom nay", "học sinh", "hoc sinh",
    "thi tốt nghiệp thpt", "doanh nghiệp", "doanh nghiep", "chứng khoán", "chung khoan",
    "bất động sản", "bat dong san", "du lịch đà nẵng", "du lich", "đại học", "tuyen sinh dai hoc",
    "sức khỏe", "suc khoe", "bệnh viện bạch mai", "benh vien", "ô tô điện", "o to", "điện thoại",
    "dien thoai", "thời tiết", "mưa lớn", "tai nạn giao thông", "tai nan giao thong", "ngân hàng",
    "lai suat ngan hang", "xuất khẩu", "trung quốc", "ấn độ covid", "an do", "công an",
    "cong an tphcm", "phòng chống dịch", "cach ly", "world cup", "giáo viên", "giao vien",
]
CATEGORIES = ["Sức khỏe", "Thể thao", "Kinh doanh", "Giáo dục", "Thế giới", "Xã hội"]


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}; "
            f"{platform.system()} {platform.release()}")


def ensure_index(index_dir: Path) -> None:
    """Build the dantri index when it is missing, or afresh when its schema is not the current one."""
    from vnsearch.engines import IndexMissingError
    from vnsearch.engines.whoosh.store import open_index
    from vnsearch.engines.whoosh.schema import build_schema

    try:
        if set(open_index(index_dir).schema.names()) == set(build_schema().names()):
            return
        # `vnsearch index --rebuild` keeps the old schema, so only a new directory helps.
        if DEFAULT_INDEX.parent not in index_dir.resolve().parents:
            raise SystemExit(f"{index_dir} holds an index with an older schema: remove it or pass another --index-dir")
        print(f"the index in {index_dir} has an older schema: building it afresh (about a minute) ...", flush=True)
        shutil.rmtree(index_dir)
    except IndexMissingError:
        print(f"building the dantri index in {index_dir} (about a minute) ...", flush=True)
    subprocess.run([sys.executable, "-m", "vnsearch.cli", "index", str(CORPUS), "--index-dir", str(index_dir), "-q"],
                   check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: Path, threads: int, workers: int = 0) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "vnsearch.cli", "serve", "--index-dir", str(index_dir),
         "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads),
         *(["--workers", str(workers)] if workers else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"vnsearch serve exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/search?per_page=1")
            if conn.getresponse().status == 200:
                conn.close()
                return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("vnsearch serve did not answer within 60 s")


def paths(mix: str) -> list[str]:
    def path(**args) -> str:
        return "/api/search?" + urllib.parse.urlencode(args)

    if mix == "repeat":
        return [path(q=q) for q in QUERIES]
    out = []
    for q in QUERIES:
        for sort in ("relevance", "newest", "oldest"):
            for page in range(1, 6):
                out.append(path(q=q, sort=sort, page=page))
        for category in CATEGORIES:
            out.append(path(q=q, category=category))
    return out


def client(port: int, choices: list[str], seed: int, until: float, latencies: list, errors: list) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < until:
        target = rng.choice(choices)
        started = time.perf_counter()
        try:
            conn.request("GET", target)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        elapsed = time.perf_counter() - started
        (latencies if ok else errors).append(elapsed)
    conn.close()


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time the processes have used (utime + stime)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone (a worker replaced)
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run(port: int, server_pid: int, choices: list[str], clients: int, seconds: float, seed: int) -> dict:
    latencies: list[float] = []
    errors: list[float] = []
    server = common.process_tree(server_pid)  # a gunicorn master and its workers
    cpu_before = cpu_seconds(server)
    started = time.monotonic()
    until = started + seconds
    threads = [threading.Thread(target=client, args=(port, choices, seed * 100 + i, until, latencies, errors))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    cpu = cpu_seconds(server) - cpu_before
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {"requests": len(latencies), "errors": len(errors), "rps": len(latencies) / wall,
            "p50": cuts[49] * 1000, "p95": cuts[94] * 1000,
            "server_cpu": cpu / wall, "cpu_ms": cpu / max(len(latencies), 1) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--mix", choices=("repeat", "varied", "both"), default="both")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8, help="threads per server process (vnsearch serve --threads)")
    parser.add_argument("--workers", type=int, default=0,
                        help="server processes (vnsearch serve --workers; default: the command's own, one per core)")
    args = parser.parse_args()

    if not CORPUS.exists() and args.index_dir == DEFAULT_INDEX:
        print(f"skipped: the shared corpus is absent ({CORPUS}); set VNSEARCH_SHARED or pass --index-dir")
        return
    ensure_index(args.index_dir)
    print(f"machine: {machine()}")
    print("load average before: %.2f %.2f %.2f (other work on the machine skews the figures)" % os.getloadavg())
    workers = args.workers or default_workers()
    how = f"{workers} gunicorn workers" if uses_gunicorn(workers) else "waitress, one process"
    print(f"server: vnsearch serve --workers {workers} --threads {args.threads} ({how}) on 127.0.0.1; "
          f"index {args.index_dir}")
    print(f"load: {args.clients} clients with keep-alive, {args.seconds:g} s per run, {args.runs} runs")
    server, port = start_server(args.index_dir, args.threads, args.workers)
    try:
        mixes = ("repeat", "varied") if args.mix == "both" else (args.mix,)
        for mix in mixes:
            choices = paths(mix)
            run(port, server.pid, choices, args.clients, 3, seed=0)  # warm-up: caches, first-touch costs
            print(f"\n/api/search, mix '{mix}' ({len(choices)} distinct requests)")
            print(f"{'run':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'server CPU':>11} "
                  f"{'CPU ms/req':>11}")
            results = []
            for n in range(1, args.runs + 1):
                r = run(port, server.pid, choices, args.clients, args.seconds, seed=n)
                results.append(r)
                print(f"{n:>5} {r['requests']:>9} {r['rps']:>8.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} "
                      f"{r['errors']:>7} {r['server_cpu']:>10.2f}c {r['cpu_ms']:>11.2f}", flush=True)
            med = {k: statistics.median(r[k] for r in results) for k in ("rps", "p50", "p95", "server_cpu", "cpu_ms")}
            print(f"{'median':>5} {'':>9} {med['rps']:>8.1f} {med['p50']:>8.1f} {med['p95']:>8.1f} "
                  f"{'':>7} {med['server_cpu']:>10.2f}c {med['cpu_ms']:>11.2f}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    print("\nload average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
