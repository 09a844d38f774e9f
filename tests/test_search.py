"""Search rules: accent-insensitive matching, accent-aware ranking, query language, filters,
facets, snippets, suggestions and related articles, on short texts written for the tests."""

import unicodedata
from datetime import date

import pytest

from conftest import article
from engine_support import engine_at, index_paths
from vnsearch.search import SearchError, SearchRequest

DOCS = [
    article("ct", "Sở Công Thương tỉnh Hòa Bình họp báo", "Bí thư Tỉnh ủy dự buổi họp của ngành công thương.",
            date="2021-04-10T09:00:00+07:00", category="Kinh tế", author="Hoàng Nga", source="HBĐT"),
    article("ma", "Cấp mã số thuế cho hộ kinh doanh", "Hộ kinh doanh đăng ký mã số thuế trực tuyến.",
            date="2021-04-01T09:00:00+07:00", category="Kinh doanh", author="Trần Minh", source="Dân Trí"),
    article("maa", "Chuyện má số ba ở xóm nhỏ", "Cả xóm gọi bà là má số ba, người mẹ của những chiến sĩ.",
            date="2021-04-01T09:00:00+07:00", category="Xã hội", author="Lê Thu", source="Dân Trí"),
    article("dang", "Đảng bộ tỉnh tổng kết năm", "Ban Chấp hành Đảng bộ tỉnh họp tổng kết công tác năm.",
            date="2020-12-28T09:00:00+07:00", category="Chính trị", author="Hoàng Nga", source="HBĐT"),
    article("td-title", "Nhà máy thủy điện mở rộng", "Công trình được khởi công vào mùa khô.",
            date="2021-03-01T09:00:00+07:00", category="Kinh tế", author="Trần Minh", source="Dân Trí"),
    article("td-body", "Mùa khô ở miền núi", "Người dân sống gần nhà máy thuỷ điện lo thiếu nước.",
            date="2021-03-01T09:00:00+07:00", category="Kinh tế", author="Trần Minh", source="Dân Trí"),
    article("old", "Giá vàng trong nước tăng", "Giá vàng miếng tăng theo giá thế giới.",
            date="2019-05-02T09:00:00+07:00", category="Kinh doanh", author="Trần Minh", source="Dân Trí"),
    article("new", "Giá vàng trong nước tăng", "Giá vàng miếng tăng theo giá thế giới.",
            date="2021-04-30T23:30:00+07:00", category="Kinh doanh", author="Trần Minh", source="Dân Trí"),
    article("may1", "Bóng đá Việt Nam chuẩn bị vòng loại", "Đội tuyển bóng đá tập trung tại Hà Nội.",
            date="2021-05-01T00:30:00+07:00", category="Thể thao", author="Ngô Quang", source="Dân Trí"),
    article("xss", "<script>alert(1)</script> Tin nóng", "Nội dung có <b>thẻ</b> & ký tự đặc biệt về Hà Nội.",
            date="2021-02-01T09:00:00+07:00", category="Xã hội", author="Lê Thu", source="Dân Trí"),
    article("covid", "Hà Nội tiêm vắc xin Covid-19", "Thành phố tiêm vaccine cho người dân nội thành.",
            date="2021-04-25T09:00:00+07:00", category="Sức khỏe", author="Lê Thu", source="Dân Trí"),
]


pytestmark = pytest.mark.usefixtures("backend")  # each test on both engines


@pytest.fixture(scope="module")
def engine(tmp_path_factory, backend):
    tmp = tmp_path_factory.mktemp("search")
    path = tmp / "docs.jsonl"
    import json

    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in DOCS), encoding="utf-8")
    index_paths(tmp / "ix", [path])
    return engine_at(str(tmp / "ix"))


def ids(result):
    return [h.id for h in result.hits]


# -- matching -------------------------------------------------------------------

def test_unaccented_query_finds_accented_words(engine):
    assert ids(engine.search(query="cong thuong"))[0] == "ct"


def test_d_folds_to_d_stroke(engine):
    assert "dang" in ids(engine.search(query="dang bo"))


def test_unaccented_phrase_finds_the_accented_phrase(engine):
    assert ids(engine.search(query='"bi thu tinh uy"')) == ["ct"]


@pytest.mark.parametrize("variant", ["Hòa Bình", "Hoà Bình", "HOÀ BÌNH", "hoa binh",
                                     unicodedata.normalize("NFD", "Hòa Bình")])
def test_tone_placement_nfd_and_case_never_change_results(engine, variant):
    assert ids(engine.search(query=variant)) == ids(engine.search(query="Hòa Bình")) == ["ct"]


