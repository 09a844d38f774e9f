"""The ranking of :mod:`vnsearch.search.ranking` over a view of candidates (BM25 on numpy arrays).

The same formula as the embedded engine's ``scoring.score``, term for term: BM25 of the
words as typed (title over body), of the compounds they form and of the synonyms that
stood in for them, times the share of the query the article holds and a gentle recency
boost. Only where the numbers come from differs (see :mod:`.view`).
"""

from __future__ import annotations

import numpy as np

from vnsearch import analysis
from vnsearch.documents import is_dated
from vnsearch.search.matching import Plan, Unit
from vnsearch.search.ranking import COVERAGE_POWER, W_BODY, W_COMPOUND, W_FOLDED_ONLY, W_TITLE, compounds

MAX_WILDCARD_TERMS = 50
TITLE_WILDCARD_TERMS = 5  # the most frequent title terms a wildcard scores with


def relevance(view, plan: Plan, unit_held: np.ndarray | None, unit_weights, settings) -> np.ndarray:
    """The score of every candidate of ``view``, before title re-ranking.

    ``unit_held``: candidates x should-units, which units each holds; ``unit_weights``:
    each unit's width times the idf of how many live articles hold it.
    """
    docs = np.arange(view.size)
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
    for unit in plan.should:
        if unit.synonym:
            total += synonym_score(view, unit, docs)
    if unit_held is not None and len(plan.should) > 1:
        weights = np.asarray(unit_weights, dtype=np.float32)
        whole = float(weights.sum())
        held = (unit_held * weights).sum(axis=1, dtype=np.float32)
        total *= (held / whole if whole else np.ones(len(docs), dtype=np.float32)) ** COVERAGE_POWER
    if settings.recency_weight and view.newest:
        dates = view.date[docs]
        age_days = np.maximum(0, (view.newest - dates) / 86400.0)
        fresh = np.where(is_dated(dates), np.exp2(-age_days / settings.recency_half_life_days), 0.0)
        total *= (1.0 + settings.recency_weight * fresh).astype(np.float32)
    return total


def add_as_typed(total, view, exact: str, folded: str, docs, scale: float = 1.0, title_only: bool = False) -> None:
    """BM25 of a word or compound as typed: its own spelling when typed with accents (other
    spellings a fraction), every spelling when typed without."""
    fields = ((W_TITLE, "title"),) if title_only else ((W_TITLE, "title"), (W_BODY, "body"))
    folded_weight = scale
    if analysis.has_diacritics(exact):
        folded_weight = scale * W_FOLDED_ONLY
        for weight, field_ in fields:
            total += scale * weight * view.bm25(f"{field_}_syl", exact, docs)
    for weight, field_ in fields:
        total += folded_weight * weight * view.bm25(f"{field_}_fold", folded, docs)


def synonym_score(view, unit: Unit, docs) -> np.ndarray:
    """BM25 of the best synonym variant in each document, scaled to the syllables typed."""
    best = np.zeros(len(docs), dtype=np.float32)
    for option in unit.options[1:]:
        variant = np.zeros(len(docs), dtype=np.float32)
        syllables = [f for clause in option for f in clause.folded]
        for folded in syllables:
            variant += W_TITLE * view.bm25("title_fold", folded, docs) + W_BODY * view.bm25("body_fold", folded, docs)
        np.maximum(best, variant * (unit.width / len(syllables)), out=best)
    return best


def related_scores(view, keys: list[str], docs) -> np.ndarray:
    """Scores for a bag of distinctive folded words (related articles), title over body."""
    scores = np.zeros(len(docs), dtype=np.float32)
    for term in keys:
        scores += W_TITLE * view.bm25("title_fold", term, docs) + W_BODY * view.bm25("body_fold", term, docs)
    return scores
