"""The foundation's promises on real articles (../shared/corpus; skipped when absent)."""

import json

import pytest
from click.testing import CliRunner

from vnsearch.cli import main
from engine_support import engine_at

pytestmark = pytest.mark.slow
SECTIONS = {"Xã hội", "Sức khoẻ", "Giáo dục", "Sức mạnh số", "Thế giới", "Thể thao", "Giải trí",
            "Khoa học công nghệ", "Kinh doanh", "Du lịch"}


def test_dantri_indexes_2653_articles_and_a_rerun_changes_nothing(dantri_index, dantri_reports, dantri):
    assert dantri_reports[0].added == 2653 and dantri_reports[0].rejected == 0
    result = CliRunner().invoke(main, ["index", str(dantri), "--index-dir", str(dantri_index), "-q"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "0 added, 0 updated, 2653 unchanged, 0 deleted, 0 rejected"


def test_stats_lists_the_ten_sections(dantri_index):
    result = CliRunner().invoke(main, ["stats", "--index-dir", str(dantri_index), "--json"])
    data = json.loads(result.stdout)
    assert data["articles"] == 2654  # dantri plus the seed page
    counts = {c["value"]: c["count"] for c in data["categories"]}
    assert SECTIONS <= set(counts)
    assert all(counts[s] >= 250 for s in SECTIONS)


def test_seed_page_is_the_first_hit_for_an_unaccented_query(dantri_index):
    hits = engine_at(str(dantri_index)).search(query="bi thu tinh uy cong thuong").hits
    assert hits[0].id == "000_093370158e588d45"


def test_both_tone_mark_styles_give_the_same_hits(dantri_index):
    engine = engine_at(str(dantri_index))
    a = engine.search(query="Ủy viên", per_page=100)
    b = engine.search(query="Uỷ viên", per_page=100)
    assert a.total == b.total > 100
    assert [h.id for h in a.hits] == [h.id for h in b.hits]


def test_seed_article_is_stored_without_other_headlines(dantri_index):
    stored = engine_at(str(dantri_index)).article("000_093370158e588d45")
    assert stored["author"] == "Hoàng Nga"
    assert "Lương Cường" not in stored["body"]