def test_old_and_new_tone_marks_find_each_other(engine):
    assert set(ids(engine.search(query="thuỷ điện"))) == {"td-title", "td-body"}
    assert ids(engine.search(query="thuỷ điện")) == ids(engine.search(query="thủy điện"))


# -- ranking --------------------------------------------------------------------

def test_accented_query_matches_only_the_accents_typed(engine):
    assert ids(engine.search(query="mã số")) == ["ma"]
    assert ids(engine.search(query="má số")) == ["maa"]


def test_unaccented_query_matches_both_spellings(engine):
    assert set(ids(engine.search(query="ma so"))) >= {"ma", "maa"}


def test_title_match_outranks_body_match(engine):
    assert ids(engine.search(query="thủy điện")) == ["td-title", "td-body"]


def test_newer_article_ranks_higher_among_equals(engine):
    assert ids(engine.search(query="giá vàng"))[:2] == ["new", "old"]


def test_recency_boost_is_configurable(tmp_path_factory, engine):
    from dataclasses import replace

    flat = engine_at(engine.settings.index_dir, replace(engine.settings, recency_weight=0.0))
    scores = {h.id: h.score for h in flat.search(query="giá vàng").hits}
    assert scores["new"] == scores["old"]


def test_sort_newest_and_oldest_order_by_date(engine):
    newest = engine.search(query="", sort="newest", per_page=100)
    dates = [h.date for h in newest.hits]
    assert dates == sorted(dates, reverse=True)
    assert ids(engine.search(query="giá vàng", sort="oldest")) == ["old", "new"]


# -- query language -------------------------------------------------------------

def test_minus_excludes_words_and_phrases(engine):
    assert "covid" not in ids(engine.search(query="hà nội -covid"))
    assert ids(engine.search(query='hà nội -"bóng đá"')) == [i for i in ids(engine.search(query="hà nội")) if i != "may1"]


def test_or_finds_either(engine):
    assert set(ids(engine.search(query="vaccine OR thuế"))) == {"covid", "ma"}


def test_field_prefixes(engine):
    assert ids(engine.search(query="title:thủy điện")) == ["td-title"]
    assert set(ids(engine.search(query='author:"hoang nga"'))) == {"ct", "dang"}
    assert set(ids(engine.search(query='category:"kinh doanh" gia vang'))) == {"new", "old"}


def test_wildcards_expand_a_bounded_number_of_terms(engine):
    assert "ct" in ids(engine.search(query="thuong*"))
    assert engine.search(query="*").total == engine.search(query="").total  # a lone star is ignored


def test_or_alternatives_and_wildcards_are_bounded_per_query():
    from vnsearch.query import MAX_CLAUSES, MAX_WILDCARDS, parse

    many = parse(" OR ".join(f"th{c}*" for c in "abcdefghiklmnopqrstuvxy"))
    alternatives = [c for group in many.any_of for c in group]
    assert sum(bool(c.wildcard) for c in alternatives) == MAX_WILDCARDS
    assert "thx" in [c.text for c in alternatives]  # the rest are read as words
    words = parse(" OR ".join(f"từ{i}" for i in range(200)))
    assert words.truncated and len(words.clauses) + sum(len(g) for g in words.any_of) <= MAX_CLAUSES
    assert [len(g) for g in parse(" OR ".join(["cong*"] * 100)).any_of] in ([], [1], [2])


@pytest.mark.parametrize("query", ["OR", "-", "title:", "*", "?", "::", '"', "\x00\u200b", "-\"\"", "OR OR OR",
                                   "(((", "\\"])
def test_queries_without_words_browse_every_article_newest_first(engine, query):
    result, browsing = engine.search(query=query), engine.search(query="", sort="newest")
    assert result.total == browsing.total == len(DOCS) and result.missing == [] and result.relaxed == []
    assert [h.id for h in result.hits] == [h.id for h in browsing.hits]


@pytest.mark.parametrize("query,total,missing", [
    ('"bi thu', 1, []),  # an unbalanced quote closes at the end: the phrase "bí thư"
    ("a:b:c", 0, ["a", "b", "c"]),  # an unknown field prefix is read as words
    ("x" * 2000, 0, ["x" * 2000]),
    ("cong " * 400, 3, []),  # cut to the clause limit, and still a query: the 3 articles holding "cong"
])
def test_odd_queries_with_words_are_read_as_words(engine, query, total, missing):
    result = engine.search(query=query)
    assert (result.total, result.missing) == (total, missing)


