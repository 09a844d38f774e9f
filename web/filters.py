"""Template filters: Vietnamese number and date formats, safe outbound links, snippets."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Flask
from markupsafe import Markup


def number(value: int) -> str:
    """Thousands separated by dots, as Vietnamese writes them: ``2141`` -> ``2.141``."""
    return f"{value:,}".replace(",", ".")


def day(iso: str | None) -> str:
    """``2021-03-17T15:00:00+07:00`` -> ``17/03/2021`` (search gives dates in Vietnam time)."""
    parsed = _parse(iso)
    return parsed.strftime("%d/%m/%Y") if parsed else ""


def day_time(iso: str | None) -> str:
    """``2021-03-17T15:00:00+07:00`` -> ``15:00, 17/03/2021``."""
    parsed = _parse(iso)
    if not parsed:
        return ""
    return parsed.strftime("%d/%m/%Y") if (parsed.hour, parsed.minute) == (0, 0) else parsed.strftime("%H:%M, %d/%m/%Y")


def web_url(url: str | None) -> str:
    """The URL when it is an http(s) link, else "": a stored ``javascript:`` URL never becomes a link."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def host(url: str | None) -> str:
    """``https://dantri.com.vn/a.htm`` -> ``dantri.com.vn``."""
    name = urlsplit(url or "").hostname or ""
    return name.removeprefix("www.")


def snippet(html: str) -> Markup:
    """A hit's snippet: the library escapes the text and adds only ``<mark>``; trust that, nothing else."""
    return Markup(html)


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def register(app: Flask) -> None:
    for f in (number, day, day_time, web_url, host, snippet):
        app.add_template_filter(f)
