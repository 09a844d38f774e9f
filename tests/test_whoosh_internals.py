"""The Whoosh internals the embedded engine relies on are all there, and the fast paths built on
them are the ones taken: a whoosh3 release that renames one fails here, not quietly slower."""

from __future__ import annotations

from array import array

from whoosh.codec import whoosh3

from conftest import article
from engine_support import engine_at, index_paths
from vnsearch.engines.whoosh import internals


def test_every_private_internal_the_engine_names_exists():
    assert internals.missing_internals() == []


def test_a_renamed_internal_is_named(monkeypatch):
    monkeypatch.delattr(whoosh3.W3LeafMatcher, "_read_data")
    assert internals.missing_internals() == ["W3LeafMatcher._read_data"]


def test_searching_takes_the_fast_paths(sample_index):
    reads, columns = internals.slow_reads, internals.slow_columns
    engine = engine_at(sample_index)
    assert engine.search(query="hòa bình").total == 4  # columns, postings, a phrase check
    assert engine.search(query='"bí thư"').total == 1
    assert (internals.slow_reads, internals.slow_columns) == (reads, columns)
    engine.close()


def test_posting_blocks_are_packed_arrays_that_whoosh_reads_as_well(tmp_path, write_jsonl):
    """Blocks of 64 postings or more hold their ids and counts as arrays (decoded by numpy in
    one call); Whoosh's own matchers, which merges use, read the same documents and counts."""
    records = [article(f"hn-{i}", title=f"Hà Nội đón đoàn khách số {i}",
                       body="Hà Nội " * (1 + i % 3) + "mùa thu.") for i in range(80)]
    index = tmp_path / "index"
    index_paths(index, [write_jsonl(records)])
    engine = engine_at(index)
    segreader = engine.searcher().view().leaves[0][0]
    matcher = internals._leaf(segreader.postings("body_fold", "ha"))
    matcher._read_data()
    assert all(isinstance(part, array) for part in matcher._data[:2])
    ids, counts = internals.read_postings(segreader, "body_fold", "ha")
    whoosh_matcher = segreader.postings("body_fold", "ha")
    assert list(ids) == list(whoosh_matcher.all_ids()) == list(range(80))
    expected = [1 + int(segreader.stored_fields(d)["id"][3:]) % 3 for d in ids]
    assert list(counts) == expected
    whoosh_counts, whoosh_matcher = [], segreader.postings("body_fold", "ha")
    while whoosh_matcher.is_active():
        whoosh_counts.append(whoosh_matcher.weight())
        whoosh_matcher.next()
    assert whoosh_counts == expected
    engine.close()


def test_document_frequencies_are_whooshs_own(sample_index, write_jsonl):
    index_paths(sample_index, [write_jsonl([article("hb-2", title="Hòa Bình đón mùa lúa mới")])])
    engine = engine_at(sample_index)
    view = engine.searcher().view()
    assert len(view.leaves) == 2
    for fieldname, term in (("title_syl", "hoà"), ("body_syl", "lúa"), ("title_fold", "binh"),
                            ("body_syl", "hoà_bình"), ("title_fold", "qxzqvw")):
        expected = view.reader.doc_frequency(fieldname, term)
        assert view.df(fieldname, term) == expected
    assert view.df("title_syl", "hoà") == 4  # three sample titles and the new one
    engine.close()


def test_term_entries_are_those_whooshs_hash_table_gives(sample_index):
    engine = engine_at(sample_index)
    segreader = engine.searcher().view().leaves[0][0]
    terms = segreader._terms
    words = [w.decode() for w in segreader.lexicon("body_syl")] + ["qxzqvw", "hoà_bìnhx", ""]
    found = 0
    for fieldname in ("body_syl", "title_fold", "id"):
        for word in words:
            entry = internals.term_entry(terms, fieldname, word.encode())
            assert entry == terms._tindex.get(terms._keycoder(fieldname, word.encode()))
            found += entry is not None
    assert found >= len(words) - 3
    engine.close()