@pytest.mark.parametrize("kwargs,message", [
    ({"sort": "random"}, "Cách sắp xếp không hợp lệ: hãy dùng relevance, newest, oldest"),
    ({"page": 0}, "Số trang phải là số nguyên từ 1 trở lên"),
    ({"per_page": 1000}, "Số kết quả mỗi trang phải là số nguyên từ 1 đến 100"),
    ({"date_from": date(2021, 5, 1), "date_to": date(2021, 4, 1)}, "Ngày bắt đầu phải trước hoặc bằng ngày kết thúc"),
    ({"query": "cong " * 400 + "x"}, "Câu tìm kiếm quá dài \\(2.001 ký tự\\); tối đa 2.000"),  # the web's 400 says the same
])
def test_bad_requests_raise_search_error_with_a_message(engine, kwargs, message):
    with pytest.raises(SearchError, match=message):
        engine.search(SearchRequest(**{"query": "ha noi", **kwargs}))


def test_page_past_the_end_is_empty_not_an_error(engine):
    result = engine.search(query="ha noi", page=1_000_000_000)
    assert result.hits == [] and result.total > 0


# -- filters and facets -----------------------------------------------------------

def test_filters_combine(engine):
    result = engine.search(query="", category="Kinh doanh", author="Trần Minh", source="Dân Trí",
                           date_from=date(2021, 1, 1), per_page=50)
    assert ids(result) == ["new", "ma"]


def test_category_filter_ignores_accents_and_tone_style(engine):
    assert set(ids(engine.search(query="", category="Sức khoẻ"))) == {"covid"}
    assert set(ids(engine.search(query="", category="suc khoe"))) == {"covid"}


def test_date_range_is_whole_days_in_vietnam_time(engine):
    april_30 = engine.search(query="", date_from=date(2021, 4, 30), date_to=date(2021, 4, 30))
    assert ids(april_30) == ["new"]  # 23:30 on the 30th is in; 00:30 on 1 May (17:30 UTC on the 30th) is not
    may_1 = engine.search(query="", date_from=date(2021, 5, 1), date_to=date(2021, 5, 1))
    assert ids(may_1) == ["may1"]


def test_facets_count_the_current_query(engine):
    result = engine.search(query='"giá vàng" OR thuế')
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    assert facets["category"] == {"Kinh doanh": 3}
    assert facets["year"] == {"2019": 1, "2021": 2}
    assert facets["month"] == {"2019-05": 1, "2021-04": 2}
    assert facets["author"] == {"Trần Minh": 3}


# -- results ----------------------------------------------------------------------

def test_snippet_marks_accented_words_for_unaccented_query(engine):
    hit = engine.search(query="cong thuong").hits[0]
    assert "<mark>công</mark> <mark>thương</mark>" in hit.snippet


def test_snippet_escapes_markup_from_articles(engine):
    hit = engine.search(query="ky tu dac biet").hits[0]
    assert "thẻ &amp; <mark>ký</mark>" in hit.snippet  # the <b> was reduced to text at import
    assert "<b>" not in hit.snippet
    assert hit.title == "<script>alert(1)</script> Tin nóng"  # titles are kept as written; display escapes them


def test_json_shape_is_the_api_contract(engine):
    data = engine.search(query="hà nội").to_dict()
    assert set(data) == {"query", "total", "page", "per_page", "hits", "facets", "suggestion", "corrected_from", "relaxed", "missing"}
    assert set(data["hits"][0]) == {"id", "title", "url", "date", "category", "author", "source", "score", "snippet"}
    assert set(data["facets"]) == {"category", "year", "month", "author", "source"}
    assert set(data["facets"]["category"][0]) == {"value", "count"}


def test_suggestion_restores_accents_from_the_index(engine):
    assert engine.search(query="cong thuong").suggestion == "Công Thương"  # the name, as titles write it
    assert engine.search(query="bong da").suggestion == "bóng đá"


def test_suggestion_corrects_a_misspelled_word(engine):
    assert engine.search(query="bóng đáa").suggestion == "bóng đá"


def test_no_suggestion_for_a_good_accented_query(engine):
    assert engine.search(query="bóng đá").suggestion is None


def test_related_articles_share_distinctive_words(engine):
    related = [h.id for h in engine.related("td-title", 3)]
    assert related and related[0] == "td-body"
    assert "td-title" not in related


def test_completions_restore_accents(engine):
    assert "công thương" in engine.complete("cong th")


