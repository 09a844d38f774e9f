"""Indexing throughput, and how soon a newly indexed article can be found.

(a)-(c) time ``vnsearch index`` as a subprocess into a fresh index: the whole pipeline
(process start, reading JSON, pyvi in worker processes, Whoosh, commits). CPU seconds
(the indexer and its workers) are shown beside wall time: other load on the machine
slows the wall clock, hardly the CPU time.

(a) all of dantri.jsonl.gz;
(b) the first 20,000 vietnews articles, first written with synthetic dates and
    categories to a JSON Lines file under bench/out/ (not timed);
(c) freshness: a long-lived engine (``common.engine_at``) is open on the index of (b); from the start
    of ``vnsearch index one-new-article.jsonl`` it searches every 20 ms for a word only
    that article holds, until it is found. The subprocess's own wall time is shown too;
(d) where the time goes: one in-process run over 2,000 of those articles in one process,
    with timers around reading, analysis, pyvi, Whoosh writes and the commit.

    python bench/index_throughput.py [--dantri-runs 3] [--vietnews-limit 20000] [--vietnews-runs 3] [--fresh-runs 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import common
from vnsearch.articles import VIETNAM_TZ
from vnsearch.config import Settings
from common import engine_at
from vnsearch.search import SearchRequest

TARGET_ARTICLES_PER_S = 150.0
TARGET_FRESH_S = 1.5
POLL_SECONDS = 0.02
FRESH_TIMEOUT_S = 60.0


def run_indexer(paths: list[Path], index_dir: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds (the indexer and its workers) of one ``vnsearch index`` run, and
    its summary line; exits if it fails. CPU time barely depends on other load; wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([str(common.VNSEARCH), "index", *map(str, paths), "--index-dir", str(index_dir), "-q"],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):  # 1: some records were rejected; the summary says how many
        sys.exit(f"index_throughput: vnsearch index failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return seconds, cpu, proc.stdout.strip().splitlines()[-1]


def added(summary: str) -> int:
    match = re.match(r"(\d+) added", summary)
    if not match:
        sys.exit(f"index_throughput: unexpected summary from vnsearch index: {summary!r}")
    return int(match.group(1))


def throughput(label: str, source: Path, index_dir: Path, runs: int) -> list[float]:
    """Articles per second of ``runs`` fresh-index runs, printed as they go."""
    rates = []
    for i in range(1, runs + 1):
        shutil.rmtree(index_dir, ignore_errors=True)
        load = common.load_average()
        seconds, cpu, summary = run_indexer([source], index_dir)
        n = added(summary)
        rates.append(n / seconds)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"  {label} run {i}: {seconds:6.1f} s, {rates[-1]:6.1f} articles/s; CPU {cpu:6.1f} s "
              f"({n / cpu:5.1f} articles per CPU-second); largest process so far {peak_mb:.0f} MB; "
              f"load before {load}  ({summary})", flush=True)
    return rates


def unique_word() -> str:
    """A word found nowhere else: 'zq' and ten letters."""
    return "zq" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])


def fresh_article(word: str) -> dict:
    return {
        "id": f"bench-fresh-{word}",
        "title": f"Tin thử nghiệm {word} về độ trễ của chỉ mục",
        "body": f"Bài viết kiểm tra thời gian từ lúc đánh chỉ mục đến lúc tìm được từ {word}.\nTheo vnsearch",
        "date": datetime.now(VIETNAM_TZ).isoformat(timespec="seconds"),
        "category": "Thời sự",
        "source": "bench",
    }


def time_to_searchable(engine, index_dir: Path, work: Path, run: int) -> tuple[float, float]:
    """Seconds from starting the indexer until the new article is found, and the indexer's wall time."""
    word = unique_word()
    path = work / f"fresh-{run}.jsonl"
    common.write_jsonl([fresh_article(word)], path)
    request = SearchRequest(query=word)
    if engine.search(request).total:
        sys.exit(f"index_throughput: {word!r} is already in the index")
    exited: list[float] = []
    started = time.perf_counter()
    proc = subprocess.Popen([str(common.VNSEARCH), "index", str(path), "--index-dir", str(index_dir), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    waiter = threading.Thread(target=lambda: (proc.wait(), exited.append(time.perf_counter())))
    waiter.start()
    found = None
    while time.perf_counter() - started < FRESH_TIMEOUT_S:
        if engine.search(request).total >= 1:
            found = time.perf_counter() - started
            break
        time.sleep(POLL_SECONDS)
    waiter.join()
    out, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"index_throughput: vnsearch index of the new article failed ({proc.returncode}):\n{err[-3000:]}")
    if found is None:
        sys.exit(f"index_throughput: the new article was not searchable after {FRESH_TIMEOUT_S:g} s")
    return found, exited[0] - started


def cli_startup(runs: int = 3) -> float:
    """Median seconds of ``vnsearch --version``: interpreter and CLI start-up alone."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([str(common.VNSEARCH), "--version"], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return common.median(times)


def measure_freshness(index_dir: Path, work: Path, count: int, runs: int) -> None:
    """(c): from starting the indexer on one new article until a long-lived engine finds it."""
    print(f"(c) one new article into the {count:,}-article index, searched every "
          f"{POLL_SECONDS * 1000:g} ms by an engine opened before; {runs} runs", flush=True)
    engine = engine_at(str(index_dir))
    found, walls = [], []
    for i in range(1, runs + 1):
        seconds, wall = time_to_searchable(engine, index_dir, work, i)
        found.append(seconds)
        walls.append(wall)
        print(f"  run {i}: searchable after {seconds:.2f} s; the indexer process took {wall:.2f} s", flush=True)
    engine.close()
    print(f"  => searchable after {common.spread(found, '{:.2f}')} s; target <= {TARGET_FRESH_S:g} s: "
          f"{common.verdict(common.median(found) <= TARGET_FRESH_S)}")
    print(f"  => indexer wall time for one article: {common.spread(walls, '{:.2f}')} s")


class PartTimer:
    """Wall time spent inside some functions, measured by wrapping them (for one in-process run)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._undo: list = []

    def wrap(self, owner, name: str, label: str, generator: bool = False) -> None:
        original = getattr(owner, name)
        self.seconds[label] = 0.0

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0

        def timed_generator(*args, **kwargs):
            items = original(*args, **kwargs)
            while True:
                t0 = time.perf_counter()
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    self.seconds[label] += time.perf_counter() - t0
                yield item

        setattr(owner, name, timed_generator if generator else timed)
        self._undo.append((owner, name, original))

    def restore(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)


def profile_pipeline(source: Path, work: Path, limit: int) -> None:
    """Time the parts of one in-process run over ``limit`` articles in one process (no workers).

    With workers, each worker analyses and writes a segment of its own; the indexer
    process only reads, hashes and commits, so the one-core rate times the workers is
    the ceiling (memory bandwidth and the indexer's own share keep it below).
    """
    from whoosh.writing import SegmentWriter

    from vnsearch import readers, segmenter
    from vnsearch.engines.whoosh import indexer

    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)[:limit]
    sample = work / "profile.jsonl"
    sample.write_text("".join(lines), encoding="utf-8")
    timer = PartTimer()
    timer.wrap(readers, "read_path", "reading JSON, validating", generator=True)
    timer.wrap(indexer, "document_fields", "analysis (normalize, pyvi, fold)")
    timer.wrap(segmenter, "segment", "  of which pyvi segmentation")
    timer.wrap(SegmentWriter, "add_document", "Whoosh add_document")
    timer.wrap(indexer.Indexer, "_commit", "Whoosh commit (writes the segment)")
    settings = dataclasses.replace(Settings.from_env(), workers=1)
    started = time.perf_counter()
    try:
        report = indexer.Indexer(work / "profile-index", settings=settings).index(readers.read_paths([sample]))
    finally:
        timer.restore()
    seconds = time.perf_counter() - started
    print(f"(d) where the time goes: {report.added:,} vietnews articles indexed in this process with "
          f"workers=1, {seconds:.1f} s ({report.added / seconds:.0f} articles/s on one core):")
    for label, total in timer.seconds.items():
        print(f"  {label:36} {total:6.1f} s {total / seconds:6.0%} {total / report.added * 1000:6.2f} ms/article")
    rest = seconds - sum(v for k, v in timer.seconds.items() if not k.startswith(" "))
    print(f"  {'the rest':36} {rest:6.1f} s {rest / seconds:6.0%} {rest / report.added * 1000:6.2f} ms/article")
    workers = Settings.from_env().workers
    print(f"  => one core: {report.added / seconds:.0f} articles/s; "
          f"ceiling with {workers} workers: {workers * report.added / seconds:.0f}")


