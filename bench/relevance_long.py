"""Long natural queries: a journalist pastes an article's lead (sapo) to find the story.

The first 20,000 vietnews articles (file order, those with a title and a body) are indexed
by vnsearch and by both Whoosh baselines WITHOUT their summary: the sapo is not in the body
(on average 87% of its words are in the article, all of them in only 15%). 300 of them are
sampled (fixed seed) among those whose title and body no other of the 20,000 shares and whose
summary has at least 5 syllables; the summary, as written, is the query, and the article is
the known item: MRR@10 per system. vnsearch takes the query as it takes any other (today it
keeps the first 32 clauses); the output says how many queries it truncated.

The indexes are built once into ``bench/out/relevance/vietnews-N/`` and reused when present
(``--rebuild`` builds them again; a warning says when vnsearch's indexing code changed since).
vietnews has no dates: :func:`common.synthetic_fields` gives each article one, so vnsearch's
recency boost sees what it would see on a real feed.
"""

from __future__ import annotations

import collections
import hashlib
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index

import common
import vnsearch
from relevance_systems import b1_analyzer, b2_analyzer, systems, whoosh_index
from relevance_titles import syllables_of

from common import engine_at

ARTICLES = 20_000
MIN_QUERY_SYLLABLES = 5
CLAUSE_LIMIT = 32  # vnsearch's MAX_CLAUSES when this was written; only for the output
# Modules whose change can change what an index holds.
_INDEXING_MODULES = ("analysis.py", "articles.py", "documents.py", "engines/whoosh/indexer.py", "engines/whoosh/schema.py",
                     "segmenter.py", "engines/whoosh/workers.py", "engines/whoosh/segment_writer.py")


def vietnews_articles(n: int) -> list[dict]:
    """The first ``n`` vietnews articles that have a title and a body, summary kept (for queries)."""
    out = []
    for record in common.iter_corpus("vietnews"):
        if record.get("title", "").strip() and record.get("body", "").strip():
            out.append(record)
            if len(out) == n:
                break
    return out


def indexing_fingerprint() -> str:
    """A hash of the installed vnsearch's indexing code, to tell when a reused index is stale."""
    package = Path(vnsearch.__file__).parent
    digest = hashlib.sha256()
    for name in _INDEXING_MODULES:
        path = package / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def _marker(directory: Path) -> Path:
    return directory.with_name(directory.name + ".built.json")


def _reusable(directory: Path, rebuild: bool) -> dict | None:
    """The marker written when ``directory`` was completely built, unless rebuilding."""
    marker = _marker(directory)
    if rebuild or not marker.exists() or not directory.exists():
        return None
    return json.loads(marker.read_text())


def _built(directory: Path, seconds: float, **info) -> None:
    _marker(directory).write_text(json.dumps({"seconds": round(seconds), **info}))


def vnsearch_index(articles: list[dict], root: Path, rebuild: bool) -> Path:
    directory = common.per_backend(root / "vnsearch")
    marker = _reusable(directory, rebuild)
    if marker:
        stale = marker.get("fingerprint") != indexing_fingerprint()
        print(f"vnsearch index reused from {directory} (built in {marker['seconds']} s)"
              + ("; WARNING: vnsearch's indexing code changed since; --rebuild to rebuild it" if stale else ""))
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    source = root / "articles-without-summary.jsonl"
    common.write_jsonl(({k: v for k, v in a.items() if k != "summary"} for a in articles), source)
    t0 = time.perf_counter()
    report = common.index_files(directory, [source], rebuild=True)
    seconds = time.perf_counter() - t0
    print(f"vnsearch index ({common.backend_name()}) of {len(articles):,} vietnews articles without summary: {report.summary()} "
          f"in {seconds:.0f} s ({len(articles) / seconds:.0f} articles/s)")
    _built(directory, seconds, fingerprint=indexing_fingerprint(), articles=len(articles))
    return directory


def baseline_index(name: str, analyzer, articles: list[dict], root: Path, rebuild: bool):
    directory = root / f"whoosh-{name}"
    marker = _reusable(directory, rebuild)
    if marker:
        print(f"Whoosh {name} index reused from {directory} (built in {marker['seconds']} s)")
        return index.open_dir(str(directory))
    shutil.rmtree(directory, ignore_errors=True)
    RankingCache(root).clear()
    t0 = time.perf_counter()
    ix = whoosh_index(analyzer, articles, with_summary=False, directory=directory)
    seconds = time.perf_counter() - t0
    print(f"Whoosh {name} index of {len(articles):,} articles (title + body) in {seconds:.0f} s")
    _built(directory, seconds, articles=len(articles))
    return ix


class RankingCache:
    """The baselines' answers to the long queries, kept beside their indexes (and cleared when
    one is rebuilt): Whoosh takes seconds per long OR query in Python, and its answers change
    only with its index. vnsearch is always asked. One JSON line per answer, appended at once,
    so an interrupted run keeps what it computed."""

    def __init__(self, root: Path):
        self.path = root / "whoosh-rankings.jsonl"
        self.answers = {}
        if self.path.exists():
            lines = self.path.read_text(encoding="utf-8").split("\n")
            for line in lines[:-1]:  # the last is empty, or half written by a run killed mid-line
                entry = json.loads(line)
                self.answers[entry["system"], entry["query"]] = (entry["ids"], entry["total"])

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self.answers = {}

    def ask(self, name: str, system, query: str) -> tuple[list[str], int, bool]:
        """The system's top 10 and whether there were matches; and whether it came from the cache."""
        if (name, query) in self.answers:
            ids, total = self.answers[name, query]
            return ids, total, True
        ids, total = system.top10(query, count=False)
        self.answers[name, query] = (ids, total)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"system": name, "query": query, "ids": ids, "total": total},
                               ensure_ascii=False) + "\n")
        return ids, total, False