def test_pages_follow_one_another_and_a_commit_moves_them(tmp_path, write_jsonl):
    # Pages of a request share one ranking; the next page must start where the last ended,
    # and an article published since must shift them, not be hidden by a remembered ranking.
    ix = tmp_path / "ix"
    days = [f"2021-04-{d:02d}T09:00:00+07:00" for d in range(1, 13)]
    index_paths(ix, [write_jsonl([article(f"t{d}", title=f"Tỉnh họp bàn giá lúa ngày {d}", date=day)
                                  for d, day in enumerate(days, 1)], name="1.jsonl")])
    engine = engine_at(str(ix))

    def paged(**kwargs):
        return [i for page in (1, 2, 3, 4, 5) for i in ids(engine.search(page=page, per_page=3, **kwargs))]

    for sort in ("newest", "relevance", "oldest"):
        whole = ids(engine.search(query="giá lúa", sort=sort, per_page=15))
        assert len(whole) == 12 and paged(query="giá lúa", sort=sort) == whole
    assert paged(query="gia lua", sort="newest")[:4] == ["t12", "t11", "t10", "t9"]
    index_paths(ix, [write_jsonl([article("t13", title="Tỉnh họp bàn giá lúa mới",
                                          date="2021-04-20T09:00:00+07:00")], name="2.jsonl")])
    assert ids(engine.search(query="gia lua", sort="newest", page=2, per_page=3)) == ["t10", "t9", "t8"]


def test_new_commits_are_picked_up_without_a_new_engine(tmp_path, write_jsonl):
    ix = tmp_path / "ix"
    index_paths(ix, [write_jsonl([article("one", title="Tin thứ nhất")], name="1.jsonl")])
    engine = engine_at(str(ix))
    assert engine.search(query="tin").total == 1
    index_paths(ix, [write_jsonl([article("two", title="Tin thứ hai")], name="2.jsonl")])
    assert engine.search(query="tin").total == 2


def test_suggestion_prefers_the_accents_found_in_matching_articles(tmp_path, write_jsonl):
    # "tiềm" is the more frequent spelling in the index, but the articles that match
    # "tiem vac xin" say "tiêm".
    docs = [article(f"tiem{i}", title=f"Tiêm vắc xin đợt {i}", body="Người dân đi tiêm vắc xin.") for i in range(3)]
    docs += [article(f"tiem-nang{i}", title=f"Tiềm năng kinh tế số {i}", body="Tiềm năng lớn, tiềm lực mạnh, tiềm ẩn rủi ro.")
             for i in range(8)]
    index_paths(tmp_path / "ix", [write_jsonl(docs)])
    engine = engine_at(str(tmp_path / "ix"))
    assert engine.search(query="tiem").suggestion == "tiềm"
    assert engine.search(query="tiem vac xin").suggestion == "tiêm vắc xin"


def test_title_holding_every_query_word_outranks_titles_holding_one(tmp_path, write_jsonl):
    # A journalist remembers two rare words of a long title. The short title holding only
    # "ngao", whose body says "phần" and "phân" (folded: "phan"), must not win.
    docs = [article("bac-ngao", title="Chủ tịch nước phát biểu tại Diễn đàn Kinh tế Bác Ngao hôm nay, kêu gọi "
                                      "các nước giải quyết tranh chấp thương mại qua đàm phán song phương và đa phương trong khu vực",
                    body="Diễn đàn thường niên bàn về kinh tế khu vực châu Á.")]
    docs += [article(f"ngao{i}", title=f"Ngao Thái Bình vào mùa {i}",
                     body="Phần lớn ngao được xuất khẩu, phần còn lại bán trong nước. Phân phối ngao khắp nơi.")
             for i in range(3)]
    docs += [article(f"other{i}", title=f"Tin kinh tế số {i}", body="Giá cả thị trường ổn định trong tuần.")
             for i in range(10)]
    index_paths(tmp_path / "ix", [write_jsonl(docs)])
    engine = engine_at(str(tmp_path / "ix"))
    assert ids(engine.search(query="Ngao phán"))[0] == "bac-ngao"
    assert ids(engine.search(query="ngao phan"))[0] == "bac-ngao"