def run(args, work: Path) -> None:
    if args.dantri_runs:
        print(f"(a) dantri.jsonl.gz, 2,653 articles, {args.dantri_runs} runs", flush=True)
        rates = throughput("dantri", common.corpus_path("dantri"), work / "dantri-index", args.dantri_runs)
        print(f"  => {common.spread(rates)} articles/s\n", flush=True)

    source = work / f"vietnews{args.vietnews_limit}.jsonl"
    count = common.write_jsonl(common.iter_corpus("vietnews", args.vietnews_limit), source)
    print(f"(b) the first {count:,} vietnews articles (synthetic dates and categories), "
          f"{args.vietnews_runs} runs", flush=True)
    index_dir = work / "vietnews-index"
    rates = throughput("vietnews", source, index_dir, args.vietnews_runs)
    print(f"  => {common.spread(rates)} articles/s; target >= {TARGET_ARTICLES_PER_S:g}: "
          f"{common.verdict(common.median(rates) >= TARGET_ARTICLES_PER_S)}\n", flush=True)

    if args.fresh_runs:
        measure_freshness(index_dir, work, count, args.fresh_runs)

    if args.profile:
        print()
        profile_pipeline(source, work, args.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dantri-runs", type=int, default=3, help="runs over dantri (default 3; 0 skips)")
    parser.add_argument("--vietnews-limit", type=int, default=20_000, help="vietnews articles (default 20000)")
    parser.add_argument("--vietnews-runs", type=int, default=3, help="runs over vietnews (default 3; at least 1)")
    parser.add_argument("--fresh-runs", type=int, default=5, help="new-article runs (default 5; 0 skips)")
    parser.add_argument("--profile", type=int, default=2000, metavar="N",
                        help="then time the parts of one in-process run over N vietnews articles (default 2000; 0 skips)")
    args = parser.parse_args()
    if args.vietnews_runs < 1:
        parser.error("--vietnews-runs must be at least 1: the freshness test needs its index")

    common.corpus_path("dantri")
    common.corpus_path("vietnews")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("index_throughput: terminated"))  # run the clean-up
    settings = Settings.from_env()
    common.print_header(
        "indexing throughput (vnsearch index as a subprocess, fresh index each run)",
        common.SYNTHETIC_NOTE,
        f"settings: workers={settings.workers}, batch_size={settings.batch_size}, "
        f"commit_every={settings.commit_every}, commit_seconds={settings.commit_seconds:g}",
    )
    print(f"CLI start-up alone (vnsearch --version, median of 3): {cli_startup():.2f} s\n", flush=True)
    # A directory of its own: two runs at once (bad for timings anyway) must not share indexes.
    common.OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="throughput-", dir=common.OUT))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    common.print_footer()


if __name__ == "__main__":
    main()
