"""Memory at scale: segments read through the map, bounded caches, replaced generations freed.

The figures (150,000 articles in a few hundred MB) come from ``bench/scale.py``; these tests
pin the mechanisms on small indexes, so that a Whoosh upgrade or a new cache cannot quietly
bring back a copy of the whole index per process or per commit.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from whoosh.filedb.compound import CompoundStorage

from conftest import article
from vnsearch.engines.whoosh import caches, internals, mapped, view as view_module
from vnsearch.config import Settings
from engine_support import engine_at, index_paths
from vnsearch.engines.whoosh.caches import ByteCache


def _engine(index_dir, **settings):
    """The embedded engine's searcher: these tests look at how it holds memory."""
    return engine_at(str(index_dir), Settings.from_env(environ={}, **settings)).searcher()


def test_segment_files_are_read_through_the_map_not_copied(sample_index):
    engine = _engine(sample_index)
    result = engine.search(query="hòa bình")  # opens postings, term index, columns, stored fields
    assert result.total == 4  # three titles and one body
    assert mapped.is_installed()
    assert mapped.copied_files(engine.view().reader) == []
    engine.close()


def test_the_copy_check_notices_whoosh_reading_segments_its_own_way(sample_index, monkeypatch):
    monkeypatch.setattr(CompoundStorage, "open_file", mapped._original_open_file)
    engine = _engine(sample_index)
    engine.search(query="hòa bình")
    copied = mapped.copied_files(engine.view().reader)
    assert any(name.endswith(".pst") for name in copied) and any(name.endswith(".trm") for name in copied)
    engine.close()


def test_posting_lists_are_read_a_block_at_a_time(sample_index):
    engine = _engine(sample_index)
    view = engine.view()
    before = internals.slow_reads
    ids, tf = view.postings("title_fold", "hoa")  # Hòa Bình, Hoà Bình, Hòa Bình: three titles
    assert len(ids) == 3 and np.all(tf == 1)
    titles = [view.stored(d)["title"] for d in ids]
    assert all("Bình" in t for t in titles)
    assert internals.slow_reads == before
    engine.close()


def test_a_replaced_generation_is_released(sample_index, write_jsonl):
    engine = _engine(sample_index)
    first = engine.view()
    assert engine.search(query="\"xe buýt điện\"").total == 0
    old_view, old_searcher = weakref.ref(first), weakref.ref(first.searcher)
    del first
    index_paths(sample_index, [write_jsonl([article(
        "buyt-1", title="Hà Nội khai trương tuyến xe buýt điện đầu tiên",
        body="Tuyến xe buýt điện nối Cầu Giấy với Hồ Gươm chạy từ sáng nay.")])])
    assert engine.search(query="\"xe buýt điện\"").total == 1
    gc.collect()
    assert old_view() is None and old_searcher() is None
    engine.close()


def test_postings_of_unchanged_segments_are_kept_across_a_commit(sample_index, write_jsonl, monkeypatch):
    engine = _engine(sample_index)
    assert engine.search(query="hòa bình").total == 4
    reads = []
    original = internals.read_postings
    monkeypatch.setattr(internals, "read_postings", lambda *read: reads.append(read) or original(*read))
    index_paths(sample_index, [write_jsonl([article(
        "hb-1", title="Hòa Bình mở lễ hội mùa lúa mới", body="Bà con Hòa Bình vui mừng đón mùa lúa mới.")])])
    assert len(engine.view().leaves) == 2
    assert engine.search(query="hòa bình").total == 5
    # Each term is read from the new segment only: the big one's postings stayed cached.
    for term in ("hoa", "binh"):
        assert set(engine._postings_cache.get(("title_fold", term))) == set(engine.view().segment_ids)
    assert 0 < len(reads) <= len(engine._postings_cache)  # at most one segment read per term, not both
    engine.close()


