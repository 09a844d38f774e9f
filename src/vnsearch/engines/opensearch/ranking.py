"""The ranking of :mod:`vnsearch.search.scoring` over a view of candidates: the embedded
engine's formula, term for term, with whole-index statistics from the cluster (see :mod:`.view`).
"""

from __future__ import annotations

import numpy as np

from vnsearch.search import scoring
from vnsearch.search.matching import Plan


def relevance(view, plan: Plan, unit_held: np.ndarray | None, unit_weights, settings) -> np.ndarray:
    """The score of every candidate of ``view``, before title re-ranking.

    ``unit_held``: candidates x should-units, which units each holds; ``unit_weights``:
    each unit's width times the idf of how many live articles hold it.
    """
    docs = np.arange(view.size)
    share = None
    if unit_held is not None and len(plan.should) > 1:
        weights = np.asarray(unit_weights, dtype=np.float32)
        whole = float(weights.sum())
        held = (unit_held * weights).sum(axis=1, dtype=np.float32)
        share = held / whole if whole else np.ones(len(docs), dtype=np.float32)
    return scoring.score(view, plan, docs, settings, share)
