"""Run the vnsearch CLI and SIGKILL it at a chosen point of indexing (test-only launcher).

    python tests/killpoints.py POINT N -- index FILE --index-dir DIR

No hook exists in vnsearch for this: the launcher monkeypatches vnsearch or Whoosh
so that the N-th time the process reaches POINT, the whole process group (the
indexer and any analysis workers it forked) gets SIGKILL, as a crash, the OOM
killer or a power cut would leave it. With ``KILLPOINTS_WHO=self`` only the process
that reaches the point is killed (the indexer alone, or one worker alone), as the OOM
killer or a supervisor that kills only the main PID would. Points:

analyse              ``document_fields`` for the N-th article, in the indexer process
analyse-worker       ``document_fields`` for the article whose id is N, in a forked worker
add-document         Whoosh ``SegmentWriter.add_document`` for the N-th document
segment-files        commit N: while its segment's files are written (at the id column)
compound             commit N: halfway through assembling the compound ``.seg`` file
hand-over            the indexer hands its N-th article to the workers (they are busy)
await-segments       the indexer waits for the workers' segments the N-th time (2 a commit
                     with 2 workers: they are finishing their segments)
before-toc-rename    commit N: segment complete, new TOC written to a temp file, not renamed
after-toc-rename     commit N: TOC renamed into place; old files not cleaned, lock still held
merge-term           the N-th term a merge writes (after the run's last commit)

Two points do not kill. One fills the disk, to make a commit fail as on a full disk:

fill-disk-at-commit  as commit N starts, write zeros to ``fill-the-disk`` beside the index
                     directory until the file system says ENOSPC, then let the commit run

The other pauses, to let another indexer in at a chosen moment:

pause-after-commit   after commit N has released the write lock, wait (at most
                     KILLPOINTS_PAUSE seconds, default 60) until another writer has
                     committed, then carry on and take the lock again
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import time

from whoosh import index as whoosh_index
from whoosh import writing
from whoosh.filedb import compound, filestore

import vnsearch.engines.whoosh.indexer
import vnsearch.engines.whoosh.segment_merge
import vnsearch.engines.whoosh.store
import vnsearch.engines.whoosh.workers
from vnsearch import cli

PARENT = os.getpid()  # the indexer; forked analysis workers have other pids
INDEX_DIR = "index"  # set from --index-dir at start-up


def die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    if os.environ.get("KILLPOINTS_WHO", "group") == "self":
        os.kill(os.getpid(), signal.SIGKILL)
    os.killpg(os.getpgrp(), signal.SIGKILL)


def on_nth_call(owner, name: str, n: int, when=lambda *a, **k: True) -> None:
    """Replace ``owner.name`` so that its n-th call (among those ``when`` accepts) kills us."""
    original = getattr(owner, name)
    calls = 0

    def wrapper(*args, **kwargs):
        nonlocal calls
        if when(*args, **kwargs):
            calls += 1
            if calls == n:
                die()
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def in_commit(n: int, before=lambda: None, after=lambda: None) -> None:
    """Call ``before()`` as this process's n-th Whoosh commit starts, ``after()`` once it returns."""
    original_commit = writing.SegmentWriter.commit
    commits = 0

    def commit(self, *args, **kwargs):
        nonlocal commits
        commits += 1
        if commits == n:
            before()
        result = original_commit(self, *args, **kwargs)
        if commits == n:
            after()
        return result

    writing.SegmentWriter.commit = commit


def wait_for_another_commit() -> None:
    ix = vnsearch.engines.whoosh.store.open_index(INDEX_DIR)
    mine = ix.latest_generation()
    deadline = time.monotonic() + float(os.environ.get("KILLPOINTS_PAUSE", "60"))
    while ix.latest_generation() == mine and time.monotonic() < deadline:
        time.sleep(0.02)


def fill_the_disk() -> None:
    path = os.path.join(os.path.dirname(os.path.abspath(INDEX_DIR)), "fill-the-disk")
    with open(path, "ab", buffering=0) as f:
        try:
            while f.write(bytes(64 * 1024)):
                pass
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise


def install(point: str, n) -> None:
    if point == "analyse":
        on_nth_call(vnsearch.engines.whoosh.indexer, "document_fields", n)
    elif point == "analyse-worker":
        # Patched before the pool forks, so the workers inherit the patch.
        on_nth_call(vnsearch.engines.whoosh.indexer, "document_fields", 1,
                    when=lambda article: os.getpid() != PARENT and article.id == n)
    elif point == "add-document":
        on_nth_call(writing.SegmentWriter, "add_document", n)
    elif point == "hand-over":
        on_nth_call(vnsearch.engines.whoosh.workers.SegmentWorkers, "add", n)
    elif point == "await-segments":
        on_nth_call(vnsearch.engines.whoosh.workers.SegmentWorkers, "_receive", n)
    elif point == "segment-files":
        in_commit(n, before=lambda: on_nth_call(
            filestore.FileStorage, "create_file", 1, when=lambda self, name, *a, **k: name.endswith(".id.col")))
    elif point == "compound":
        in_commit(n, before=lambda: on_nth_call(compound, "copyfileobj", 8))
    elif point == "before-toc-rename":
        in_commit(n, before=lambda: on_nth_call(
            filestore.FileStorage, "rename_file", 1, when=lambda self, old, new, *a, **k: new.endswith(".toc")))
    elif point == "after-toc-rename":
        in_commit(n, before=lambda: on_nth_call(whoosh_index, "clean_files", 1))
    elif point == "merge-term":
        on_nth_call(vnsearch.engines.whoosh.segment_merge, "_write_term", n)
    elif point == "fill-disk-at-commit":
        in_commit(n, before=fill_the_disk)
    elif point == "pause-after-commit":
        in_commit(n, after=wait_for_another_commit)
    else:
        raise SystemExit(f"unknown kill point {point!r}; see {__file__}")


if __name__ == "__main__":
    point, n, sep, *cli_args = sys.argv[1:]
    if sep != "--":
        raise SystemExit(__doc__)
    os.setpgrp()  # a group of our own: the kill takes the workers too, and nothing else
    INDEX_DIR = cli_args[cli_args.index("--index-dir") + 1] if "--index-dir" in cli_args else "index"
    install(point, n if point == "analyse-worker" else int(n))
    sys.argv = ["vnsearch", *cli_args]
    cli.main()
