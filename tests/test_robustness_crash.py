"""An indexer killed with SIGKILL at any point loses nothing it committed, and a rerun finishes the job.

Each test indexes the 2,000 synthetic articles with a commit every 300, kills the
indexer (with its analysis workers) at one point of the run through
tests/killpoints.py, then checks that the index opens and searches, holds exactly
the articles of its last commit once each, and that a plain rerun ends with all
2,000 exactly once. Killing the whole group takes the workers too; test_robustness_orphans.py
kills the indexer alone, or one worker alone, and checks that no process of the run is left.
"""

from __future__ import annotations

import signal
import time

import pytest

from robustness_support import (
    CORPUS_SIZE, EVERY_ARTICLE, assert_each_once, cli_env, generation, run_cli, run_killpoint,
    search_total, shared_corpus, start_cli, stats_count, stop, stored_ids, wait_for, write_corpus,
)
from vnsearch import sample_articles_path
from vnsearch.engines.whoosh.store import open_index

pytestmark = pytest.mark.slow

COMMIT_EVERY = 300


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return shared_corpus(tmp_path_factory)


def assert_index_as_of_last_commit(index_dir, committed: int):
    """The killed run's index opens, searches and holds articles 0 .. committed-1 once each."""
    assert stats_count(index_dir) == committed
    assert search_total(index_dir, EVERY_ARTICLE) == committed
    assert_each_once(index_dir, range(committed), sample=20)


def assert_rerun_completes(index_dir, corpus, committed: int):
    rerun = run_cli("index", corpus, "--index-dir", index_dir, "-q")
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == (f"{CORPUS_SIZE - committed} added, 0 updated, {committed} unchanged, "
                                    "0 deleted, 0 rejected")
    assert stats_count(index_dir) == CORPUS_SIZE
    assert search_total(index_dir, EVERY_ARTICLE) == CORPUS_SIZE
    assert_each_once(index_dir, range(CORPUS_SIZE))


# (point, n, settings, articles committed when the kill lands). Batches of 500 make the
# worker kill deterministic: article 1100's batch is analysed after 1000 were added.
KILL_POINTS = [
    pytest.param("analyse", 1000, {}, 900, id="analysing-article-1000-in-the-indexer"),
    pytest.param("analyse-worker", "rb-1100", {"WORKERS": 2, "BATCH_SIZE": 500}, 900,
                 id="analysing-article-1100-in-a-worker"),
    pytest.param("add-document", 750, {}, 600, id="adding-document-750-to-the-segment"),
    pytest.param("segment-files", 3, {}, 600, id="writing-the-segment-files-of-commit-3"),
    pytest.param("compound", 4, {}, 900, id="assembling-the-compound-segment-of-commit-4"),
    pytest.param("before-toc-rename", 5, {}, 1200, id="between-segment-and-toc-rename-of-commit-5"),
    pytest.param("after-toc-rename", 2, {}, 600, id="after-toc-rename-before-cleanup-of-commit-2"),
]


@pytest.mark.parametrize("point,n,settings,committed", KILL_POINTS)
def test_killed_indexer_leaves_its_last_commit_and_a_rerun_completes(tmp_path, corpus, point, n, settings, committed):
    index_dir = tmp_path / "index"
    # One process unless asked: forked workers would analyse far ahead of the kill, for nothing.
    env = cli_env(**{f"VNSEARCH_{k}": v for k, v in {"COMMIT_EVERY": COMMIT_EVERY, "WORKERS": 1, **settings}.items()})
    killed = run_killpoint(point, n, "index", corpus, "--index-dir", index_dir, "-q", env=env)
    assert killed.returncode == -signal.SIGKILL, f"not killed at {point}: {killed.returncode}\n{killed.stderr}"
    assert_index_as_of_last_commit(index_dir, committed)
    assert_rerun_completes(index_dir, corpus, committed)