def test_accents_typed_decide_which_title_words_agree(tmp_path, write_jsonl):
    # "đổi tuyển" and "đội tuyển" fold alike; the title that holds the words typed wins,
    # not the titles that hold the common compound "đội tuyển".
    docs = [article("doi-khu-vuc", title="Học sinh lớp 10 được đổi khu vực tuyển sinh",
                    body="Sở Giáo dục cho phép học sinh đổi nơi tuyển sinh trước ngày thi.")]
    docs += [article(f"doi-tuyen{i}", title=f"Đội tuyển Việt Nam thắng đậm trận {i}",
                     body="Đội tuyển tập luyện tại Hà Nội; đội tuyển có nhiều cầu thủ trẻ.")
             for i in range(3)]
    index_paths(tmp_path / "ix", [write_jsonl(docs)])
    engine = engine_at(str(tmp_path / "ix"))
    assert ids(engine.search(query="đổi tuyển"))[0] == "doi-khu-vuc"
    assert ids(engine.search(query="đội tuyển"))[0].startswith("doi-tuyen")
    assert ids(engine.search(query="doi tuyen"))[0].startswith("doi-tuyen")


def test_title_holding_the_typed_words_in_order_comes_first(tmp_path, write_jsonl):
    # Both titles hold "Chính phủ Trương Hòa Bình"; only the first holds the words typed
    # in order, "phủ Trương Hòa Bình ngày", a hyphenated word among them or not.
    docs = [article("in-order", title="Báo cáo gửi Phó Thủ tướng Thường trực Chính phủ Trương Hòa Bình ngày "
                                      "30/4 nêu rõ tiến độ các dự án giao thông trọng điểm phía Nam năm nay",
                    body="Bộ GTVT báo cáo tiến độ dự án."),
            article("apart", title="Ngày 28/4, Phó Thủ tướng Chính phủ Trương Hòa Bình kiểm tra công tác phòng dịch",
                    body="Phó Thủ tướng kiểm tra công tác phòng dịch tại tỉnh.")]
    index_paths(tmp_path / "ix", [write_jsonl(docs)])
    engine = engine_at(str(tmp_path / "ix"))
    assert ids(engine.search(query="phủ Trương Hòa Bình ngày")) == ["in-order", "apart"]
    assert ids(engine.search(query="phu truong hoa binh ngay")) == ["in-order", "apart"]


def test_word_typed_with_accents_ranks_its_own_spelling_above_other_accents(tmp_path, write_jsonl):
    # "lúa" (rice) folds like "lửa" (fire) and "lụa" (silk): a reader who typed the accents
    # wants rice, even where the other spellings stand in a title.
    docs = [article("fire", title="Lửa bùng lên ở kho hàng", body="Ngọn lửa được dập tắt sau hai giờ."),
            article("silk", title="Làng lụa Vạn Phúc đón khách", body="Lụa tơ tằm được dệt thủ công."),
            article("rice", title="Nông dân miền Tây vào vụ thu hoạch",
                    body="Nông dân thu hoạch lúa hè thu, giá lúa tăng nhẹ so với năm trước.")]
    index_paths(tmp_path / "ix", [write_jsonl(docs)])
    engine = engine_at(str(tmp_path / "ix"))
    assert ids(engine.search(query="lúa")) == ["rice"]
    assert ids(engine.search(query="lửa")) == ["fire"]
    assert set(ids(engine.search(query="lua"))) == {"rice", "fire", "silk"}  # typed without accents: every spelling


def test_query_is_trimmed_and_dates_are_given_in_vietnam_time(tmp_path, write_jsonl):
    docs = [article("utc", title="Pháo hoa đón năm mới", body="Pháo hoa rực sáng lúc nửa đêm.",
                    date="2023-12-31T17:30:00Z")]
    index_paths(tmp_path / "ix", [write_jsonl(docs)])
    engine = engine_at(str(tmp_path / "ix"))
    result = engine.search(query="  pháo hoa\u00a0")
    assert result.query == "pháo hoa"
    # counted in January 2024 by the facets, so shown as 1 January 2024 too
    assert result.hits[0].date == "2024-01-01T00:30:00+07:00"
    assert result.facets["month"][0].value == "2024-01"
    assert engine.article("utc")["date_iso"] == "2024-01-01T00:30:00+07:00"


@pytest.mark.parametrize("query,suggestion", [
    ("ha noi -covid", "hà nội -covid"),
    ('"bi thu tinh uy"', '"bí thư tỉnh uỷ"'),
    ('cong thuong category:"kinh te"', 'Công Thương category:"kinh te"'),
])
def test_suggestion_keeps_the_query_syntax(engine, query, suggestion):
    # Following the suggestion must not drop an exclusion, a phrase or a filter.
    assert engine.search(query=query).suggestion == suggestion


def test_no_suggestion_of_words_the_index_does_not_hold(engine):
    # "bóngđá" typed without a space folds to "bongda", which no article holds.
    assert engine.search(query="bóngđá").suggestion is None
