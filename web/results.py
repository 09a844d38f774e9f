"""Everything the results page shows, computed from a request and its result.

Kept apart from the views so that they stay a few lines each, and apart from the
templates so that no template has to compute a URL or a page number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from vnsearch.search import FacetValue, SearchEngine, SearchRequest, SearchResult
from vnsearch.web import facets
from vnsearch.web.params import request_args

SORT_LABELS = {"relevance": "Liên quan", "newest": "Mới nhất", "oldest": "Cũ nhất"}
FILTER_LABELS = {"category": "Chuyên mục", "author": "Tác giả", "source": "Nguồn"}


@dataclass(frozen=True)
class PageLink:
    label: str
    url: str | None  # None: the current page, or a gap ("…")
    current: bool = False


@dataclass(frozen=True)
class Chip:
    """An active filter, shown with a link that removes it."""

    label: str
    value: str
    clear_url: str


def linker(url_for: Callable[..., str], endpoint: str, request: SearchRequest) -> Callable[..., str]:
    """``link(**changes)``: the URL of ``request`` with fields changed, back on page 1 unless told."""

    def link(**changes) -> str:
        changes.setdefault("page", 1)
        return url_for(endpoint, **request_args(request, **changes))

    return link


def search_page(engine: SearchEngine, request: SearchRequest, result: SearchResult,
                url_for: Callable[..., str]) -> dict:
    """The template context of the results page."""
    link = linker(url_for, "search.index", request)
    # Without words there is nothing to rank: the library lists the newest first.
    current_sort = "newest" if request.sort == "relevance" and not request.query else request.sort
    has_filters = any((request.category, request.author, request.source, request.date_from, request.date_to))
    return {
        "req": request,
        "result": result,
        "link": link,
        "sorts": [PageLink(label, link(sort=key), key == current_sort) for key, label in SORT_LABELS.items()],
        "categories": facets.value_links(
            _facet_without(engine, request, result, "category"),
            {v.value for v in result.facets["category"]} if request.category else set(), "category", link),
        "authors": facets.value_links(
            _facet_without(engine, request, result, "author"),
            {v.value for v in result.facets["author"]} if request.author else set(), "author", link),
        "dates": facets.date_nav(request, result.facets, link),
        "chart": facets.month_chart(result.facets["month"], link),
        "chips": chips(request, link),
        "pages": pagination(request.page, result.total, request.per_page, link),
        "last_page": max(1, -(-result.total // request.per_page)),
        "first_page_url": link(page=1),
        "suggestion_url": link(query=result.suggestion) if result.suggestion else None,
        "unfiltered_url": (link(category=None, author=None, source=None, date_from=None, date_to=None)
                           if has_filters else None),
        "feed_url": linker(url_for, "search.feed", request)(sort="relevance", per_page=None),
    }


def _facet_without(engine: SearchEngine, request: SearchRequest, result: SearchResult,
                   field: str) -> list[FacetValue]:
    """The facet of ``field`` as if it were not filtered on, so that the other values stay clickable.

    When the field is filtered, the values of the filtered result are the active ones.
    """
    if not getattr(request, field):
        return result.facets[field]
    # Sorting by date skips relevance scoring: only the facet counts are wanted here.
    unfiltered = engine.search(replace(request, **{field: None}, sort="newest", page=1, per_page=1))
    values = unfiltered.facets[field]
    shown = {v.value for v in values}
    # The author facet is a top 10: keep the active author listed even when outside it.
    return values + [v for v in result.facets[field] if v.value not in shown]


def chips(request: SearchRequest, link: Callable[..., str]) -> list[Chip]:
    out = [Chip(label, getattr(request, field), link(**{field: None}))
           for field, label in FILTER_LABELS.items() if getattr(request, field)]
    if request.date_from or request.date_to:
        start = request.date_from.strftime("%d/%m/%Y") if request.date_from else "…"
        end = request.date_to.strftime("%d/%m/%Y") if request.date_to else "…"
        out.append(Chip("Thời gian", f"{start} – {end}", link(date_from=None, date_to=None)))
    return out


def pagination(page: int, total: int, per_page: int, link: Callable[..., str], around: int = 2) -> list[PageLink]:
    """Previous, the first, a window around the current page, the last, next; gaps as "…"."""
    last = max(1, -(-total // per_page))
    if total <= per_page and page == 1:
        return []
    numbers = sorted({1, last, *range(max(1, page - around), min(last, page + around) + 1)})
    out = []
    if page > 1:
        out.append(PageLink("‹ Trước", link(page=min(page - 1, last))))
    previous = 0
    for n in numbers:
        if n - previous > 1:
            out.append(PageLink("…", None))
        out.append(PageLink(str(n), None if n == page else link(page=n), n == page))
        previous = n
    if page < last:
        out.append(PageLink("Sau ›", link(page=page + 1)))
    return out
