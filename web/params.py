"""Query-string parameters in, a validated :class:`SearchRequest` out; and links back out.

One parser serves ``/``, ``/api/search`` and ``/feed`` so that the three agree on what a
parameter means. Strings are only converted here (a page number that is not a number, a
day that is not a date); what a valid request is, :meth:`SearchRequest.validated` says, in
Vietnamese, for the web, the API and the CLI alike.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from vnsearch.query import parse
from vnsearch.search import MAX_PER_PAGE, SearchError, SearchRequest

DEFAULT_PER_PAGE = 10
# The query-string name of each SearchRequest field ("from" is a Python keyword).
PARAM_NAMES = {
    "query": "q", "category": "category", "author": "author", "source": "source",
    "date_from": "from", "date_to": "to", "sort": "sort", "page": "page", "per_page": "per_page",
    "no_correction": "exact",
}
DEFAULTS = SearchRequest(per_page=DEFAULT_PER_PAGE)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ParamError(ValueError):
    """A parameter the user must change; the message is shown to them (in Vietnamese)."""


def parse_search_args(args, **overrides) -> SearchRequest:
    """A validated request from a query string (a Werkzeug ``MultiDict`` or a plain dict).

    Empty values count as absent, since a form submits its empty date inputs as ``from=``.
    ``category`` may come several times (any of them); ``exact=1`` searches the words as
    typed even when nothing matches them. ``overrides`` fix fields the endpoint decides
    (the feed is always the newest first).

    >>> parse_search_args({"q": "cong thuong", "from": "2021-03-01", "page": "2"}).date_from
    datetime.date(2021, 3, 1)
    >>> parse_search_args({"page": "-1"})
    Traceback (most recent call last):
    ...
    vnsearch.web.params.ParamError: Số trang phải là số nguyên từ 1 trở lên.
    """

    def get(name: str) -> str | None:
        value = args.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    query = args.get("q") or ""
    if query.strip() and parse(query).is_empty:
        # The library answers such a query as browsing (no words: every article, newest
        # first); a reader who typed only operators is told instead.
        raise ParamError(f"“{query.strip()[:40]}” không có từ nào để tìm: OR, - và * chỉ nối hoặc loại trừ các từ; "
                         "hãy gõ thêm từ cần tìm.")
    page = _whole_number(get("page"), DEFAULTS.page, "Số trang phải là số nguyên từ 1 trở lên.")
    per_page = _whole_number(get("per_page"), DEFAULTS.per_page,
                             f"Số kết quả mỗi trang phải là số nguyên từ 1 đến {MAX_PER_PAGE}.")
    request = SearchRequest(
        query=query, category=_categories(args), author=get("author"), source=get("source"),
        date_from=_day(get("from"), "Ngày bắt đầu"), date_to=_day(get("to"), "Ngày kết thúc"),
        sort=get("sort") or DEFAULTS.sort, page=page, per_page=per_page, no_correction=get("exact") == "1",
    )
    try:
        return replace(request, **overrides).validated()
    except SearchError as exc:
        raise ParamError(str(exc)) from None


def request_args(request: SearchRequest, **changes) -> dict[str, str]:
    """The query string of ``request`` with ``changes``, leaving out defaults and empty values.

    >>> request_args(SearchRequest("hà nội", page=3), category="Xã hội", page=1)
    {'q': 'hà nội', 'category': 'Xã hội'}
    >>> request_args(SearchRequest("bóng đáa", category=("Thể thao", "Xã hội"), no_correction=True))
    {'q': 'bóng đáa', 'category': ['Thể thao', 'Xã hội'], 'exact': '1'}
    """
    changed = replace(request, **changes)
    out = {}
    for fieldname, name in PARAM_NAMES.items():
        value = getattr(changed, fieldname)
        if value in (None, "", ()) or value == getattr(DEFAULTS, fieldname):
            continue
        if isinstance(value, (tuple, list)):
            out[name] = list(value) if len(value) > 1 else value[0]  # category=A&category=B
        elif isinstance(value, bool):
            out[name] = "1"
        else:
            out[name] = value.isoformat() if isinstance(value, date) else str(value)
    return out


def _categories(args) -> tuple[str, ...] | None:
    """The ``category`` values, repeated or not (a form or a plain dict), empty ones left out."""
    values = args.getlist("category") if hasattr(args, "getlist") else [args.get("category")]
    kept = tuple(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))
    return kept or None


def _whole_number(raw: str | None, default: int, message: str) -> int:
    """A parameter's digits as a number (its range is :meth:`SearchRequest.validated`'s to check)."""
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise ParamError(message)
    return int(raw)


def _day(raw: str | None, label: str) -> date | None:
    if raw is None:
        return None
    if _ISO_DAY.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:  # 2021-02-30
            pass
    raise ParamError(f"{label} không hợp lệ: {raw[:40]!r}; hãy dùng dạng NĂM-THÁNG-NGÀY, ví dụ 2021-04-30.")
