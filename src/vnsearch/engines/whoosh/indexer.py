"""Add, update and delete articles in the Whoosh index, with commit semantics.

- Incremental: an article whose content hash is already indexed is skipped before
  any analysis; a changed one replaces the old version; an id is never indexed twice.
- Durable: work is committed every ``commit_every`` articles (and every
  ``commit_seconds``); Whoosh writes a commit's table of contents last and
  atomically, so a killed indexer leaves the index as of its last commit.
  Commits do not merge segments; after the run's last commit, segments are merged by
  size tiers in a commit of their own, a block at a time
  (:func:`~vnsearch.engines.whoosh.segment_writer.segments_to_merge`, :mod:`.segment_merge`),
  so a publish is searchable before any merge and never rewrites the archive.
- Exclusive: one indexing run at a time, for the whole run (Whoosh's own lock is
  released at every commit, and another run slipping in between two commits would
  invalidate what this one knows is indexed); a second run waits ``lock_timeout``
  seconds and then fails with :class:`IndexBusyError`.
- Parallel: for large batches, worker processes analyse articles (pyvi) and write
  segments of their own, committed together (:mod:`.workers`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections import ChainMap
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

from whoosh.index import LockError
from whoosh.reading import TermNotFound
from whoosh.writing import CLEAR, NO_MERGE, IndexingError

from vnsearch.articles import Article, Rejection, Record
from vnsearch.config import Settings
from vnsearch.documents import IndexReport, MergeReport, Versions, content_hash, document_fields
from vnsearch.engines import IndexBusyError
from vnsearch.engines.whoosh.segment_writer import SegmentWriter, merging, segments_to_merge, with_segments
from vnsearch.engines.whoosh.segment_merge import MergeStopped
from vnsearch.engines.whoosh.store import RUN_LOCK_NAME, WAITING_NAME, open_index, remove_temp_tocs
from vnsearch.engines.whoosh.workers import SegmentWorkers

log = logging.getLogger(__name__)
# Below this many articles to analyse, worker start-up costs more than it saves.
PARALLEL_THRESHOLD = 200


class Indexer:
    """Writes articles into one index directory; see the module docstring for guarantees."""

    def __init__(self, index_dir: str | os.PathLike, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.index_dir = Path(index_dir)
        self._current_writer = None
        self._workers: SegmentWorkers | None = None
        self._lock_fd: int | None = None  # the run lock's descriptor while a run holds it
        self._clear_at_next_commit = False  # a rebuild empties the index at its first commit

    # -- public operations ---------------------------------------------------

    def index(self, records: Iterable[Record], *, rebuild: bool = False,
              on_reject: Callable[[Rejection], None] | None = None,
              on_progress: Callable[[int], None] | None = None,
              on_warning: Callable[[str], None] | None = None) -> IndexReport:
        """Index every Article of ``records``; Rejections are counted and passed to ``on_reject``,
        warnings (an id seen twice) to ``on_warning``."""
        report = IndexReport()
        with self._run_lock():
            ix = self._open(rebuild)
            self._current_writer = writer = self._writer(ix)
            try:
                self._run(ix, writer, self._existing_hashes(writer), records, report, on_reject,
                          on_progress, on_warning)
            except BaseException:
                self._abandon_writer()
                raise
        return report

    def delete(self, ids: Iterable[str]) -> IndexReport:
        """Withdraw articles by id; ids not in the index are listed in ``report.missing`` (a
        mistyped withdrawal must not look like success). Nothing found: nothing is committed."""
        report = IndexReport()
        ix = open_index(self.index_dir)
        with self._run_lock():
            self._current_writer = writer = self._writer(ix)
            try:
                for article_id in dict.fromkeys(ids):  # an id given twice is deleted once
                    deleted = writer.delete_by_term("id", article_id)
                    report.deleted += deleted
                    if not deleted:
                        report.missing.append(article_id)
                if report.deleted:
                    self._commit(writer)
                    report.commits = 1
                else:
                    writer.cancel()
                self._current_writer = None
            except BaseException:
                self._abandon_writer()
                raise
        return report

    def optimize(self) -> MergeReport:
        """Merge every segment into one, withdrawn articles dropped, in a commit of its own;
        give way to an indexer that waits (see :meth:`_merge`). For a quiet hour: a run merges
        only what its own size warrants, so an archive grown by publishes keeps its big tiers."""
        open_index(self.index_dir)  # no index: say so before taking any lock
        with self._run_lock():
            ix = open_index(self.index_dir)
            segments = ix._segments()
            report = MergeReport(len(segments), len(segments))
            if len(segments) > 1 or any(segment.has_deletions() for segment in segments):
                try:
                    report.gave_way = not self._merge_segments(ix, segments)
                except BaseException:
                    self._abandon_writer()
                    raise
                report.segments_after = len(ix._segments())  # read from the newest table of contents
        return report

    # -- internals -----------------------------------------------------------

    @contextmanager
    def _run_lock(self):
        """Hold the index directory's run lock (flock) for the whole run; wait at most ``lock_timeout``."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.index_dir / RUN_LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._wait_for_lock(fd)
            remove_temp_tocs(self.index_dir)
            self._lock_fd = fd
            yield
        finally:
            self._lock_fd = None
            os.close(fd)  # closing releases the lock; so does the process dying

    def _wait_for_lock(self, fd: int) -> None:
        """Take the run lock on ``fd`` within ``lock_timeout``. While waiting, hold the waiting
        file's lock (shared): a run that is merging gives way to us (see :meth:`_merge`)."""
        deadline = time.monotonic() + self.settings.lock_timeout
        waiting = None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if waiting is None:
                        waiting = os.open(self.index_dir / WAITING_NAME, os.O_RDWR | os.O_CREAT, 0o644)
                        fcntl.flock(waiting, fcntl.LOCK_SH)
                    if time.monotonic() >= deadline:
                        raise IndexBusyError(
                            f"another indexer is writing to {self.index_dir}; waited "
                            f"{self.settings.lock_timeout:g} s for it to finish "
                            "(set VNSEARCH_LOCK_TIMEOUT to wait longer)") from None
                    time.sleep(0.1)
        finally:
            if waiting is not None:
                os.close(waiting)  # before the run: our own merge must not see us waiting

    def _abandon_writer(self) -> None:
        """Stop the workers and cancel the open writer, if any, without hiding the error that
        brought us here."""
        workers, self._workers = self._workers, None
        if workers is not None:
            workers.terminate()
        writer, self._current_writer = self._current_writer, None
        if writer is None or getattr(writer, "is_closed", False):
            return
        try:
            writer.cancel()
        except (IndexingError, OSError) as exc:  # the first error is the one to report
            log.debug("cancelling the writer failed too: %s", exc)

    def _open(self, rebuild: bool):
        ix = open_index(self.index_dir, create=True, replace_other_schema=rebuild)
        # A rebuild empties the index inside its first commit, so a rebuild that is
        # killed before then leaves the old index as it was.
        self._clear_at_next_commit = rebuild
        return ix

    def _writer(self, ix):
        try:
            return SegmentWriter(ix, timeout=self.settings.lock_timeout, delay=0.1)
        except LockError:
            raise IndexBusyError(
                f"another indexer is writing to {self.index_dir}; waited {self.settings.lock_timeout:g} s "
                "for it to finish (set VNSEARCH_LOCK_TIMEOUT to wait longer)"
            ) from None

    def _commit(self, writer, final: bool = True, segments=(), written: int = 0):
        """Commit, with the workers' finished ``segments``, merging none (the articles are
        searchable at once); after a run's last commit, merge what :func:`segments_to_merge`
        chooses for a run that wrote ``written`` articles, in a commit of its own."""
        policy = CLEAR if self._clear_at_next_commit else NO_MERGE
        writer.commit(mergetype=with_segments(policy, segments))
        self._clear_at_next_commit = False
        if final:
            self._merge(written)

    def _merge(self, written: int) -> None:
        """Merge in a commit of its own; give way to another indexer that waits for the run lock
        (it holds the waiting file's lock, shared): a publish never waits on a merge, and the
        next run merges again."""
        ix = open_index(self.index_dir)
        chosen = segments_to_merge(ix._segments(), written)
        if chosen:
            self._merge_segments(ix, chosen)

    def _merge_segments(self, ix, chosen: list) -> bool:
        """Merge ``chosen`` into one segment; False when it gave way to a waiting indexer."""
        waiting = os.open(self.index_dir / WAITING_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._current_writer = writer = self._writer(ix)
            writer.merge_stop = lambda: _someone_waits(waiting)
            try:
                writer.commit(mergetype=merging(chosen))
                done = True
            except MergeStopped:  # Whoosh's commit released its lock on the way out
                log.info("merging %d segments gave way to another indexer", len(chosen))
                done = False
            self._current_writer = None
            return done
        finally:
            os.close(waiting)

    def _lock_fds(self, writer) -> tuple[int, ...]:
        """The descriptors of the locks this run holds: the run lock, Whoosh's write lock."""
        whoosh_lock = getattr(getattr(writer, "writelock", None), "fd", None)  # Whoosh's FcntlLock
        return tuple(fd for fd in (self._lock_fd, whoosh_lock) if fd is not None)

    @staticmethod
    def _existing_hashes(writer) -> Mapping[str, str]:
        """The content hash of each id the index held when the run began, looked up one id
        at a time: a publish of one article reads one posting, not every id of the archive."""
        reader = writer.reader()
        if reader.doc_count() == 0:
            return {}
        return _IndexedHashes(reader)

    def _run(self, ix, writer, existing, records, report, on_reject, on_progress, on_warning):
        """Stream records: skip unchanged ones, index the rest in batches, commit as we go."""
        run = _Run(self, ix, writer, existing, report)
        versions = Versions(report, on_warning)
        for processed, record in enumerate(records, start=1):
            if on_progress:
                on_progress(processed)
            if isinstance(record, Rejection):
                report.reject(record, on_reject)
                continue
            wanted, first_time = versions.admit(record)
            if wanted:
                run.offer(record, first_time)
        run.finish()
        self._current_writer = None


def _someone_waits(waiting_fd: int) -> bool:
    """Whether an indexer waits for the run lock: it holds a shared lock on the waiting file."""
    try:
        fcntl.flock(waiting_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(waiting_fd, fcntl.LOCK_UN)
    return False


class _Run:
    """One indexing run's state: what is indexed, what waits, what is not committed yet.

    A batch of at least ``PARALLEL_THRESHOLD`` articles starts worker processes that
    analyse and write segments of their own (:class:`SegmentWorkers`) for the rest of the
    run; this process then only reads, deletes replaced versions and commits.
    """

    def __init__(self, indexer: Indexer, ix, writer, existing: Mapping[str, str], report: IndexReport):
        self.indexer, self.ix, self.writer, self.report = indexer, ix, writer, report
        self.settings = indexer.settings
        self.existing = existing
        self.rebuilding = indexer._clear_at_next_commit
        self.indexed = {} if self.rebuilding else ChainMap({}, existing)
        self.uncommitted: set[str] = set()
        self.pending: list[tuple[Article, str]] = []  # with its content hash
        self.since_commit = 0
        self.last_commit = time.monotonic()

    def offer(self, record: Article, first_time: bool) -> None:
        """Queue ``record`` unless the index holds it unchanged; count it once per id."""
        digest = content_hash(record)
        if self.indexed.get(record.id) == digest:
            self.report.unchanged += first_time
            return
        if first_time:
            if record.id in self.existing and not self.rebuilding:
                self.report.updated += 1
            else:
                self.report.added += 1
        self.pending.append((record, digest))
        if len(self.pending) >= self.settings.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write the pending articles (through the workers once there are enough of them)."""
        indexer = self.indexer
        if (indexer._workers is None and self.settings.workers > 1
                and len(self.pending) >= PARALLEL_THRESHOLD):
            indexer._workers = SegmentWorkers(indexer.index_dir, self.settings.workers, document_fields,
                                              lock_fds=indexer._lock_fds(self.writer))
        workers = indexer._workers
        for article, digest in self.pending:
            if article.id in self.uncommitted:
                self.commit()  # Whoosh cannot replace a document it has not committed yet
            if workers:
                if article.id in self.indexed:
                    self.writer.delete_by_term("id", article.id)
                workers.add(article)
            elif article.id in self.indexed:
                self.writer.update_document(**document_fields(article))
            else:
                self.writer.add_document(**document_fields(article))
            self.indexed[article.id] = digest
            self.uncommitted.add(article.id)
            self.since_commit += 1
            if (self.since_commit >= self.settings.commit_every
                    or time.monotonic() - self.last_commit >= self.settings.commit_seconds
                    or (workers and workers.full)):
                self.commit()
        self.pending.clear()

    def commit(self, final: bool = False) -> None:
        indexer, workers = self.indexer, self.indexer._workers
        indexer._commit(self.writer, final=final, segments=workers.finish() if workers else (),
                        written=self.report.added + self.report.updated)
        self.report.commits += 1
        self.uncommitted.clear()
        self.since_commit, self.last_commit = 0, time.monotonic()
        if final:
            return
        self.writer = indexer._current_writer = indexer._writer(self.ix)
        if workers:
            workers.resume()

    def finish(self) -> None:
        self.flush()
        if self.since_commit or self.indexer._clear_at_next_commit or self.report.commits:
            # The run's last commit is followed by the run's merge, even when the run's
            # last article happened to fill a commit of its own.
            self.commit(final=True)
        else:
            self.writer.cancel()
            self.indexer._merge(0)  # what an earlier run's merge left (it gave way, or was killed)
        if self.indexer._workers:
            self.indexer._workers.close()
            self.indexer._workers = None


class _IndexedHashes(Mapping):
    """Content hashes by article id, read from the index on demand (live documents only)."""

    def __init__(self, reader):
        self._reader = reader
        self._hashes = reader.column_reader("content_hash")

    def __getitem__(self, article_id: str) -> str:
        try:
            docnum = self._reader.first_id("id", article_id)
        except TermNotFound:
            raise KeyError(article_id) from None
        if docnum is None:
            raise KeyError(article_id)
        return self._hashes[docnum]

    def __iter__(self):
        ids = self._reader.column_reader("id")
        return (ids[d] for d in self._reader.all_doc_ids())

    def __len__(self) -> int:
        return self._reader.doc_count()
