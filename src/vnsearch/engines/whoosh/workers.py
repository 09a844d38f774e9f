"""Segments written in parallel: worker processes that analyse articles and write segments.

- :class:`SegmentWorkers` runs one such writer in each worker process: a worker both
  analyses (pyvi) and writes its own segment, so nothing is serialised through the
  indexer process. At a commit the workers finish their segments and the indexer
  commits them, with its own deletions, in one table of contents (what Whoosh's
  ``MpWriter(multisegment=True)`` does). A killed run leaves the index as of its last
  commit: a worker's segment files are not in any table of contents until then, and
  Whoosh deletes such files at the next commit.

A worker never outlives the indexer, however the indexer dies (``kill -9``, the OOM
killer): see :func:`vnsearch.engines.processes.die_with_parent`. It also closes its copies of the indexer's lock
files at start, so that only the indexer holds the index's locks.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
from typing import Callable

from vnsearch.engines import WorkerError
from vnsearch.engines.processes import die_with_parent
from vnsearch.engines.whoosh.segment_writer import SegmentWriter
from vnsearch.engines.whoosh.store import open_index

# A worker tells the indexer to commit once its segment's postings take about this much memory.
POOL_LIMIT_BYTES = 256 * 1024 * 1024
# Articles sent to a worker at a time: fewer messages, still an even share of the work.
CHUNK = 16
# How often (seconds) a waiting process checks that the other side is still alive. The indexer
# notices a killed worker within this (0.5 s gave about 0.9 s from the kill to the run's end).
POLL = 0.1


class SegmentWorkers:
    """Worker processes that each analyse articles and write them into a segment of their own.

    ``prepare(article)`` turns an article into Whoosh document fields, in the worker.
    Articles go to whichever worker is free, :data:`CHUNK` at a time. :meth:`finish`
    asks every worker to finish its segment and returns the segments; the workers then
    wait, writing nothing, until :meth:`resume` (after the indexer has committed: a
    commit deletes segment files that are in no table of contents).
    """

    def __init__(self, index_dir: str | os.PathLike, count: int, prepare: Callable,
                 pool_limit: int | None = None, lock_fds: tuple[int, ...] = ()):
        """``lock_fds``: the indexer's lock file descriptors, which the workers close at start (a
        forked worker shares each lock's open file description: the lock would outlive the indexer
        as long as a worker lived)."""
        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        self._jobs = context.Queue(maxsize=4 * count)
        self._results = context.Queue()
        self._resume = [context.Queue() for _ in range(count)]
        self._chunk: list = []
        self._replies: list = []
        self.full = False  # a worker asked for a commit: its postings reached pool_limit
        self._processes = [
            context.Process(target=_work, name=f"vnsearch-indexer-{n}", daemon=True,
                            args=(n, str(index_dir), prepare, self._jobs, self._results,
                                  self._resume[n], os.getpid(), pool_limit or POOL_LIMIT_BYTES,
                                  tuple(lock_fds)))
            for n in range(count)
        ]
        for process in self._processes:
            process.start()

    def add(self, article) -> None:
        self._chunk.append(article)
        if len(self._chunk) >= CHUNK:
            self._send(("add", self._chunk))
            self._chunk = []

    def finish(self) -> list:
        """Every worker's finished segment (workers with nothing to write give none)."""
        if self._chunk:
            self._send(("add", self._chunk))
            self._chunk = []
        for _ in self._processes:
            self._send(("finish",))
        segments, pending = [], set(range(len(self._processes)))
        while pending:
            kind, n, payload = self._receive()
            if kind == "segment":
                pending.discard(n)
                if payload is not None:
                    segments.append(payload)
        self.full = False
        return segments

    def resume(self) -> None:
        for resume in self._resume:
            resume.put("go")

    def close(self) -> None:
        """Stop the workers after :meth:`finish` (they are waiting for :meth:`resume`)."""
        for resume in self._resume:
            resume.put("stop")
        for process in self._processes:
            process.join(timeout=30)
        self._discard_queues()

    def terminate(self) -> None:
        """Stop the workers now, whatever they are doing; their unfinished segments are dropped."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join(timeout=10)
        self._discard_queues()

    # -- internals -----------------------------------------------------------

    def _discard_queues(self) -> None:
        for q in (self._jobs, self._results, *self._resume):
            q.cancel_join_thread()  # messages nobody will read must not block our exit
            q.close()

    def _send(self, message) -> None:
        self._check_alive()  # a dead worker's share of the work would be lost: stop at once
        while True:
            self._check_results()
            try:
                self._jobs.put(message, timeout=POLL)
                return
            except queue.Full:
                self._check_alive()

    def _check_results(self) -> None:
        """Act on what workers reported on their own (a full pool, an error); keep replies to
        :meth:`finish` that arrive while its requests are still being sent."""
        while True:
            try:
                kind, n, payload = self._results.get_nowait()
            except queue.Empty:
                return
            if self._handle(kind, n, payload):
                self._replies.append((kind, n, payload))

    def _receive(self) -> tuple:
        if self._replies:
            return self._replies.pop(0)
        while True:
            try:
                kind, n, payload = self._results.get(timeout=POLL)
            except queue.Empty:
                self._check_alive()
                continue
            if self._handle(kind, n, payload):
                return kind, n, payload

    def _handle(self, kind, n, payload) -> bool:
        """True for a reply to :meth:`finish`; raises a worker's error."""
        if kind == "error":
            raise payload
        if kind == "full":
            self.full = True
            return False
        return True

    def _check_alive(self) -> None:
        for process in self._processes:
            if not process.is_alive():
                how = (f"was killed by signal {-process.exitcode}" if process.exitcode and process.exitcode < 0
                       else f"stopped with exit code {process.exitcode}")
                raise WorkerError(f"indexing worker {process.name} {how} (out of memory?); the index is as it "
                                  "was at its last commit: run the same command again to finish")


