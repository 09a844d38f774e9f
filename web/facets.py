"""Facets as links: categories and authors to click, the year -> month drill-down, the month chart.

Every function takes ``link(**changes) -> url`` (the current search with some fields changed)
so that it knows nothing about Flask routing and can be tested on its own.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable

from vnsearch.search import FacetValue, SearchRequest
from vnsearch.web.filters import number

Link = Callable[..., str]

# The chart's coordinate system (the SVG scales to the width of its container).
CHART_WIDTH, CHART_HEIGHT = 600, 136
PLOT_TOP, PLOT_BOTTOM = 20, 96  # room above the tallest bar for its count  # bars grow up from PLOT_BOTTOM; month and year labels sit below it
MONTH_LABEL_SLOT = 30  # columns at least this wide get a month label ("T4")
MAX_BAR_WIDTH = 48  # a few months should not look like a wall
COUNT_CHAR_WIDTH = 7  # units a digit of a bar's count takes (11-unit text): a count shows where it fits


@dataclass(frozen=True)
class FacetLink:
    label: str
    count: int | None  # None: not known for this link (a year while one month is chosen)
    url: str
    active: bool = False


def value_links(values: Iterable[FacetValue], active: set[str], field: str, link: Link) -> list[FacetLink]:
    """One link per value: to filter on it, or (when it is the active filter) to clear it."""
    return [FacetLink(v.value, v.count, link(**{field: None if v.value in active else v.value}), v.value in active)
            for v in values]


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``.

    >>> month_bounds("2020-02")
    (datetime.date(2020, 2, 1), datetime.date(2020, 2, 29))
    """
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


@dataclass(frozen=True)
class DateNav:
    """The date facet: years to pick from, or the months of the chosen year."""

    years: list[FacetLink]
    year: FacetLink | None  # the chosen year, when the range lies within one year
    months: list[FacetLink]
    clear_url: str | None  # drops the date range; None when there is none


def date_nav(request: SearchRequest, facets: dict[str, list[FacetValue]], link: Link) -> DateNav:
    start, end = request.date_from, request.date_to
    clear = link(date_from=None, date_to=None) if (start or end) else None
    if not (start and end and start.year == end.year):
        years = [FacetLink(v.value, v.count, link(**_range(year_bounds(int(v.value)))))
                 for v in facets.get("year", [])]
        return DateNav(years, None, [], clear)
    year = start.year
    whole_year = (start, end) == year_bounds(year)
    # Clicking the year clears it when it is the whole range, else widens the range to it.
    if whole_year:
        chosen = FacetLink(str(year), sum(v.count for v in facets.get("month", [])), clear, True)
    else:
        chosen = FacetLink(str(year), None, link(**_range(year_bounds(year))))
    months = []
    for v in facets.get("month", []):
        bounds = month_bounds(v.value)
        active = (start, end) == bounds
        url = link(**_range(year_bounds(year))) if active else link(**_range(bounds))
        months.append(FacetLink(f"Tháng {int(v.value[5:7])}", v.count, url, active))
    return DateNav([], chosen, months, clear)


def _range(bounds: tuple[date, date]) -> dict:
    return {"date_from": bounds[0], "date_to": bounds[1]}


@dataclass(frozen=True)
class Bar:
    label: str  # "Tháng 4/2021: 2.141 bài", for the tooltip and screen readers
    short: str  # "T4", under the bar when there is room
    count: int
    count_text: str  # "2.141", above the bar when there is room (phones get count_rows instead)
    url: str
    slot_x: float  # the column, all of which is the link
    x: float
    width: float
    y: float
    height: float


@dataclass(frozen=True)
class YearMark:
    year: int
    x: float
    partial: bool = False  # the first column, not a January


@dataclass(frozen=True)
class MonthChart:
    bars: list[Bar]
    years: list[YearMark]
    peak: int
    slot: float  # the width of one month's column
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    top: int = PLOT_TOP
    bottom: int = PLOT_BOTTOM


def month_chart(months: list[FacetValue], link: Link) -> MonthChart | None:
    """Articles per month as bars, one column for every month from the first to the last.

    Months without a match get a column too (with no bar), so that gaps in coverage show.
    Each bar links to the search narrowed to its month.
    """
    counts = {v.value: v.count for v in months if v.count}
    if not counts:
        return None
    first, last = min(counts), max(counts)
    keys = list(_months_between(first, last))
    peak = max(counts.values())
    slot = CHART_WIDTH / len(keys)
    gap = min(slot * 0.2, 4.0) if slot > 3 else 0.0
    bars, years = [], []
    for i, key in enumerate(keys):
        x = i * slot
        if key.endswith("-01") or i == 0:
            years.append(YearMark(int(key[:4]), round(x, 2), not key.endswith("-01")))
        count = counts.get(key, 0)
        if not count:
            continue
        height = max(1.5, (PLOT_BOTTOM - PLOT_TOP) * count / peak)
        label = f"Tháng {int(key[5:7])}/{key[:4]}: {number(count)} bài"
        width = min(slot - gap, MAX_BAR_WIDTH)
        short = f"T{int(key[5:7])}" if slot >= MONTH_LABEL_SLOT else ""
        count_text = number(count) if slot >= COUNT_CHAR_WIDTH * len(number(count)) + 4 else ""
        bars.append(Bar(label, short, count, count_text, link(**_range(month_bounds(key))), round(x, 2), round(x + (slot - width) / 2, 2),
                        round(width, 2), round(PLOT_BOTTOM - height, 2), round(height, 2)))
    return MonthChart(bars, _spaced(years), peak, round(slot, 2))


def _spaced(marks: list[YearMark], room: float = 40.0) -> list[YearMark]:
    """Year labels that do not overlap: a label needs ``room`` units after the previous one."""
    kept: list[YearMark] = []
    for mark in marks:
        if kept and mark.x - kept[-1].x < room:
            if len(kept) == 1 and kept[0].partial:
                kept[-1] = mark  # a January says more than the year of a partial first column
            continue
        kept.append(mark)
    return kept


def _months_between(first: str, last: str):
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    while (year, month) <= end:
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


MAX_MONTH_ROWS = 24  # more months than this are counted by year in the list


@dataclass(frozen=True)
class CountRow:
    label: str  # "Tháng 4/2021" or "Năm 2021"
    count: int
    url: str  # the search narrowed to that month or year
    share: float  # the bar's length: percent of the largest count


@dataclass(frozen=True)
class CountList:
    unit: str  # "tháng" or "năm"
    rows: list[CountRow]


def count_rows(facet_values: dict[str, list[FacetValue]], link: Link) -> CountList | None:
    """The chart as rows of label, bar and count, for a phone: a count to read, not to hover.

    One row per month with matches; past ``MAX_MONTH_ROWS`` months, one per year.
    """
    months = [v for v in facet_values.get("month", []) if v.count]
    if not months:
        return None
    if len(months) <= MAX_MONTH_ROWS:
        unit = "tháng"
        items = [(f"Tháng {int(v.value[5:7])}/{v.value[:4]}", v.count, link(**_range(month_bounds(v.value))))
                 for v in months]
    else:
        unit = "năm"
        items = [(f"Năm {v.value}", v.count, link(**_range(year_bounds(int(v.value)))))
                 for v in facet_values.get("year", []) if v.count]
    peak = max(count for _, count, _ in items)
    return CountList(unit, [CountRow(label, count, url, round(100 * count / peak, 1)) for label, count, url in items])