def sample_queries(articles: list[dict], sample: int, seed: int) -> tuple[list[dict], int]:
    """``sample`` articles whose title and body are their own and whose summary is long enough;
    and how many were eligible. A smaller sample is the start of a larger one (same seed)."""
    titles = collections.Counter(a["title"] for a in articles)
    bodies = collections.Counter(a["body"] for a in articles)
    eligible = [a for a in articles if titles[a["title"]] == 1 and bodies[a["body"]] == 1
                and len(syllables_of(a.get("summary", ""), True)) >= MIN_QUERY_SYLLABLES]
    order = list(eligible)
    random.Random(seed).shuffle(order)
    return order[:sample], len(eligible)


def truncated_by_vnsearch(query: str) -> bool | None:
    """Whether vnsearch's parser cuts the query short; None when it no longer says."""
    from vnsearch.query import parse  # not the search API: only to report, hence looked up softly
    return getattr(parse(query), "truncated", None)


@dataclass
class LongResult:
    """Reciprocal ranks, empty answers and timings per system, and vnsearch's misses."""

    rr: dict[str, list[float]]
    empty: collections.Counter = field(default_factory=collections.Counter)
    millis: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    misses: list[tuple[dict, int]] = field(default_factory=list)  # (article, vnsearch's total)


def evaluate(chosen: list[dict], compared: dict, cache: RankingCache) -> LongResult:
    result = LongResult({name: [] for name in compared})
    for done, a in enumerate(chosen, 1):
        for name, system in compared.items():
            t0 = time.perf_counter()
            if name == "vnsearch":
                ids, total, cached = *system.top10(a["summary"]), False
            else:
                ids, total, cached = cache.ask(name, system, a["summary"])
            if not cached:
                result.millis[name].append((time.perf_counter() - t0) * 1000)
            result.rr[name].append(1.0 / (ids.index(a["id"]) + 1) if a["id"] in ids else 0.0)
            result.empty[name] += total == 0
            if name == "vnsearch" and result.rr[name][-1] < 1.0:
                result.misses.append((a, total))
        if done % 25 == 0:
            print(f"long queries: {done}/{len(chosen)}", file=sys.stderr, flush=True)
    return result


def print_queries(chosen: list[dict], eligible: int, seed: int) -> None:
    """How long the queries are, and how many vnsearch cuts short."""
    lengths = [len(syllables_of(a["summary"], True)) for a in chosen]
    cut = [truncated_by_vnsearch(a["summary"]) for a in chosen]
    print(f"{len(chosen)} queries (seed {seed}) among {eligible:,} articles whose title and body are their own; "
          f"syllables per query: median {common.median(lengths):.0f}, min {min(lengths)}, max {max(lengths)}; "
          f"{sum(x > CLAUSE_LIMIT for x in lengths)} have more than {CLAUSE_LIMIT}; truncated by vnsearch: "
          + (f"{sum(cut)}" if None not in cut else "not reported by this version"))


def print_result(result: LongResult, examples: int) -> None:
    print(f"\n{'system':10} {'MRR@10':>7} {'first':>6} {'top 10':>7} {'no result':>10} {'ms/query (median)':>18}")
    for name, values in result.rr.items():
        millis = result.millis[name]
        timing = f"{common.median(millis):8.1f} ({len(millis)} timed)" if millis else "cached"
        print(f"{name:10} {sum(values) / len(values):7.3f} {sum(v == 1.0 for v in values):6d} "
              f"{sum(v > 0 for v in values):7d} {result.empty[name]:10d} {timing:>18}")
    mrr = {name: sum(v) / len(v) for name, v in result.rr.items()}
    print(f"target: vnsearch above every baseline: "
          f"{common.verdict(all(mrr['vnsearch'] > v for k, v in mrr.items() if k != 'vnsearch'))}")
    print(f"\nvnsearch: {len(result.misses)} not first; up to {examples}:")
    for a, total in result.misses[:examples]:
        print(f"  query: {a['summary'][:200]!r} ({total} matches)")
        print(f"  title: {a['title'][:150]}")


def run_long_queries(n: int, sample: int, seed: int, rebuild: bool, examples: int = 3) -> None:
    articles = vietnews_articles(n)
    root = common.OUT / "relevance" / f"vietnews-{len(articles)}"
    root.mkdir(parents=True, exist_ok=True)
    print(f"== long natural queries: the summary (sapo) as the query, on the first {len(articles):,} vietnews "
          f"articles indexed without it ({common.SYNTHETIC_NOTE})")
    engine = engine_at(str(vnsearch_index(articles, root, rebuild)))
    b1 = baseline_index("b1", b1_analyzer(), articles, root, rebuild)
    b2 = baseline_index("b2", b2_analyzer(), articles, root, rebuild)
    chosen, eligible = sample_queries(articles, sample, seed)
    print_queries(chosen, eligible, seed)
    print_result(evaluate(chosen, systems(engine, b1, b2), RankingCache(root)), examples)
