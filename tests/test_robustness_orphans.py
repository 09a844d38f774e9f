"""A killed indexer leaves no process behind: SIGKILL to the indexer ALONE, or to one worker alone.

The crash tests (test_robustness_crash.py) kill the whole process group, which
takes the workers with it. The OOM killer, an operator's ``kill -9 PID`` or a
supervisor that stops only the main PID kill one process: the indexer's workers
must then die within about a second, release the index's locks, and the next
``vnsearch index`` must finish with every article exactly once.

Each test indexes 1,500 generated articles with two workers and a commit every 300,
kills one process of the run (through tests/killpoints.py with ``KILLPOINTS_WHO=self``,
or from outside by the clock), then looks in /proc for any live process of the run's
process group (zombies are dead: they hold no file, lock or memory; whether they are
reaped depends on the machine's init).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robustness_support import (
    EVERY_ARTICLE, KILLPOINTS, VNSEARCH, assert_each_once, cli_env, generation, run_cli, search_total,
    stats_count, wait_for, write_corpus,
)

pytestmark = pytest.mark.slow

ARTICLES = 1500
GRACE = 2.0  # seconds the run's other processes have to die


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("orphans") / "articles.jsonl", count=ARTICLES)


def run_env(**extra) -> dict:
    return cli_env(VNSEARCH_WORKERS=2, VNSEARCH_COMMIT_EVERY=300, **extra)


def live_processes_of(group: int) -> list[str]:
    """Processes (not zombies) whose process group or session is ``group``, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended while we looked
        # pid (comm) state ppid pgrp session ...: comm may hold spaces, so split after its ')'
        state, ppid, pgrp, session = stat[stat.rindex(")") + 2:].split()[:4]
        if state != "Z" and group in (int(pgrp), int(session)):
            found.append(f"pid {entry.name} (state {state}, parent {ppid}): {cmdline.strip()}")
    return found


def lock_files_held_by(pid: int) -> list[str]:
    """The index lock files (the run lock, Whoosh's WRITELOCK) that process ``pid`` has open."""
    fd_dir = Path(f"/proc/{pid}/fd")
    held = []
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.endswith(("vnsearch-indexer.lock", "_WRITELOCK")):
            held.append(target)
    return held


