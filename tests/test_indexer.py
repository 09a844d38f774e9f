"""The indexer: incremental updates, deletions, rebuilds, the write lock, stored facet fields."""

import threading
import time

import pytest

from conftest import article
from vnsearch.config import Settings
from engine_support import engine_at, index_paths
from vnsearch.readers import read_paths
from vnsearch.engines import IndexBusyError
from vnsearch.engines.whoosh import segment_merge
from vnsearch.engines.whoosh.indexer import Indexer
from vnsearch.engines.whoosh.segment_writer import segments_to_merge
from vnsearch.engines.whoosh.store import open_index


def publish(ix, write_jsonl, n: int):
    """One run that indexes article ``p{n}`` alone, as a newsroom's publish does."""
    return index_paths(ix, [write_jsonl([article(f"p{n}", title=f"Tin số {n}")], name=f"p{n}.jsonl")])


def ids_in(index_dir):
    ix = open_index(index_dir)
    with ix.searcher() as s:
        return sorted(f["id"] for f in s.all_stored_fields())


def test_reindexing_the_same_articles_changes_nothing(tmp_path, write_jsonl):
    path = write_jsonl([article("a"), article("b")])
    first = index_paths(tmp_path / "ix", [path])
    second = index_paths(tmp_path / "ix", [path])
    assert (first.added, first.unchanged) == (2, 0)
    assert (second.added, second.updated, second.unchanged, second.commits) == (0, 0, 2, 0)
    assert ids_in(tmp_path / "ix") == ["a", "b"]


def test_changed_article_replaces_the_old_version(tmp_path, write_jsonl):
    ix = tmp_path / "ix"
    index_paths(ix, [write_jsonl([article("a", title="Giá xăng tăng mạnh")], name="v1.jsonl")])
    report = index_paths(ix, [write_jsonl([article("a", title="Giá xăng giảm nhẹ")], name="v2.jsonl")])
    assert (report.added, report.updated) == (0, 1)
    assert ids_in(ix) == ["a"]
    engine = engine_at(str(ix))
    assert engine.search(query="giam nhe").total == 1
    assert engine.search(query="tăng mạnh").total == 0


def test_duplicate_id_in_one_file_last_one_wins(tmp_path, write_jsonl):
    path = write_jsonl([article("a", title="Bản nháp đầu tiên"), article("b"), article("a", title="Bản chính thức")])
    report = index_paths(tmp_path / "ix", [path])
    assert report.duplicates == 1
    assert ids_in(tmp_path / "ix") == ["a", "b"]
    assert engine_at(str(tmp_path / "ix")).article("a")["title"] == "Bản chính thức"


ORIGINAL = article("lu-1", title="Lũ quét ở Lào Cai làm 3 người mất tích",
                   updated="2021-09-10T08:00:00+07:00")
CORRECTION = article("lu-1", title="Lũ quét ở Lào Cai làm 2 người mất tích, 1 người bị thương",
                     updated="2021-09-10T11:30:00+07:00")


