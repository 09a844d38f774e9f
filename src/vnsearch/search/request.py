"""What a search asks for, and the one place a request is checked.

The web, the API, the feed and the CLI build a :class:`SearchRequest` and call
:meth:`SearchRequest.validated`; its :class:`SearchError` messages are in Vietnamese,
since they are shown to readers as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from vnsearch.query import MAX_QUERY_CHARS

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100


class SearchError(ValueError):
    """A request the user must change (unknown sort, page below 1, bad date range); the message says how."""


def thousands(value: int) -> str:
    """Thousands separated by dots, as Vietnamese writes them: ``2141`` -> ``2.141``."""
    return f"{value:,}".replace(",", ".")


@dataclass(frozen=True)
class SearchRequest:
    """What to search for. ``category`` takes one section or several (a tuple: any of them).

    ``no_correction``: search the words as typed even when nothing matches them (the
    search returns the correction's results otherwise, see :mod:`vnsearch.search.pipeline`).
    """

    query: str = ""
    category: str | tuple[str, ...] | None = None
    author: str | None = None
    source: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    no_correction: bool = False

    def validated(self) -> "SearchRequest":
        """The request with its query trimmed and its categories a tuple (or None), or a
        :class:`SearchError` saying what to change.

        >>> SearchRequest("  hà nội ", category="Thể thao").validated()
        SearchRequest(query='hà nội', category=('Thể thao',), author=None, source=None, date_from=None, date_to=None, sort='relevance', page=1, per_page=10, no_correction=False)
        >>> SearchRequest("hà nội", page=0).validated()
        Traceback (most recent call last):
        ...
        vnsearch.search.request.SearchError: Số trang phải là số nguyên từ 1 trở lên.
        """
        if len(self.query) > MAX_QUERY_CHARS:
            raise SearchError(f"Câu tìm kiếm quá dài ({thousands(len(self.query))} ký tự); "
                              f"tối đa {thousands(MAX_QUERY_CHARS)} ký tự.")
        query = self.query.strip()
        if self.sort not in SORTS:
            raise SearchError(f"Cách sắp xếp không hợp lệ: hãy dùng {', '.join(SORTS)}.")
        if not isinstance(self.page, int) or self.page < 1:
            raise SearchError("Số trang phải là số nguyên từ 1 trở lên.")
        if not isinstance(self.per_page, int) or not 1 <= self.per_page <= MAX_PER_PAGE:
            raise SearchError(f"Số kết quả mỗi trang phải là số nguyên từ 1 đến {MAX_PER_PAGE}.")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise SearchError("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.")
        categories = categories_of(self.category)
        if query == self.query and categories == self.category:
            return self
        return replace(self, query=query, category=categories)

    def unnarrowed(self) -> "SearchRequest":
        """The same words over the whole index, ranked by relevance: a suggestion's evidence."""
        return replace(self, category=None, author=None, source=None, date_from=None, date_to=None,
                       sort="relevance", page=1, per_page=10)


def categories_of(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...] | None:
    """One category or several as a tuple of the non-empty ones, or None.

    >>> categories_of("Thể thao"), categories_of(("Thể thao", "", "Giáo dục")), categories_of(("",))
    (('Thể thao',), ('Thể thao', 'Giáo dục'), None)
    """
    values = (value,) if isinstance(value, str) else tuple(value or ())
    return tuple(v for v in values if v and v.strip()) or None
