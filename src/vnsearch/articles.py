"""Articles: the record every reader produces, and the checks a record must pass.

:func:`article_from_dict` turns one JSON object into an :class:`Article` or raises
:class:`RecordError` with the reason; the readers of :mod:`vnsearch.readers` turn that
into a :class:`Rejection` naming the file and the line.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from html.parser import HTMLParser
from typing import Union

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
