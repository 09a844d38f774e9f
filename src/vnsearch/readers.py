"""Readers: files in, :class:`~vnsearch.articles.Article` records out.

Readers yield an Article for each good record and a :class:`~vnsearch.articles.Rejection`
for each bad one (with file, line and reason), so one broken line never stops a file.
Supported inputs: JSON Lines (``.jsonl``, ``.jsonl.gz``), a JSON array (``.json``),
scraped plain-text article pages (``.txt``) and directories of them.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import re
import zlib
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Iterator

from vnsearch.articles import (SUPPORTED_SUFFIXES, VIETNAM_TZ, Article, Record, RecordError, Rejection,
                               article_from_dict, clean_text)



def read_paths(paths) -> Iterator[Record]:
    """The records of several files or directories, in order (see :func:`read_path`)."""
    for path in paths:
        yield from read_path(path)


def read_path(path: str | os.PathLike) -> Iterator[Record]:
    """Every record of a file, or of every supported file below a directory."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and _supported(p))
        for file in files:
            yield from _read_file(file)
    elif path.exists():
        if not _supported(path):
            yield Rejection(str(path), None, f"unsupported file type; expected one of {', '.join(SUPPORTED_SUFFIXES)}")
        else:
            yield from _read_file(path)
    else:
        yield Rejection(str(path), None, "no such file or directory")


def _supported(path: Path) -> bool:
    return path.name.lower().endswith(SUPPORTED_SUFFIXES)


_READ_ERRORS = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
              (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _unreadable(path: Path, exc: BaseException) -> Rejection:
    reason = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or type(exc).__name__
    return Rejection(str(path), None, f"cannot read file: {reason}")


def _read_file(path: Path) -> Iterator[Record]:
    if path.name.lower().endswith(".txt"):
        try:
            raw = path.read_bytes()  # one page: small
        except _READ_ERRORS as exc:
            yield _unreadable(path, exc)
            return
        yield from _read_page(path, raw)
    else:
        yield from _read_json(path)


def _open(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _check_gzip(path: Path) -> None:
    """Read a gzip file through once, keeping nothing: a truncated or corrupt one raises
    before any of its records is indexed, rather than after some were."""
    with gzip.open(path, "rb") as f:
        while f.read(1 << 20):
            pass


def _decode_whole(path: Path, raw: bytes) -> tuple[str | None, str | None]:
    """Text of a file with a UTF-16/UTF-32 BOM; (None, None) when there is none."""
    for bom, encoding in _WIDE_BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), None
            except UnicodeDecodeError as exc:
                return None, f"invalid {encoding.upper()} text: {exc.reason} at byte {exc.start}"
    return None, None


def _read_json(path: Path) -> Iterator[Record]:
    """JSON Lines, streamed a line at a time (an archive of 100,000 articles is not held in
    memory), or a JSON array, which is read whole."""
    try:
        if path.name.lower().endswith(".gz"):
            _check_gzip(path)
        stream = _open(path)
    except _READ_ERRORS as exc:
        yield _unreadable(path, exc)
        return
    with stream:
        try:
            head = stream.peek(4)[:4]
            if any(head.startswith(bom) for bom, _ in _WIDE_BOMS):  # UTF-16 or UTF-32: rare, read whole
                text, error = _decode_whole(path, stream.read())
                if error:
                    yield Rejection(str(path), None, error)
                    return
                yield from _read_json_lines(path, io.StringIO(text, newline="\n"))
            else:
                yield from _read_json_lines(path, stream)
        except _READ_ERRORS as exc:
            yield _unreadable(path, exc)


def _read_json_lines(path: Path, stream) -> Iterator[Record]:
    """Records of the lines of ``stream`` (a binary file, or decoded text); a file whose
    first non-blank line opens a JSON array is read as one."""
    content = False
    for number, line in enumerate(stream, start=1):
        if number == 1 and isinstance(line, bytes):
            line = line.removeprefix(codecs.BOM_UTF8)
        if not line.strip():
            continue
        if not content and line.lstrip()[:1] in ("[", b"["):
            yield from _read_json_array(path, line + stream.read())
            return
        content = True
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Rejection(str(path), number,
                                f"invalid UTF-8 ({exc.reason} at byte {exc.start}); "
                                "convert the file to UTF-8 (is it Windows-1258?)")
                continue
        try:
            record = json.loads(line.removesuffix("\n"))  # a line break would move error columns
        except json.JSONDecodeError as exc:
            yield Rejection(str(path), number, f"malformed JSON: {exc.msg} at column {exc.colno}")
            continue
        try:
            yield replace(article_from_dict(record), origin=f"{path}:{number}")
        except RecordError as exc:
            yield Rejection(str(path), number, str(exc))
    if not content:
        yield Rejection(str(path), None, "file is empty: no articles")


def _read_json_array(path: Path, data: str | bytes) -> Iterator[Record]:
    """A JSON array of article objects (some CMS exports write one instead of JSON Lines)."""
    try:
        text = data if isinstance(data, str) else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield Rejection(str(path), None, f"invalid UTF-8 ({exc.reason} at byte {exc.start}); convert the file to UTF-8")
        return
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Rejection(str(path), exc.lineno, f"malformed JSON array: {exc.msg} at column {exc.colno}")
        return
    if not isinstance(items, list):
        yield Rejection(str(path), 1, "expected JSON Lines or a JSON array of articles")
        return
    for index, record in enumerate(items, start=1):
        try:
            yield replace(article_from_dict(record), origin=f"{path}: array item {index}")
        except RecordError as exc:
            yield Rejection(str(path), None, f"array item {index}: {exc}")


# -- scraped pages ------------------------------------------------------------

_SOURCE_PREFIX_RE = re.compile(r"^\(([^()]{2,20})\)\s*[-–—:]?\s*")
_OTHER_NEWS_MARKERS = ("Các tin khác", "Tin khác", "Tin liên quan", "Bài liên quan")
_NAV_MARKERS = ("Xem các tin đã đưa ngày", "Tin trong:", "Chia sẻ", "In bài viết")
_FULL_DATE_RE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})(?:\s*[-,]?\s*(\d{1,2})[:h](\d{2}))?")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s+(?=[\"“(]?[A-ZĐÀ-Ỹ0-9])")
_BYLINE_RE = re.compile(r"^(?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*\.?)(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ]*\.?){0,4}(?:\s*\([^)]{1,40}\))?$")