def test_indexer_killed_while_merging_keeps_every_article_and_the_next_run_merges(tmp_path, corpus):
    """Commits of 200 articles leave ten segments of one tier, merged after the run's last commit;
    a kill halfway through the merge loses nothing, and a rerun that changes nothing merges."""
    index_dir = tmp_path / "index"
    env = cli_env(VNSEARCH_COMMIT_EVERY=200, VNSEARCH_WORKERS=1)
    killed = run_killpoint("merge-term", 5000, "index", corpus, "--index-dir", index_dir, "-q", env=env)
    assert killed.returncode == -signal.SIGKILL, f"not killed while merging: {killed.returncode}\n{killed.stderr}"
    assert_index_as_of_last_commit(index_dir, CORPUS_SIZE)
    assert segment_count(index_dir) == 10
    rerun = run_cli("index", corpus, "--index-dir", index_dir, "-q", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == f"0 added, 0 updated, {CORPUS_SIZE} unchanged, 0 deleted, 0 rejected"
    assert segment_count(index_dir) == 1
    assert_index_as_of_last_commit(index_dir, CORPUS_SIZE)


def segment_count(index_dir) -> int:
    return len(open_index(index_dir)._segments())


def test_indexer_killed_at_a_random_moment_loses_nothing(tmp_path, corpus):
    """No patching at all: a real ``vnsearch index`` killed by the clock after its second commit."""
    index_dir = tmp_path / "index"
    indexer = start_cli("index", corpus, "--index-dir", index_dir, "-q",
                        env=cli_env(VNSEARCH_COMMIT_EVERY=COMMIT_EVERY))
    try:
        wait_for(lambda: generation(index_dir) >= 2 or indexer.poll() is not None, 60, "the second commit")
        time.sleep(0.35)  # somewhere inside the next batch or commit
        assert indexer.poll() is None, "the indexer finished before it could be killed"
    finally:
        stop(indexer)
    assert indexer.returncode == -signal.SIGKILL
    committed = stats_count(index_dir)
    assert 2 * COMMIT_EVERY <= committed < CORPUS_SIZE and committed % COMMIT_EVERY == 0, committed
    assert_index_as_of_last_commit(index_dir, committed)
    assert_rerun_completes(index_dir, corpus, committed)


def test_rebuild_killed_before_its_first_commit_keeps_the_old_index(tmp_path):
    index_dir = tmp_path / "index"
    assert run_cli("index", sample_articles_path(), "--index-dir", index_dir, "-q").returncode == 0
    old = sorted(stored_ids(index_dir))
    articles = write_corpus(tmp_path / "new.jsonl", count=2 * COMMIT_EVERY)
    killed = run_killpoint("before-toc-rename", 1, "index", articles, "--index-dir", index_dir, "--rebuild", "-q",
                           env=cli_env(VNSEARCH_COMMIT_EVERY=COMMIT_EVERY, VNSEARCH_WORKERS=1))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert sorted(stored_ids(index_dir)) == old
    assert stats_count(index_dir) == len(old)
    assert search_total(index_dir, "Hoà Bình") > 0
    rebuilt = run_cli("index", articles, "--index-dir", index_dir, "--rebuild", "-q")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert stats_count(index_dir) == 2 * COMMIT_EVERY
    assert_each_once(index_dir, range(2 * COMMIT_EVERY))  # and the sample articles are gone


def test_index_killed_before_its_first_commit_still_opens_and_searches(tmp_path, corpus):
    index_dir = tmp_path / "index"
    killed = run_killpoint("analyse", 100, "index", corpus, "--index-dir", index_dir, "-q",
                           env=cli_env(VNSEARCH_WORKERS=1))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    stats = run_cli("stats", "--json", "--index-dir", index_dir)
    assert stats.returncode == 0 and "Traceback" not in stats.stderr, stats.stderr[-500:]
    assert_index_as_of_last_commit(index_dir, 0)
