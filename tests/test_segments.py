"""Segment writing: in-memory postings write what Whoosh's own writer writes; worker processes
that write segments of their own index exactly what one process does."""

import errno
import os

import pytest
from whoosh import writing

from robustness_support import EVERY_ARTICLE, assert_each_once, corpus_id, stored_ids, unique_token, write_corpus
from vnsearch.engines.whoosh import indexer, segment_merge, segment_writer, workers as segments
from vnsearch.config import Settings
from vnsearch.readers import read_paths as read_records
from vnsearch.documents import document_fields
from vnsearch.engines.whoosh.indexer import Indexer
from vnsearch.engines.whoosh.store import open_index
from conftest import article
from engine_support import engine_at, index_paths
from vnsearch.search.request import SearchRequest


def all_postings(index_dir) -> dict:
    """Every posting of every indexed field: {(field, term): [(docnum, weight, positions), ...]}
    (positions None in fields without them: their value bytes are the format's business), and lengths."""
    ix = open_index(index_dir)
    with ix.reader() as reader:
        postings = {}
        for fieldname, btext in reader.all_terms():
            matcher = reader.postings(fieldname, btext)
            positional = ix.schema[fieldname].format.supports("positions")
            rows = []
            while matcher.is_active():
                rows.append((matcher.id(), matcher.weight(), matcher.value_as("positions") if positional else None))
                matcher.next()
            postings[fieldname, btext] = rows
        lengths = {name: [reader.doc_field_length(d, name) for d in range(reader.doc_count_all())]
                   for name in ix.schema.scorable_names()}
        return postings, lengths


