"""Bad input never stops ``vnsearch index``: each bad record is named with file and line, the
good records are indexed, and the exit status says whether anything was rejected.

Every file is written by the test. ``vnsearch index`` runs in-process through click's
CliRunner, stdout and stderr apart.
"""

from __future__ import annotations

import codecs
import gzip
import json
import traceback
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import article
from vnsearch.cli import main
from engine_support import engine_at
from vnsearch.search import SearchRequest


@pytest.fixture
def index_dir(tmp_path):
    return tmp_path / "index"


def run_index(index_dir, *paths):
    """``vnsearch index PATHS``; the run must end with an exit status, never an exception."""
    result = CliRunner().invoke(main, ["index", *map(str, paths), "--index-dir", str(index_dir), "-q"])
    if not (result.exception is None or isinstance(result.exception, SystemExit)):
        raise AssertionError("vnsearch index crashed:\n" + "".join(traceback.format_exception(*result.exc_info)))
    assert len(result.stdout.strip().splitlines()) == 1, result.stdout  # one summary line
    return result


def ids_found(index_dir, query="", **filters) -> list[str]:
    engine = engine_at(str(index_dir))
    try:
        return sorted(h.id for h in engine.search(SearchRequest(query=query, per_page=100, **filters)).hits)
    finally:
        engine.close()


def stored(index_dir, article_id) -> dict | None:
    engine = engine_at(str(index_dir))
    try:
        return engine.article(article_id)
    finally:
        engine.close()


def write_lines(path: Path, lines) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    return path


def stderr_lines(result) -> list[str]:
    return result.stderr.strip().splitlines()


# -- records that cannot be read --------------------------------------------------

def test_malformed_json_lines_are_named_and_the_rest_indexed(tmp_path, index_dir):
    path = write_lines(tmp_path / "a.jsonl", [
        article("g1"), '{"id": "x", "title": ', article("g2"), "{'id': 'y'}", "[1, 2", article("g3")])
    result = run_index(index_dir, path)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"{path}:2: malformed JSON: Expecting value at column 22",
        f"{path}:4: malformed JSON: Expecting property name enclosed in double quotes at column 2",
        f"{path}:5: malformed JSON: Expecting ',' delimiter at column 6",
    ]
    assert result.stdout.strip() == "3 added, 0 updated, 0 unchanged, 0 deleted, 3 rejected"
    assert ids_found(index_dir) == ["g1", "g2", "g3"]


@pytest.mark.parametrize("name", ["export.jsonl", "export.json"])
def test_a_json_array_instead_of_json_lines_is_indexed(tmp_path, index_dir, name):
    path = tmp_path / name
    path.write_text(json.dumps([article("a1", title="Lũ quét ở Lào Cai"), article("a2"),
                                article("a3", title="")], ensure_ascii=False, indent=2), encoding="utf-8")
    result = run_index(index_dir, path)
    assert result.exit_code == 1
    assert stderr_lines(result) == [f"{path}: array item 3: missing or empty 'title'"]
    assert ids_found(index_dir) == ["a1", "a2"]
    assert ids_found(index_dir, "lu quet lao cai") == ["a1"]


