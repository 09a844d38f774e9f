"""Everything the results page shows, computed from a request and its result.

Kept apart from the views so that they stay a few lines each, and apart from the
templates so that no template has to compute a URL or a page number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from vnsearch.engines import Engine
from vnsearch.search import FacetValue, SearchRequest, SearchResult
from vnsearch.web import facets
from vnsearch.web.filters import number
from vnsearch.web.params import DEFAULTS, request_args

SORT_LABELS = {"relevance": "Liên quan", "newest": "Mới nhất", "oldest": "Cũ nhất"}
FILTER_LABELS = {"category": "Chuyên mục", "author": "Tác giả", "source": "Nguồn"}
EXPORT_LIMIT = 10_000  # hits in a CSV export: every page of a search, up to this many


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


def search_page(engine: Engine, request: SearchRequest, result: SearchResult,
                url_for: Callable[..., str]) -> dict:
    """The template context of the results page."""
    link = linker(url_for, "search.index", request)
    # Without words there is nothing to rank: the library lists the newest first.
    current_sort = "newest" if request.sort == "relevance" and not request.query else request.sort
    has_filters = any((request.category, request.author, request.source, request.date_from, request.date_to))
    export_args = request_args(request, page=1, per_page=None, no_correction=False)
    return {
        "req": request,
        "result": result,
        "link": link,
        "sorts": [PageLink(label, link(sort=key), key == current_sort) for key, label in SORT_LABELS.items()],
        "categories": category_links(engine, request, result, link),
        "authors": _single_value_links(engine, request, result, "author", link),
        "sources": _single_value_links(engine, request, result, "source", link),
        "dates": facets.date_nav(request, result.facets, link),
        "chart": facets.month_chart(result.facets["month"], link),
        "count_rows": facets.count_rows(result.facets, link),
        "chips": chips(request, link),
        "pages": pagination(request.page, result.total, request.per_page, link),
        "last_page": max(1, -(-result.total // request.per_page)),
        "first_page_url": link(page=1),
        "suggestion_url": link(query=result.suggestion) if result.suggestion else None,
        # The hits are for the suggestion: a link to the words as typed, whatever they find.
        "exact_url": link(query=result.corrected_from, no_correction=True) if result.corrected_from else None,
        "unfiltered_url": (link(category=None, author=None, source=None, date_from=None, date_to=None)
                           if has_filters else None),
        "feed_url": linker(url_for, "search.feed", request)(sort="relevance", per_page=None),
        "csv_url": url_for("search.api_search_csv", **export_args),
        "months_csv_url": url_for("search.api_months_csv", **export_args),
        "export_limit": EXPORT_LIMIT,
        # An article opened from here carries the search: its way back, and the words to mark.
        "article_args": request_args(request),
        # What a new query from the box keeps: every filter and the sort.
        "keep": hidden_fields(request),
    }


def hidden_fields(request: SearchRequest, *leave_out: str) -> list[tuple[str, str]]:
    """The filters and sort of ``request`` as (name, value) pairs for hidden inputs.

    >>> hidden_fields(SearchRequest("lúa", category=("Xã hội", "Kinh doanh"), sort="newest", page=3))
    [('category', 'Xã hội'), ('category', 'Kinh doanh'), ('sort', 'newest')]
    """
    args = request_args(request, query="", page=1, per_page=DEFAULTS.per_page, no_correction=False)
    pairs = []
    for name, value in args.items():
        if name not in leave_out:
            pairs += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    return pairs


def category_links(engine: Engine, request: SearchRequest, result: SearchResult, link) -> list:
    """Sections to tick and untick: several may be chosen at once (any of them matches).

    The chosen ones are named as the index spells them (the filtered result's facet), so
    that "Sức khỏe" in a link and "Sức khoẻ" in the facet are one section.
    """
    values = _facet_without(engine, request, result, "category")
    chosen = [v.value for v in result.facets["category"]] if request.category else []
    return [facets.FacetLink(v.value, v.count,
                             link(category=tuple(c for c in chosen if c != v.value) if v.value in chosen
                                  else tuple(chosen) + (v.value,)),
                             v.value in chosen)
            for v in values]


def _single_value_links(engine, request, result, field: str, link) -> list:
    active = {v.value for v in result.facets[field]} if getattr(request, field) else set()
    return facets.value_links(_facet_without(engine, request, result, field), active, field, link)


def _facet_without(engine: Engine, request: SearchRequest, result: SearchResult,
                   field: str) -> list[FacetValue]:
    """The facet of ``field`` as if it were not filtered on, so that the other values stay clickable.

    When the field is filtered, the values of the filtered result are the active ones.
    """
    if not getattr(request, field):
        return result.facets[field]
    # Sorting by date skips relevance scoring: only the facet counts are wanted here.
    # result.query: the words searched, the suggestion's when the hits are for it.
    unfiltered = engine.search(replace(request, **{field: None}, query=result.query, no_correction=True,
                                       sort="newest", page=1, per_page=1))
    values = unfiltered.facets[field]
    shown = {v.value for v in values}
    # The author and source facets are a top 10: keep the active value listed even when outside it.
    return values + [v for v in result.facets[field] if v.value not in shown]


def chips(request: SearchRequest, link: Callable[..., str]) -> list[Chip]:
    chosen = request.category or ()
    out = [Chip(FILTER_LABELS["category"], c, link(category=tuple(x for x in chosen if x != c))) for c in chosen]
    out += [Chip(label, getattr(request, field), link(**{field: None}))
            for field, label in FILTER_LABELS.items() if field != "category" and getattr(request, field)]
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
        out.append(PageLink(number(n), None if n == page else link(page=n), n == page))
        previous = n
    if page < last:
        out.append(PageLink("Sau ›", link(page=page + 1)))
    return out
