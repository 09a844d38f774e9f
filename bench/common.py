"""Shared helpers for the benchmarks: the machine, statistics, and the shared corpus.

The corpus lives outside the repository, in ``../shared/corpus/`` relative to the repo
root (``VNSEARCH_SHARED`` overrides the ``shared`` directory, as in the tests). Articles
are streamed from it and never copied into the repository; whatever a benchmark writes
(temporary JSON Lines, indexes, caches) goes under ``bench/out/``, which git ignores.

``vietnews`` has no dates or categories; :func:`synthetic_fields` derives them from a
hash of the article id, so every run and every machine sees the same ones.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, Iterator

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VNSEARCH_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
OUT = ROOT / "bench" / "out"
VNSEARCH = Path(sys.executable).with_name("vnsearch")  # the CLI installed beside this Python

CORPUS_FILES = {"dantri": "dantri.jsonl.gz", "vietnews": "vietnews.jsonl.gz"}

# Ten sections, like dantri's; the synthetic dates span three years, Vietnam time.
SYNTHETIC_CATEGORIES = (
    "Thời sự", "Thế giới", "Kinh doanh", "Giải trí", "Thể thao",
    "Pháp luật", "Giáo dục", "Sức khỏe", "Đời sống", "Công nghệ",
)
SYNTHETIC_START = datetime.fromisoformat("2019-01-01T00:00:00+07:00")
SYNTHETIC_SPAN_SECONDS = 3 * 365 * 86400
SYNTHETIC_NOTE = "vietnews has synthetic dates and categories (from a hash of each id)"


# -- the corpus ---------------------------------------------------------------

def corpus_path(name: str) -> Path:
    """The path of one corpus file; exits with a clear message when it is absent."""
    path = CORPUS / CORPUS_FILES[name]
    if not path.is_file():
        sys.exit(f"bench: the shared corpus file {path} is absent. The benchmarks read it from "
                 f"../shared/corpus/ relative to the repository root (or $VNSEARCH_SHARED/corpus); "
                 f"see that directory's README.md.")
    return path


def synthetic_fields(article_id: str) -> dict:
    """A deterministic date (2019-2021, to the second) and category for an article id.

    >>> synthetic_fields("vietnews-train-000001") == synthetic_fields("vietnews-train-000001")
    True
    """
    digest = hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    when = SYNTHETIC_START + timedelta(seconds=value % SYNTHETIC_SPAN_SECONDS)
    category = SYNTHETIC_CATEGORIES[(value >> 40) % len(SYNTHETIC_CATEGORIES)]
    return {"date": when.isoformat(), "category": category}


def iter_corpus(name: str, limit: int | None = None, synthetic: bool | None = None) -> Iterator[dict]:
    """Records of a corpus file in file order, at most ``limit`` of them.

    ``synthetic`` (default: only for vietnews) adds :func:`synthetic_fields`.
    """
    path = corpus_path(name)
    if synthetic is None:
        synthetic = name == "vietnews"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        count = 0
        for line in f:
            if limit is not None and count >= limit:
                return
            if not line.strip():
                continue
            record = json.loads(line)
            if synthetic:
                record.update(synthetic_fields(record["id"]))
            count += 1
            yield record


def write_jsonl(records: Iterable[dict], path: Path) -> int:
    """Write records as JSON Lines (atomically: a killed run leaves no half file); returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


# -- the machine --------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """One line naming the machine: CPU model, cores, memory, Python."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 2**20:.0f} GiB"
                break
    except OSError:
        pass
    return (f"{cpu_model()}, {cores} cores{memory}, Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.release()}")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def code_version() -> str:
    """The commit benchmarked, and whether src/ differs from it (others may be editing it)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {commit}" + (" with uncommitted changes in src/" if dirty else ", src/ unmodified")


def print_header(title: str, *notes: str) -> None:
    print(f"== {title}")
    print(f"machine: {machine()}")
    print(f"code: {code_version()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %z')}; load average at start: {load_average()}")
    for note in notes:
        print(f"note: {note}")
    print()


def print_footer() -> None:
    """The load average at the end: a busy machine (other work) makes timings slower than they are."""
    print(f"\nload average at end: {load_average()} (1, 5, 15 min; {os.cpu_count()} cores)")


# -- statistics ---------------------------------------------------------------

def process_tree(pid: int) -> list[int]:
    """A process and its descendants (a gunicorn master and its workers)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return pids


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0-100), linearly interpolated like numpy's default.

    >>> percentile([1, 2, 3, 4], 50), percentile(range(101), 95)
    (2.5, 95.0)
    """
    data = sorted(values)
    if not data:
        return math.nan
    k = (len(data) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """'median (min-max over n runs)' for a list of measurements."""
    if len(values) == 1:
        return fmt.format(values[0]) + " (1 run)"
    return (f"{fmt.format(median(values))} (min {fmt.format(min(values))}, "
            f"max {fmt.format(max(values))}, {len(values)} runs)")


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def engine_at(index_dir, backend: str | None = None, **settings):
    """The storage engine a bench measures, through the same boundary as the CLI and the site:
    ``backend`` (else ``$VNSEARCH_BACKEND``, else the embedded engine) over ``index_dir``.

    On OpenSearch (``$VNSEARCH_OPENSEARCH_URL``) the directory names an index of the cluster
    (:func:`cluster_index`), so each bench index has its own there too."""
    from vnsearch.config import Settings
    from vnsearch.engines import open_engine

    chosen = Settings.from_env(index_dir=os.fspath(index_dir), backend=backend, **settings)
    if chosen.backend == "opensearch" and "opensearch_index" not in settings:
        chosen = Settings.from_env(index_dir=os.fspath(index_dir), backend=backend,
                                   opensearch_index=cluster_index(index_dir), **settings)
    return open_engine(chosen)


def backend_name() -> str:
    """The engine the benches measure: ``$VNSEARCH_BACKEND`` (``--backend`` sets it), else whoosh."""
    return os.environ.get("VNSEARCH_BACKEND") or "whoosh"


def per_backend(path: Path) -> Path:
    """Where a bench keeps what it built for the engine it measures (the embedded one: ``path``)."""
    name = backend_name()
    return path if name == "whoosh" else path.with_name(f"{path.name}-{name}")


def cluster_index(index_dir) -> str:
    """The cluster index a bench directory stands for: ``vnsearch-bench-`` and its path under bench/out."""
    path = Path(index_dir).resolve()
    try:
        path = path.relative_to(OUT.resolve())
    except ValueError:
        pass
    slug = "".join(c if c.isalnum() else "-" for c in str(path).lower()).strip("-")
    return f"vnsearch-bench-{slug}"


def index_files(index_dir, paths, backend: str | None = None, **options):
    """Index files into ``index_dir`` through the storage boundary; the run's report."""
    from vnsearch.readers import read_paths

    return engine_at(index_dir, backend).index(read_paths(paths), **options)