def _close_inherited(fds: tuple[int, ...]) -> None:
    for fd in fds:
        try:
            os.close(fd)  # our copy only: the indexer's lock stays held through its own descriptor
        except OSError:
            pass


def _work(n, index_dir, prepare, jobs, results, resume, parent, pool_limit, lock_fds=()) -> None:
    """A worker's loop: add chunks of articles to its own segment; finish it when asked."""
    die_with_parent(parent)
    _close_inherited(lock_fds)
    ix = open_index(index_dir)
    writer = None
    error = None
    asked_for_commit = False
    while True:
        try:
            message = jobs.get(timeout=POLL)
        except queue.Empty:
            if os.getppid() != parent:
                os._exit(1)  # the indexer died: nothing will commit what we write, nobody reads our queue
            continue
        if message[0] == "add":
            if error is not None:
                continue  # already reported; the indexer is stopping the run
            try:
                if writer is None:
                    writer = SegmentWriter(ix, worker=True)
                for article in message[1]:
                    writer.add_document(**prepare(article))
            except Exception as exc:  # reported to the indexer, which stops the run and raises it
                error = exc
                _report(results, ("error", n, exc))
                continue
            if not asked_for_commit and writer.pool.approx_bytes() >= pool_limit:
                asked_for_commit = True
                results.put(("full", n, None))
        elif message[0] == "finish":
            if error is not None:
                continue
            try:
                segment = writer.finish_segment() if writer is not None else None
            except Exception as exc:
                _report(results, ("error", n, exc))
                return
            writer, asked_for_commit = None, False
            results.put(("segment", n, segment))
            if _wait_for_resume(resume, parent) == "stop":
                return


def _wait_for_resume(resume, parent) -> str:
    while True:
        try:
            return resume.get(timeout=POLL)
        except queue.Empty:
            if os.getppid() != parent:
                os._exit(1)


def _report(results, message) -> None:
    """Send an error; one that cannot be pickled goes as a RuntimeError with its text."""
    kind, n, exc = message
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    results.put((kind, n, exc))
