"""The score every engine gives an admitted article, before the title re-ranking.

BM25 of the words as typed (title over body; a word typed with accents in its own spelling,
other spellings at :data:`~vnsearch.search.ranking.W_FOLDED_ONLY`), of the compounds they
form, and of the synonyms that stood in for them; times the share of the query the article
holds raised to :data:`~vnsearch.search.ranking.COVERAGE_POWER`, and a gentle recency boost.

An engine supplies the numbers through a :class:`ScoringView` (the embedded engine over its
whole index, the distributed one over its candidates, with whole-index statistics), so both
rank with this one formula.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from vnsearch import analysis
from vnsearch.config import Settings
from vnsearch.documents import is_dated
from vnsearch.search.matching import MAX_WILDCARD_TERMS, Plan, Unit
from vnsearch.search.ranking import COVERAGE_POWER, W_BODY, W_COMPOUND, W_FOLDED_ONLY, W_TITLE, compounds

TITLE_WILDCARD_TERMS = 5  # the most frequent title terms a wildcard scores with


class ScoringView(Protocol):
    date: np.ndarray  # each document's date (seconds, or UNDATED)
    newest: int  # the newest live article's date, 0 when none is dated

    def bm25(self, fieldname: str, term: str, docs: np.ndarray) -> np.ndarray:
        """BM25 of ``term`` in ``fieldname`` for each of ``docs``, with whole-index statistics."""

    def expand(self, fieldname: str, pattern: str, limit: int) -> list[str]:
        """The terms a folded wildcard pattern matches, the most frequent first."""


def score(view: ScoringView, plan: Plan, docs: np.ndarray, settings: Settings,
          share: np.ndarray | None = None) -> np.ndarray:
    """Relevance of each of ``docs``; ``share``: the idf-weighted share of the query's plain
    words each holds (None when the query has fewer than two)."""
    total = np.zeros(len(docs), dtype=np.float32)
    clauses = plan.query.positive_clauses()
    for clause in clauses:
        if clause.is_filter:
            continue
        if clause.wildcard:
            for term in view.expand("title_fold", clause.wildcard, MAX_WILDCARD_TERMS)[:TITLE_WILDCARD_TERMS]:
                total += W_TITLE * view.bm25("title_fold", term, docs)
            continue
        for syl, folded in zip(clause.syllables, clause.folded):
            add_as_typed(total, view, syl, folded, docs, title_only=clause.field == "title")
    for exact, folded in compounds(clauses):
        add_as_typed(total, view, exact, folded, docs, scale=W_COMPOUND)
    for unit in plan.should:  # only runs of plain words are matched to synonyms
        if unit.synonym:
            total += synonym_score(view, unit, docs)
    if share is not None:
        total *= share ** COVERAGE_POWER
    if settings.recency_weight and view.newest:
        dates = view.date[docs]
        age_days = np.maximum(0, (view.newest - dates) / 86400.0)
        fresh = np.where(is_dated(dates), np.exp2(-age_days / settings.recency_half_life_days), 0.0)
        total *= (1.0 + settings.recency_weight * fresh).astype(np.float32)
    return total


def add_as_typed(total: np.ndarray, view: ScoringView, exact: str, folded: str, docs: np.ndarray,
                 scale: float = 1.0, title_only: bool = False) -> None:
    """Add to ``total`` the BM25 of a word or compound as the user typed it, title over body.

    Typed with accents, it counts in its own spelling, and spellings that only fold like it
    ("mà", "má" for "mã") count a fraction; typed without, it counts in every spelling.
    """
    fields = ((W_TITLE, "title"),) if title_only else ((W_TITLE, "title"), (W_BODY, "body"))
    folded_weight = scale
    if analysis.has_diacritics(exact):
        folded_weight = scale * W_FOLDED_ONLY
        for weight, field_ in fields:
            total += scale * weight * view.bm25(f"{field_}_syl", exact, docs)
    for weight, field_ in fields:
        total += folded_weight * weight * view.bm25(f"{field_}_fold", folded, docs)


def synonym_score(view: ScoringView, unit: Unit, docs: np.ndarray) -> np.ndarray:
    """BM25 of the best synonym variant in each document, scaled to the syllables typed:
    an article that says "cảnh sát giao thông" scores for "CSGT" about as one that says "CSGT"."""
    best = np.zeros(len(docs), dtype=np.float32)
    for option in unit.options[1:]:
        variant = np.zeros(len(docs), dtype=np.float32)
        syllables = [f for clause in option for f in clause.folded]
        for folded in syllables:
            variant += W_TITLE * view.bm25("title_fold", folded, docs) + W_BODY * view.bm25("body_fold", folded, docs)
        np.maximum(best, variant * (unit.width / len(syllables)), out=best)
    return best


def related_scores(view: ScoringView, keys: list[str], docs: np.ndarray) -> np.ndarray:
    """Scores of ``docs`` for a bag of distinctive folded words (related articles), title over body."""
    scores = np.zeros(len(docs), dtype=np.float32)
    for term in keys:
        scores += W_TITLE * view.bm25("title_fold", term, docs) + W_BODY * view.bm25("body_fold", term, docs)
    return scores
