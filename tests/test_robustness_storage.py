"""A read-only index or a disk that fills up: a clear message, and the index as it was.

Root ignores file modes, so the faults are real file systems where ``mount`` is
allowed (a read-only bind mount, a tiny tmpfs); a patched Whoosh storage that
raises ENOSPC part-way through a commit stands in where it is not.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh import writing
from whoosh.filedb import filestore

from robustness_support import (
    EVERY_ARTICLE, assert_each_once, cli_env, run_cli, run_killpoint, search_total, stats_count, write_corpus,
)
from vnsearch.cli import main

FIRST = 100  # articles in the index before the fault
MORE = 500  # articles the faulty run tries to add, in one commit


def _mount(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *map(str, args)], capture_output=True, text=True)


def _umount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture(scope="module")
def can_mount(tmp_path_factory) -> None:
    probe = tmp_path_factory.mktemp("mount-probe")
    if shutil.which("mount") is None or _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", probe).returncode != 0:
        pytest.skip("mount is not allowed here (needs root with CAP_SYS_ADMIN); the patched-storage test covers ENOSPC")
    _umount(probe)


@pytest.fixture
def articles(tmp_path):
    return (write_corpus(tmp_path / "first.jsonl", count=FIRST),
            write_corpus(tmp_path / "more.jsonl", count=MORE, start=FIRST))


@pytest.fixture
def read_only_index(can_mount, tmp_path, articles):
    """An index of FIRST articles whose directory is then bind-mounted read-only onto itself."""
    index_dir = tmp_path / "index"
    assert run_cli("index", articles[0], "--index-dir", index_dir, "-q").returncode == 0
    assert _mount("--bind", index_dir, index_dir).returncode == 0
    remount = _mount("-o", "remount,bind,ro", index_dir)
    assert remount.returncode == 0, remount.stderr
    yield index_dir
    _umount(index_dir)


@pytest.fixture
def small_disk(can_mount, tmp_path, articles):
    """An index of FIRST articles on a 16 MiB tmpfs of its own (unmounted afterwards)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    assert _mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", disk).returncode == 0
    index_dir = disk / "index"
    assert run_cli("index", articles[0], "--index-dir", index_dir, "-q").returncode == 0
    yield index_dir
    _umount(disk)


def index_until_the_disk_fills(index_dir, articles):
    """Index MORE articles in one commit; as that commit starts, the file system fills up for real."""
    return run_killpoint("fill-disk-at-commit", 1, "index", articles, "--index-dir", index_dir, "-q",
                         env=cli_env(VNSEARCH_COMMIT_EVERY=5000, VNSEARCH_WORKERS=1))


def assert_index_unchanged(index_dir):
    assert stats_count(index_dir) == FIRST
    assert search_total(index_dir, EVERY_ARTICLE) == FIRST
    assert_each_once(index_dir, range(FIRST), sample=10)


def assert_later_run_completes(index_dir, more):
    later = run_cli("index", more, "--index-dir", index_dir, "-q")
    assert later.returncode == 0, later.stderr
    assert later.stdout.strip() == f"{MORE} added, 0 updated, 0 unchanged, 0 deleted, 0 rejected"
    assert_each_once(index_dir, range(FIRST + MORE))


# -- a read-only index ------------------------------------------------------------

@pytest.mark.slow  # mounts file systems
def test_indexing_into_a_read_only_index_fails_clearly_and_changes_nothing(read_only_index, articles):
    result = run_cli("index", articles[1], "--index-dir", read_only_index, "-q")
    assert result.returncode != 0
    assert f"cannot write the index in {read_only_index}: Read-only file system" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert_index_unchanged(read_only_index)  # and it can still be searched
    _umount(read_only_index)
    assert_later_run_completes(read_only_index, articles[1])


@pytest.mark.slow  # mounts file systems
def test_deleting_from_a_read_only_index_fails_clearly(read_only_index):
    result = run_cli("delete", "rb-0001", "--index-dir", read_only_index)
    assert_index_unchanged(read_only_index)
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr and "Traceback" not in result.stderr, result.stderr[-500:]


# -- a disk that fills during a commit --------------------------------------------

@pytest.mark.slow  # mounts file systems
def test_disk_filling_during_a_commit_keeps_the_index_and_a_later_run_completes(small_disk, articles):
    result = index_until_the_disk_fills(small_disk, articles[1])
    assert result.returncode not in (0, -9), result.stderr
    assert "No space left on device" in result.stderr
    assert_index_unchanged(small_disk)
    (small_disk.parent / "fill-the-disk").unlink()
    assert_later_run_completes(small_disk, articles[1])


@pytest.mark.slow  # mounts file systems
def test_disk_filling_during_a_commit_gives_a_clear_message(small_disk, articles):
    result = index_until_the_disk_fills(small_disk, articles[1])
    assert result.returncode not in (0, -9)
    assert f"cannot write the index in {small_disk}: No space left on device" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr[-800:]


# -- the same without mount: a storage that runs out of space -------------------

def fill_the_disk_at_commit(monkeypatch, nbytes: int) -> None:
    """Once a Whoosh commit starts, its files raise ENOSPC after ``nbytes`` more bytes in all."""
    budget = [float("inf")]
    original = filestore.FileStorage.create_file
    original_commit = writing.SegmentWriter.commit

    class FillingFile:
        def __init__(self, file):
            self._file = file

        def write(self, data):
            budget[0] -= len(data)
            if budget[0] < 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self._file.write(data)

        def __getattr__(self, name):
            return getattr(self._file, name)

    def create_file(self, name, *args, **kwargs):
        f = original(self, name, *args, **kwargs)
        f.file = FillingFile(f.file)
        return f

    def commit(self, *args, **kwargs):
        budget[0] = min(budget[0], nbytes)
        return original_commit(self, *args, **kwargs)

    monkeypatch.setattr(filestore.FileStorage, "create_file", create_file)
    monkeypatch.setattr(writing.SegmentWriter, "commit", commit)


def test_storage_running_out_of_space_during_a_commit_fails_clearly_and_keeps_the_index(tmp_path, articles,
                                                                                        monkeypatch):
    index_dir = tmp_path / "index"
    runner = CliRunner()
    env = {"VNSEARCH_COMMIT_EVERY": "5000", "VNSEARCH_WORKERS": "1"}
    assert runner.invoke(main, ["index", str(articles[0]), "--index-dir", str(index_dir), "-q"]).exit_code == 0
    fill_the_disk_at_commit(monkeypatch, 50_000)
    result = runner.invoke(main, ["index", str(articles[1]), "--index-dir", str(index_dir), "-q"], env=env)
    monkeypatch.undo()
    assert_index_unchanged(index_dir)
    assert_later_run_completes(index_dir, articles[1])
    assert isinstance(result.exception, SystemExit) and result.exit_code != 0, repr(result.exception)
    assert f"cannot write the index in {index_dir}: No space left on device" in result.stderr
