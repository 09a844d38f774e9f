"""Hostile queries and hostile articles: the search library raises nothing but SearchError, the
site answers 200 or a 400 that says why (never a 500), and markup is shown as text everywhere.

Random inputs come from Hypothesis, derandomized so that every run tries the same cases.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import article
from robustness_support import write_corpus
from vnsearch import sample_articles_path
from engine_support import engine_at, index_paths
from vnsearch.search import SORTS, SearchError, SearchRequest

HYPOTHESIS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])

# Articles whose fields carry markup. The body's entities decode to a literal "<script>" in
# the stored text, which snippets and the article page must still show as text.
HOSTILE = [
    article("xss-title", title='<script>alert("xqtitle")</script> Tin <b>nóng</b> ở Hà Nội',
            body="Mưa lớn ở Hà Nội, xqtitle. Tin <b>đậm</b> & \"nháy\" 'đơn'.",
            author="<img src=x onerror=alert(2)>", category="<i>Thời sự</i>", source='"><svg onload=alert(3)>',
            url="javascript:alert(4)", date="2021-04-01T08:00:00+07:00"),
    article('"><script>alert(5)</script>', title="Tin bình thường xqid ở Hà Nội",
            body="Bài có mã xqid, tin Hà Nội.", date="2021-04-02T08:00:00+07:00"),
    article("xss-body", title="Đoạn mã trong bài xqbody",
            body="Tin có đoạn &lt;script&gt;alert('xqbody')&lt;/script&gt; trong bài ở Hà Nội.",
            date="2021-04-03T08:00:00+07:00"),
]
RAW_MARKUP = ["<script>alert", "<b>nóng", "<b>đậm", "<img src=x", "<svg onload", "<i>Thời sự", 'href="javascript:']


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory):
    """The sample articles, 300 synthetic ones and the hostile ones, indexed once for this module."""
    folder = tmp_path_factory.mktemp("hostile")
    hostile = folder / "hostile.jsonl"
    hostile.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in HOSTILE) + "\n", encoding="utf-8")
    index_dir = folder / "index"
    report = index_paths(index_dir, [sample_articles_path(), write_corpus(folder / "corpus.jsonl", count=300), hostile])
    assert report.rejected == 0
    return index_dir


@pytest.fixture(scope="module")
def engine(hostile_index):
    engine = engine_at(str(hostile_index))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def client(hostile_index):
    web = pytest.importorskip("vnsearch.web", reason="the web package (web/) is not installed yet")
    return web.create_app({"INDEX_DIR": str(hostile_index), "TESTING": True}).test_client()


# -- random queries and parameters ------------------------------------------------

QUERY_PIECES = ['"', "-", "OR", "AND", "NOT", "title:", "author:", "category:", "source:", "tieude:", "nguon:",
                "*", "?", "(", ")", ":", "hà nội", "Hà", "NỘI", "ha*", "*oi", "bí thư", "Uỷ", "ủy", "u\u0309y",
                "\u0301", "\u200b", "\x00", "\x1b", "<script>", "&amp;", "xqtitle", "2021", "-\"", "\"\"", "đ"]
queries = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(QUERY_PIECES), max_size=12).map(" ".join),
    st.lists(st.sampled_from(QUERY_PIECES), max_size=12).map("".join),
)
names = st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["Xã hội", "xa hoi", "<i>Thời sự</i>", "Lê Thu"]))
# The last day of all is left to test_a_date_range_ending_on_the_last_day_of_9999_is_not_an_error.
days = st.one_of(st.none(), st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 30)))


@HYPOTHESIS
@given(query=queries, category=names, author=names, source=names, date_from=days, date_to=days,
       sort=st.one_of(st.sampled_from(SORTS), st.text(max_size=10)),
       page=st.one_of(st.integers(-2, 5), st.integers(-10**18, 10**18)),
       per_page=st.one_of(st.integers(-2, 105), st.integers(-10**18, 10**18)))
@example(query="a" * 5000, category=None, author=None, source=None, date_from=None, date_to=None,
         sort="relevance", page=1, per_page=10)
@example(query="a* b* c* d* e* f* g* h* " * 20, category=None, author=None, source=None, date_from=None,
         date_to=None, sort="relevance", page=1, per_page=100)
@example(query="OR " * 300, category="", author="", source="", date_from=date(9999, 12, 30),
         date_to=date(9999, 12, 30), sort="newest", page=10**18, per_page=100)
@example(query='-"hà nội" -ha -*', category=None, author=None, source=None, date_from=date(1, 1, 1),
         date_to=date(1, 1, 1), sort="oldest", page=1, per_page=1)
def test_search_library_raises_only_search_error(engine, query, category, author, source, date_from, date_to,
                                                 sort, page, per_page):
    request = SearchRequest(query=query, category=category, author=author, source=source, date_from=date_from,
                            date_to=date_to, sort=sort, page=page, per_page=per_page)
    try:
        result = engine.search(request)
    except SearchError as exc:
        assert str(exc)  # a message the user can act on
        return
    assert len(result.hits) <= min(result.per_page, result.total)
    json.dumps(result.to_dict(), ensure_ascii=False)  # what the API would serve


PARAMS = ["q", "category", "author", "source", "from", "to", "sort", "page", "per_page", "unknown"]
values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "0", "-1", "1", "2", "100", "101", "1e3", "0x10", "١٢", "²", "9" * 30,
                     "2021-02-30", "2021-13-01", "0000-01-01", "0001-01-01", "9999-12-30", "2021-4-1",
                     "newest", "<script>", "\x00", "%FF"]),
)
query_strings = st.dictionaries(st.sampled_from(PARAMS), values, max_size=6)


@HYPOTHESIS
@given(params=query_strings)
@example(params={"q": "x" * 5000})
@example(params={"page": "99999999999", "per_page": "100", "q": "hà nội"})
@example(params={"from": "2021-05-01", "to": "2021-04-01"})
def test_api_search_answers_200_or_a_400_with_an_error(client, params):
    response = client.get("/api/search", query_string=params)
    assert response.status_code in (200, 400), (params, response.status_code)
    body = response.get_json()
    if response.status_code == 400:
        assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"], body
    else:
        assert list(body) == ["query", "total", "page", "per_page", "hits", "facets", "suggestion", "corrected_from", "relaxed", "missing"]
        assert len(body["hits"]) <= body["per_page"]


@HYPOTHESIS
@given(params=query_strings)
def test_pages_and_feed_never_answer_500(client, params):
    for url in ("/", "/feed"):
        response = client.get(url, query_string=params)
        assert response.status_code in (200, 400), (url, params, response.status_code)


def test_a_date_range_ending_on_the_last_day_of_9999_is_not_an_error(engine, client):
    statuses = {url: client.get(url, query_string={"to": "9999-12-31"}).status_code
                for url in ("/api/search", "/", "/feed")}
    assert statuses == {"/api/search": 200, "/": 200, "/feed": 200}
    engine.search(SearchRequest(date_to=date(9999, 12, 31)))


def test_undecodable_query_string_is_not_an_error(client):
    for raw in ("q=%FF%FE", "q=%C3", "q=%00&page=%FF", "q=%E2%80%AE%3Cb%3E", "%FF=%FF"):
        for url in ("/api/search", "/", "/feed"):
            assert client.get(f"{url}?{raw}").status_code in (200, 400), (url, raw)


# -- markup shown as text ---------------------------------------------------------

def assert_shows_markup_as_text(html: str, *expected: str):
    for raw in RAW_MARKUP:
        assert raw not in html, f"raw {raw!r} in the page"
    for text in expected:
        assert text in html, f"{text!r} not shown"


@pytest.mark.parametrize("url", ["/", "/?q=xqtitle", "/?q=H%C3%A0+N%E1%BB%99i&per_page=50", "/?q=xqbody",
                                 "/?q=xqid", "/?q=tin&sort=newest&per_page=50"])
def test_search_pages_show_hostile_titles_and_fields_as_text(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert_shows_markup_as_text(response.get_data(as_text=True))


def test_hostile_title_and_fields_are_shown_escaped_on_the_results_page(client):
    html = client.get("/?q=xqtitle").get_data(as_text=True)
    assert_shows_markup_as_text(html, "&lt;script&gt;alert(", "Tin &lt;b&gt;nóng&lt;/b&gt;",
                                "&lt;img src=x onerror=alert(2)&gt;")


def test_text_that_decodes_to_a_script_tag_is_shown_as_text_in_snippets(client):
    html = client.get("/?q=xqbody").get_data(as_text=True)
    assert_shows_markup_as_text(html, "&lt;script&gt;alert(")


@pytest.mark.parametrize("article_id", [a["id"] for a in HOSTILE])
def test_article_pages_show_markup_as_text(client, article_id):
    response = client.get(f"/article/{quote(article_id, safe='')}")
    assert response.status_code == 200, article_id
    assert_shows_markup_as_text(response.get_data(as_text=True))


@pytest.mark.parametrize("query", ["xqtitle", "xqbody", "xqid", "hà nội"])
def test_feed_carries_markup_as_escaped_text(client, query):
    response = client.get("/feed", query_string={"q": query})
    assert response.status_code == 200
    assert b"<script>alert" not in response.data and b"<img" not in response.data
    channel = ET.fromstring(response.data).find("channel")
    titles = {item.findtext("title") for item in channel.iter("item")}
    if query == "xqtitle":
        assert titles == {HOSTILE[0]["title"]}  # the title, exactly, as text
    for item in channel.iter("item"):
        assert not item.findtext("link").startswith("javascript:")
        assert "<script" not in (item.findtext("description") or "")  # the snippet's HTML keeps it escaped


@HYPOTHESIS
@given(tag=st.from_regex(r"xq[a-z]{1,8}", fullmatch=True), attr=st.text(max_size=12),
       inner=st.text(max_size=20), prefix=st.sampled_from(["", '"', "'", '">', "'>", "</title>", "-->", "]]>"]))
def test_markup_in_queries_is_shown_as_text_in_every_page(client, tag, attr, inner, prefix):
    query = f"{prefix}<{tag} x='{attr}'>{inner}</{tag}>"
    for url in ("/", "/feed"):
        response = client.get(url, query_string={"q": query})
        assert response.status_code in (200, 400)
        assert f"<{tag}".encode() not in response.data, (url, query)
    missing = client.get(f"/article/{quote(query, safe='')}")
    assert missing.status_code == 404
    assert f"<{tag}".encode() not in missing.data
