"""Phrase checks read positions with numpy (vnsearch.engines.whoosh.phrases): they must admit
exactly the documents Whoosh's own ``Phrase`` query admits, segment by segment."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh.query import Phrase

from conftest import article
from engine_support import engine_at, index_paths
from vnsearch.config import Settings
from vnsearch.engines.whoosh import phrases

ARTICLES = [
    article("p-1", title="Hà Nội mùa thu", body="Mùa thu Hà Nội đẹp. Người Hà Nội yêu mùa thu."),
    article("p-2", title="Nội dung mới", body="Hà Giang và Nội Bài: hai nơi, không phải Hà Nội."),
    article("p-3", title="Ha ha, vui quá", body="Cười ha ha ha giữa phố Hà Nội Hà Nội."),
    article("p-4", title="Thủ đô", body="Nội Hà là tên một xóm, Hà là họ, Nội là tên."),
    article("p-5", title="Công thương", body="Sở công thương Hà Nội họp. Bộ Công Thương Việt Nam."),
    article("p-6", title="Hoa Kỳ và Việt Nam", body="Việt Nam và Hoa Kỳ ký thỏa thuận. Nam Việt Nam."),
]
PHRASES = [("ha", "noi"), ("noi", "ha"), ("ha", "ha"), ("ha", "ha", "ha"), ("ha", "noi", "ha", "noi"),
           ("mua", "thu", "ha", "noi"), ("cong", "thuong"), ("so", "cong"), ("viet", "nam", "va"),
           ("nam", "viet", "nam"), ("hoa", "ki"), ("ha", "khong"), ("khong", "co", "trong", "chi", "muc")]


@pytest.fixture
def searcher(tmp_path, write_jsonl):
    index_dir = tmp_path / "index"
    index_paths(index_dir, [write_jsonl(ARTICLES[:3], "a.jsonl")])
    index_paths(index_dir, [write_jsonl(ARTICLES[3:], "b.jsonl")])  # a second segment
    engine = engine_at(str(index_dir), Settings.from_env(environ={})).searcher()
    yield engine
    engine.close()


def test_phrase_docs_are_exactly_whooshs(searcher):
    view = searcher.view()
    assert len(view.leaves) == 2
    found = 0
    for terms in PHRASES:
        for fieldname in ("body_pos", "title_fold"):
            for (segreader, _), (subsearcher, _) in zip(view.leaves, view.searcher.leaf_searchers()):
                ours = phrases.segment_phrase_docs(segreader, subsearcher, fieldname, terms)
                whooshs = np.fromiter(subsearcher.docs_for_query(Phrase(fieldname, list(terms))), dtype=np.int64)
                assert ours.tolist() == whooshs.tolist(), (terms, fieldname)
                found += len(ours)
    assert found > 10  # the cases hold phrases, not only misses


def test_a_quoted_phrase_finds_words_in_order_only(searcher):
    assert {h.id for h in searcher.search(query='"hà nội hà nội"').hits} == {"p-3"}
    assert {h.id for h in searcher.search(query='"nội hà"').hits} == {"p-3", "p-4"}  # not "Hà Nội đẹp. Người Hà Nội"
    assert {h.id for h in searcher.search(query='"ha ha ha"').hits} == {"p-3"}
