"""The site keeps answering while articles are published, and two indexers never corrupt an index.

Real processes throughout: ``vnsearch serve`` (waitress) on a free local port, and
``vnsearch index`` runs started side by side.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from conftest import article
from robustness_support import (
    CORPUS_SIZE, EVERY_ARTICLE, assert_each_once, cli_env, free_port, generation, run_cli,
    shared_corpus, start_cli, start_killpoint, stats_count, stop, wait_for, write_corpus,
)
from engine_support import engine_at, index_paths
from vnsearch.engines.whoosh.indexer import Indexer
from vnsearch.search import SearchRequest

EXTRA = 50  # articles of a second indexer, numbered after the corpus
TWO_INDEXERS = 1200  # articles for the two-indexer tests: four commits of 300


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return shared_corpus(tmp_path_factory)


@pytest.fixture(scope="module")
def articles(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("two-indexers") / "articles.jsonl", count=TWO_INDEXERS)


@pytest.fixture
def extra(tmp_path):
    return write_corpus(tmp_path / "extra.jsonl", count=EXTRA, start=TWO_INDEXERS)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# -- publishing while the site is searched ----------------------------------------

@dataclass
class LiveRun:
    """What a client saw of the site while ``vnsearch index`` published the corpus."""

    served: int = 0
    errors: list = field(default_factory=list)
    totals: list = field(default_factory=list)  # of the fixed query, in order
    final_total: int | None = None  # once the indexer had exited and the site caught up
    indexed: int = 0  # what ``vnsearch stats`` counts at the end
    expected: int = 0

    def __str__(self):
        return (f"{self.served} requests served while indexing, {len(self.errors)} errors, "
                f"{len(set(self.totals))} distinct totals from {self.totals[0] if self.totals else None} "
                f"to {self.totals[-1] if self.totals else None}; final total {self.final_total}, "
                f"expected {self.expected}")


@pytest.fixture(scope="module")
def live_run(tmp_path_factory, corpus) -> LiveRun:
    """Serve an index of 100 articles, publish 2,000 more (a commit every 150, merged at the end), query all along."""
    tmp_path = tmp_path_factory.mktemp("live")
    index_dir = tmp_path / "index"
    assert run_cli("index", write_corpus(tmp_path / "first.jsonl", count=100, start=CORPUS_SIZE),
                   "--index-dir", index_dir, "-q").returncode == 0
    port = free_port()
    server = start_cli("serve", "--index-dir", index_dir, "--host", "127.0.0.1", "--port", port,
                       log=tmp_path / "serve.log")
    api = f"http://127.0.0.1:{port}/api/search?q={quote(EVERY_ARTICLE)}"
    page = f"http://127.0.0.1:{port}/?q={quote(EVERY_ARTICLE)}"
    run = LiveRun(expected=CORPUS_SIZE + 100)

    def query():
        status, body = get(api)
        run.served += 1
        if status != 200:
            run.errors.append((status, body[:200]))
            return
        run.totals.append(json.loads(body)["total"])
        if run.served % 10 == 0:  # the HTML page too, now and then
            status, body = get(page)
            run.served += 1
            if status != 200:
                run.errors.append((status, body[:200]))

    indexer = None
    try:
        wait_for(lambda: server.poll() is not None or _answers(api), 30, "the site to start", interval=0.1)
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
        indexer = start_cli("index", corpus, "--index-dir", index_dir, "-q",
                            env=cli_env(VNSEARCH_COMMIT_EVERY=150))
        while indexer.poll() is None:
            query()
            time.sleep(0.02)  # a busy client, not a CPU hog: the indexer shares the two cores
        _, err = indexer.communicate()
        assert indexer.returncode == 0, err
        settle = time.monotonic() + 1.5  # the last merge's commit, then a request to each worker
        while time.monotonic() < settle:
            query()
        run.final_total = run.totals[-1] if run.totals else None
    finally:
        if indexer is not None:
            stop(indexer)
        stop(server)
    run.indexed = stats_count(index_dir)
    print(f"\npublish while searching: {run}")
    return run


@pytest.mark.slow
def test_site_answers_every_request_while_an_indexer_publishes(live_run):
    assert live_run.served > 50, str(live_run)
    assert not live_run.errors, f"{live_run}: {live_run.errors[:5]}"


@pytest.mark.slow
def test_total_for_a_fixed_query_never_decreases_while_publishing(live_run):
    totals = live_run.totals
    decreases = [(a, b) for a, b in zip(totals, totals[1:]) if b < a]
    assert not decreases, f"{live_run}; the total went down: {decreases[:5]}"
    assert len(set(totals)) > 3, f"{live_run}: the searches did not see the commits as they came"


@pytest.mark.slow
def test_site_total_after_publishing_equals_the_articles_indexed(live_run):
    assert live_run.indexed == live_run.expected, str(live_run)
    assert live_run.final_total == live_run.expected, str(live_run)


def _answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False


# -- two indexers at once -------------------------------------------------------

def start_first_indexer(index_dir, articles, **env):
    """The first indexer, returned once it has committed its first 300 articles (it holds the lock)."""
    first = start_cli("index", articles, "--index-dir", index_dir, "-q",
                      env=cli_env(VNSEARCH_COMMIT_EVERY=300, **env))
    wait_for(lambda: generation(index_dir) >= 1 or first.poll() is not None, 60, "the first commit")
    return first


def run_second_indexer(first, index_dir, articles, lock_timeout: float, first_still_running: bool = False):
    """Run a second indexer on ``articles`` while ``first`` runs, then let the first finish.
    Returns the first's stdout and stderr and the second's result."""
    try:
        second = run_cli("index", articles, "--index-dir", index_dir, "-q",
                         env=cli_env(VNSEARCH_LOCK_TIMEOUT=lock_timeout))
        if first_still_running:
            assert first.poll() is None, "the first indexer finished before the second one started"
        out, err = first.communicate(timeout=120)
    finally:
        stop(first)
    return out, err, second


@pytest.mark.slow
def test_second_indexer_waits_then_fails_clearly_and_the_first_finishes(tmp_path, articles, extra):
    index_dir = tmp_path / "index"
    first = start_first_indexer(index_dir, articles)
    out, err, second = run_second_indexer(first, index_dir, extra, lock_timeout=0.5, first_still_running=True)
    assert second.returncode != 0
    assert f"another indexer is writing to {index_dir}" in second.stderr
    assert "VNSEARCH_LOCK_TIMEOUT" in second.stderr and "Traceback" not in second.stderr, second.stderr
    assert first.returncode == 0, err
    assert out.strip() == f"{TWO_INDEXERS} added, 0 updated, 0 unchanged, 0 deleted, 0 rejected"
    assert stats_count(index_dir) == TWO_INDEXERS
    assert_each_once(index_dir, range(TWO_INDEXERS))
    # Run again once the first is done, the second indexer adds its articles.
    again = run_cli("index", extra, "--index-dir", index_dir, "-q")
    assert again.returncode == 0, again.stderr
    assert stats_count(index_dir) == TWO_INDEXERS + EXTRA
    assert_each_once(index_dir, range(TWO_INDEXERS + EXTRA))


@pytest.mark.slow
def test_patient_second_indexer_proceeds_after_the_first_and_nothing_is_lost(tmp_path, articles, extra):
    index_dir = tmp_path / "index"
    first = start_first_indexer(index_dir, articles)
    out, err, second = run_second_indexer(first, index_dir, extra, lock_timeout=120)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == f"{EXTRA} added, 0 updated, 0 unchanged, 0 deleted, 0 rejected"
    assert first.returncode == 0, err
    assert stats_count(index_dir) == TWO_INDEXERS + EXTRA
    assert_each_once(index_dir, range(TWO_INDEXERS + EXTRA))


def start_pausing_indexer(index_dir, articles, pause: float = 3.0):
    """An indexer that, after its first commit, holds the window between two commits open for
    ``pause`` seconds (waiting for another writer to commit, which the run lock must prevent)."""
    first = start_killpoint("pause-after-commit", 1, "index", articles, "--index-dir", index_dir, "-q",
                            env=cli_env(VNSEARCH_COMMIT_EVERY=300, VNSEARCH_WORKERS=1, KILLPOINTS_PAUSE=pause))
    wait_for(lambda: generation(index_dir) >= 1 or first.poll() is not None, 60, "the first commit")
    return first


@pytest.mark.slow
def test_a_second_indexer_cannot_slip_in_between_the_first_ones_commits(tmp_path, articles):
    index_dir = tmp_path / "index"
    first = start_pausing_indexer(index_dir, articles)
    _, err, second = run_second_indexer(first, index_dir, articles, lock_timeout=120)
    assert first.returncode == 0, err
    # The run lock kept the second out for the whole first run: it found everything done.
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == f"0 added, 0 updated, {TWO_INDEXERS} unchanged, 0 deleted, 0 rejected"
    assert stats_count(index_dir) == TWO_INDEXERS
    assert_each_once(index_dir, range(TWO_INDEXERS))


@pytest.mark.slow
def test_a_second_indexer_arriving_between_commits_fails_clearly_and_the_first_finishes(tmp_path, articles):
    index_dir = tmp_path / "index"
    first = start_pausing_indexer(index_dir, articles)
    _, err, second = run_second_indexer(first, index_dir, articles, lock_timeout=0.5)
    assert second.returncode == 1
    assert "another indexer is writing to" in second.stderr and "Traceback" not in second.stderr
    assert first.returncode == 0, err
    assert stats_count(index_dir) == TWO_INDEXERS  # nothing lost, nothing twice
    assert_each_once(index_dir, range(TWO_INDEXERS))


# -- a long-running searcher follows deletions and updates ------------------------

def test_running_search_engine_stops_showing_deleted_and_replaced_articles(tmp_path, write_jsonl, monkeypatch):
    index_dir = tmp_path / "index"
    index_paths(index_dir, [write_jsonl([article(f"a{i}", title=f"Tin số {i} xqold") for i in range(10)])])
    engine = engine_at(str(index_dir))
    assert engine.search(SearchRequest(query="xqold")).total == 10
    index_paths(index_dir, [write_jsonl([article("a1", title="Tin số 1 xqnew")], name="update.jsonl")])
    Indexer(index_dir).delete(["a2"])
    found = sorted(h.id for h in engine.search(SearchRequest(query="xqold")).hits)
    assert found == ["a0", "a3", "a4", "a5", "a6", "a7", "a8", "a9"]
    assert engine.article("a2") is None
    assert engine.stats()["articles"] == 9
