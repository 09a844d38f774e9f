"""The Whoosh internals the embedded engine relies on are all there, and the fast paths built on
them are the ones taken: a whoosh3 release that renames one fails here, not quietly slower."""

from __future__ import annotations

from whoosh.codec import whoosh3

from engine_support import engine_at
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