def test_phrase_checks_of_unchanged_segments_are_kept_across_a_commit(sample_index, write_jsonl, monkeypatch):
    engine = _engine(sample_index)
    assert engine.search(query='"hòa bình"').total == 4
    checked = []  # the segments a phrase's positions are checked in
    original = view_module.segment_phrase_docs
    monkeypatch.setattr(view_module, "segment_phrase_docs",
                        lambda segreader, *args: checked.append(segreader) or original(segreader, *args))
    index_paths(sample_index, [write_jsonl([article(
        "hb-1", title="Hòa Bình mở lễ hội mùa lúa mới", body="Bà con Hòa Bình vui mừng đón mùa lúa mới.")])])
    assert len(engine.view().leaves) == 2
    assert engine.search(query='"hòa bình"').total == 5
    # title and body positions, each checked in the new segment alone: the big one's answer stayed
    assert len(checked) == 2
    engine.close()


def test_phrase_answers_are_not_pushed_out_by_postings(sample_index, sample_records, write_jsonl, monkeypatch):
    index_paths(sample_index, [write_jsonl([article("hn-1")])])  # two segments: views merge postings too
    engine = _engine(sample_index, cache_mb=0.05)  # 33 kB for postings, 5 kB for phrase answers
    checked = []
    original = view_module.segment_phrase_docs
    monkeypatch.setattr(view_module, "segment_phrase_docs",
                        lambda segreader, *args: checked.append(args[-1]) or original(segreader, *args))
    assert engine.search(query='"hòa bình"').total == 4
    assert len(checked) == 4  # title and body positions, in each segment
    words = sorted({w for r in sample_records for w in (r["title"] + " " + r.get("body", "")).split()})
    for word in words:  # every word of the samples: more postings than their cache holds
        engine.search(query=word)
    assert engine._postings_cache.get(("title_fold", "hoa")) is None  # the phrase's postings were evicted...
    assert engine.search(query='"hòa bình"').total == 4
    assert checked.count(("hoa", "binh")) == 4  # ...the phrase answer was not
    engine.close()


def test_caches_hold_no_more_than_their_byte_budget(sample_index, sample_records):
    words = sorted({w for r in sample_records for w in r["title"].split()})
    small = _engine(sample_index, cache_mb=0.01)  # about 10 kB in all
    roomy = _engine(sample_index)
    for word in words:
        assert small.search(query=word).total == roomy.search(query=word).total
        view = small.view()
        assert small._postings_cache.nbytes <= small._postings_cache.max_bytes
        assert small._phrase_cache.nbytes <= small._phrase_cache.max_bytes
        assert view._postings.nbytes <= view._postings.max_bytes
    budget = small._postings_cache.max_bytes + small._phrase_cache.max_bytes + small.view()._postings.max_bytes
    assert budget <= 0.01 * 2**20 + 1
    assert len(small._postings_cache) < len(roomy._postings_cache)  # the small one evicted
    small.close()
    roomy.close()


def test_byte_cache_evicts_the_least_recently_used_first():
    cache = ByteCache(3 * (800 + caches.ENTRY_OVERHEAD))
    for key in "abc":
        cache.put(key, np.zeros(100))  # 800 bytes each
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("d", np.zeros(100))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("d") is not None
    cache.put("huge", np.zeros(10_000))  # larger than the whole budget: not kept
    assert cache.get("huge") is None and cache.nbytes <= cache.max_bytes


@pytest.mark.parametrize("megabytes", [96.0, 1.0])
def test_the_cache_budget_is_split_between_segments_phrases_and_a_view(megabytes):
    segments, phrases, view = caches.cache_budget(megabytes)
    assert segments + phrases + view == int(megabytes * 2**20) and segments > view > phrases > 0


def test_a_publish_looks_up_only_the_ids_it_writes(sample_index, sample_records, write_jsonl, monkeypatch):
    from whoosh.reading import IndexReader, MultiReader, SegmentReader

    def whole_index(*args, **kwargs):
        raise AssertionError("a publish walked every document of the index")

    for cls in (IndexReader, MultiReader, SegmentReader):
        monkeypatch.setattr(cls, "all_doc_ids", whole_index)
    changed = dict(sample_records[0], body=sample_records[0]["body"] + " Cập nhật lúc 10 giờ.")
    report = index_paths(sample_index, [write_jsonl([
        changed, sample_records[1], article("moi-1", title="Đà Nẵng đón khách du lịch trở lại")])])
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    monkeypatch.undo()
    engine = _engine(sample_index)
    assert engine.stats()["articles"] == len(sample_records) + 1
    assert engine.search(query="cập nhật lúc 10 giờ").total == 1
    engine.close()


