"""Add, update and delete articles in the Whoosh index, with commit semantics.

- Incremental: an article whose content hash is already indexed is skipped before
  any analysis; a changed one replaces the old version; an id is never indexed twice.
- Durable: work is committed every ``commit_every`` articles (and every
  ``commit_seconds``); Whoosh writes a commit's table of contents last and
  atomically, so a killed indexer leaves the index as of its last commit.
  Commits inside a run do not merge segments; the run's last commit merges by
  size tiers (:func:`merge_tiers`), so a publish of one article never rewrites the index.
- Exclusive: one indexing run at a time, for the whole run (Whoosh's own lock is
  released at every commit, and another run slipping in between two commits would
  invalidate what this one knows is indexed); a second run waits ``lock_timeout``
  seconds and then fails with :class:`IndexBusyError`.
- Parallel: for large batches, worker processes analyse articles (pyvi) and write
  segments of their own, committed together (:mod:`vnsearch.segments`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import time
from collections import ChainMap
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whoosh import index as whoosh_index
from whoosh.index import LockError
from whoosh.reading import TermNotFound
from whoosh.writing import CLEAR, NO_MERGE, IndexingError

from vnsearch import analysis
from vnsearch.articles import VIETNAM_TZ, Article, Rejection, Record, read_path
from vnsearch.config import Settings
from vnsearch.schema import SCHEMA_VERSION, build_schema
from vnsearch.segments import SegmentWorkers, SegmentWriter, with_segments

INDEX_NAME = "vnsearch"
RUN_LOCK_NAME = "vnsearch-indexer.lock"
# A table of contents Whoosh was still writing when its process was killed.
_TEMP_TOC_RE = re.compile(rf"^_{INDEX_NAME}_[0-9]+\.toc\.[0-9.]+$")
log = logging.getLogger(__name__)
MISSING_DATE = -(2**62)
# Part of every content hash: bump it when analysis changes, and a re-run re-analyses.
ANALYSIS_VERSION = f"{SCHEMA_VERSION}.1"
# Below this many articles to analyse, worker start-up costs more than it saves.
PARALLEL_THRESHOLD = 200


class IndexBusyError(RuntimeError):
    """Another indexer holds the write lock for longer than we were willing to wait."""


class IndexMissingError(FileNotFoundError):
    """There is no vnsearch index in the directory."""


class IndexFormatError(RuntimeError):
    """The index was built by another version of vnsearch, with other fields."""


@dataclass
class IndexReport:
    """What one run did; ``rejected`` counts bad records, ``duplicates`` ids seen twice."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    duplicates: int = 0
    decided_by_updated: int = 0  # duplicates whose two versions both had an 'updated' time
    commits: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # ids a delete did not find

    def summary(self) -> str:
        text = (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.deleted} deleted, {self.rejected} rejected")
        if self.missing:
            text += f", {len(self.missing)} not in the index"
        if self.duplicates:
            rule = "the newest 'updated' won, else the last one read" if self.decided_by_updated else "the last one won"
            text += f" ({self.duplicates} duplicate ids: {rule})"
        return text


def open_index(index_dir: str | os.PathLike, create: bool = False, replace_other_schema: bool = False):
    """Open the index in ``index_dir``; with ``create``, make an empty one if there is none.

    An index whose fields differ from this version's schema raises
    :class:`IndexFormatError`, or with ``replace_other_schema`` is replaced by an empty one.
    """
    path = Path(index_dir)
    if whoosh_index.exists_in(path, indexname=INDEX_NAME):
        ix = whoosh_index.open_dir(path, indexname=INDEX_NAME)
        if set(ix.schema.names()) == set(build_schema().names()):
            return ix
        if not replace_other_schema:
            raise IndexFormatError(
                f"the index in {path} was built by another version of vnsearch; "
                f"rebuild it: vnsearch index FILES --rebuild --index-dir {path}")
        return whoosh_index.create_in(path, build_schema(), indexname=INDEX_NAME)
    if not create:
        raise IndexMissingError(f"no vnsearch index in {path}: run 'vnsearch index FILE --index-dir {path}' first")
    path.mkdir(parents=True, exist_ok=True)
    return whoosh_index.create_in(path, build_schema(), indexname=INDEX_NAME)