@pytest.mark.parametrize("record,reason", [
    ({"title": "Tin", "body": "Nội dung"}, "missing or empty 'id'"),
    (article(""), "missing or empty 'id'"),
    (article("   "), "missing or empty 'id'"),
    ({"id": "t", "body": "Nội dung"}, "missing or empty 'title'"),
    (article("t", title=""), "missing or empty 'title'"),
    (article(123), "field 'id' must be a string, got number"),
    (article("n", title=2021), "field 'title' must be a string, got number"),
    (article("n", body=1.5), "field 'body' must be a string, got number"),
    (article("n", category=5), "field 'category' must be a string, got number"),
    (article("n", author=True), "field 'author' must be a string, got boolean"),
    (article("n", date=20210412), "field 'date' must be an ISO 8601 string, got number"),
    (article("n", tags=[1, 2]), "field 'tags' must be a list of strings"),
    (article("d", date="2021-02-30"), "invalid date '2021-02-30': day is out of range for month"),
    (article("d", date="30/04/2021"), "invalid date '30/04/2021'"),
    ([article("x")], "expected a JSON object, got list"),
])
def test_a_bad_record_is_rejected_with_file_line_and_reason(tmp_path, index_dir, record, reason):
    path = write_lines(tmp_path / "a.jsonl", [article("good-1"), record, article("good-2")])
    result = run_index(index_dir, path)
    assert result.exit_code == 1
    [message] = stderr_lines(result)
    assert message.startswith(f"{path}:2: {reason}"), message
    assert result.stdout.strip() == "2 added, 0 updated, 0 unchanged, 0 deleted, 1 rejected"
    assert ids_found(index_dir) == ["good-1", "good-2"]


def test_duplicate_ids_in_one_file_last_one_wins_and_is_reported(tmp_path, index_dir):
    path = write_lines(tmp_path / "a.jsonl", [
        article("d1", title="Bản đầu tiên xqcu"), article("d2"), article("d1", title="Bản sửa lại xqmoi")])
    result = run_index(index_dir, path)
    assert result.exit_code == 0
    assert result.stdout.strip() == ("2 added, 0 updated, 0 unchanged, 0 deleted, 0 rejected "
                                     "(1 duplicate ids: the last one won)")
    assert stored(index_dir, "d1")["title"] == "Bản sửa lại xqmoi"
    assert ids_found(index_dir, "xqmoi") == ["d1"]
    assert ids_found(index_dir, "xqcu") == []
    assert ids_found(index_dir) == ["d1", "d2"]


def test_dates_without_a_time_zone_are_vietnam_time(tmp_path, index_dir):
    path = write_lines(tmp_path / "a.jsonl", [
        article("late", date="2021-04-12T23:30:00"),  # 16:30 UTC: still the 12th in Hà Nội
        article("day", date="2021-04-12"),
        article("space", date="2021-04-12 08:15"),
        article("utc", date="2021-04-12T20:00:00Z"),  # 03:00 on the 13th in Hà Nội
    ])
    assert run_index(index_dir, path).exit_code == 0
    assert stored(index_dir, "late")["date_iso"] == "2021-04-12T23:30:00+07:00"
    assert stored(index_dir, "day")["date_iso"] == "2021-04-12T00:00:00+07:00"
    assert stored(index_dir, "space")["date_iso"] == "2021-04-12T08:15:00+07:00"
    the_12th = dict(date_from=date(2021, 4, 12), date_to=date(2021, 4, 12))
    assert ids_found(index_dir, **the_12th) == ["day", "late", "space"]
    assert ids_found(index_dir, date_from=date(2021, 4, 13), date_to=date(2021, 4, 13)) == ["utc"]


# -- encodings ----------------------------------------------------------------

def test_invalid_utf8_line_is_rejected_and_the_others_indexed(tmp_path, index_dir):
    path = tmp_path / "a.jsonl"
    path.write_bytes(json.dumps(article("u1")).encode() + b"\n"
                     + b'{"id": "u2", "title": "H\xe0 N\xff", "body": "x"}\n'
                     + json.dumps(article("u3"), ensure_ascii=False).encode() + b"\n")
    result = run_index(index_dir, path)
    assert result.exit_code == 1
    [message] = stderr_lines(result)
    assert message.startswith(f"{path}:2: invalid UTF-8"), message
    assert ids_found(index_dir) == ["u1", "u3"]


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                          ("utf-8", codecs.BOM_UTF8)])
def test_a_file_with_a_byte_order_mark_is_read(tmp_path, index_dir, encoding, bom):
    text = "\r\n".join(json.dumps(article(f"w{i}", title="Tuyết rơi ở Sa Pa"), ensure_ascii=False) for i in range(3))
    path = tmp_path / "a.jsonl"
    path.write_bytes(bom + text.encode(encoding))
    result = run_index(index_dir, path)
    assert (result.exit_code, result.stderr) == (0, "")
    assert ids_found(index_dir, "tuyết rơi sa pa") == ["w0", "w1", "w2"]


