"""The matching rules of issue 10, on short texts written for the tests: typed accents are a
filter per syllable, long queries need most of their words, title-only articles, and
abbreviations and loanwords that stand for each other."""

import json
from dataclasses import replace

import pytest

from conftest import article
from engine_support import engine_at, index_paths
from vnsearch.synonyms import Synonyms, SynonymsError

DOCS = [
    article("rice", "Nông dân miền Tây thu hoạch lúa", "Giá lúa hè thu tăng nhẹ so với năm trước."),
    article("fire", "Lửa bùng lên ở kho hàng", "Ngọn lửa được dập tắt sau hai giờ."),
    article("choice", "Người tiêu dùng lựa chọn hàng Việt", "Nhiều gia đình lựa chọn hàng trong nước."),
    article("gold", "Giá vàng hôm nay tăng mạnh", "Giá vàng miếng SJC tăng theo giá thế giới."),
    article("fake", "Phát hiện vàng giả ở chợ", "Lô hàng giả được bày bán giá rẻ."),
    article("hanoi", "Hà Nội mở rộng tuyến phố đi bộ", "Thành phố Hà Nội thêm tuyến phố đi bộ mới."),
    article("hanoi-old", "Hà nội xưa trong ảnh", "Bộ ảnh về phố cổ Hà Nội những năm trước."),
    article("csgt", "Cảnh sát giao thông xử lý xe quá tải", "Tổ công tác cảnh sát giao thông kiểm tra xe tải."),
    article("csgt-abbr", "CSGT Hà Nội ra quân", "Lực lượng CSGT phân luồng trong giờ cao điểm."),
    article("apart", "Cảnh sát điều tra vụ tai nạn", "Vụ việc xảy ra trên một tuyến giao thông huyết mạch."),
    article("ubnd", "UBND tỉnh họp bàn phòng chống lũ", "Chủ tịch UBND tỉnh chỉ đạo sơ tán dân."),
    article("vaccine", "Tiêm vaccine cho trẻ em", "Trẻ em được tiêm vaccine tại trạm y tế phường."),
    article("vacxin", "Tiêm vắc xin mũi ba", "Người dân đi tiêm vắc xin mũi ba ở Mátxcơva."),
    article("hcm", "TP.HCM khởi công cầu mới", "Cây cầu nối hai quận của thành phố."),
    article("hcm-long", "Thành phố Hồ Chí Minh đón khách quốc tế", "Lượng khách tăng mạnh trong năm."),
    {"id": "photo", "title": "Ảnh: Hoàng hôn trên vịnh Hạ Long", "author": "Trần Minh"},
    {"id": "brief", "title": "Tin vắn: mưa lớn ở Quảng Ninh", "summary": "Mưa lớn kéo dài suốt đêm qua."},
    article("long", "Hội nghị về chuyển đổi số trong ngành ngân hàng",
            "Các ngân hàng thương mại đẩy mạnh chuyển đổi số và thanh toán không tiền mặt trong năm nay."),
    article("partial", "Ngân hàng tăng lãi suất huy động", "Lãi suất tiết kiệm tăng ở nhiều ngân hàng."),
    article("flood-most", "Tin thời tiết", "Mưa lũ ở miền Trung gây thiệt hại nặng, nông dân cho biết."),
    article("flood-some", "Tin thời tiết", "Mưa lũ, mưa lũ miền Trung, miền Trung gây thiệt hại, "
            "thiệt hại cho nông dân, nông dân gây lũ."),
]


pytestmark = pytest.mark.usefixtures("backend")  # each test on both engines


@pytest.fixture(scope="module")
def engine(tmp_path_factory, backend):
    tmp = tmp_path_factory.mktemp("matching")
    path = tmp / "docs.jsonl"
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in DOCS), encoding="utf-8")
    report = index_paths(tmp / "ix", [path])
    assert report.rejected == 0
    return engine_at(str(tmp / "ix"))


def ids(result):
    return [h.id for h in result.hits]


# -- typed accents are a filter, per syllable ----------------------------------------

def test_accented_syllable_never_matches_another_spelling(engine):
    result = engine.search(query="lúa")
    assert ids(result) == ["rice"] and result.total == 1 and result.relaxed == []
    assert ids(engine.search(query="lửa")) == ["fire"]


def test_unaccented_syllable_matches_every_spelling(engine):
    assert set(ids(engine.search(query="lua"))) == {"rice", "fire", "choice"}


def test_accent_filter_holds_in_the_newest_first_sort_and_the_facets(engine):
    result = engine.search(query="lúa", sort="newest")
    assert ids(result) == ["rice"] and sum(f.count for f in result.facets["category"]) <= 1


def test_mixed_query_mixes_the_rules(engine):
    # "Hà" as typed, "noi" in any spelling: "Hà Nội" and "Hà nội" both match
    assert set(ids(engine.search(query="Hà noi"))) == {"hanoi", "hanoi-old", "csgt-abbr"}


def test_tone_placement_case_and_nfd_do_not_change_the_filter(engine):
    import unicodedata
    for typed in ("HÀ NỘI", unicodedata.normalize("NFD", "Hà Nội")):
        assert set(ids(engine.search(query=typed))) == {"hanoi", "hanoi-old", "csgt-abbr"}


def test_accented_phrase_does_not_match_another_spelling(engine):
    assert ids(engine.search(query='"giá vàng"')) == ["gold"]
    assert set(ids(engine.search(query='"gia vang"'))) == {"gold"}
    assert ids(engine.search(query='"vàng giả"')) == ["fake"]


def test_title_prefix_and_exclusion_follow_the_accents_typed(engine):
    assert ids(engine.search(query="title:lửa")) == ["fire"]
    # excluding "lửa" keeps rice and choice, which only fold like it
    assert set(ids(engine.search(query="lua -lửa"))) == {"rice", "choice"}