def test_segment_arrays_read_from_the_map_equal_whooshs_own_reading(sample_index, write_jsonl):
    # an undated article and one before 1970: the signed and missing dates take the same path
    index_paths(sample_index, [write_jsonl([
        article("cu-1", title="Hồi ký về Hà Nội năm 1954", date="1954-10-10T08:00:00+07:00", author="Tô Hoài"),
        article("cu-2", title="Chuyện không ngày tháng", category="Văn hóa")])])
    engine = _engine(sample_index)
    before = internals.slow_columns
    for segreader, _offset in engine.view().leaves:
        arrays = view_module.SegmentArrays.read(segreader)
        n = segreader.doc_count_all()
        for name in ("date", "year", "month"):
            expected = np.fromiter(segreader.column_reader(name), dtype=np.int64, count=n)
            assert np.array_equal(getattr(arrays, name), expected), name
        for name, (values, codes) in arrays.facets.items():
            assert [values[c] for c in codes] == list(segreader.column_reader(name)), name
    assert internals.slow_columns == before
    assert engine.search(query="hồi ký", date_to=__import__("datetime").date(1960, 1, 1)).total == 1
    engine.close()


def test_a_pickle_is_read_from_the_map_in_one_peek_not_a_read_per_opcode(monkeypatch):
    import pickle

    data = pickle.dumps((128, 40213, 3.0, 1, 12, 200)) + b"block data"
    buf = mapped.MemoryFile(memoryview(data))
    reads = []
    original = mapped.MemoryFile.read
    monkeypatch.setattr(mapped.MemoryFile, "read", lambda self, n=-1: reads.append(n) or original(self, n))
    assert pickle.load(buf) == (128, 40213, 3.0, 1, 12, 200)
    assert buf.read(5) == b"block"  # the unpickler left the position just after the pickle
    assert len(reads) <= 2


def test_a_phrase_is_checked_in_every_segment_when_an_empty_one_shares_an_offset(tmp_path, write_jsonl):
    """A run through the workers that merges away withdrawn articles and adds none of its own
    leaves an empty segment; the next publish's segment starts at the same docnum. Phrase
    checks once matched segments by offset, and a phrase search (here "HĐND", a synonym of
    "hội đồng nhân dân") answered with a KeyError."""
    settings = Settings.from_env(environ={}, workers=2)
    index = tmp_path / "index"
    council = "Hội đồng nhân dân tỉnh họp kỳ thứ {}"
    index_paths(index, [write_jsonl([article(f"a{i}", title=council.format(i)) for i in range(5)], "a.jsonl")],
                settings)
    for withdrawn in ("x", "y"):  # two one-article segments, then withdrawn
        index_paths(index, [write_jsonl([article(withdrawn, title="HĐND huyện tiếp xúc cử tri")], "x.jsonl")],
                    settings)
    engine_at(index, settings).delete(["x", "y"])
    rural = [article(f"n{i}", title=f"Xã {i} đạt chuẩn nông thôn mới") for i in range(200)]
    index_paths(index, [write_jsonl(rural, "n.jsonl")], settings)
    index_paths(index, [write_jsonl([article("z", title=council.format("mới"))], "z.jsonl")], settings)

    engine = _engine(index)
    offsets = [offset for _reader, offset in engine.view().leaves]
    empty = [reader.doc_count_all() == 0 for reader, _offset in engine.view().leaves]
    assert any(empty[i] and offsets[i] == offsets[i + 1] for i in range(len(offsets) - 1))
    assert engine.search(query='"hội đồng nhân dân"').total == 6
    assert engine.search(query="HĐND").total == 6
    engine.close()