def _windows_1258(text: str) -> bytes:
    """Encode as Windows-1258 does: base letters precomposed, tone marks as combining characters."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out += (base + "".join(c for c in parts if c in tones)).encode("cp1258")
    return out


def test_a_windows_1258_file_is_rejected_naming_the_encoding(tmp_path, index_dir):
    path = tmp_path / "a.jsonl"
    lines = [json.dumps(article(f"c{i}", title="Người dân Hà Nội đón Tết"), ensure_ascii=False) for i in range(2)]
    path.write_bytes(_windows_1258("\n".join(lines) + "\n"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the file really is not UTF-8
    result = run_index(index_dir, path)
    assert result.exit_code == 1
    messages = stderr_lines(result)
    assert [m.split(": ", 1)[0] for m in messages] == [f"{path}:1", f"{path}:2"]
    assert all("invalid UTF-8" in m and "Windows-1258" in m for m in messages), messages
    assert result.stdout.strip() == "0 added, 0 updated, 0 unchanged, 0 deleted, 2 rejected"


def test_nfd_text_is_found_by_nfc_and_unaccented_queries(tmp_path, index_dir):
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    path = write_lines(tmp_path / "a.jsonl", [
        article("nfd", title=nfd("Thủy điện Hòa Bình xả lũ"), body=nfd("Nhà máy mở thêm cửa xả đáy.")),
        article("other")])
    assert run_index(index_dir, path).exit_code == 0
    queries = ("Thủy điện Hòa Bình", "Thuỷ điện Hoà Bình", nfd("thủy điện"), "thuy dien hoa binh", "xả đáy", "xa day")
    for query in queries:
        assert ids_found(index_dir, query) == ["nfd"], query


# -- sizes, control characters, markup ---------------------------------------------

def test_a_20_mb_body_is_rejected_naming_the_limit(tmp_path, index_dir):
    path = write_lines(tmp_path / "a.jsonl", [article("big", body="mưa " * 5_000_000), article("small")])
    assert path.stat().st_size > 20_000_000
    result = run_index(index_dir, path)
    assert result.exit_code == 1
    assert stderr_lines(result) == [f"{path}:1: 'body' has 19,999,999 characters; the limit is 1,000,000"]
    assert ids_found(index_dir) == ["small"]


def test_control_characters_are_stripped(tmp_path, index_dir):
    path = write_lines(tmp_path / "a.jsonl", [
        article("ctl", title="Mưa\x07 lớn\x1b ở Hà\x00 Nội", body="Đường\x01 ngập\x7f sâu ở\x08 Cầu Giấy.\x1f")])
    assert run_index(index_dir, path).exit_code == 0
    doc = stored(index_dir, "ctl")
    assert doc["title"] == "Mưa lớn ở Hà Nội"
    assert doc["body"] == "Đường ngập sâu ở Cầu Giấy."
    assert ids_found(index_dir, "ngập sâu cầu giấy") == ["ctl"]


def test_a_vertical_tab_or_form_feed_between_words_keeps_them_apart(tmp_path, index_dir):
    path = write_lines(tmp_path / "a.jsonl", [
        article("vt", title="Tin thời tiết", body="Hà Nội\x0bMưa lớn kéo dài\x0cNgập sâu")])
    assert run_index(index_dir, path).exit_code == 0
    assert ids_found(index_dir, "mưa lớn") == ["vt"]
    assert ids_found(index_dir, "ngập sâu") == ["vt"]


def test_c1_control_characters_are_stripped(tmp_path, index_dir):
    path = write_lines(tmp_path / "a.jsonl", [article("c1", title="Mưa\x85 lớn\x9d", body="Ngập\x80 sâu\x9f.")])
    assert run_index(index_dir, path).exit_code == 0
    doc = stored(index_dir, "c1")
    assert (doc["title"], doc["body"]) == ("Mưa lớn", "Ngập sâu.")


def test_html_in_a_body_is_reduced_to_text_and_scripts_vanish(tmp_path, index_dir):
    body = ("<div class='content'><p>Mưa lớn ở <b>Hà Nội</b>.</p>"
            "<script>var xqscript = 'alert(1)';</script><style>p { color: xqstyle }</style>"
            "<p>Đường ngập &lt;sâu&gt; &amp; kẹt xe.</p></div>")
    path = write_lines(tmp_path / "a.jsonl", [article("html", title="Mưa lớn", body=body)])
    assert run_index(index_dir, path).exit_code == 0
    assert stored(index_dir, "html")["body"] == "Mưa lớn ở Hà Nội.\nĐường ngập <sâu> & kẹt xe."
    assert ids_found(index_dir, "kẹt xe") == ["html"]
    assert ids_found(index_dir, "xqscript") == ids_found(index_dir, "xqstyle") == []


# -- files ------------------------------------------------------------------------

@pytest.mark.parametrize("content", ["", "\n\n  \n"], ids=["empty", "blank-lines"])
def test_an_empty_file_is_reported(tmp_path, index_dir, content):
    good = write_lines(tmp_path / "good.jsonl", [article("g1")])
    empty = tmp_path / "empty.jsonl"
    empty.write_text(content)
    result = run_index(index_dir, empty, good)
    assert result.exit_code == 1
    assert stderr_lines(result) == [f"{empty}: file is empty: no articles"]
    assert ids_found(index_dir) == ["g1"]


def test_an_unreadable_file_in_a_directory_is_reported_and_the_rest_indexed(tmp_path, index_dir):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_lines(folder / "good.jsonl", [article("g1"), article("g2")])
    # Root reads any file whatever its mode; /proc/self/mem fails to read (EIO) for anyone.
    unreadable = folder / "a-unreadable.jsonl"
    unreadable.symlink_to("/proc/self/mem")
    with pytest.raises(OSError):
        unreadable.read_bytes()
    result = run_index(index_dir, folder)
    assert result.exit_code == 1
    assert stderr_lines(result) == [f"{unreadable}: cannot read file: Input/output error"]
    assert ids_found(index_dir) == ["g1", "g2"]


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _corrupted(data: bytes) -> bytes:
    middle = len(data) // 2  # inside the deflate stream, not the header
    return data[:middle] + b"garbage!garbage!" + data[middle + 16:]


@pytest.mark.parametrize("damage", [_truncated, _corrupted], ids=["truncated", "corrupt"])
def test_a_damaged_gzip_file_is_reported_and_the_rest_indexed(tmp_path, index_dir, damage):
    # Named to sort before the good file: none of its readable first half may go in either.
    folder = tmp_path / "articles"
    folder.mkdir()
    write_lines(folder / "b-good.jsonl", [article("g1")])
    damaged = folder / "a-damaged.jsonl.gz"
    damaged.write_bytes(damage(gzip.compress("\n".join(json.dumps(article(f"z{i}")) for i in range(50)).encode())))
    result = run_index(index_dir, folder)
    assert result.exit_code == 1
    [message] = stderr_lines(result)
    assert message.startswith(f"{damaged}: cannot read file: "), message
    assert ids_found(index_dir) == ["g1"]


def test_an_index_of_only_rejected_records_can_be_searched(tmp_path, index_dir):
    path = write_lines(tmp_path / "a.jsonl", ["{oops"])
    assert run_index(index_dir, path).exit_code == 1
    for command in (["stats"], ["search", "Hà Nội"]):
        result = CliRunner().invoke(main, [*command, "--index-dir", str(index_dir)])
        assert result.exit_code == 0 and result.exception is None, repr(result.exception)
    assert ids_found(index_dir) == []
