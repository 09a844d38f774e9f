"""What the site asks of the library (issue 12): suggestions that a filter does not spoil,
completions that keep what was typed, results for an obvious correction, several sections
at once, the source facet, one spelling of a section, titles as they should read, and
highlighting; on short texts written for the tests, and on dantri when ../shared has it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import article
from vnsearch.search import snippets
from vnsearch.articles import article_from_dict
from vnsearch.cli import main
from engine_support import engine_at, index_paths
from vnsearch.search import SearchRequest

DOCS = [
    # Hà Nội is in many titles; one sports title says "nỗi" (sorrow) instead.
    *[article(f"hn{i}", f"Hà Nội ghi nhận ca Covid-19 thứ {i}", "Hà Nội tăng cường xét nghiệm covid 19 ở các quận.",
              category="Xã hội", source="Dân Trí", date=f"2021-04-{i + 1:02d}T08:00:00+07:00") for i in range(6)],
    article("noi-buon", "Nỗi buồn của đội bóng vì Covid-19", "Trận đấu ở Hà Nội bị hoãn vì covid 19, cầu thủ rất buồn.",
            category="Thể thao", source="Thể thao 24h", date="2021-04-10T08:00:00+07:00"),
    # "giá vàng" in titles; "gia vị" (spice) too, and "với", "về" all over the bodies.
    *[article(f"vang{i}", f"Giá vàng hôm nay tăng phiên thứ {i}", "Giá vàng miếng tăng với giá thế giới, về mức cao.",
              category="Kinh doanh", source="Dân Trí", date=f"2021-03-{i + 1:02d}T08:00:00+07:00") for i in range(3)],
    *[article(f"giavi{i}", f"Gia vị Việt vào thị trường mới {i}", "Gia vị Việt được ưa chuộng với người nước ngoài.",
              category="Kinh doanh", source="Dân Trí", date=f"2021-02-{i + 1:02d}T08:00:00+07:00") for i in range(4)],
    # "lửa" (fire) far more often than "lúa" (rice).
    *[article(f"lua{i}", f"Lửa bùng lên ở kho hàng số {i}", "Ngọn lửa được dập tắt, lửa lan nhanh, đa số hàng đã cháy.",
              category="Xã hội", source="Dân Trí", date=f"2021-01-{i + 1:02d}T08:00:00+07:00") for i in range(4)],
    article("lua-gao", "Nông dân thu hoạch lúa", "Giá lúa tăng nhẹ.", category="Kinh doanh", source="HBĐT",
            date="2021-01-20T08:00:00+07:00"),
    # "bóng đá" against the commoner "được" and "đã".
    *[article(f"bd{i}", f"Bóng đá Việt Nam thắng trận {i}", "Đội bóng đã được khen, bóng đá được yêu thích.",
              category="Thể thao", source="Dân Trí", date=f"2021-04-{i + 10:02d}T08:00:00+07:00") for i in range(2)],
    article("camau", "Cà Mau đón mưa vàng", "Người dân Cà Mau vui mừng vì mưa.", category="Sức khỏe",
            source="Dân Trí", date="2021-04-20T08:00:00+07:00"),
    article("undated", "Tin không ghi ngày ở Cà Mau", "Một bài không có ngày đăng.", category="Sức khoẻ"),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    path = tmp / "docs.jsonl"
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in DOCS), encoding="utf-8")
    assert index_paths(tmp / "ix", [path]).rejected == 0
    return engine_at(str(tmp / "ix"))


# -- suggestions and completions -----------------------------------------------


def test_suggestion_does_not_get_worse_under_a_category_filter(engine):
    assert engine.search(query="covid 19 ha noi").suggestion == "Covid 19 Hà Nội"
    # The sports titles say "nỗi"; the suggestion is still the query's own.
    assert engine.search(query="covid 19 ha noi", category="Thể thao").suggestion == "Covid 19 Hà Nội"
    assert engine.search(query="covid 19 ha noi", sort="newest").suggestion == "Covid 19 Hà Nội"


def test_suggestion_writes_proper_nouns_with_their_capitals(engine):
    assert engine.search(query="Ca Mau").suggestion == "Cà Mau"
    assert engine.search(query="ca mau").suggestion == "Cà Mau"  # as the titles write it


def test_completion_keeps_the_accents_typed(engine):
    completions = engine.complete("giá v")
    assert completions[0] == "giá vàng"
    assert all(c.startswith("giá v") for c in completions), completions


def test_completion_of_an_accented_word_offers_that_word(engine):
    completions = engine.complete("lúa")
    assert completions and completions[0] == "lúa"
    assert "lửa" not in completions


def test_completion_finishes_a_word_begun_with_an_accented_letter(engine):
    assert engine.complete("bóng đ")[0] == "bóng đá"


def test_completion_keeps_the_query_syntax_typed(engine):
    assert engine.complete('"giá v')[0] == '"giá vàng'
    assert engine.complete("-bóng đ")[0] == "-bóng đá"


def test_completion_still_restores_accents_typed_without(engine):
    assert "giá vàng" in engine.complete("gia v")


# -- no result with an obvious fix ---------------------------------------------


def test_no_result_with_a_misspelling_gives_the_corrected_results(engine):
    result = engine.search(query="bóng đáa")
    assert result.corrected_from == "bóng đáa"
    assert result.query == "bóng đá"
    assert {h.id for h in result.hits} == {"bd0", "bd1"}
    assert result.to_dict()["corrected_from"] == "bóng đáa"


def test_no_correction_searches_the_words_as_typed(engine):
    result = engine.search(SearchRequest("bóng đáa", no_correction=True))
    # as typed, no article holds "đáa": the articles holding "bóng" come, and say so
    assert (result.corrected_from, result.suggestion, result.relaxed, result.missing) == (
        None, "bóng đá", ["words"], ["đáa"])


def test_results_as_typed_are_never_corrected(engine):
    assert engine.search(query="bóng đá").corrected_from is None


# -- filters and facets ---------------------------------------------------------


def test_several_categories_at_once(engine):
    both = engine.search(SearchRequest("", category=("Thể thao", "Kinh doanh"), per_page=100))
    assert {h.category for h in both.hits} == {"Thể thao", "Kinh doanh"}
    assert both.total == engine.search(category="Thể thao").total + engine.search(category="Kinh doanh").total


def test_source_is_a_facet(engine):
    sources = {v.value: v.count for v in engine.search(query="").facets["source"]}
    assert sources == {"Dân Trí": 20, "Thể thao 24h": 1, "HBĐT": 1}


def test_a_hit_names_its_category_as_the_facet_does(engine):
    facet = {v.value for v in engine.search(query="ca mau").facets["category"]}
    assert facet == {"Sức khoẻ"}  # "Sức khỏe" and "Sức khoẻ" are one section
    assert {h.category for h in engine.search(query="ca mau").hits} == {"Sức khoẻ"}


# -- titles and highlighting ----------------------------------------------------


def test_html_entities_in_titles_are_decoded_on_input():
    record = article_from_dict({"id": "x", "title": "Giá vàng lúc&nbsp11h &amp; chiều&nbsp;nay", "body": "Tin."})
    assert record.title == "Giá vàng lúc 11h & chiều nay"


def test_highlight_marks_every_occurrence_and_escapes_the_rest():
    text = "Hoà Bình <b>mưa</b>; tỉnh Hòa Bình nắng & HOÀ BÌNH gió."
    marked = snippets.highlight(text, snippets.query_terms("hoa binh -nang"))
    assert marked.count("<mark>") == 6
    assert "&lt;b&gt;mưa&lt;/b&gt;" in marked and "<mark>HOÀ</mark> <mark>BÌNH</mark>" in marked
    assert "<mark>nắng</mark>" not in marked  # an excluded word is not what was looked for


# -- the command line -----------------------------------------------------------


@pytest.fixture(scope="module")
def index_dir(engine):
    return engine.index_dir


def test_cli_category_may_be_repeated(index_dir):
    result = CliRunner().invoke(main, ["search", "", "--index-dir", index_dir, "--json", "--per-page", "100",
                                       "--category", "Thể thao", "--category", "Kinh doanh"])
    assert result.exit_code == 0, result.output
    assert {h["category"] for h in json.loads(result.stdout)["hits"]} == {"Thể thao", "Kinh doanh"}


def test_cli_says_when_it_shows_corrected_results(index_dir):
    result = CliRunner().invoke(main, ["search", "bóng đáa", "--index-dir", index_dir])
    assert result.exit_code == 0, result.output
    assert "Không có kết quả cho “bóng đáa”: đang hiện kết quả cho “bóng đá”." in result.stdout


def test_serve_has_a_flag_to_turn_the_access_log_off():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert "--no-access-log" in result.stdout


# -- the real corpus ------------------------------------------------------------


@pytest.fixture(scope="module")
def dantri_engine(dantri_index):
    return engine_at(str(dantri_index))


@pytest.mark.slow
@pytest.mark.parametrize("query,expected", [("covid 19 ha noi", "Covid 19 Hà Nội"),
                                            ("cong thuong hoa binh", "công thương Hoà Bình")])
def test_dantri_suggestion_is_the_same_under_every_category(dantri_engine, query, expected):
    assert dantri_engine.search(query=query).suggestion == expected
    for category in dantri_engine.stats()["categories"]:
        filtered = dantri_engine.search(query=query, category=category["value"])
        if filtered.total:
            assert filtered.suggestion == expected, category["value"]


@pytest.mark.slow
def test_dantri_completions_keep_what_was_typed(dantri_engine):
    assert dantri_engine.complete("giá v")[0] == "giá vàng"
    assert dantri_engine.complete("lúa")[0] == "lúa"
    assert dantri_engine.complete("bóng đ")[0] == "bóng đá"
    assert dantri_engine.search(query="Ca Mau").suggestion == "Cà Mau"


@pytest.mark.slow
def test_dantri_misspelling_shows_the_corrected_results(dantri_engine):
    result = dantri_engine.search(query="bóng đáa")
    assert result.corrected_from == "bóng đáa" and result.total > 100


@pytest.mark.slow
def test_readme_first_example_works_on_the_data_run_sh_indexes(dantri_engine):
    import re

    from conftest import ROOT

    intro = (ROOT / "README.md").read_text(encoding="utf-8").split("## ", 1)[0]
    match = re.search(r'Readers type `([^`]+)` on a phone and find "([^"]+)"', intro)
    assert match, "the README's first example moved: update this test"
    query, expected = match.groups()
    first = dantri_engine.search(query=query).hits[0]
    assert expected in first.title and first.source == "HBĐT"  # the seed page, from Báo Hòa Bình
