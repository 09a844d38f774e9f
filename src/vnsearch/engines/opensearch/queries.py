"""The matching rules of :mod:`vnsearch.matching` as OpenSearch queries.

Each function mirrors a mask of :mod:`vnsearch.masks` (the embedded engine): a clause,
a unit, the admitted documents under one accent rule and one minimum of syllables.
``exact`` is the accent rule: a syllable typed with accents matches only as typed
(``*_syl`` fields), one typed without every spelling (``*_fold`` fields).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from vnsearch import analysis
from vnsearch.articles import VIETNAM_TZ

from vnsearch.search.matching import Plan, Unit
from vnsearch.search.request import categories_of as categories

MATCH_ALL = {"match_all": {}}
MATCH_NONE = {"match_none": {}}


def term(field: str, value: str) -> dict:
    return {"term": {field: value}}


def any_of(queries: list[dict]) -> dict:
    if len(queries) == 1:
        return queries[0]
    return {"bool": {"should": queries, "minimum_should_match": 1}}


def all_of(queries: list[dict]) -> dict:
    if not queries:
        return MATCH_ALL
    if len(queries) == 1:
        return queries[0]
    return {"bool": {"filter": queries}}


def fold_field(name: str, term_: str) -> str:
    """Where a term of the ranking's ``title_fold``/``body_fold`` lives: compounds apart."""
    return f"{name}_c" if "_" in term_ else name


def wildcard_regexp(pattern: str) -> str:
    """A folded wildcard pattern (``*``, ``?``) as a Lucene regular expression.

    >>> wildcard_regexp("th?ong*"), wildcard_regexp("a.b*")
    ('th.ong.*', 'a\\\\.b.*')
    """
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) if not c.isalnum() else c
                   for c in pattern)


def clause_query(clause, exact: bool) -> dict:
    """Documents holding one clause (see ``Masks.clause`` of the embedded engine)."""
    title_only = clause.field == "title"
    folded = ("title_fold",) if title_only else ("title_fold", "body_fold")
    accented = ("title_syl",) if title_only else ("title_syl", "body_syl")
    if clause.is_filter:
        return names_query(clause.field, clause, exact)
    if clause.wildcard:
        return any_of([{"wildcard": {f: {"value": clause.wildcard}}} for f in folded])
    parts = []
    if clause.is_phrase:
        parts.append(any_of([{"match_phrase": {f: {"query": " ".join(clause.folded), "analyzer": "whitespace"}}}
                             for f in folded]))
    for syllable, fold in zip(clause.syllables, clause.folded):
        if exact and analysis.has_diacritics(syllable):
            parts.append(any_of([term(f, syllable) for f in accented]))
        elif clause.is_phrase:
            continue  # the phrase holds it
        else:
            parts.append(any_of([term(fold_field(f, fold), fold) for f in folded]))
    return all_of(parts)


def names_query(column: str, clause, exact: bool) -> dict:
    """A name (author, section, source) holding the clause's syllables in order, each with its
    accents when typed so and ``exact`` (see ``name_matches``)."""
    spans = []
    for syllable, fold in zip(clause.syllables, clause.folded):
        if exact and analysis.has_diacritics(syllable):
            spans.append({"span_field_masking": {"query": {"span_term": {f"{column}_syl": syllable}},
                                                 "field": f"{column}_fold"}})
        else:
            spans.append({"span_term": {f"{column}_fold": fold}})
    if not spans:
        return {"exists": {"field": f"{column}_key"}}
    if len(spans) == 1:
        return spans[0]
    return {"span_near": {"clauses": spans, "slop": 0, "in_order": True}}


def unit_query(unit: Unit, exact: bool) -> dict:
    return any_of([all_of([clause_query(c, exact) for c in option]) for option in unit.options])


def admitted_query(plan: Plan, exact: bool, need: int, base: list[dict]) -> dict:
    """Documents within ``base`` the plan admits with this accent rule and minimum."""
    filters = list(base) + [unit_query(u, exact) for u in plan.must]
    if plan.should:
        # Each unit counts its syllables: a unit of width 2 is two clauses (told apart by
        # their boosts, or Lucene would merge them) toward the minimum.
        counted = [{"constant_score": {"filter": unit_query(u, exact), "boost": 1.0 + k}}
                   for u in plan.should for k in range(u.width)]
        filters.append({"bool": {"should": counted, "minimum_should_match": need}})
    body: dict = {"filter": filters or [MATCH_ALL]}
    if plan.exclude:
        body["must_not"] = [clause_query(c, exact) for c in plan.exclude]
    return {"bool": body}


def filter_queries(request) -> list[dict]:
    """The request's filters: sections, author, source (accents ignored), dates in Vietnam time."""
    out = []
    for column, values in (("category", categories(request.category)),
                           ("author", (request.author,)), ("source", (request.source,))):
        wanted = {analysis.normalize(v).strip() for v in values or () if v}
        if wanted:
            out.append({"bool": {"should": [{"terms": {f"{column}_key": sorted(wanted)}},
                                            {"terms": {f"{column}_keyfold": sorted(analysis.fold(w) for w in wanted)}}],
                                 "minimum_should_match": 1}})
    bounds = {}
    if request.date_from:
        bounds["gte"] = int(datetime.combine(request.date_from, datetime.min.time(), VIETNAM_TZ).timestamp())
    if request.date_to and request.date_to < date.max:
        end = datetime.combine(request.date_to + timedelta(days=1), datetime.min.time(), VIETNAM_TZ)
        bounds["lt"] = int(end.timestamp())
    if bounds:
        out.append({"range": {"ts": bounds}})
    elif request.date_to:
        out.append({"exists": {"field": "ts"}})  # undated articles are outside any range
    return out
