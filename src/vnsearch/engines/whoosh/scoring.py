"""The ranking of :mod:`vnsearch.search.ranking` computed over an index view (BM25 on numpy arrays)."""

from __future__ import annotations

import numpy as np

from vnsearch import analysis
from vnsearch.config import Settings
from vnsearch.documents import UNDATED, is_dated
from vnsearch.engines.whoosh.masks import MAX_WILDCARD_TERMS, Match
from vnsearch.engines.whoosh.view import IndexView
from vnsearch.search.matching import Plan, Unit
from vnsearch.search.ranking import (COVERAGE_POWER, RERANK_DEPTH, W_BODY, W_COMPOUND, W_FOLDED_ONLY, W_TITLE,
                                     compounds, title_boosts)


def order(view: IndexView, plan: Plan, found: Match, sort: str, wanted: int,
          settings: Settings) -> list[tuple[int, float]]:
    """The first ``wanted`` admitted documents in the requested order, with their scores.

    By relevance: the score of every admitted document, then the title re-ranking of the
    best :data:`RERANK_DEPTH`; ties go to the newer article.
    """
    query, docs = plan.query, found.docs
    if not len(docs):
        return []
    if sort == "relevance" and not query.positive_clauses():
        sort = "newest"  # browsing without words: the newest first
    wanted = min(len(docs), wanted)
    if sort != "relevance":
        dates = view.date[docs]
        key = -dates if sort == "newest" else np.where(is_dated(dates), dates, -UNDATED)
        chosen = np.lexsort((docs, key))[:wanted]
        return [(int(docs[i]), 0.0) for i in chosen]
    scores = score(view, plan, found, docs, settings)
    top = min(len(docs), max(RERANK_DEPTH, wanted))
    if len(docs) > top:  # only the best few hundred need a full sort
        candidates = np.argpartition(-scores, top - 1)[:top]
    else:
        candidates = np.arange(len(docs))
    head = candidates[np.lexsort((-view.date[docs[candidates]], -scores[candidates]))][:RERANK_DEPTH]
    reranked = scores.copy()
    boosts = title_boosts(query, [view.title_syllables(int(d)) for d in docs[head]])
    if boosts is not None:
        reranked[head] = scores[head] * np.asarray(boosts, dtype=np.float32)
    chosen = candidates[np.lexsort((-view.date[docs[candidates]], -reranked[candidates]))][:wanted]
    return [(int(docs[i]), round(float(reranked[i]), 4)) for i in chosen]


def score(view: IndexView, plan: Plan, found: Match, docs: np.ndarray, settings: Settings) -> np.ndarray:
    """Relevance of each doc in ``docs`` (before title re-ranking).

    BM25 of the words as typed (title over body), of the compounds they form, and of the
    synonyms that stood in for them; times the share of the query the article holds
    (:func:`coverage`) and a gentle recency boost.
    """
    total = np.zeros(len(docs), dtype=np.float32)
    clauses = plan.query.positive_clauses()
    for clause in clauses:
        if clause.is_filter:
            continue
        title_only = clause.field == "title"
        if clause.wildcard:
            for term in view.expand("title_fold", clause.wildcard, MAX_WILDCARD_TERMS)[:5]:
                total += W_TITLE * view.bm25("title_fold", term, docs)
            continue
        for syl, folded in zip(clause.syllables, clause.folded):
            add_as_typed(total, view, syl, folded, docs, title_only=title_only)
    for exact, folded in compounds(clauses):
        add_as_typed(total, view, exact, folded, docs, scale=W_COMPOUND)
    for unit in plan.should:  # only runs of plain words are matched to synonyms
        if unit.synonym:
            total += synonym_score(view, unit, docs)
    if len(found.unit_masks) > 1:
        total *= coverage(view, plan, found, docs) ** COVERAGE_POWER
    if settings.recency_weight and view.newest:
        dates = view.date[docs]
        age_days = np.maximum(0, (view.newest - dates) / 86400.0)
        fresh = np.where(is_dated(dates), np.exp2(-age_days / settings.recency_half_life_days), 0.0)
        total *= (1.0 + settings.recency_weight * fresh).astype(np.float32)
    return total


def add_as_typed(total: np.ndarray, view: IndexView, exact: str, folded: str, docs: np.ndarray,
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


def synonym_score(view: IndexView, unit: Unit, docs: np.ndarray) -> np.ndarray:
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


def coverage(view: IndexView, plan: Plan, found: Match, docs: np.ndarray) -> np.ndarray:
    """The share of the query each document holds, each plain word weighted by its idf and the
    syllables it spans: an article holding 7 of 8 words outranks one holding 5."""
    held = np.zeros(len(docs), dtype=np.float32)
    whole = 0.0
    for unit, mask in zip(plan.should, found.unit_masks):
        weight = unit.width * view.idf_of_count(int(np.count_nonzero(mask & view.live)))
        held += weight * mask[docs]
        whole += weight
    return held / whole if whole else np.ones(len(docs), dtype=np.float32)


def related_scores(view: IndexView, keys: list[str], docs: np.ndarray) -> np.ndarray:
    """Scores of ``docs`` for a bag of distinctive folded words (related articles), title over body."""
    scores = np.zeros(len(docs), dtype=np.float32)
    for term in keys:
        scores += W_TITLE * view.bm25("title_fold", term, docs) + W_BODY * view.bm25("body_fold", term, docs)
    return scores
