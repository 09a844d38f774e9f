"""The web site through Flask's test client, on the 13 sample articles.

Links are followed the way a reader would click them: found in the page by their text,
then requested; counts are checked against what the sample articles hold.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import article
from engine_support import app_at, index_paths, on_cluster
from vnsearch.search import FacetValue, SearchRequest
from vnsearch.web import SECURITY_HEADERS, create_app, facets
from vnsearch.web.params import ParamError, parse_search_args, request_args

pytestmark = pytest.mark.usefixtures("backend")  # the site and its API on both engines


@pytest.fixture
def app(sample_index):
    return app_at({"TESTING": True, "INDEX_DIR": str(sample_index)})


@pytest.fixture
def client(app):
    return app.test_client()


# -- reading pages ---------------------------------------------------------------


class _Page(HTMLParser):
    """Links (href and text), inputs, labels and scripts of an HTML page."""

    def __init__(self):
        super().__init__()
        self.links: list[dict] = []
        self.inputs: list[dict] = []
        self.labels: set[str] = set()
        self.scripts: list[dict] = []
        self.styles_inline = 0
        self.handlers: list[str] = []
        self._open: list[dict] = []
        self._in_svg = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.styles_inline += 1
        self.handlers += [name for name in attrs if name.startswith("on")]
        if tag == "svg":
            self._in_svg += 1
        if tag == "a":
            link = {"href": attrs.get("href"), "text": "", "aria": attrs.get("aria-label"),
                    "current": "aria-current" in attrs, "in_svg": self._in_svg > 0}
            self.links.append(link)
            self._open.append(link)
        elif tag in ("input", "select", "textarea"):
            self.inputs.append(attrs)
        elif tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        elif tag == "script":
            self.scripts.append(attrs)
        elif tag == "style":
            self.styles_inline += 1

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            link = self._open.pop()
            link["text"] = " ".join(link["text"].split())
        if tag == "svg":
            self._in_svg -= 1

    def handle_data(self, data):
        for link in self._open:
            link["text"] += data


def page(response) -> _Page:
    parser = _Page()
    parser.feed(response.get_data(as_text=True))
    return parser


def link_to(response, text: str, *, startswith: bool = False) -> dict:
    """The one link whose visible text is ``text`` (or starts with it)."""
    found = [link for link in page(response).links
             if (link["text"].startswith(text) if startswith else link["text"] == text)]
    assert len(found) == 1, f"expected one link {text!r}, found {[f['text'] for f in found]}"
    return found[0]


def params(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def api(client, **args) -> dict:
    response = client.get("/api/search", query_string=args)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# -- the search page -------------------------------------------------------------


def test_home_lists_all_articles_newest_first(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<span class="total">13</span> bài' in html
    titles = [link["text"] for link in page(response).links if link["href"].startswith("/article/")]
    assert titles[0] == "Bác sĩ khuyên giữ sức khoẻ khi nắng nóng"  # 2021-05-01, the newest


def test_unaccented_query_highlights_accented_words(client):
    response = client.get("/", query_string={"q": "cong thuong"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<mark>Công</mark> <mark>Thương</mark>" in html
    title = link_to(response, "Bí thư Tỉnh ủy làm việc với Sở Công Thương Hòa Bình")
    assert title["href"] == "/article/mau-001?q=cong+thuong"  # the search rides along: the way back
    assert link_to(response, "https://example.vn/mau-001")["href"] == "https://example.vn/mau-001"


def test_hit_shows_date_category_and_author(client):
    html = client.get("/", query_string={"q": "cong thuong"}).get_data(as_text=True)
    assert '<time datetime="2021-03-17T15:00:00+07:00">17/03/2021</time>' in html
    assert ">Chính trị</a>" in html and ">Hoàng Nga</a>" in html


def test_unaccented_query_offers_accented_suggestion_as_link(client):
    response = client.get("/", query_string={"q": "cong thuong"})
    assert "Có phải bạn muốn tìm:" in response.get_data(as_text=True)
    suggestion = link_to(response, "Công Thương")
    assert params(suggestion["href"]) == {"q": "Công Thương"}
    followed = client.get(suggestion["href"])
    assert "Có phải bạn muốn tìm:" not in followed.get_data(as_text=True)
    assert "<mark>Công</mark> <mark>Thương</mark>" in followed.get_data(as_text=True)


def test_sort_links_reorder_results(client):
    first = {}
    for label in ("Mới nhất", "Cũ nhất"):
        sort_link = link_to(client.get("/", query_string={"q": "hoa binh"}), label)
        response = client.get(sort_link["href"])
        first[label] = next(urlsplit(link["href"]).path for link in page(response).links
                            if link["href"].startswith("/article/"))
    assert first == {"Mới nhất": "/article/mau-005", "Cũ nhất": "/article/mau-007"}


def test_category_facet_filters_and_clicking_it_again_clears(client):
    response = client.get("/", query_string={"q": "hoa binh"})
    facet = link_to(response, "Kinh doanh 1")
    assert params(facet["href"]) == {"q": "hoa binh", "category": "Kinh doanh"}

    filtered = client.get(facet["href"])
    assert '<span class="total">1</span> bài' in filtered.get_data(as_text=True)
    active = link_to(filtered, "Kinh doanh 1", startswith=True)
    assert active["current"]
    assert params(active["href"]) == {"q": "hoa binh"}
    # The other categories stay listed, with their counts for the query, to add to the choice.
    other = link_to(filtered, "Giáo dục 1")
    assert parse_qs(urlsplit(other["href"]).query) == {"q": ["hoa binh"], "category": ["Kinh doanh", "Giáo dục"]}

    cleared = client.get(active["href"])
    assert '<span class="total">4</span> bài' in cleared.get_data(as_text=True)


def test_author_facet_filters_by_author(client):
    facet = link_to(client.get("/", query_string={"q": "hoa binh"}), "Phạm Quý 2")
    filtered = client.get(facet["href"])
    assert '<span class="total">2</span> bài' in filtered.get_data(as_text=True)
    assert link_to(filtered, "Phạm Quý 2", startswith=True)["current"]


def test_year_facet_narrows_to_the_whole_year(client):
    year = link_to(client.get("/"), "2020 3")
    assert params(year["href"]) == {"from": "2020-01-01", "to": "2020-12-31"}
    assert '<span class="total">3</span> bài' in client.get(year["href"]).get_data(as_text=True)


def test_chosen_year_drills_down_to_months_with_counts(client):
    response = client.get("/", query_string={"from": "2021-01-01", "to": "2021-12-31"})
    months = {link["text"]: link["href"] for link in page(response).links  # the facet, not the chart's rows
              if link["text"].startswith("Tháng ") and not link["in_svg"] and "/" not in link["text"]}
    assert set(months) == {"Tháng 3 2", "Tháng 4 6", "Tháng 5 1"}
    assert params(months["Tháng 4 6"]) == {"from": "2021-04-01", "to": "2021-04-30"}
    april = client.get(months["Tháng 4 6"])
    assert '<span class="total">6</span> bài' in april.get_data(as_text=True)
    # Clicking the chosen month again, or its year, goes back to the whole year.
    assert params(link_to(april, "Tháng 4 6", startswith=True)["href"]) == {"from": "2021-01-01", "to": "2021-12-31"}
    assert params(link_to(april, "2021")["href"]) == {"from": "2021-01-01", "to": "2021-12-31"}
    assert params(link_to(april, "‹ Mọi thời gian")["href"]) == {}


def test_date_inputs_are_prefilled_from_the_range(client):
    inputs = {i.get("id"): i for i in page(client.get("/?from=2021-03-01&to=2021-03-31")).inputs}
    assert inputs["from"]["value"] == "2021-03-01" and inputs["to"]["value"] == "2021-03-31"


def test_empty_date_inputs_count_as_no_filter(client):
    response = client.get("/", query_string={"q": "hoa binh", "from": "", "to": "", "sort": ""})
    assert response.status_code == 200
    assert '<span class="total">4</span> bài' in response.get_data(as_text=True)


def test_month_chart_bar_links_to_that_months_results(client):
    response = client.get("/", query_string={"q": "hoa binh"})
    html = response.get_data(as_text=True)
    assert '<svg class="chart-svg"' in html
    bars = {link["aria"]: link["href"] for link in page(response).links if link["in_svg"]}
    # 2020-11, 2021-03 (two articles) and 2021-04; the months between have columns but no bar.
    assert set(bars) == {"Tháng 11/2020: 1 bài", "Tháng 3/2021: 2 bài", "Tháng 4/2021: 1 bài"}
    assert params(bars["Tháng 3/2021: 2 bài"]) == {"q": "hoa binh", "from": "2021-03-01", "to": "2021-03-31"}
    march = client.get(bars["Tháng 3/2021: 2 bài"])
    assert '<span class="total">2</span> bài' in march.get_data(as_text=True)


def test_month_chart_gives_months_without_matches_an_empty_column():
    months = [FacetValue("2020-11", 1), FacetValue("2021-03", 4)]
    chart = facets.month_chart(months, lambda **changes: f"{changes['date_from']}/{changes['date_to']}")
    assert chart.slot == facets.CHART_WIDTH / 5  # November to March
    assert [bar.url for bar in chart.bars] == ["2020-11-01/2020-11-30", "2021-03-01/2021-03-31"]
    assert chart.bars[1].height == facets.PLOT_BOTTOM - facets.PLOT_TOP  # the peak fills the plot
    assert chart.bars[0].height == pytest.approx(chart.bars[1].height / 4)
    assert [mark.year for mark in chart.years] == [2020, 2021]


def test_no_chart_without_dated_matches():
    assert facets.month_chart([], lambda **changes: "") is None


def test_pagination_walks_through_all_results(client):
    response = client.get("/", query_string={"per_page": 5})
    assert [link["text"] for link in page(response).links if params(link["href"] or "").get("page")] == ["2", "3", "Sau ›"]
    seen = []
    href = "/?per_page=5"
    while href:
        response = client.get(href)
        seen += [link["href"] for link in page(response).links if link["href"].startswith("/article/")]
        nexts = [link["href"] for link in page(response).links if link["text"] == "Sau ›"]
        href = nexts[0] if nexts else None
    assert len(seen) == len(set(seen)) == 13


def test_page_beyond_the_last_is_an_empty_page_with_a_way_back(client):
    response = client.get("/", query_string={"page": 1000000000})
    assert response.status_code == 200
    assert "không có kết quả" in response.get_data(as_text=True)
    assert params(link_to(response, "Về trang đầu")["href"]) == {}
    data = api(client, page=1000000000)
    assert data["hits"] == [] and data["total"] == 13


def test_filtered_empty_result_links_to_the_search_without_filters(client):
    response = client.get("/", query_string={"q": "vang", "category": "Thể thao"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Không tìm thấy bài nào" in html
    drop = link_to(response, "Bỏ mọi bộ lọc", startswith=True)
    assert params(drop["href"]) == {"q": "vang"}
    assert '<span class="total">1</span> bài' in client.get(drop["href"]).get_data(as_text=True)


def test_empty_result_offers_the_accent_suggestion(client):
    # no sports article holds "hoa" or "binh" in any spelling, so not even some of the words match
    response = client.get("/", query_string={"q": "hoa binh", "category": "Thể thao"})
    assert "Không tìm thấy bài nào" in response.get_data(as_text=True)
    assert params(link_to(response, "Hoà Bình")["href"]) == {"q": "Hoà Bình", "category": "Thể thao"}


def test_active_filter_shows_as_removable_chip(client):
    response = client.get("/", query_string={"q": "hoa binh", "author": "Phạm Quý"})
    chips = [link for link in page(response).links if (link["aria"] or "").startswith("Bỏ lọc")]
    assert [c["aria"] for c in chips] == ["Bỏ lọc tác giả Phạm Quý"]
    assert params(chips[0]["href"]) == {"q": "hoa binh"}


def test_new_query_keeps_the_filters_in_force(client):
    response = client.get("/", query_string={"q": "hoa binh", "category": "Kinh doanh", "from": "2021-01-01"})
    hidden = {i["name"]: i["value"] for i in page(response).inputs if i.get("type") == "hidden"}
    assert hidden["category"] == "Kinh doanh" and hidden["from"] == "2021-01-01"


BAD_PARAMETERS = [
    {"page": "-1"}, {"page": "0"}, {"page": "abc"}, {"page": "1.5"}, {"page": "١"},
    {"per_page": "1000"}, {"per_page": "0"},
    {"from": "not-a-date"}, {"to": "2021-02-30"}, {"from": "2021-W17-5"},
    {"from": "2021-05-01", "to": "2021-04-01"},
    {"sort": "best"},
    {"q": "tin " * 1250},  # 5,000 characters
]


@pytest.mark.parametrize("args", BAD_PARAMETERS, ids=lambda a: ",".join(f"{k}={v[:12]}" for k, v in a.items()))
def test_bad_parameter_gives_400_page_with_message(client, args):
    response = client.get("/", query_string={"q": "hoa binh", **args})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and "Chưa tìm được:" in html
    assert 'id="q"' in html  # the search form, to fix the request in
    assert 'type="hidden"' not in html  # the bad parameter is not carried into the next search
    assert f'value="{args.get("q", "hoa binh")}"' in html  # what was typed is kept


@pytest.mark.parametrize("args", BAD_PARAMETERS, ids=lambda a: ",".join(f"{k}={v[:12]}" for k, v in a.items()))
def test_bad_parameter_gives_400_json_error(client, args):
    response = client.get("/api/search", query_string={"q": "hoa binh", **args})
    assert response.status_code == 400
    assert set(response.get_json()) == {"error"} and response.get_json()["error"]


def test_long_query_message_says_the_limit(client):
    response = client.get("/api/search", query_string={"q": "x" * 5000})
    assert response.get_json()["error"] == "Câu tìm kiếm quá dài (5.000 ký tự); tối đa 2.000 ký tự."


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=80), page=st.text(max_size=6), sort=st.sampled_from(["", "relevance", "newest", "x"]),
       start=st.text(max_size=12))
def test_any_query_string_gives_a_page_or_a_400_never_a_500(client, q, page, sort, start):
    args = {"q": q, "page": page, "sort": sort, "from": start}
    for url in ("/", "/api/search", "/feed"):
        assert client.get(url, query_string=args).status_code in (200, 400)


# -- escaping and headers --------------------------------------------------------


@pytest.fixture
def hostile_client(sample_index, write_jsonl):
    record = article("xss-1", title="<script>alert(1)</script> Tin nóng", body="Tin nóng <b>đậm</b> & \"nháy\".",
                     author="<img src=x onerror=alert(2)>", category="<i>Lạ</i>", url="javascript:alert(3)",
                     date="2021-04-01T08:00:00+07:00")
    index_paths(sample_index, [write_jsonl([record])])
    return app_at({"TESTING": True, "INDEX_DIR": str(sample_index)}).test_client()


@pytest.mark.parametrize("url", ["/?q=tin+nong", "/article/xss-1", "/?q=tin+nong&category=%3Ci%3EL%E1%BA%A1%3C%2Fi%3E"])
def test_markup_in_articles_shows_as_text(hostile_client, url):
    response = hostile_client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Tin nóng" in html
    assert "<script>alert" not in html and "<img src=x" not in html and "<i>Lạ</i>" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert not any((link["href"] or "").startswith("javascript:") for link in page(response).links)


def test_markup_in_articles_is_escaped_in_the_feed(hostile_client):
    response = hostile_client.get("/feed", query_string={"q": "tin nong"})
    item = ET.fromstring(response.data).find("channel/item")
    assert item.findtext("title") == "<script>alert(1)</script> Tin nóng"
    assert item.findtext("link") == "http://localhost/article/xss-1"  # not the javascript: URL
    assert b"<script>" not in response.data


def test_query_is_escaped_in_the_page(client):
    response = client.get("/", query_string={"q": '"><script>alert(1)</script>'})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)" not in html
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("url", ["/", "/?q=cong+thuong", "/?page=-1", "/article/mau-001", "/article/nope",
                                 "/api/search", "/api/search?page=-1", "/api/suggest?q=ha", "/feed?q=ha",
                                 "/static/style.css", "/static/suggest.js", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "style-src 'self'" in csp and "img-src 'self' data:" in csp
    assert "unsafe-inline" not in csp


def test_pages_have_no_inline_script_style_or_handlers_and_no_external_resources(client):
    for url in ("/?q=hoa+binh", "/article/mau-001", "/nope", "/?page=-1"):
        parsed = page(client.get(url))
        assert parsed.scripts and all(s.get("src", "").startswith("/static/") for s in parsed.scripts)
        assert parsed.styles_inline == 0 and parsed.handlers == []
    html = client.get("/?q=hoa+binh").get_data(as_text=True)
    assert 'rel="stylesheet" href="/static/style.css"' in html
    assert "cdn" not in html.lower() and "fonts.googleapis" not in html


def test_every_form_control_has_a_label(client):
    parsed = page(client.get("/?q=hoa+binh&from=2021-01-01&to=2021-12-31"))
    visible = [i for i in parsed.inputs if i.get("type") != "hidden"]
    assert {i["id"] for i in visible} == {"q", "from", "to"}
    assert all(i["id"] in parsed.labels for i in visible)


def test_only_get_and_head_are_served(app, client):
    for rule in app.url_map.iter_rules():
        assert rule.methods <= {"GET", "HEAD"}, rule
    for method in ("post", "put", "delete", "patch"):
        for url in ("/", "/api/search", "/feed", "/article/mau-001"):
            assert getattr(client, method)(url).status_code == 405
    assert client.head("/?q=hoa+binh").status_code == 200


def test_app_never_runs_in_debug_mode(sample_index, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = app_at({"INDEX_DIR": str(sample_index)})
    assert app.debug is False


# -- the article page ------------------------------------------------------------


def test_article_page_shows_the_stored_article(client):
    response = client.get("/article/mau-001")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Bí thư Tỉnh ủy làm việc với Sở Công Thương Hòa Bình</h1>" in html
    assert '<time datetime="2021-03-17T15:00:00+07:00">15:00, 17/03/2021</time>' in html
    assert "HBĐT" in html
    assert params(link_to(response, "Chính trị")["href"]) == {"category": "Chính trị"}
    assert params(link_to(response, "Hoàng Nga")["href"]) == {"author": "Hoàng Nga"}
    assert link_to(response, "đọc bài gốc trên example.vn")["href"] == "https://example.vn/mau-001"
    # One paragraph per line of the body.
    assert "<p>Uỷ viên Ban Thường vụ cùng dự buổi làm việc.</p>" in html


def test_article_page_lists_related_articles(client):
    response = client.get("/article/mau-001")
    assert "Bài liên quan" in response.get_data(as_text=True)
    related = link_to(response, "Thủy điện Hoà Bình tăng công suất mùa khô")
    assert related["href"] == "/article/mau-005"
    assert client.get(related["href"]).status_code == 200


def test_unknown_article_is_a_404_page(client):
    response = client.get("/article/no-such-article")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Không tìm thấy trang này." in response.get_data(as_text=True)


# -- the JSON API ----------------------------------------------------------------


def test_api_serves_exactly_the_search_result_dict(app, client):
    engine = app.extensions["vnsearch"]
    expected = engine.search(SearchRequest("hoa binh", category="Kinh doanh", sort="newest")).to_dict()
    assert api(client, q="hoa binh", category="Kinh doanh", sort="newest") == expected


def test_api_takes_the_same_filters_as_the_page(client):
    assert api(client, author="Lê Thu")["total"] == 3
    assert api(client, source="HBĐT")["total"] == 5
    assert api(client, **{"from": "2021-04-01", "to": "2021-04-30"})["total"] == 6
    data = api(client, q="hoa binh", sort="oldest", page=2, per_page=2)
    assert [h["id"] for h in data["hits"]] == ["mau-001", "mau-005"]
    assert (data["page"], data["per_page"], data["total"]) == (2, 2, 4)


def test_api_keeps_vietnamese_readable(client):
    assert "Công Thương".encode() in client.get("/api/search?q=cong+thuong").data


def test_suggest_api_completes_with_accents(client):
    response = client.get("/api/suggest", query_string={"q": "hoa b"})
    assert response.status_code == 200
    completions = response.get_json()
    assert isinstance(completions, list) and 0 < len(completions) <= 8
    assert completions[0] == "hoà bình"  # one tone-mark placement, the index's (normalization's "hoà")


def test_suggest_api_is_empty_for_an_empty_box_or_a_long_one_and_400_for_a_huge_one(client):
    assert client.get("/api/suggest?q=").get_json() == []
    assert client.get("/api/suggest", query_string={"q": "hoa binh " * 6 + "hoa b"}).get_json() == []
    assert client.get("/api/suggest", query_string={"q": "a" * 2001}).status_code == 400


def test_search_box_is_wired_to_the_suggest_script(client):
    html = client.get("/").get_data(as_text=True)
    assert 'list="q-suggestions"' in html and '<datalist id="q-suggestions"></datalist>' in html
    assert 'data-suggest="/api/suggest"' in html
    script = client.get("/static/suggest.js")
    assert script.status_code == 200 and "/api/suggest" not in script.get_data(as_text=True)  # taken from the page
    assert "dataset.suggest" in script.get_data(as_text=True)


# -- the feed --------------------------------------------------------------------


def test_feed_is_rss_of_the_newest_matches(client):
    response = client.get("/feed", query_string={"q": "hoa binh", "sort": "relevance"})
    assert response.status_code == 200
    assert response.mimetype == "application/rss+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") == "vnsearch: hoa binh"
    items = channel.findall("item")
    # Newest first, whatever sort was asked for: a feed follows what is new.
    assert [i.findtext("guid") for i in items] == [f"http://localhost/article/mau-{n}" for n in ("005", "001", "011", "007")]
    assert items[1].findtext("link") == "https://example.vn/mau-001"
    assert items[1].findtext("pubDate") == "Wed, 17 Mar 2021 15:00:00 +0700"
    assert "<mark>" in items[1].findtext("description")


def test_feed_holds_the_20_newest(sample_index, write_jsonl):
    extra = [article(f"them-{n:02d}", date=f"2022-01-{n:02d}T08:00:00+07:00") for n in range(1, 11)]
    index_paths(sample_index, [write_jsonl(extra)])
    client = app_at({"TESTING": True, "INDEX_DIR": str(sample_index)}).test_client()
    items = ET.fromstring(client.get("/feed").data).findall("channel/item")
    assert len(items) == 20  # of 23
    assert items[0].findtext("guid").endswith("/article/them-10")
    assert items[-1].findtext("guid").endswith("/article/mau-004")  # the 20th newest (28/12/2020)


def test_feed_takes_the_page_filters(client):
    filtered = ET.fromstring(client.get("/feed", query_string={"category": "Sức khỏe"}).data)
    assert [i.findtext("guid")[-7:] for i in filtered.findall("channel/item")] == ["mau-006", "mau-009"]
    # As the index spells it (and the facet shows it), whatever the article wrote ("Sức khỏe").
    assert [i.findtext("category") for i in filtered.findall("channel/item")] == ["Sức khoẻ", "Sức khoẻ"]


def test_feed_with_bad_parameter_is_400(client):
    assert client.get("/feed", query_string={"from": "yesterday"}).status_code == 400


def test_results_page_links_its_feed(client):
    response = client.get("/", query_string={"q": "hoa binh", "page": 2, "per_page": 2, "sort": "oldest"})
    assert params(link_to(response, "RSS: theo dõi tìm kiếm này")["href"]) == {"q": "hoa binh"}
    assert 'type="application/rss+xml"' in response.get_data(as_text=True)


# -- errors, configuration, the engine ------------------------------------------


def test_unexpected_error_renders_a_page_and_is_logged(app, client, monkeypatch, caplog):
    def broken(request):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.extensions["vnsearch"], "search", broken)
    with caplog.at_level(logging.ERROR):
        response = client.get("/", query_string={"q": "hoa binh"})
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Đã có lỗi xảy ra ở máy chủ" in html and "disk on fire" not in html and "Traceback" not in html
    assert any("disk on fire" in (r.exc_text or "") or (r.exc_info and "disk on fire" in str(r.exc_info[1]))
               for r in caplog.records)
    api_response = client.get("/api/search")
    assert api_response.status_code == 500 and api_response.get_json() == {"error": "Đã có lỗi xảy ra ở máy chủ. Vui lòng thử lại sau."}
    assert api_response.headers["X-Frame-Options"] == "DENY"


def test_index_dir_comes_from_the_environment(sample_index, monkeypatch):
    if on_cluster():
        pytest.skip("VNSEARCH_INDEX_DIR is the embedded engine's; the cluster's index is VNSEARCH_OPENSEARCH_INDEX")
    monkeypatch.setenv("VNSEARCH_INDEX_DIR", str(sample_index))
    app = create_app()
    assert app.config["INDEX_DIR"] == str(sample_index)
    assert app.test_client().get("/api/search").get_json()["total"] == 13


def test_missing_index_answers_503_in_vietnamese_not_500(tmp_path):
    client = app_at({"INDEX_DIR": str(tmp_path / "nothing")}).test_client()
    page = client.get("/?q=hà+nội")
    assert page.status_code == 503 and "Chưa có dữ liệu để tìm kiếm" in page.get_data(as_text=True)
    api = client.get("/api/search?q=ha+noi")
    assert api.status_code == 503 and api.get_json() == {"error": "Chưa có dữ liệu để tìm kiếm."}


def test_one_engine_serves_every_request(app, client, monkeypatch):
    def no_new_engines(*args, **kwargs):
        raise AssertionError("an engine was opened per request")

    client.get("/?q=hoa+binh")  # the engine opens its searcher on the first search
    monkeypatch.setattr("vnsearch.engines.whoosh.searcher.WhooshSearcher.__init__", no_new_engines)
    for url in ("/?q=hoa+binh", "/api/search?q=vang", "/feed", "/article/mau-001", "/api/suggest?q=ha"):
        assert client.get(url).status_code == 200


def test_new_commit_is_searched_without_restarting(client, sample_index, write_jsonl):
    assert api(client, q="cà phê sữa đá")["relaxed"] == ["words"]  # no article holds every word yet
    index_paths(sample_index, [write_jsonl([article("moi-1", title="Cà phê sữa đá Sài Gòn")])])
    deadline = time.monotonic() + 5
    while api(client, q="cà phê sữa đá")["relaxed"] and time.monotonic() < deadline:
        time.sleep(0.1)
    found = api(client, q="cà phê sữa đá")
    assert (found["total"], found["relaxed"], found["hits"][0]["id"]) == (1, [], "moi-1")


# -- parameter parsing ------------------------------------------------------------


def test_parse_search_args_converts_every_parameter():
    request = parse_search_args({"q": " hà nội ", "category": "Xã hội", "author": "Lê Thu", "source": "Dân Trí",
                                 "from": "2021-03-01", "to": "2021-03-31", "sort": "newest", "page": "2",
                                 "per_page": "20"})
    assert request == SearchRequest("hà nội", ("Xã hội",), "Lê Thu", "Dân Trí", date(2021, 3, 1), date(2021, 3, 31),
                                    "newest", 2, 20)


def test_parse_search_args_overrides_win():
    assert parse_search_args({"sort": "oldest", "page": "3"}, sort="newest", page=1).sort == "newest"


def test_request_args_round_trip_without_defaults():
    request = SearchRequest("hà nội", category=("Xã hội",), date_from=date(2021, 3, 1), page=2)
    args = request_args(request)
    assert args == {"q": "hà nội", "category": "Xã hội", "from": "2021-03-01", "page": "2"}
    assert parse_search_args(args) == request


def test_param_error_message_is_vietnamese():
    with pytest.raises(ParamError, match="Số trang"):
        parse_search_args({"page": "-1"})


@pytest.mark.parametrize("name", ["params", "facets", "results", "export"])
def test_web_docstring_examples(name):
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(f"vnsearch.web.{name}"))
    assert tried > 0 and failures == 0


# -- issue 12: the site as a reader and a journalist find it ---------------------


@pytest.fixture
def site_client(sample_index, write_jsonl):
    """The samples plus an undated article, a title with entities and football news to misspell."""
    extra = [article("khong-ngay", title="Tin không ghi ngày đăng", body="Bài này không có ngày.", category="Xã hội"),
             article("nbsp", title="Giá vàng lúc&nbsp11h &amp; chiều nay", body="Giá vàng tăng.",
                     date="2021-04-29T11:00:00+07:00", category="Kinh doanh")]
    index_paths(sample_index, [write_jsonl(extra)])
    return app_at({"TESTING": True, "INDEX_DIR": str(sample_index)}).test_client()


def test_misspelled_query_shows_the_corrected_results_with_a_link_to_the_words_as_typed(client):
    response = client.get("/", query_string={"q": "bóng đáa"})
    html = response.get_data(as_text=True)
    assert "Đang hiện kết quả cho <strong>bóng đá</strong>. Tìm chính xác:" in html
    assert link_to(response, "Đội tuyển bóng đá Việt Nam tập trung chuẩn bị vòng loại")
    exact = link_to(response, "bóng đáa")
    assert params(exact["href"]) == {"q": "bóng đáa", "exact": "1"}
    as_typed = client.get(exact["href"]).get_data(as_text=True)
    # as typed, only "bóng" is in any article: the page says so and names the word nothing holds
    assert "chứa một số từ" in as_typed and "Không tìm thấy: <s>đáa</s>" in as_typed
    assert "Đang hiện kết quả" not in as_typed
    assert api(client, q="bóng đáa")["corrected_from"] == "bóng đáa"
    assert api(client, q="bóng đáa", exact="1")["relaxed"] == ["words"]


def test_several_categories_from_the_url_the_api_and_the_facet(client):
    both = client.get("/?q=&category=Kinh+doanh&category=Th%E1%BB%83+thao")
    assert '<span class="total">4</span> bài' in both.get_data(as_text=True)  # 3 + 1
    assert api(client, category=["Kinh doanh", "Thể thao"])["total"] == 4
    active = [link for link in page(both).links if link["current"] and not link["in_svg"]]
    assert {link["text"].split(" ")[0] for link in active} == {"Kinh", "Thể"}
    # Unticking one keeps the other; each chip removes only its own section.
    untick = link_to(both, "Thể thao 1", startswith=True)
    assert parse_qs(urlsplit(untick["href"]).query) == {"category": ["Kinh doanh"]}
    chips = {link["aria"]: link["href"] for link in page(both).links if (link["aria"] or "").startswith("Bỏ lọc")}
    assert parse_qs(urlsplit(chips["Bỏ lọc chuyên mục Kinh doanh"]).query) == {"category": ["Thể thao"]}
    # A new query from the box keeps both.
    hidden = [(i["name"], i["value"]) for i in page(both).inputs if i.get("type") == "hidden"]
    assert ("category", "Kinh doanh") in hidden and ("category", "Thể thao") in hidden


def test_source_facet_in_the_sidebar_filters_by_source(client):
    response = client.get("/", query_string={"q": "hoa binh"})
    assert "<h3>Nguồn</h3>" in response.get_data(as_text=True)
    source = link_to(response, "HBĐT 3")
    assert params(source["href"]) == {"q": "hoa binh", "source": "HBĐT"}
    assert '<span class="total">3</span> bài' in client.get(source["href"]).get_data(as_text=True)


def test_numbers_read_the_vietnamese_way_in_messages(client):
    html = client.get("/", query_string={"q": "tin " * 1250}).get_data(as_text=True)
    assert "tối đa 2.000 ký tự" in html and "5.000 ký tự" in html and "2,000" not in html
    assert "tối đa 2.000 ký tự" in client.get("/api/search", query_string={"q": "x" * 5000}).get_json()["error"]


@pytest.mark.parametrize("query", ["OR", "-", "*", "OR OR"])
def test_a_query_of_only_operators_says_it_has_no_words(client, query):
    response = client.get("/", query_string={"q": query})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "không có từ nào để tìm" in html and "bài khớp" not in html
    assert "không có từ nào để tìm" in client.get("/api/search", query_string={"q": query}).get_json()["error"]


def test_hit_shows_the_category_spelled_as_the_facet_does(client):
    response = client.get("/", query_string={"q": "tiem vac xin"})
    html = response.get_data(as_text=True)
    assert ">Sức khoẻ</a>" in html and "Sức khỏe" not in html


def test_undated_article_meta_line_has_no_stray_dot(site_client):
    response = site_client.get("/", query_string={"q": "khong ghi ngay"})
    html = response.get_data(as_text=True)
    meta = html.split('<p class="meta">', 1)[1].split("</p>", 1)[0]
    assert meta.strip().startswith("<a ") and "·" not in meta.split("<a", 1)[0]
    article_meta = site_client.get("/article/khong-ngay").get_data(as_text=True).split('<p class="meta">', 1)[1]
    assert article_meta.strip().startswith("<a ")


def test_title_entities_are_decoded(site_client):
    html = site_client.get("/article/nbsp").get_data(as_text=True)
    assert "<h1>Giá vàng lúc 11h &amp; chiều nay</h1>" in html and "&amp;nbsp" not in html


def test_article_opened_from_results_highlights_the_words_and_leads_back(client):
    results = client.get("/", query_string={"q": "cong thuong", "category": "Chính trị", "page": "1"})
    opened = client.get(link_to(results, "Bí thư Tỉnh ủy làm việc với Sở Công Thương Hòa Bình")["href"])
    html = opened.get_data(as_text=True)
    assert "<h1>Bí thư Tỉnh ủy làm việc với Sở <mark>Công</mark> <mark>Thương</mark> Hòa Bình</h1>" in html
    assert "lãnh đạo Sở <mark>Công</mark> <mark>Thương</mark> tỉnh" in html
    back = link_to(opened, "‹ Quay lại kết quả tìm “cong thuong”")
    assert params(back["href"]) == {"q": "cong thuong", "category": "Chính trị"}
    assert client.get(back["href"]).status_code == 200
    # Opened on its own, it has neither.
    alone = client.get("/article/mau-001").get_data(as_text=True)
    assert "<mark>" not in alone and "Quay lại kết quả" not in alone


def test_month_counts_are_listed_by_the_bars_for_phones(client):
    html = client.get("/", query_string={"q": "hoa binh"}).get_data(as_text=True)
    rows = html.split('<ol class="count-rows"', 1)[1].split("</ol>", 1)[0]
    assert [r.split('<span class="count">')[1].split("<")[0] for r in rows.split("<li>")[1:]] == ["1", "2", "1"]
    assert "Tháng 3/2021" in rows


def test_month_rows_count_years_when_months_are_many():
    months = [FacetValue(f"{y}-{m:02d}", 1) for y in (2019, 2020, 2021) for m in range(1, 13)]
    years = [FacetValue(str(y), 12) for y in (2019, 2020, 2021)]
    rows = facets.count_rows({"month": months, "year": years}, lambda **changes: "")
    assert rows.unit == "năm" and [r.label for r in rows.rows] == ["Năm 2019", "Năm 2020", "Năm 2021"]


# -- exports --------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    import csv
    import io

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())  # Excel reads UTF-8 with its BOM
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_export_holds_every_page_of_a_search(client):
    rows = csv_rows(client.get("/api/search.csv", query_string={"q": "hoa binh", "per_page": "2", "page": "2"}))
    assert rows[0] == ["rank", "id", "title", "date", "category", "author", "source", "url", "score"]
    assert [r[1] for r in rows[1:]] == [h["id"] for h in api(client, q="hoa binh", per_page=100)["hits"]]
    assert rows[1][:3] == ["1", "mau-005", "Thủy điện Hoà Bình tăng công suất mùa khô"]
    everything = csv_rows(client.get("/api/search.csv"))
    assert len(everything) == 1 + 13
    assert len(csv_rows(client.get("/api/search.csv", query_string={"limit": "5"}))) == 1 + 5
    assert client.get("/api/search.csv", query_string={"limit": "10001"}).status_code == 400


def test_csv_export_walks_past_one_library_page(sample_index, write_jsonl):
    index_paths(sample_index, [write_jsonl([article(f"n{i:03d}", title=f"Tin số {i}") for i in range(150)])])
    client = app_at({"TESTING": True, "INDEX_DIR": str(sample_index)}).test_client()
    rows = csv_rows(client.get("/api/search.csv", query_string={"q": "tin so"}))
    assert len(rows) == 1 + 150 and len({r[1] for r in rows[1:]}) == 150


def test_months_csv_counts_every_month_gaps_included(client):
    rows = csv_rows(client.get("/api/months.csv", query_string={"q": "hoa binh"}))
    assert rows == [["month", "count"], ["2020-11", "1"], ["2020-12", "0"], ["2021-01", "0"], ["2021-02", "0"],
                    ["2021-03", "2"], ["2021-04", "1"]]


def test_csv_cells_never_become_formulas(sample_index, write_jsonl):
    index_paths(sample_index, [write_jsonl([article("f", title="=HYPERLINK(\"http://x\") Tin lạ")])])
    client = app_at({"TESTING": True, "INDEX_DIR": str(sample_index)}).test_client()
    assert csv_rows(client.get("/api/search.csv", query_string={"q": "tin la"}))[1][2].startswith("'=HYPERLINK")


def test_results_page_links_its_csv_exports(client):
    response = client.get("/", query_string={"q": "hoa binh", "category": "Kinh doanh"})
    assert params(link_to(response, "kết quả")["href"]) == {"q": "hoa binh", "category": "Kinh doanh"}
    assert urlsplit(link_to(response, "kết quả")["href"]).path == "/api/search.csv"
    assert urlsplit(link_to(response, "số bài theo tháng")["href"]).path == "/api/months.csv"
    assert "tối đa 10.000 bài" in response.get_data(as_text=True)


# -- CORS and the access log ----------------------------------------------------


def test_cors_is_off_by_default(client):
    response = client.get("/api/search", headers={"Origin": "https://toasoan.vn"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allows_the_listed_origins_on_the_api_and_feed_only(sample_index, monkeypatch):
    monkeypatch.setenv("VNSEARCH_CORS_ORIGINS", "https://toasoan.vn, https://m.toasoan.vn/")
    client = app_at({"TESTING": True, "INDEX_DIR": str(sample_index)}).test_client()
    for url in ("/api/search?q=ha", "/api/suggest?q=ha", "/feed", "/api/months.csv"):
        response = client.get(url, headers={"Origin": "https://m.toasoan.vn"})
        assert response.headers.get("Access-Control-Allow-Origin") == "https://m.toasoan.vn", url
        assert "Origin" in response.headers.get("Vary", "")
    assert "Access-Control-Allow-Origin" not in client.get("/api/search", headers={"Origin": "https://evil.example"}).headers
    assert "Access-Control-Allow-Origin" not in client.get("/?q=ha", headers={"Origin": "https://toasoan.vn"}).headers


def test_access_log_writes_a_line_per_request(sample_index, capsys):
    client = app_at({"TESTING": True, "INDEX_DIR": str(sample_index), "ACCESS_LOG": True}).test_client()
    client.get("/api/search", query_string={"q": "bí mật"})
    client.get("/no-such-page")
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split()[1:4] for line in lines] == [["GET", "/api/search", "200"], ["GET", "/no-such-page", "404"]]
    assert all(line.endswith(" ms") and float(line.split()[4]) >= 0 for line in lines)
    assert "bí" not in "".join(lines)  # searches stay out of the log


def test_no_access_log_unless_asked(client, capsys):
    client.get("/api/search")
    assert capsys.readouterr().err == ""


def test_page_numbers_read_the_vietnamese_way():
    from vnsearch.web.results import pagination

    labels = [p.label for p in pagination(1500, 20_000, 10, lambda **changes: "")]
    assert "1.500" in labels and "2.000" in labels and "1500" not in labels