def document_fields(article: Article) -> dict:
    """The Whoosh document for one article: stored display fields plus analysed views."""
    title = analysis.analyze(article.title)
    text = f"{article.summary}\n{article.body}" if article.summary else article.body
    body = analysis.analyze(text)
    when = article.date
    local = when.astimezone(VIETNAM_TZ) if when else None
    return {
        "id": article.id,
        "content_hash": content_hash(article),
        "title": article.title,
        "body": article.body,
        "summary": article.summary,
        "url": article.url,
        "tags": list(article.tags),
        "date_iso": when.isoformat() if when else "",
        "author": article.author,
        "source": article.source,
        "category": article.category,
        "title_fold": title.positional_terms(),
        "body_fold": body.folded_terms(),
        "body_pos": " ".join(body.folded),
        "title_syl": title.accented_terms(),
        "title_terms": " ".join(title.syllables).encode("utf-8"),
        "body_syl": body.accented_terms(),
        "category_key": analysis.normalize(article.category),
        "author_key": analysis.normalize(article.author),
        "source_key": analysis.normalize(article.source),
        "date": int(when.timestamp()) if when else MISSING_DATE,
        "year": local.year if local else 0,
        "month": local.year * 100 + local.month if local else 0,
    }


def content_hash(article: Article) -> str:
    return f"{ANALYSIS_VERSION}:{article.content_hash()}"


def _prepare(article: Article) -> dict:
    return document_fields(article)


def _duplicate(record: Article, earlier_updated: datetime | None, earlier_origin: str) -> tuple[bool, str]:
    """Which of two versions of one id read in one run wins, and the warning saying so.

    The newer ``updated`` time wins, whatever the order the files were read in (a correction
    must not be reverted because its file's name sorts first); when the times tie or either
    is missing, the version read later wins.
    """
    here = record.origin or repr(record.id)
    if earlier_updated and record.updated:
        if earlier_updated > record.updated:
            keep_earlier, winner, why = True, earlier_origin, "its 'updated' time is newer"
        elif earlier_updated < record.updated:
            keep_earlier, winner, why = False, here, "its 'updated' time is newer"
        else:
            keep_earlier, winner, why = False, here, "same 'updated' time: read later"
    else:
        keep_earlier, winner, why = False, here, "read later: 'updated' is missing"
    return keep_earlier, (f"{here}: duplicate id {record.id!r}, also at {earlier_origin}: "
                          f"the one at {winner} wins ({why})")


def read_records(paths: Iterable[str | os.PathLike]) -> Iterator[Record]:
    for path in paths:
        yield from read_path(path)


