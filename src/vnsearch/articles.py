"""Articles and the readers that turn files into them.

Readers yield :class:`Article` for good records and :class:`Rejection` for bad
ones (with file, line and reason), so one broken line never stops a file.
Supported inputs: JSON Lines (``.jsonl``, ``.jsonl.gz``), a JSON array
(``.json``), scraped plain-text article pages (``.txt``) and directories of them.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import html
import io
import json
import os
import re
import zlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator, Union

VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")
MAX_BODY_CHARS = 1_000_000
SUPPORTED_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".txt")
_TEXT_FIELDS = ("id", "title", "body", "summary", "category", "url", "author", "source")
_REQUIRED = ("id", "title")  # photo and video items and briefs carry a title alone
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_LINE_BREAK_RE = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_TAG_RE = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


@dataclass(frozen=True)
class Article:
    """One news article as vnsearch stores it; ``date`` is timezone-aware or None."""

    id: str
    title: str
    body: str
    summary: str = ""
    date: datetime | None = None
    category: str = ""
    url: str = ""
    author: str = ""
    source: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    # When this version was last corrected: of two records with one id in a run, the newer wins.
    # Not stored, and not part of the content hash.
    updated: datetime | None = None
    origin: str = field(default="", compare=False)  # "FILE:LINE" it was read from; not content

    def content_hash(self) -> str:
        """A fingerprint of everything stored, so an unchanged re-import is skipped."""
        payload = json.dumps(
            [self.id, self.title, self.body, self.summary,
             self.date.isoformat() if self.date else "", self.category, self.url,
             self.author, self.source, list(self.tags)],
            ensure_ascii=False,
        )
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Rejection:
    """A record that could not be read: where it was and why."""

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


Record = Union[Article, Rejection]


class RecordError(ValueError):
    """A record's content is unusable; the message says which field and why."""


# -- validation ---------------------------------------------------------------

def parse_date(value: str, what: str = "date") -> datetime:
    """ISO 8601 date or date-time; without an offset it is taken as Vietnam time (UTC+7).
    ``what`` names the value in the error.

    >>> parse_date("2021-04-12T08:15:00+07:00").isoformat()
    '2021-04-12T08:15:00+07:00'
    >>> parse_date("2021-04-12 08:15").isoformat()
    '2021-04-12T08:15:00+07:00'
    """
    text = value.strip()
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), time())
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise RecordError(f"invalid {what} {value!r}: {exc}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VIETNAM_TZ)
    return parsed


def clean_text(value: str) -> str:
    r"""Line breaks of every kind become newlines (Word writes U+000B for a manual line
    break, so words on either side stay apart); other control characters (C0 and C1,
    debris of a wrong code page) are removed; the result is trimmed.

    >>> clean_text("Hà Nội\x0bMưa lớn\x07 \x9cđêm qua")
    'Hà Nội\nMưa lớn đêm qua'
    """
    return _CONTROL_RE.sub("", _LINE_BREAK_RE.sub("\n", value)).strip()


class _TextExtractor(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "figcaption"}
    _SKIP = {"script", "style", "noscript", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_to_text(value: str) -> str:
    """Reduce HTML markup to its text: blocks become lines, scripts and styles vanish.

    >>> html_to_text("<p>Hà Nội</p><script>alert(1)</script><p>mưa &amp; gió</p>")
    'Hà Nội\\nmưa & gió'
    """
    if not _TAG_RE.search(value):
        return html.unescape(value) if "&" in value else value
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    lines = (re.sub(r"[ \t\xa0]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def title_text(value: str) -> str:
    """A title as it should read: HTML entities decoded (``&nbsp`` without its semicolon too,
    as scrapers leave it), whitespace runs made one space. Markup stays text, as written.

    >>> title_text("Giá vàng lúc&nbsp11h &amp; chiều&nbsp;nay <b>tăng</b>")
    'Giá vàng lúc 11h & chiều nay <b>tăng</b>'
    """
    return " ".join((html.unescape(value) if "&" in value else value).split())


def article_from_dict(record: object) -> Article:
    """Validate one decoded JSON record; raise :class:`RecordError` saying what is wrong."""
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, got {type(record).__name__}")
    values: dict[str, str] = {}
    for name in _TEXT_FIELDS:
        raw = record.get(name)
        if raw is None:
            values[name] = ""
            continue
        if not isinstance(raw, str):
            raise RecordError(f"field {name!r} must be a string, got {_json_type(raw)}")
        values[name] = clean_text(raw)
    for name in _REQUIRED:
        if not values[name]:
            raise RecordError(f"missing or empty {name!r}")
    body = html_to_text(values["body"])
    if len(body) > MAX_BODY_CHARS:
        raise RecordError(f"'body' has {len(body):,} characters; the limit is {MAX_BODY_CHARS:,}")
    when = _optional_time(record, "date", "date")
    updated = _optional_time(record, "updated", "'updated' time")
    tags = record.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise RecordError("field 'tags' must be a list of strings")
    return Article(
        id=values["id"],
        title=title_text(values["title"]),
        body=body,
        summary=html_to_text(values["summary"]),
        date=when,
        category=values["category"],
        url=values["url"],
        author=values["author"],
        source=values["source"],
        tags=tuple(clean_text(t) for t in tags if clean_text(t)),
        updated=updated,
    )


def _optional_time(record: dict, name: str, what: str) -> datetime | None:
    """The record's ``name`` field read by :func:`parse_date`; None when absent or empty."""
    raw = record.get(name)
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise RecordError(f"field {name!r} must be an ISO 8601 string, got {_json_type(raw)}")
    return parse_date(raw, what)


def _json_type(value: object) -> str:
    return {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


# -- readers ------------------------------------------------------------------

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
    """An article from a scraped plain-text news page.

    The page's own article is kept; the "Các tin khác" block of other headlines and
    the trailing navigation are dropped; a last short line of names is the byline;
    a leading "(HBĐT) -" names the source.
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
