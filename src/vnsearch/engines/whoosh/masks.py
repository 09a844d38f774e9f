"""The matching rules of :mod:`vnsearch.search.matching` evaluated over an index view, as
boolean masks; :func:`match` relaxes a query that admits nothing, as
:func:`~vnsearch.search.matching.relaxations` says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vnsearch import analysis
from vnsearch.search.matching import MAX_WILDCARD_TERMS, Plan, Unit, name_matches, relaxations
from vnsearch.query import Clause
from vnsearch.engines.whoosh.view import IndexView



@dataclass
class Match:
    """The documents a plan admits, and what scoring needs to know about how."""

    docs: np.ndarray
    exact: bool  # accents typed were a filter (False after the "accents" relaxation)
    needed: int
    relaxed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # plain words no article holds
    unit_masks: list[np.ndarray] = field(default_factory=list)  # per plan.should unit, over the view


def match(view: IndexView, plan: Plan, base: np.ndarray) -> Match:
    """Admitted documents within ``base`` (live, filtered), relaxing as the module says."""
    attempts = relaxations(plan)
    masks: dict[bool, Masks] = {}
    for exact, need, relaxed in attempts:
        if exact not in masks:
            masks[exact] = Masks(view, plan, exact)
        docs = np.flatnonzero(masks[exact].admitted(base, need))
        if len(docs):
            break
    else:  # nothing at all, however relaxed: say so as typed, not as relaxed
        exact, need, relaxed = attempts[0]
    m = masks[exact]
    return Match(docs, exact, need, relaxed, m.missing(), m.should)


class Masks:
    """Per-unit masks of one plan under one accent rule, computed once."""

    def __init__(self, view: IndexView, plan: Plan, exact: bool):
        self.view, self.plan, self.exact = view, plan, exact
        self.must = [self.unit(u) for u in plan.must]
        self.should = [self.unit(u) for u in plan.should]
        self.excluded = np.zeros(view.size, dtype=bool)
        for clause in plan.exclude:
            self.excluded |= self.clause(clause)

    def admitted(self, base: np.ndarray, need: int) -> np.ndarray:
        mask = base & ~self.excluded
        for m in self.must:
            mask &= m
        if self.should:
            held = np.zeros(self.view.size, dtype=np.int16)
            for unit, m in zip(self.plan.should, self.should):
                held += unit.width * m
            mask &= held >= need
        return mask

    def missing(self) -> list[str]:
        """The words and phrases typed that no live article holds (named to the user)."""
        live = self.view.live
        units = zip(self.plan.must + self.plan.should, self.must + self.should)
        return [u.label for u, m in units if not any(c.is_filter for c in u.typed) and not (m & live).any()]

    def unit(self, unit: Unit) -> np.ndarray:
        mask = np.zeros(self.view.size, dtype=bool)
        for option in unit.options:
            held = self.clause(option[0])
            for clause in option[1:]:
                held &= self.clause(clause)
            mask |= held
        return mask

    def clause(self, clause: Clause) -> np.ndarray:
        view = self.view
        title_only = clause.field == "title"
        folded_fields = ("title_fold",) if title_only else ("title_fold", "body_fold")
        accented_fields = ("title_syl",) if title_only else ("title_syl", "body_syl")
        if clause.is_filter:
            return self.names(f"{clause.field}_key", clause)
        if clause.wildcard:
            mask = np.zeros(view.size, dtype=bool)
            for fieldname in folded_fields:
                for term in view.expand(fieldname, clause.wildcard, MAX_WILDCARD_TERMS):
                    mask[view.postings(fieldname, term)[0]] = True
            return mask
        mask = view.phrase_mask(folded_fields, clause.folded) if clause.is_phrase else None
        for syllable, folded in zip(clause.syllables, clause.folded):
            if self.exact and analysis.has_diacritics(syllable):
                held = view.term_mask(accented_fields, syllable)
            elif clause.is_phrase:
                continue  # the phrase check found it already
            else:
                held = view.term_mask(folded_fields, folded)
            mask = held if mask is None else mask & held
        return mask

    def names(self, column: str, clause: Clause) -> np.ndarray:
        wanted = [(s if self.exact and analysis.has_diacritics(s) else None, f)
                  for s, f in zip(clause.syllables, clause.folded)]
        values = self.view.facet_values[column]
        codes = [i for i, name in enumerate(values) if name and name_matches(name, wanted)]
        return np.isin(self.view.facet_codes[column], codes)