def assert_nothing_left(group: int) -> None:
    """Within GRACE seconds no process of the run is alive; survivors are killed (so that a failure
    leaves nothing either) and named."""
    deadline = time.monotonic() + GRACE
    while (left := live_processes_of(group)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for line in left:
        try:
            os.kill(int(line.split()[1]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"{GRACE:g} s after the kill, processes of the run are still alive:\n" + "\n".join(left)


def start_killpoint(tmp_path, point: str, n, corpus, index_dir) -> subprocess.Popen:
    """``vnsearch index`` under tests/killpoints.py in a process group of its own; its output goes to
    a file, not a pipe (a surviving worker would hold a pipe open)."""
    log = (tmp_path / "killed.log").open("w")
    with log:
        return subprocess.Popen([sys.executable, str(KILLPOINTS), point, str(n), "--", "index", str(corpus),
                                 "--index-dir", str(index_dir), "-q"],
                                stdout=log, stderr=subprocess.STDOUT, text=True,
                                env=run_env(KILLPOINTS_WHO="self"))


def assert_next_run_completes(index_dir, corpus) -> None:
    rerun = run_cli("index", corpus, "--index-dir", index_dir, "-q", env=run_env())
    assert rerun.returncode == 0, rerun.stderr
    assert stats_count(index_dir) == ARTICLES
    assert search_total(index_dir, EVERY_ARTICLE) == ARTICLES
    assert_each_once(index_dir, range(ARTICLES))


CHILD_OF_A_DYING_PARENT = """
import os, sys, time
from vnsearch.engines import processes
if sys.argv[2] == "watch-thread":  # as on a system without PR_SET_PDEATHSIG
    processes._ask_for_signal_on_parent_death = lambda signum: False
parent = os.getpid()
if os.fork() == 0:
    processes.die_with_parent(parent)
    with open(sys.argv[1] + ".part", "w") as f:
        f.write(str(os.getpid()))
    os.rename(sys.argv[1] + ".part", sys.argv[1])
    time.sleep(60)
    os._exit(0)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
os._exit(0)  # the parent ends; its child must follow
"""


def process_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2]


@pytest.mark.parametrize("how", ["pdeathsig", "watch-thread"])
def test_a_worker_process_ends_within_a_second_of_its_parent(tmp_path, how):
    pid_file = tmp_path / "child.pid"
    subprocess.run([sys.executable, "-c", CHILD_OF_A_DYING_PARENT, str(pid_file), how], check=True, timeout=30)
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 1.5
    while process_state(child) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.02)
    state = process_state(child)
    if state not in (None, "Z"):
        os.kill(child, signal.SIGKILL)
    assert state in (None, "Z"), f"the child outlived its parent by 1.5 s (state {state})"


# (point, n): where the indexer kills itself, alone, with its two workers at work.
INDEXER_KILL_POINTS = [
    pytest.param("hand-over", 700, id="handing-article-700-to-the-workers"),
    pytest.param("await-segments", 3, id="waiting-for-the-workers-segments-of-commit-2"),
    pytest.param("before-toc-rename", 3, id="writing-the-table-of-contents-of-commit-3"),
]


@pytest.mark.parametrize("point,n", INDEXER_KILL_POINTS)
def test_indexer_killed_alone_leaves_no_worker_and_the_next_run_completes(tmp_path, corpus, point, n):
    index_dir = tmp_path / "index"
    indexer = start_killpoint(tmp_path, point, n, corpus, index_dir)
    assert indexer.wait(timeout=120) == -signal.SIGKILL, (tmp_path / "killed.log").read_text()
    assert_nothing_left(indexer.pid)
    assert_next_run_completes(index_dir, corpus)


def start_indexer_past_first_commit(tmp_path, corpus, index_dir) -> subprocess.Popen:
    """A real ``vnsearch index`` in a session of its own (output in killed.log), once it has committed."""
    with (tmp_path / "killed.log").open("w") as log:
        indexer = subprocess.Popen([str(VNSEARCH), "index", str(corpus), "--index-dir", str(index_dir), "-q"],
                                   stdout=log, stderr=subprocess.STDOUT, env=run_env(), start_new_session=True)
    try:
        wait_for(lambda: generation(index_dir) >= 1 or indexer.poll() is not None, 60, "the first commit")
    except BaseException:
        indexer.kill()
        indexer.wait(timeout=60)
        raise
    return indexer


def test_indexer_killed_alone_by_the_clock_leaves_no_worker(tmp_path, corpus):
    """No patching: a real ``vnsearch index`` gets SIGKILL from outside, a moment after its first commit."""
    index_dir = tmp_path / "index"
    indexer = start_indexer_past_first_commit(tmp_path, corpus, index_dir)
    try:
        time.sleep(0.5)  # the workers are analysing the next 300 articles
        assert indexer.poll() is None, "the indexer finished before it could be killed"
        os.kill(indexer.pid, signal.SIGKILL)  # the indexer alone, not its group
    finally:
        indexer.wait(timeout=60)
    assert_nothing_left(indexer.pid)
    assert_next_run_completes(index_dir, corpus)


def test_one_worker_killed_stops_the_run_and_the_next_run_completes(tmp_path, corpus):
    """A worker kills itself, alone, analysing article 700: the indexer stops its other worker and exits."""
    index_dir = tmp_path / "index"
    indexer = start_killpoint(tmp_path, "analyse-worker", "rb-0700", corpus, index_dir)
    returncode = indexer.wait(timeout=120)
    output = (tmp_path / "killed.log").read_text()
    assert returncode == 1, output
    assert "indexing worker vnsearch-indexer-" in output and "was killed by signal 9" in output, output
    assert_nothing_left(indexer.pid)
    assert_next_run_completes(index_dir, corpus)


def test_one_worker_killed_by_the_clock_ends_the_run_within_seconds(tmp_path, corpus):
    """SIGKILL from outside to one worker of a real ``vnsearch index``: within GRACE seconds the indexer
    and its other worker are gone, and the index is usable."""
    index_dir = tmp_path / "index"
    indexer = start_indexer_past_first_commit(tmp_path, corpus, index_dir)
    try:
        workers = [line for line in live_processes_of(indexer.pid) if f"parent {indexer.pid})" in line]
        assert indexer.poll() is None and len(workers) == 2, workers
        for worker in workers:  # only the indexer holds the index's locks
            assert not lock_files_held_by(int(worker.split()[1])), worker
        os.kill(int(workers[0].split()[1]), signal.SIGKILL)
        assert_nothing_left(indexer.pid)
    finally:
        if indexer.poll() is None:
            indexer.kill()
        indexer.wait(timeout=60)
    assert indexer.returncode == 1, (tmp_path / "killed.log").read_text()
    assert_next_run_completes(index_dir, corpus)