def test_snippet_marks_only_the_spelling_typed(engine):
    snippet = engine.search(query="lúa").hits[0].snippet
    assert "<mark>lúa</mark>" in snippet and "<mark>lựa" not in snippet
    assert "<mark>lựa</mark>" in engine.search(query="lua chon").hits[0].snippet


def test_accent_typo_falls_back_to_any_spelling_and_says_so(engine):
    result = engine.search(query="tiềm vắc xin")
    assert result.relaxed == ["accents"]
    assert set(ids(result)) == {"vacxin", "vaccine"} and ids(result)[0] == "vacxin"
    assert result.to_dict()["relaxed"] == ["accents"]


# -- long queries need most words, not all --------------------------------------------

def test_long_query_with_one_absent_word_finds_the_article(engine):
    result = engine.search(query="ngân hàng chuyển đổi số thanh toán xyzqw")
    assert ids(result)[0] == "long" and result.relaxed == [] and result.missing == ["xyzqw"]


def test_article_holding_more_of_the_query_ranks_higher(engine):
    # 12 syllables, 9 needed: "flood-most" holds 11 of them once, "flood-some" 9, many times over
    result = engine.search(query="mưa lũ miền trung gây thiệt hại nặng cho nông dân vùng")
    assert ids(result) == ["flood-most", "flood-some"] and result.missing == ["vùng"]


def test_short_query_needs_every_word(engine):
    assert engine.search(query="giá vàng xyzqw").relaxed == ["words"]  # 3 syllables: all needed


def test_plus_word_is_required_however_long_the_query(engine):
    query = "ngân hàng chuyển đổi số thanh toán +xyzqw"
    result = engine.search(query=query)
    assert result.total == 0 and result.hits == []


def test_quoted_phrase_stays_strict_in_a_long_query(engine):
    result = engine.search(query='ngân hàng chuyển đổi số "lãi suất huy động"')
    assert ids(result) == ["partial"]


def test_no_article_with_most_words_ranks_any_word_and_says_so(engine):
    result = engine.search(query="hoàng hôn xyzqw abcde fghij")
    assert result.relaxed == ["words"] and ids(result) == ["photo"]
    assert result.missing == ["xyzqw", "abcde", "fghij"]


# -- title-only articles ---------------------------------------------------------------

def test_title_only_article_is_indexed_found_and_counted(engine):
    result = engine.search(query="hoang hon ha long")
    assert ids(result) == ["photo"] and result.hits[0].snippet == ""
    assert result.facets["author"][0].value == "Trần Minh"
    brief = engine.search(query="tin vắn mưa lớn")
    assert ids(brief) == ["brief"] and "<mark>Mưa</mark> <mark>lớn</mark>" in brief.hits[0].snippet


# -- abbreviations and loanwords -------------------------------------------------------

def test_abbreviation_finds_the_words_and_the_words_find_the_abbreviation(engine):
    # one set either way: the words spelled out match as the phrase they spell, not four words apart
    assert set(ids(engine.search(query="CSGT"))) == {"csgt", "csgt-abbr"}
    assert set(ids(engine.search(query="cảnh sát giao thông"))) == {"csgt", "csgt-abbr"}
    assert set(ids(engine.search(query="uỷ ban nhân dân"))) == {"ubnd"}


def test_city_spellings_are_one(engine):
    for typed in ("TP.HCM", "TP HCM", "tphcm", "thành phố Hồ Chí Minh"):
        assert set(ids(engine.search(query=typed))) == {"hcm", "hcm-long"}, typed


def test_loanword_spellings_are_one_and_highlighted(engine):
    result = engine.search(query="vaccine")
    assert set(ids(result)) == {"vaccine", "vacxin"}
    snippets = {h.id: h.snippet for h in result.hits}
    assert "<mark>vắc</mark> <mark>xin</mark>" in snippets["vacxin"]
    assert set(ids(engine.search(query="tiêm vắc xin Moscow"))) == {"vacxin"}


def test_newsroom_synonyms_file_adds_groups(engine, tmp_path):
    own = tmp_path / "synonyms.txt"
    own.write_text("# our own\nkho hàng, nhà kho\nSJC => vàng miếng\n", encoding="utf-8")
    mine = engine_at(engine.settings.index_dir, replace(engine.settings, synonyms=str(own)))
    assert set(ids(mine.search(query="nhà kho"))) == {"fire"}
    assert ids(mine.search(query="SJC")) == ["gold"]


def test_bad_synonyms_file_names_the_file_and_line(tmp_path):
    bad = tmp_path / "synonyms.txt"
    bad.write_text("UBND, uỷ ban nhân dân\nmột mình\n", encoding="utf-8")
    with pytest.raises(SynonymsError, match=rf"{bad}:2: a group needs two variants"):
        Synonyms.load(bad)


def test_quotes_in_a_pasted_lead_quote_someone(engine):
    # 18 syllables: a passage, so the quoted words count as words ("mạnh mẽ" is not in the article)
    lead = 'Nhiều ngân hàng thương mại "chuyển đổi số mạnh mẽ" và thanh toán không tiền mặt năm nay'
    assert ids(engine.search(query=lead))[0] == "long"
    # a short query keeps its phrase strict
    assert engine.search(query='ngân hàng "thanh toán chuyển đổi"').total == 0


def test_a_query_nothing_admits_however_relaxed_says_it_was_not_relaxed(engine):
    result = engine.search(query='ngân hàng chuyển đổi số thanh toán +xyzqw')
    assert (result.total, result.relaxed, result.missing) == (0, [], ["+xyzqw"])