def index_folder(tmp_path, files: dict, **kwargs):
    """Write each {name: records} as a .jsonl file in one folder and index the folder; warnings kept."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, records in files.items():
        (folder / name).write_text("".join(__import__("json").dumps(r, ensure_ascii=False) + "\n" for r in records),
                                   encoding="utf-8")
    warnings = []
    report = Indexer(tmp_path / "ix", Settings(**kwargs)).index(
        read_paths([folder]), on_warning=warnings.append)
    return folder, report, warnings


def test_a_correction_read_first_is_not_reverted_by_the_older_original(tmp_path):
    # "a-..." sorts before "b-...": the correction is read first, the original after it.
    folder, report, warnings = index_folder(tmp_path, {"a-dinh-chinh.jsonl": [CORRECTION],
                                                       "b-ban-goc.jsonl": [article("x"), ORIGINAL]})
    assert engine_at(str(tmp_path / "ix")).article("lu-1")["title"] == CORRECTION["title"]
    assert ids_in(tmp_path / "ix") == ["lu-1", "x"]
    assert (report.added, report.duplicates) == (2, 1)
    assert warnings == [f"{folder}/b-ban-goc.jsonl:2: duplicate id 'lu-1', also at {folder}/a-dinh-chinh.jsonl:1: "
                        f"the one at {folder}/a-dinh-chinh.jsonl:1 wins (its 'updated' time is newer)"]
    assert "newest 'updated' won" in report.summary()


def test_a_newer_correction_read_last_wins(tmp_path):
    folder, _, warnings = index_folder(tmp_path, {"a.jsonl": [ORIGINAL], "b.jsonl": [CORRECTION]})
    assert engine_at(str(tmp_path / "ix")).article("lu-1")["title"] == CORRECTION["title"]
    assert warnings == [f"{folder}/b.jsonl:1: duplicate id 'lu-1', also at {folder}/a.jsonl:1: "
                        f"the one at {folder}/b.jsonl:1 wins (its 'updated' time is newer)"]


@pytest.mark.parametrize("first_updated,second_updated,why", [
    ("2021-09-10T08:00:00+07:00", "2021-09-10T01:00:00Z", "same 'updated' time: read later"),  # the same instant
    ("2021-09-10T08:00:00+07:00", None, "read later: 'updated' is missing"),
    (None, "2021-09-09T08:00:00+07:00", "read later: 'updated' is missing"),
    (None, None, "read later: 'updated' is missing"),
])
def test_ties_and_missing_updated_times_go_to_the_later_record(tmp_path, first_updated, second_updated, why):
    first = article("lu-1", title="Bản thứ nhất", **({"updated": first_updated} if first_updated else {}))
    second = article("lu-1", title="Bản thứ hai", **({"updated": second_updated} if second_updated else {}))
    folder, _, warnings = index_folder(tmp_path, {"a.jsonl": [first], "b.jsonl": [second]})
    assert engine_at(str(tmp_path / "ix")).article("lu-1")["title"] == "Bản thứ hai"
    assert warnings == [f"{folder}/b.jsonl:1: duplicate id 'lu-1', also at {folder}/a.jsonl:1: "
                        f"the one at {folder}/b.jsonl:1 wins ({why})"]


def test_across_runs_the_incoming_record_replaces_whatever_its_updated_time(tmp_path, write_jsonl):
    index_paths(tmp_path / "ix", [write_jsonl([CORRECTION], name="run1.jsonl")])
    report = index_paths(tmp_path / "ix", [write_jsonl([ORIGINAL], name="run2.jsonl")])
    assert report.updated == 1
    assert engine_at(str(tmp_path / "ix")).article("lu-1")["title"] == ORIGINAL["title"]


def test_delete_withdraws_articles(sample_index):
    report = Indexer(sample_index).delete(["mau-002", "khong-co", "mau-002"])
    assert report.deleted == 1
    assert report.missing == ["khong-co"]
    assert "mau-002" not in ids_in(sample_index)
    result = engine_at(str(sample_index)).search(query="mã số thuế")
    assert "mau-002" not in [h.id for h in result.hits] and result.missing == ["mã", "thuế"]


def test_rebuild_starts_clean(sample_index, write_jsonl):
    report = index_paths(sample_index, [write_jsonl([article("moi")])], rebuild=True)
    assert report.added == 1
    assert ids_in(sample_index) == ["moi"]


def test_rejected_records_are_counted_and_the_rest_indexed(tmp_path, write_jsonl):
    path = write_jsonl([article("a"), "{broken", {"id": "b", "body": "Tin"}])
    seen = []
    report = Indexer(tmp_path / "ix").index(
        read_paths([path]), on_reject=seen.append)
    assert (report.added, report.rejected) == (1, 2)
    assert [r.line for r in seen] == [2, 3]


def test_a_second_writer_waits_then_fails_clearly(sample_index, write_jsonl):
    holder = open_index(sample_index).writer()
    try:
        indexer = Indexer(sample_index, Settings(lock_timeout=0.3))
        with pytest.raises(IndexBusyError, match="another indexer is writing"):
            indexer.index(iter([]))
    finally:
        holder.cancel()
    assert len(ids_in(sample_index)) == 13


def test_many_commits_in_a_long_run_keep_every_article_once(tmp_path, write_jsonl):
    records = [article(f"n{i}", title=f"Tin số {i} về Hà Nội") for i in range(25)]
    records.append(article("n3", title="Tin số 3 đã sửa"))
    report = Indexer(tmp_path / "ix", Settings(commit_every=7, workers=1)).index(
        read_paths([write_jsonl(records)]))
    assert report.commits >= 4
    assert ids_in(tmp_path / "ix") == sorted(f"n{i}" for i in range(25))


def test_facet_fields_are_precomputed(sample_index):
    ix = open_index(sample_index)
    with ix.searcher() as s:
        doc = s.document_number(id="mau-001")
        assert s.reader().column_reader("year")[doc] == 2021
        assert s.reader().column_reader("month")[doc] == 202103
        assert s.reader().column_reader("category_key")[doc] == "Chính trị"


def test_an_index_from_another_version_is_refused_then_rebuilt(tmp_path, write_jsonl):
    from whoosh import fields, index as whoosh_index

    from vnsearch.engines import IndexFormatError
    from vnsearch.engines.whoosh.store import INDEX_NAME

    old = tmp_path / "ix"
    old.mkdir()
    whoosh_index.create_in(old, fields.Schema(id=fields.ID(stored=True)), indexname=INDEX_NAME)
    with pytest.raises(IndexFormatError, match="--rebuild"):
        engine_at(old).check()
    with pytest.raises(IndexFormatError, match="--rebuild"):
        engine_at(old).search(query="ha noi")
    path = write_jsonl([article("a")])
    with pytest.raises(IndexFormatError):
        index_paths(old, [path])
    assert index_paths(old, [path], rebuild=True).added == 1
    assert engine_at(old).search(query="ha noi").total == 1


def test_many_small_publishes_are_merged_by_tiers(tmp_path, write_jsonl):
    ix = tmp_path / "ix"
    for n in range(12):  # twelve publishes of one article: twelve one-article segments, then a merge
        publish(ix, write_jsonl, n)
    reader = open_index(ix).reader()
    assert len(reader.leaf_readers()) < 10
    assert reader.doc_count() == 12
    assert ids_in(ix) == sorted(f"p{n}" for n in range(12))


def test_a_run_ending_on_a_commit_boundary_still_merges(tmp_path, write_jsonl):
    records = [article(f"b{i}", title=f"Tin số {i}") for i in range(40)]
    report = Indexer(tmp_path / "ix", Settings(commit_every=4, workers=1)).index(
        read_paths([write_jsonl(records)]))
    assert report.added == 40
    assert len(open_index(tmp_path / "ix").reader().leaf_readers()) < 10  # ten 4-article segments merged


class _Segment:
    """What the merge policy reads of a segment."""

    def __init__(self, name: str, docs: int, deleted: int = 0):
        self.name, self.docs, self.deleted = name, docs, deleted

    def segment_id(self):
        return self.name

    def doc_count_all(self):
        return self.docs

    def doc_count(self):
        return self.docs - self.deleted

    def deleted_count(self):
        return self.deleted


def test_a_bulk_import_merges_its_segments_a_publish_never_rewrites_the_archive():
    bulk = [_Segment(f"b{n}", 4300) for n in range(35)]
    assert segments_to_merge(bulk, written=150_500) == bulk  # a bulk import ends in one segment
    assert segments_to_merge(bulk, written=1) == []  # 150,500 articles: not in a publish
    archive, publishes = [_Segment("archive", 150_000)], [_Segment(f"p{n}", 1) for n in range(10)]
    assert segments_to_merge(archive + publishes, written=1) == publishes
    assert segments_to_merge(archive + publishes[:9], written=1) == []
    withdrawn = _Segment("w", 800, deleted=500)
    assert segments_to_merge(archive + [withdrawn], written=0) == [withdrawn]  # rewritten without them
    assert segments_to_merge([_Segment("old", 150_000, deleted=90_000)], written=0) == []


def test_a_publish_is_searchable_before_its_merge_and_a_failed_merge_loses_nothing(tmp_path, write_jsonl, monkeypatch):
    ix = tmp_path / "ix"
    for n in range(9):
        publish(ix, write_jsonl, n)

    def broken(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(segment_merge, "merge_postings", broken)
    with pytest.raises(OSError):  # the tenth publish fills the tier: its merge fails
        publish(ix, write_jsonl, 9)
    assert ids_in(ix) == sorted(f"p{n}" for n in range(10))  # committed before the merge began
    assert len(open_index(ix).reader().leaf_readers()) == 10
    monkeypatch.undo()
    publish(ix, write_jsonl, 10)
    assert len(open_index(ix).reader().leaf_readers()) == 1  # the next run merges
    assert ids_in(ix) == sorted(f"p{n}" for n in range(11))
    assert engine_at(ix).search(query="tin so 9").hits[0].id == "p9"


def test_a_merge_gives_way_to_a_publish_waiting_for_the_index(tmp_path, write_jsonl, monkeypatch):
    """A run's merge stops when another indexer waits for the index, rather than make a publish
    wait (here the merge would take over a minute, and the publish waits 10 s at most)."""
    ix = tmp_path / "ix"
    for n in range(9):
        publish(ix, write_jsonl, n)
    failures = []
    first = threading.Thread(target=lambda: _publish_or_fail(ix, write_jsonl, 9, failures))
    started = _slow_merges_in(first, monkeypatch)
    first.start()
    assert started.wait(60), "the tenth publish did not start merging"
    report = publish(ix, write_jsonl, 10)
    first.join(60)
    assert not first.is_alive() and not failures
    assert report.added == 1
    assert ids_in(ix) == sorted(f"p{n}" for n in range(11))
    assert len(open_index(ix).reader().leaf_readers()) == 1  # the second run merged all eleven


def test_optimize_merges_every_segment_and_drops_withdrawn_articles(tmp_path, write_jsonl):
    ix = tmp_path / "ix"
    index_paths(ix, [write_jsonl([article(f"b{i}", title=f"Bản tin {i}") for i in range(30)], name="bulk.jsonl")])
    for n in range(5):  # five publishes: five one-article segments, fewer than a tier merges
        publish(ix, write_jsonl, n)
    engine = engine_at(ix)
    engine.delete(["p2", "b7"])
    assert len(open_index(ix).reader().leaf_readers()) == 6
    report = engine.optimize()
    assert (report.segments_before, report.segments_after, report.gave_way) == (6, 1, False)
    reader = open_index(ix).reader()
    assert reader.doc_count_all() == reader.doc_count() == 33  # the withdrawn two are gone from the files
    assert ids_in(ix) == sorted([f"b{i}" for i in range(30) if i != 7] + ["p0", "p1", "p3", "p4"])
    assert engine.search(query="ban tin", per_page=50).total == 29
    again = engine.optimize()
    assert (again.segments_before, again.segments_after) == (1, 1)
    assert again.summary() == "1 segment already: nothing to merge"


def test_optimize_gives_way_to_a_publish_and_loses_nothing(tmp_path, write_jsonl, monkeypatch):
    ix = tmp_path / "ix"
    for n in range(4):
        publish(ix, write_jsonl, n)
    reports = []
    optimizing = threading.Thread(target=lambda: reports.append(engine_at(ix).optimize()))
    started = _slow_merges_in(optimizing, monkeypatch)
    optimizing.start()
    assert started.wait(60), "optimize did not start merging"
    assert publish(ix, write_jsonl, 4).added == 1
    optimizing.join(60)
    assert not optimizing.is_alive() and reports and reports[0].gave_way
    assert "gave way" in reports[0].summary()
    assert ids_in(ix) == [f"p{n}" for n in range(5)]
    assert engine_at(ix).optimize().segments_after == 1  # here, in this thread, at full speed
    assert ids_in(ix) == [f"p{n}" for n in range(5)]


def _slow_merges_in(thread: threading.Thread, monkeypatch) -> threading.Event:
    """Make a merge in ``thread`` write a term every 50 ms and check every 8 whether an indexer
    waits (a merge of minutes); the event is set once it merges."""
    started = threading.Event()
    write_term = segment_merge._write_term

    def slow(*args):
        if threading.current_thread() is thread:
            started.set()
            time.sleep(0.05)
        return write_term(*args)

    monkeypatch.setattr(segment_merge, "_write_term", slow)
    monkeypatch.setattr(segment_merge, "CHECK_EVERY", 8)
    return started


def _publish_or_fail(ix, write_jsonl, n, failures) -> None:
    try:
        publish(ix, write_jsonl, n)
    except Exception as exc:  # reported by the test in the main thread
        failures.append(exc)


def _schema_2(monkeypatch):
    """Make new indexes as vnsearch wrote them before schema 3: Whoosh's position and
    frequency encodings (TermPositions, TermFrequency), date and content_hash indexed."""
    from whoosh import fields

    from vnsearch.engines.whoosh import schema

    def positional(scorable=True):
        field = fields.TEXT(analyzer=schema.TermListAnalyzer(), phrase=True)
        field.format, field.scorable = schema.TermPositions(field_boost=1.0), scorable
        return field

    def bag():
        field = fields.TEXT(analyzer=schema.TermListAnalyzer(), phrase=False)
        field.format = schema.TermFrequency(field_boost=1.0)
        return field

    monkeypatch.setattr(schema, "_positional", positional)
    monkeypatch.setattr(schema, "_bag", bag)
    monkeypatch.setattr(schema, "_column_only", lambda field: field)


def test_an_index_written_before_the_engines_layout_opens_as_it_is(tmp_path, write_jsonl, monkeypatch):
    """Whoosh pickles the schema's classes by module name; before the engines/ layout that was
    ``vnsearch.schema``, and the formats were schema 2's. Such an index must search (phrases
    included) and accept new articles without a rebuild."""
    from vnsearch.engines.whoosh import schema

    _schema_2(monkeypatch)
    for name in ("TermListAnalyzer", "TermPositions", "TermFrequency"):
        monkeypatch.setattr(getattr(schema, name), "__module__", "vnsearch.schema")
    index_paths(tmp_path / "ix", [write_jsonl([article("cu", title="Hà Nội mưa lớn", body="Trời Hà Nội mưa lớn cả ngày.")])])
    monkeypatch.undo()
    toc = next((tmp_path / "ix").glob("*.toc")).read_bytes()
    assert b"vnsearch.schema" in toc and b"vnsearch.engines" not in toc
    assert b"TermFrequency" in toc and b"TermCounts" not in toc
    assert index_paths(tmp_path / "ix", [write_jsonl([article("moi", title="Hà Nội nắng", body="Hà Nội nắng nóng.")])]).added == 1
    assert engine_at(tmp_path / "ix").search(query="ha noi").total == 2
    assert [h.id for h in engine_at(tmp_path / "ix").search(query='"noi mua lon"').hits] == ["cu"]
    assert [h.id for h in engine_at(tmp_path / "ix").search(query='"nội nắng"').hits] == ["moi"]