def write_with(writer_class, index_dir, articles, commits: int = 1, optimize: bool = False, withdraw=()):
    ix = open_index(index_dir, create=True)
    share = -(-len(articles) // commits)
    for start in range(0, len(articles), share):
        writer = writer_class(ix)
        for article in articles[start:start + share]:
            writer.add_document(**document_fields(article))
        writer.commit(merge=False)
    if withdraw:
        writer = writer_class(ix)
        for article_id in withdraw:
            writer.delete_by_term("id", article_id)
        writer.commit(merge=False)
    if optimize:
        writer_class(ix).commit(optimize=True)


@pytest.fixture(scope="module")
def sample_articles():
    from vnsearch import sample_articles_path
    return [r for r in read_records([sample_articles_path()])]


def test_memory_pool_writes_exactly_the_postings_whoosh_writes(tmp_path, sample_articles):
    write_with(writing.SegmentWriter, tmp_path / "whoosh", sample_articles)
    write_with(segment_writer.SegmentWriter, tmp_path / "ours", sample_articles)
    theirs, ours = all_postings(tmp_path / "whoosh"), all_postings(tmp_path / "ours")
    assert ("title_fold", "cong_thuong".encode()) in ours[0]  # real Vietnamese compounds were written
    assert ours == theirs


def test_merged_segments_keep_their_postings_in_document_order(tmp_path, sample_articles):
    # An optimize merges three segments: postings arrive from each in turn, renumbered.
    write_with(writing.SegmentWriter, tmp_path / "whoosh", sample_articles, commits=3, optimize=True)
    write_with(segment_writer.SegmentWriter, tmp_path / "ours", sample_articles, commits=3, optimize=True)
    assert len(open_index(tmp_path / "ours").reader().leaf_readers()) == 1
    assert all_postings(tmp_path / "ours") == all_postings(tmp_path / "whoosh")


def term_infos(index_dir) -> dict:
    """What the term index says of every term: frequencies, lengths, weights, first and last ids."""
    with open_index(index_dir).reader() as reader:
        return {term: _info_row(reader.term_info(*term)) for term in reader.all_terms()}


def _info_row(info) -> tuple:
    return (info.doc_frequency(), info.weight(), info.min_length(), info.max_length(), info.max_weight(),
            info.min_id(), info.max_id())


def test_block_merge_writes_what_whooshs_merge_writes(tmp_path, monkeypatch):
    """300 articles in three segments, a sixth of them withdrawn, merged into one: ids renumbered
    past the deleted documents, posting lists longer than a block (positions: 128 a block) and
    terms of one posting (inlined), the same as Whoosh's merge writes, posting by posting."""
    articles = list(read_records([write_corpus(tmp_path / "a.jsonl", count=300)]))
    withdrawn = [corpus_id(n) for n in range(0, 300, 6)]
    block_terms = []
    write_arrays = segment_writer._PostingsWriter.write_arrays
    monkeypatch.setattr(segment_writer._PostingsWriter, "write_arrays",
                        lambda self, ids, *rest: block_terms.append(len(ids)) or write_arrays(self, ids, *rest))
    for name, can_merge in [("ours", segment_merge.can_merge), ("whoosh", lambda reader: False)]:
        monkeypatch.setattr(segment_merge, "can_merge", can_merge)
        write_with(segment_writer.SegmentWriter, tmp_path / name, articles, commits=3, withdraw=withdrawn,
                   optimize=True)
    assert len(open_index(tmp_path / "ours").reader().leaf_readers()) == 1
    assert max(block_terms) > 128 and len(block_terms) > 50  # the block path wrote long lists
    assert all_postings(tmp_path / "ours") == all_postings(tmp_path / "whoosh")
    assert term_infos(tmp_path / "ours") == term_infos(tmp_path / "whoosh")
    assert sorted(stored_ids(tmp_path / "ours")) == sorted(stored_ids(tmp_path / "whoosh"))
    assert len(stored_ids(tmp_path / "ours")) == 250
    engine = engine_at(tmp_path / "ours")
    assert engine.search(query=f'"{unique_token(7)}"').total == 1
    assert engine.article(corpus_id(6)) is None and engine.article(corpus_id(7)) is not None  # withdrawn, kept


def test_postings_hold_no_more_than_search_reads(tmp_path, write_jsonl):
    """Counts are weights only, a term of one posting lives in the term index, a date is a column."""
    records = [article(f"n{i}", title=f"Giá lúa hôm nay {i}", body=f"Giá lúa tăng, giá lúa giảm {i}.") for i in range(3)]
    index_paths(tmp_path / "ix", [write_jsonl(records)])
    with open_index(tmp_path / "ix").reader() as reader:
        assert "date" not in reader.indexed_field_names() and "content_hash" not in reader.indexed_field_names()
        assert reader.column_reader("content_hash")[2] != reader.column_reader("content_hash")[1]
        common, rare = reader.term_info("body_fold", "gia"), reader.term_info("body_fold", "2")
        assert not common.is_inlined() and rare.is_inlined()
        assert rare.inlined_postings() == ((2,), (1,), ())  # docnum, count as an int, no value bytes
        matcher = reader.postings("body_pos", "lua")
        assert matcher.value_as("positions") == [1, 4]  # "gia lua tang gia lua giam"
        assert matcher.weight() == 1.0  # body_pos is read by phrases only: no weights stored


def test_merged_segments_keep_positions_of_inlined_and_block_terms(tmp_path, write_jsonl):
    """Twelve publishes merge into one segment: rare terms (inlined) and common ones (in blocks)
    come through the merge with their positions, so phrases still find them."""
    for n in range(12):
        index_paths(tmp_path / "ix", [write_jsonl([article(f"p{n}", title=f"Tin số {n}", body=f"Hà Nội mưa lớn ở quận {n}x.")],
                                                  name=f"p{n}.jsonl")])
    assert len(open_index(tmp_path / "ix").reader().leaf_readers()) < 10
    engine = engine_at(tmp_path / "ix")
    assert engine.search(SearchRequest(query='"mua lon o quan"', per_page=20)).total == 12
    assert [h.id for h in engine.search(SearchRequest(query='"quận 7x"')).hits] == ["p7"]
    assert [h.id for h in engine.search(SearchRequest(query="7x")).hits] == ["p7"]


def test_memory_pool_yields_terms_and_documents_in_order():
    pool = segment_writer.MemoryPostingPool()
    for item in [("b", b"x", 0, 1.0, b"\x01"), ("a", "thương".encode(), 3, 2.0, b"\x02"),
                 ("a", "công".encode(), 1, 1.0, b"\x01"), ("a", "thương".encode(), 0, 1.0, b"\x01")]:
        pool.add(item)
    assert [(f, t.decode(), d) for f, t, d, _, _ in pool.iter_postings()] == [
        ("a", "công", 1), ("a", "thương", 0), ("a", "thương", 3), ("b", "x", 0)]


PARALLEL = Settings(workers=2, batch_size=indexer.PARALLEL_THRESHOLD, commit_every=150, commit_seconds=600)


def test_worker_processes_index_what_one_process_indexes(tmp_path):
    corpus = write_corpus(tmp_path / "articles.jsonl", count=400)
    alone = Indexer(tmp_path / "one", Settings(workers=1, commit_every=150)).index(read_records([corpus]))
    together = Indexer(tmp_path / "two", PARALLEL).index(read_records([corpus]))
    assert alone.summary() == together.summary() == "400 added, 0 updated, 0 unchanged, 0 deleted, 0 rejected"
    # Each commit holds one segment per worker (the last commit merges the small ones).
    assert together.commits == alone.commits == 3
    assert_each_once(tmp_path / "two", range(400))
    one, two = engine_at(str(tmp_path / "one")), engine_at(str(tmp_path / "two"))
    for query in [EVERY_ARTICLE, "Hoà Bình", "thoi su", "\"khanh hoa\"", "Thanh Hoá -Hà"]:
        a, b = one.search(query=query), two.search(query=query)
        assert a.total == b.total > 0, query
        assert sorted(h.id for h in a.hits) == sorted(h.id for h in b.hits), query


def test_worker_processes_replace_changed_articles_once(tmp_path):
    index_dir = tmp_path / "ix"
    Indexer(index_dir, PARALLEL).index(read_records([write_corpus(tmp_path / "a.jsonl", count=300)]))
    changed = write_corpus(tmp_path / "b.jsonl", count=300, start=200)  # 100 known ids, 200 new
    lines = changed.read_text(encoding="utf-8").splitlines()
    changed.write_text("\n".join(line.replace("sự kiện", "sự kiện mới", 1) if i < 100 else line
                                 for i, line in enumerate(lines)) + "\n", encoding="utf-8")
    report = Indexer(index_dir, PARALLEL).index(read_records([changed]))
    assert (report.added, report.updated, report.unchanged) == (200, 100, 0)
    assert_each_once(index_dir, range(500))
    assert engine_at(str(index_dir)).search(query="\"su kien moi\"").total == 100


def test_pool_at_its_memory_limit_makes_the_indexer_commit(tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "POOL_LIMIT_BYTES", 1)  # every worker is full after its first articles
    settings = Settings(workers=2, batch_size=indexer.PARALLEL_THRESHOLD, commit_every=10_000, commit_seconds=600)
    # A worker's "full" reaches the indexer when it next hands over articles, and the job queue
    # holds about 160 of them: 800 articles give room for several commits however busy the machine.
    report = Indexer(tmp_path / "ix", settings).index(read_records([write_corpus(tmp_path / "a.jsonl", count=800)]))
    assert report.commits > 2
    assert_each_once(tmp_path / "ix", range(800))


def test_a_failing_worker_stops_the_run_and_the_index_keeps_its_last_commit(tmp_path, monkeypatch):
    parent = os.getpid()
    fail_on = corpus_id(250)

    def failing(article):
        if os.getpid() != parent and article.id == fail_on:
            raise OSError(errno.ENOSPC, "No space left on device")
        return document_fields(article)

    monkeypatch.setattr(indexer, "document_fields", failing)  # inherited by the forked workers
    with pytest.raises(OSError) as raised:
        Indexer(tmp_path / "ix", PARALLEL).index(read_records([write_corpus(tmp_path / "a.jsonl", count=400)]))
    assert raised.value.errno == errno.ENOSPC
    assert sorted(stored_ids(tmp_path / "ix")) == sorted(corpus_id(n) for n in range(150))
    monkeypatch.undo()  # the rerun also shows that the write locks were released
    rerun = Indexer(tmp_path / "ix", PARALLEL).index(read_records([tmp_path / "a.jsonl"]))
    assert (rerun.added, rerun.unchanged) == (250, 150)
    assert_each_once(tmp_path / "ix", range(400))


def test_a_worker_killed_by_the_system_stops_the_run_with_a_clear_message(tmp_path, monkeypatch):
    """As the OOM killer would: the run ends with a message, the index keeps its last commit."""
    import signal

    from click.testing import CliRunner

    from vnsearch.cli import main

    parent = os.getpid()

    def killed(article):
        if os.getpid() != parent and article.id == corpus_id(250):
            os.kill(os.getpid(), signal.SIGKILL)
        return document_fields(article)

    monkeypatch.setattr(indexer, "document_fields", killed)
    corpus = write_corpus(tmp_path / "a.jsonl", count=400)
    env = {"VNSEARCH_WORKERS": "2", "VNSEARCH_BATCH_SIZE": "200", "VNSEARCH_COMMIT_EVERY": "150"}
    result = CliRunner().invoke(main, ["index", str(corpus), "--index-dir", str(tmp_path / "ix"), "-q"], env=env)
    assert result.exit_code == 1
    assert "was killed by signal 9" in result.output and "run the same command again" in result.output
    assert sorted(stored_ids(tmp_path / "ix")) == sorted(corpus_id(n) for n in range(150))
    monkeypatch.undo()
    rerun = CliRunner().invoke(main, ["index", str(corpus), "--index-dir", str(tmp_path / "ix"), "-q"], env=env)
    assert rerun.exit_code == 0, rerun.output
    assert rerun.output.strip() == "250 added, 0 updated, 150 unchanged, 0 deleted, 0 rejected"
    assert_each_once(tmp_path / "ix", range(400))


def test_replies_that_arrive_while_finish_is_still_asking_are_not_lost(tmp_path):
    """Idle workers answer ``finish`` at once, often before it has asked the last one."""
    import threading

    open_index(tmp_path / "ix", create=True)
    workers = segments.SegmentWorkers(tmp_path / "ix", 2, document_fields)
    rounds = []

    def cycle():
        for _ in range(200):
            rounds.append(workers.finish())
            workers.resume()

    thread = threading.Thread(target=cycle, daemon=True)
    thread.start()
    thread.join(timeout=60)
    try:
        assert not thread.is_alive(), f"finish() waited for a reply it had already received (round {len(rounds)})"
        assert rounds == [[]] * 200  # no articles: no segments
    finally:
        if thread.is_alive():
            workers.terminate()
        else:
            workers.finish()
            workers.close()
