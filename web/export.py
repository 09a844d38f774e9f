"""CSV for journalists: a search's hits (every page, up to a limit) and its counts per month.

UTF-8 with a byte-order mark, so that Excel opens Vietnamese text as such; a cell that
Excel would read as a formula (starting with = + - @) is written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Iterator

from vnsearch.engines import Engine
from vnsearch.search import MAX_PER_PAGE, SearchRequest, SearchResult
from vnsearch.web.facets import _months_between

BOM = "\ufeff"
HIT_COLUMNS = ("rank", "id", "title", "date", "category", "author", "source", "url", "score")
MONTH_COLUMNS = ("month", "count")


def hits_csv(engine: Engine, request: SearchRequest, limit: int) -> Iterator[str]:
    """The CSV text of the first ``limit`` hits, a page of the library at a time (streamed)."""
    yield BOM + _row(HIT_COLUMNS)
    rank, page = 0, 1
    while rank < limit:
        result = engine.search(replace(request, page=page, per_page=MAX_PER_PAGE))
        for hit in result.hits[: limit - rank]:
            rank += 1
            yield _row((rank, hit.id, hit.title, hit.date or "", hit.category, hit.author, hit.source,
                        hit.url, hit.score))
        if len(result.hits) < MAX_PER_PAGE:
            break
        page += 1


def months_csv(result: SearchResult) -> str:
    """One row per month from the first month with a match to the last, months without any included."""
    counts = {v.value: v.count for v in result.facets["month"] if v.count}
    rows = [_row(MONTH_COLUMNS)]
    if counts:
        rows += [_row((month, counts.get(month, 0))) for month in _months_between(min(counts), max(counts))]
    return BOM + "".join(rows)


def _row(values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([_cell(v) for v in values])
    return out.getvalue()


def _cell(value) -> str:
    """A value as text Excel shows as written: "=1+1" in a title is not run as a formula.

    >>> _cell("=HYPERLINK(1)"), _cell("-5 độ C"), _cell(3), _cell("Hà Nội")
    ("'=HYPERLINK(1)", "'-5 độ C", '3', 'Hà Nội')
    """
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