class Indexer:
    """Writes articles into one index directory; see the module docstring for guarantees."""

    def __init__(self, index_dir: str | os.PathLike, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.index_dir = Path(index_dir)
        self._current_writer = None
        self._workers: SegmentWorkers | None = None
        self._lock_fd: int | None = None  # the run lock's descriptor while a run holds it

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
                    writer.commit()
                    report.commits = 1
                else:
                    writer.cancel()
                self._current_writer = None
            except BaseException:
                self._abandon_writer()
                raise
        return report

    # -- internals -----------------------------------------------------------

    @contextmanager
    def _run_lock(self):
        """Hold the index directory's run lock (flock) for the whole run; wait at most ``lock_timeout``."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.index_dir / RUN_LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.settings.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexBusyError(
                            f"another indexer is writing to {self.index_dir}; waited "
                            f"{self.settings.lock_timeout:g} s for it to finish "
                            "(set VNSEARCH_LOCK_TIMEOUT to wait longer)") from None
                    time.sleep(0.1)
            self._remove_temp_tocs()
            self._lock_fd = fd
            yield
        finally:
            self._lock_fd = None
            os.close(fd)  # closing releases the lock; so does the process dying

    def _remove_temp_tocs(self) -> None:
        for name in os.listdir(self.index_dir):
            if _TEMP_TOC_RE.match(name):
                os.remove(self.index_dir / name)

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

    def _commit(self, writer, final: bool = True, segments=()):
        """Commit, with the workers' finished ``segments``; commits inside a long run add
        segments without merging any (cheap), the last one merges by tiers (:func:`merge_tiers`)."""
        if self._clear_at_next_commit:
            policy = CLEAR
        elif final:
            policy = merge_tiers
        else:
            policy = NO_MERGE
        writer.commit(mergetype=with_segments(policy, segments))
        self._clear_at_next_commit = False

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
        """Stream records: skip unchanged ones, index the rest in batches, commit as we go.

        A batch of at least ``PARALLEL_THRESHOLD`` articles starts worker processes that
        analyse and write segments of their own (:class:`SegmentWorkers`) for the rest of
        the run; this process then only reads, deletes replaced versions and commits.
        """
        indexed = {} if self._clear_at_next_commit else ChainMap({}, existing)
        # Of the version of each id that wins so far: where it was read, and its 'updated' time
        # when it has one (two dicts: a tuple per article cost 8 MB more on 150,000 articles).
        seen_at: dict[str, str] = {}
        seen_updated: dict[str, datetime] = {}
        uncommitted: set[str] = set()
        pending: list[tuple[Article, str]] = []  # with its content hash
        since_commit = 0
        last_commit = time.monotonic()

        def commit(final: bool = False):
            nonlocal writer, since_commit, last_commit
            workers = self._workers
            self._commit(writer, final=final, segments=workers.finish() if workers else ())
            report.commits += 1
            uncommitted.clear()
            since_commit, last_commit = 0, time.monotonic()
            if final:
                return
            writer = self._writer(ix)
            self._current_writer = writer
            if workers:
                workers.resume()

        def flush():
            nonlocal since_commit
            if (self._workers is None and self.settings.workers > 1
                    and len(pending) >= PARALLEL_THRESHOLD):
                self._workers = SegmentWorkers(self.index_dir, self.settings.workers, _prepare,
                                               lock_fds=self._lock_fds(writer))
            workers = self._workers
            for article, digest in pending:
                if article.id in uncommitted:
                    commit()  # Whoosh cannot replace a document it has not committed yet
                if workers:
                    if article.id in indexed:
                        writer.delete_by_term("id", article.id)
                    workers.add(article)
                else:
                    doc = _prepare(article)
                    if article.id in indexed:
                        writer.update_document(**doc)
                    else:
                        writer.add_document(**doc)
                indexed[article.id] = digest
                uncommitted.add(article.id)
                since_commit += 1
                if (since_commit >= self.settings.commit_every
                        or time.monotonic() - last_commit >= self.settings.commit_seconds
                        or (workers and workers.full)):
                    commit()
            pending.clear()

        for processed, record in enumerate(records, start=1):
            if on_progress:
                on_progress(processed)
            if isinstance(record, Rejection):
                report.rejected += 1
                report.rejections.append(record)
                if on_reject:
                    on_reject(record)
                continue
            earlier_at = seen_at.get(record.id)
            first_time = earlier_at is None
            if not first_time:
                earlier_updated = seen_updated.get(record.id)
                keep_earlier, message = _duplicate(record, earlier_updated, earlier_at)
                report.duplicates += 1
                report.decided_by_updated += bool(earlier_updated and record.updated)
                report.warnings.append(message)
                if on_warning:
                    on_warning(message)
                if keep_earlier:
                    continue
            seen_at[record.id] = record.origin or repr(record.id)
            if record.updated:
                seen_updated[record.id] = record.updated
            else:
                seen_updated.pop(record.id, None)
            digest = content_hash(record)
            if indexed.get(record.id) == digest:
                report.unchanged += first_time
                continue
            if first_time:
                if record.id in existing and not self._clear_at_next_commit:
                    report.updated += 1
                else:
                    report.added += 1
            pending.append((record, digest))
            if len(pending) >= self.settings.batch_size:
                flush()
        flush()
        if since_commit or self._clear_at_next_commit or report.commits:
            # The run's last commit merges by tiers, even when the run's last article
            # happened to fill a commit of its own.
            commit(final=True)
        else:
            writer.cancel()
        self._current_writer = None
        if self._workers:
            self._workers.close()
            self._workers = None


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


MERGE_FACTOR = 10
# Whoosh rewrites postings in Python when it merges (100,000 articles took over 12 minutes here), and a
# merge runs inside a commit: merging only small segments keeps every publish's commit short.
MAX_MERGED_SEGMENT = 1000


def merge_tiers(writer, segments):
    """Whoosh merge policy: segments under ``MAX_MERGED_SEGMENT`` live articles are grouped in
    tiers by size (powers of ten); a tier holding ``MERGE_FACTOR`` segments is merged into one,
    as are small segments that are mostly deleted. A publish of a few articles never rewrites
    the big segments of a bulk import, yet thousands of publishes do not leave thousands of
    tiny segments for every search to visit.
    """
    from whoosh.reading import SegmentReader

    small = [seg for seg in segments if seg.doc_count() < MAX_MERGED_SEGMENT]
    tiers: dict[int, list] = {}
    for segment in small:
        tiers.setdefault(len(str(max(1, segment.doc_count()))), []).append(segment)
    to_merge = [seg for tier in tiers.values() if len(tier) >= MERGE_FACTOR for seg in tier]
    to_merge += [seg for seg in small if seg not in to_merge and seg.doc_count_all()
                 and seg.deleted_count() > seg.doc_count_all() / 2]
    for segment in to_merge:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [seg for seg in segments if seg not in to_merge]


def index_paths(index_dir, paths, **kwargs) -> IndexReport:
    """Convenience for tests and benchmarks: index files or directories."""
    return Indexer(index_dir).index(read_records(paths), **kwargs)
