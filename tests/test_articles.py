"""Article readers: JSON Lines, JSON arrays, scraped pages, directories; validation messages."""

import gzip
import json

import pytest

from conftest import article
from vnsearch.articles import Article, Rejection, html_to_text, parse_date
from vnsearch.readers import parse_page, read_path

PAGE = """(HBĐT) - Ngày 2/4/2021, Sở Công Thương tỉnh Hòa Bình tổ chức hội nghị triển khai nhiệm vụ năm. Dự hội nghị có lãnh đạo UBND tỉnh.

Hội nghị đánh giá kết quả phát triển công nghiệp và thương mại của tỉnh.

Minh Châu

Các tin khác

Khai mạc hội chợ thương mại tỉnh Hòa Bình

Sáng 1/4, hội chợ thương mại khai mạc tại thành phố Hòa Bình.

Xem các tin đã đưa ngày:
Tin trong: Chuyên mục này Mọi chuyên mục
"""


def records(path):
    return list(read_path(path))


def test_jsonl_records_become_articles_with_all_fields(write_jsonl):
    path = write_jsonl([article("a1", date="2021-04-12T08:15:00+07:00", category="Sức khỏe", url="https://x.vn/a1",
                                author="Lê Thu", source="Dân Trí", tags=["y tế"], summary="Tóm tắt", extra=1)])
    [a] = records(path)
    assert isinstance(a, Article)
    assert (a.id, a.category, a.author, a.source, a.tags, a.summary) == ("a1", "Sức khỏe", "Lê Thu", "Dân Trí", ("y tế",), "Tóm tắt")
    assert a.date.isoformat() == "2021-04-12T08:15:00+07:00"


def test_updated_is_read_with_the_rules_of_date(write_jsonl):
    path = write_jsonl([article("u1", date="2021-04-12T08:15:00+07:00", updated="2021-04-12T10:30:00Z"),
                        article("u2", updated="2021-04-13 07:05"), article("u3", updated="2021-04-14"),
                        article("u4")])
    u1, u2, u3, u4 = records(path)
    assert u1.updated.isoformat() == "2021-04-12T10:30:00+00:00"
    assert u2.updated.isoformat() == "2021-04-13T07:05:00+07:00"  # no offset: Vietnam time
    assert u3.updated.isoformat() == "2021-04-14T00:00:00+07:00"
    assert u4.updated is None


def test_gzipped_jsonl_is_read(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps(article("g1"), ensure_ascii=False) + "\n")
    assert [r.id for r in records(path)] == ["g1"]


@pytest.mark.parametrize("record,reason", [
    ({"title": "Tin", "body": "Nội dung"}, "missing or empty 'id'"),
    ({"id": "x", "title": "  ", "body": "Nội dung"}, "missing or empty 'title'"),
    ({"id": 7, "title": "Tin", "body": "Nội dung"}, "field 'id' must be a string, got number"),
    ({"id": "x", "title": "Tin", "body": "Nội dung", "date": "2021-02-30"}, "invalid date '2021-02-30'"),
    ({"id": "x", "title": "Tin", "body": "Nội dung", "tags": "y tế"}, "field 'tags' must be a list of strings"),
    ({"id": "x", "title": "Tin", "body": "Nội dung", "updated": 20210412},
     "field 'updated' must be an ISO 8601 string, got number"),
    ({"id": "x", "title": "Tin", "body": "Nội dung", "updated": "12/04/2021 9:00"},
     "invalid 'updated' time '12/04/2021 9:00'"),
    ([1, 2], "expected a JSON object, got list"),
])
def test_bad_records_are_rejected_with_line_and_reason(write_jsonl, record, reason):
    path = write_jsonl([article("good-1"), record, article("good-2")])
    out = records(path)
    assert [r.id for r in out if isinstance(r, Article)] == ["good-1", "good-2"]
    [rejection] = [r for r in out if isinstance(r, Rejection)]
    assert rejection.line == 2
    assert reason in rejection.reason
    assert str(rejection).startswith(f"{path}:2: ")


def test_malformed_json_line_names_the_column(write_jsonl):
    path = write_jsonl([article("ok"), '{"id": "x", "title": '])
    rejection = records(path)[1]
    assert rejection.line == 2 and rejection.reason.startswith("malformed JSON")


