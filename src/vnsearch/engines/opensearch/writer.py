"""Indexing into the cluster: the embedded engine's rules, written with the bulk helpers.

- Incremental: each batch's ids are looked up (``mget`` of their content hashes) before
  any analysis; an unchanged article is skipped, a changed one replaces its document.
  The article id is the document ``_id``, so a rerun, or a run killed midway and started
  again, never holds an article twice.
- A repeated id in one run: the newer ``updated`` wins (the shared duplicate rule).
- Analysis (pyvi) runs in worker processes for runs of :data:`PARALLEL_THRESHOLD`
  articles or more; they die with the indexer.
- A big import turns the index's refresh off and restores it at the end (also at the
  start of the next run, should an import be killed); a small run (a publish) asks for
  ``refresh=wait_for``: the article is searchable when the command returns.
- ``--rebuild`` fills a new index and moves the alias to it at the end: readers keep the
  old one until then.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
from typing import Iterable

from opensearchpy import helpers

from vnsearch.articles import Rejection

from . import documents
from vnsearch.documents import IndexReport, Versions, content_hash
from vnsearch.engines import IndexFormatError, IndexMissingError
from vnsearch.engines.processes import die_with_parent

PARALLEL_THRESHOLD = 200
BULK_CHUNK = 500
LOOKUP_CHUNK = 1000


def _init_worker(parent: int) -> None:
    """A worker dies with the indexer, however it dies (see :func:`die_with_parent`)."""
    die_with_parent(parent)


class ClusterWriter:
    """Writes articles into the index behind one alias."""

    def __init__(self, client, alias: str, settings):
        self.client, self.alias, self.settings = client, alias, settings

    # -- the index -----------------------------------------------------------

    def concrete(self) -> str | None:
        """The index the alias points to, or None when there is none."""
        if not self.client.indices.exists_alias(name=self.alias):
            if self.client.indices.exists(index=self.alias):
                return self.alias  # an index created by hand under the name: use it as is
            return None
        return next(iter(self.client.indices.get_alias(name=self.alias)))

    def create(self) -> str:
        name = f"{self.alias}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
        self.client.indices.create(index=name, body=documents.index_body(
            self.settings.opensearch_shards, self.settings.opensearch_replicas))
        self.client.cluster.health(index=name, wait_for_status="yellow")
        return name

    def point_alias(self, name: str, old: str | None) -> None:
        """Make the alias name ``name`` (in one step, readers never see no index), and delete ``old``."""
        actions = [{"add": {"index": name, "alias": self.alias}}]
        if old == self.alias:  # an index made by hand under the alias's name: it gives way first
            self.client.indices.delete(index=old)
        elif old:
            actions.insert(0, {"remove": {"index": old, "alias": self.alias}})
        self.client.indices.update_aliases(body={"actions": actions})
        if old and old not in (name, self.alias):
            self.client.indices.delete(index=old, ignore_unavailable=True)

    def remove_abandoned(self, current: str | None) -> None:
        """Delete the indexes earlier rebuilds of this alias left unfinished (a killed run)."""
        pattern = re.compile(rf"^{re.escape(self.alias)}-\d{{14}}-\d+$")
        names = self.client.indices.get(index=f"{self.alias}-*", ignore_unavailable=True, allow_no_indices=True)
        for name in names:
            if pattern.match(name) and name != current:
                self.client.indices.delete(index=name, ignore_unavailable=True)

    def check_format(self, name: str) -> None:
        meta = self.client.indices.get_mapping(index=name)[name]["mappings"].get("_meta", {})
        if meta.get("vnsearch_mapping") != documents.MAPPING_VERSION:
            raise IndexFormatError(f"the OpenSearch index {self.alias} was built by another version of "
                                   f"vnsearch; rebuild it: vnsearch index FILES --rebuild")

    # -- indexing ------------------------------------------------------------

    def index(self, records: Iterable, *, rebuild=False, on_reject=None, on_progress=None,
              on_warning=None) -> IndexReport:
        report = IndexReport()
        old = self.concrete()
        if old and not rebuild:
            self.check_format(old)
            target = old
        else:
            self.remove_abandoned(old)
            target = self.create()
        if not rebuild and old is None:
            self.point_alias(target, None)
        run = _Run(self, target, report, fresh=rebuild or old is None,
                   callbacks=(on_reject, on_progress, on_warning))
        try:
            run.consume(records)
        finally:
            run.close()
        if rebuild:
            self.point_alias(target, old)
        return report

    def delete(self, ids: Iterable[str]) -> IndexReport:
        report = IndexReport()
        name = self.concrete()
        if name is None:
            raise IndexMissingError(f"no vnsearch index {self.alias!r} on the cluster: "
                                    "run 'vnsearch index FILE' first")
        actions = [{"_op_type": "delete", "_index": name, "_id": i} for i in dict.fromkeys(ids)]
        for ok, item in helpers.streaming_bulk(self.client, actions, raise_on_error=False,
                                               refresh="wait_for", chunk_size=BULK_CHUNK):
            result = item["delete"]
            if result.get("result") == "deleted":
                report.deleted += 1
            elif result.get("status") == 404:
                report.missing.append(result["_id"])
            else:
                raise RuntimeError(f"deleting {result['_id']!r} failed: {result.get('error')}")
        report.commits = int(report.deleted > 0)
        return report


class _Run:
    """One indexing run: batches of records, looked up, analysed, written in bulk."""

    def __init__(self, writer: ClusterWriter, target: str, report: IndexReport, fresh: bool, callbacks):
        self.w, self.target, self.report, self.fresh = writer, target, report, fresh
        self.on_reject, self.on_progress, self.on_warning = callbacks
        self.settings = writer.settings
        self.versions = Versions(report, self.on_warning)
        self.indexed: dict[str, str] = {}  # id -> content hash, as this run left it
        self.existing: dict[str, str] = {}  # id -> content hash before the run
        self.pool = None
        self.refresh_off = False
        self.written = 0
        self._restore_refresh_left_off()

    def _restore_refresh_left_off(self) -> None:
        """An import killed with refresh off would leave the index unsearchable: turn it back on."""
        got = self.w.client.indices.get_settings(index=self.target, name="index.refresh_interval")
        value = got.get(self.target, {}).get("settings", {}).get("index", {}).get("refresh_interval")
        if value == "-1":
            self._set_refresh(None)

    def _set_refresh(self, value) -> None:
        self.w.client.indices.put_settings(index=self.target, body={"index": {"refresh_interval": value}})

    def consume(self, records: Iterable) -> None:
        batch = []
        for processed, record in enumerate(records, start=1):
            if self.on_progress:
                self.on_progress(processed)
            if isinstance(record, Rejection):
                self.report.reject(record, self.on_reject)
                continue
            batch.append(record)
            if len(batch) >= self.settings.batch_size:
                self._batch(batch)
                batch = []
        self._batch(batch)

    def _lookup(self, ids: list[str]) -> None:
        """The content hashes the index holds for ``ids`` (those it holds)."""
        if self.fresh:
            return
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            got = self.w.client.mget(index=self.target, body={"ids": chunk}, _source_includes=["content_hash"])
            for doc in got["docs"]:
                if doc.get("found"):
                    self.existing[doc["_id"]] = doc["_source"]["content_hash"]

    def _batch(self, batch: list) -> None:
        self._lookup(list(dict.fromkeys(r.id for r in batch if r.id not in self.versions.seen_at)))
        pending = []
        report = self.report
        for record in batch:
            admitted, first_time = self.versions.admit(record)
            if not admitted:
                continue
            digest = content_hash(record)
            if self.indexed.get(record.id, self.existing.get(record.id)) == digest:
                report.unchanged += first_time
                continue
            if first_time:
                if record.id in self.existing:
                    report.updated += 1
                else:
                    report.added += 1
            self.indexed[record.id] = digest
            pending.append(record)
        if pending:
            self._write(pending)

    def _documents(self, articles: list):
        if self.pool is None and self.settings.workers > 1 and len(articles) >= PARALLEL_THRESHOLD:
            context = multiprocessing.get_context("fork")
            self.pool = context.Pool(self.settings.workers, initializer=_init_worker, initargs=(os.getpid(),))
        if self.pool is not None:
            return self.pool.imap(documents.to_document, articles, chunksize=16)
        return map(documents.to_document, articles)

    def _write(self, articles: list) -> None:
        big = len(articles) >= PARALLEL_THRESHOLD or self.written >= PARALLEL_THRESHOLD
        if big and not self.refresh_off:
            self._set_refresh("-1")
            self.refresh_off = True
        actions = ({"_op_type": "index", "_index": self.target, "_id": doc["id"], "_source": doc}
                   for doc in self._documents(articles))
        refresh = False if self.refresh_off else "wait_for"
        for ok, item in helpers.streaming_bulk(self.w.client, actions, chunk_size=BULK_CHUNK,
                                               raise_on_error=False, refresh=refresh, max_retries=5):
            if not ok:
                result = item.get("index", item)
                raise RuntimeError(f"indexing {result.get('_id')!r} failed: {result.get('error')}")
        self.written += len(articles)
        self.report.commits += 1

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
        if self.refresh_off:
            self._set_refresh(None)
            self.w.client.indices.refresh(index=self.target)
            self.refresh_off = False
