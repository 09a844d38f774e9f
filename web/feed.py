"""RSS 2.0 for a search, so that a journalist can follow a topic in a feed reader.

Built with ElementTree, which escapes text and attributes; characters XML 1.0 forbids
(control characters that scraped text sometimes carries) are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import format_datetime
from typing import Callable

from vnsearch.search import Hit, SearchResult
from vnsearch.web.filters import number

DC = "http://purl.org/dc/elements/1.1/"
ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("dc", DC)
ET.register_namespace("atom", ATOM)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def rss(result: SearchResult, *, title: str, site_url: str, self_url: str,
        article_url: Callable[[Hit], str]) -> bytes:
    """The feed document (UTF-8 bytes with an XML declaration)."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    _text(channel, "title", title)
    _text(channel, "link", site_url)
    _text(channel, "description", f"{title} ({number(result.total)} bài khớp)")
    _text(channel, "language", "vi")
    _text(channel, "generator", "vnsearch")
    ET.SubElement(channel, f"{{{ATOM}}}link", {"href": self_url, "rel": "self", "type": "application/rss+xml"})
    dates = [d for d in (_date(h.date) for h in result.hits) if d]
    if dates:
        _text(channel, "lastBuildDate", format_datetime(max(dates)))
    for hit in result.hits:
        item = ET.SubElement(channel, "item")
        own_page = article_url(hit)
        _text(item, "title", hit.title)
        _text(item, "link", hit.url if hit.url.startswith(("https://", "http://")) else own_page)
        # The snippet is HTML (escaped text with <mark>); RSS carries HTML as escaped text.
        _text(item, "description", hit.snippet)
        ET.SubElement(item, "guid", {"isPermaLink": "true"}).text = _clean(own_page)
        if hit.category:
            _text(item, "category", hit.category)
        if hit.author:
            _text(item, f"{{{DC}}}creator", hit.author)
        published = _date(hit.date)
        if published:
            _text(item, "pubDate", format_datetime(published))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _clean(text)
    return element


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text or "")


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