def test_invalid_utf8_line_is_rejected_and_the_rest_read(tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = json.dumps(article("u1"), ensure_ascii=False).encode()
    bad = json.dumps(article("u2", title="Hà Nội")).encode().replace(b"H\\u00e0", b"H\xe0")
    path.write_bytes(good + b"\n" + bad + b"\n")
    out = records(path)
    assert out[0].id == "u1"
    assert isinstance(out[1], Rejection) and out[1].line == 2 and "invalid UTF-8" in out[1].reason


def test_dates_without_offset_are_vietnam_time():
    assert parse_date("2021-04-12 08:15").utcoffset().total_seconds() == 7 * 3600
    assert parse_date("2021-04-12").isoformat() == "2021-04-12T00:00:00+07:00"


def test_html_in_body_is_reduced_to_text_and_scripts_vanish():
    text = html_to_text("<p>Giá vàng <b>giảm</b></p><script>alert('x')</script><p>Hà&nbsp;Nội</p>")
    assert text == "Giá vàng giảm\nHà Nội"


def test_scraped_page_keeps_the_article_and_drops_other_headlines(tmp_path):
    path = tmp_path / "001_abc.txt"
    path.write_text(PAGE, encoding="utf-8")
    [a] = records(path)
    assert a.id == "001_abc"
    assert a.source == "HBĐT"
    assert a.author == "Minh Châu"
    assert a.title.startswith("Ngày 2/4/2021, Sở Công Thương tỉnh Hòa Bình tổ chức hội nghị")
    assert a.title.endswith("năm.")
    assert "hội chợ" not in a.body and "Xem các tin" not in a.body
    assert a.date.isoformat() == "2021-04-02T00:00:00+07:00"


def test_page_with_a_title_line_uses_it():
    page = "Hội nghị tổng kết ngành Công Thương\n\n(HBĐT) - Sáng 3/4, hội nghị tổng kết đã diễn ra.\n\nMinh Châu\n"
    a = parse_page(page, "p1")
    assert a.title == "Hội nghị tổng kết ngành Công Thương"
    assert a.body == "Sáng 3/4, hội nghị tổng kết đã diễn ra."
    assert a.date is None  # "3/4" has no year: no date is invented


def test_seed_page_is_one_article_without_the_other_headlines(seed_dir):
    [a] = records(seed_dir)
    assert isinstance(a, Article)
    assert a.id == "000_093370158e588d45"
    assert a.author == "Hoàng Nga"
    assert a.source == "HBĐT"
    assert "Lương Cường" not in a.body
    assert "Xem các tin đã đưa ngày" not in a.body
    assert a.title.startswith("Ngày 17/3, đồng chí Ngô Văn Tuấn")
    assert a.date is None  # the page says "Ngày 17/3" without a year


def test_directory_is_read_recursively_and_other_files_ignored(tmp_path, write_jsonl):
    (tmp_path / "sub").mkdir()
    write_jsonl([article("d1")], name="sub/a.jsonl")
    (tmp_path / "notes.md").write_text("không phải bài báo", encoding="utf-8")
    assert [r.id for r in records(tmp_path)] == ["d1"]


def test_missing_path_is_reported(tmp_path):
    [r] = records(tmp_path / "nope.jsonl")
    assert isinstance(r, Rejection) and "no such file" in r.reason


def test_json_lines_are_streamed_not_read_whole(tmp_path):
    """An archive is read a line at a time: memory stays far below the file's size."""
    import tracemalloc

    body = "Người dân Hà Nội đón tin vui về giá xăng giảm. " * 60  # about 3 KB of Vietnamese
    path = tmp_path / "archive.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for n in range(3000):
            f.write(json.dumps(article(f"a{n}", body=body), ensure_ascii=False) + "\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count = sum(isinstance(r, Article) for r in read_path(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 3000
    assert size > 9_000_000 and peak < size / 10, (size, peak)


def test_a_json_array_after_blank_lines_is_read_whole(tmp_path):
    path = tmp_path / "export.json"
    path.write_text("\n\n" + json.dumps([article("a"), article("b")], ensure_ascii=False, indent=1), encoding="utf-8")
    assert [r.id for r in records(path)] == ["a", "b"]