def _read_page(path: Path, raw: bytes) -> Iterator[Record]:
    text, error = _decode_whole(path, raw)
    if error:
        yield Rejection(str(path), None, error)
        return
    if text is None:
        try:
            text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            yield Rejection(str(path), line, f"invalid UTF-8 ({exc.reason}); convert the page to UTF-8")
            return
    try:
        yield replace(parse_page(text, article_id=path.name.split(".")[0]), origin=str(path))
    except RecordError as exc:
        yield Rejection(str(path), None, str(exc))


def parse_page(text: str, article_id: str) -> Article:
    r"""An article from a scraped plain-text news page.

    The page's own article is kept; the "Các tin khác" block of other headlines and
    the trailing navigation are dropped; a last short line of names is the byline;
    a leading "(HBĐT) -" names the source.

    >>> page = ("Hòa Bình khai mạc lễ hội mùa lúa mới\n(HBĐT) - Sáng 12/4/2021, tỉnh Hòa Bình khai mạc lễ hội.\n"
    ...         "Các tin khác\nGiá vàng tăng\n")
    >>> a = parse_page(page, "hb-1")
    >>> a.title, a.source, a.date.isoformat(), a.body
    ('Hòa Bình khai mạc lễ hội mùa lúa mới', 'HBĐT', '2021-04-12T00:00:00+07:00', 'Sáng 12/4/2021, tỉnh Hòa Bình khai mạc lễ hội.')
    """
    lines = [clean_text(line) for line in clean_text(text).split("\n")]
    end = len(lines)
    for i, line in enumerate(lines):
        if line in _OTHER_NEWS_MARKERS or any(line.startswith(m) for m in _NAV_MARKERS):
            end = i
            break
    paragraphs = [line for line in lines[:end] if line]
    if not paragraphs:
        raise RecordError("page has no article text")
    author = ""
    if len(paragraphs) > 1 and _BYLINE_RE.match(paragraphs[-1]) and len(paragraphs[-1]) <= 60:
        author = paragraphs.pop()
    title = ""
    first = paragraphs[0]
    if (len(paragraphs) > 1 and not _SOURCE_PREFIX_RE.match(first) and len(first) <= 200
            and not first.endswith((".", ":", ";"))):
        title = paragraphs.pop(0)
    source = ""
    lead = paragraphs[0]
    if match := _SOURCE_PREFIX_RE.match(lead):
        source = match.group(1).strip()
        paragraphs[0] = lead[match.end():]
    if not title:
        title = _SENTENCE_END_RE.split(paragraphs[0], maxsplit=1)[0]
    body = "\n".join(paragraphs)
    if not body.strip():
        raise RecordError("page has no article text")
    when = None
    if match := _FULL_DATE_RE.search(paragraphs[0]):
        day, month, year, hour, minute = match.groups()
        try:
            when = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=VIETNAM_TZ)
        except ValueError:
            when = None
    return Article(id=article_id, title=title, body=body, date=when, author=author, source=source)
