"""What a search gives back: hits, facets, the suggestion and how the query was relaxed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from vnsearch.articles import VIETNAM_TZ


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    url: str
    date: str | None
    category: str
    author: str
    source: str
    score: float
    snippet: str

    def to_dict(self) -> dict:
        """The hit as the JSON API serves it (``dataclasses.asdict`` deep-copies: ten times slower)."""
        return {"id": self.id, "title": self.title, "url": self.url, "date": self.date,
                "category": self.category, "author": self.author, "source": self.source,
                "score": self.score, "snippet": self.snippet}


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass
class SearchResult:
    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    suggestion: str | None
    relaxed: list[str] = field(default_factory=list)  # "accents", "words": how the query was relaxed
    missing: list[str] = field(default_factory=list)  # words typed that no article holds
    took_ms: float = 0.0
    corrected_from: str | None = None  # the query as typed, when the hits are for its suggestion

    def to_dict(self) -> dict:
        """Exactly what the JSON API serves."""
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "hits": [h.to_dict() for h in self.hits],
            "facets": {name: [{"value": v.value, "count": v.count} for v in values]
                       for name, values in self.facets.items()},
            "suggestion": self.suggestion,
            "corrected_from": self.corrected_from,
            "relaxed": self.relaxed,
            "missing": self.missing,
        }


def vietnam_time(iso: str | None) -> str | None:
    """A stored ISO date in Vietnam time, the time that date filters and facets use.

    >>> vietnam_time("2023-12-31T17:30:00+00:00"), vietnam_time("2021-04-12")
    ('2024-01-01T00:30:00+07:00', '2021-04-12')
    """
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return moment.astimezone(VIETNAM_TZ).isoformat() if moment.tzinfo else iso


def month_label(month: int) -> str:
    """A facet month (``year * 100 + month``) as the API spells it: ``202104`` -> ``"2021-04"``."""
    return f"{month // 100:04d}-{month % 100:02d}"
