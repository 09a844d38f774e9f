"""The ranking of :mod:`vnsearch.search.scoring` and :mod:`vnsearch.search.ranking` over an
index view (BM25 on numpy arrays): the order of the admitted documents, and the share of the
query each holds."""

from __future__ import annotations

import numpy as np

from vnsearch.config import Settings
from vnsearch.documents import UNDATED, is_dated
from vnsearch.engines.whoosh.masks import Match
from vnsearch.engines.whoosh.view import IndexView
from vnsearch.search import scoring
from vnsearch.search.matching import Plan
from vnsearch.search.ranking import RERANK_DEPTH, title_boosts


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
    """Relevance of each doc in ``docs`` (:func:`vnsearch.search.scoring.score`, before title re-ranking)."""
    share = coverage(view, plan, found, docs) if len(found.unit_masks) > 1 else None
    return scoring.score(view, plan, docs, settings, share)


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
