"""The steps around one engine's search that every engine shares: checking the request,
remembering results per index generation, writing the suggestion's names as the titles do,
and trading a query that finds little for its correction.

An engine supplies ``run(request) -> SearchResult`` (parse, match, count facets, rank,
re-rank, build hits, suggest: see ``vnsearch.engines.whoosh.searcher``); :func:`search`
wraps it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import replace
from typing import Callable, Hashable

from vnsearch.search.request import SearchRequest
from vnsearch.search.results import SearchResult
from vnsearch.search.suggest import proper_case

Run = Callable[[SearchRequest], SearchResult]


def search(run: Run, request: SearchRequest) -> SearchResult:
    """Hits, facets and a suggestion for a request, corrected when that finds more.

    When nothing holds the words as typed (or only some of them: the "words" relaxation)
    and the suggestion finds articles holding them ("bóng đáa" -> "bóng đá"), the result
    is the suggestion's, with ``corrected_from`` saying what was typed; ``no_correction``
    asks for the words as typed whatever they find.
    """
    request = request.validated()
    started = time.perf_counter()
    result = run(request)
    if result.suggestion:
        # Filters and sorting leave fewer or other titles to learn from: the suggestion is the
        # query's own, as if neither were there, with its names as those titles write them
        # ("ca mau" -> "Cà Mau").
        broadest = request.unnarrowed()
        suggested = result if broadest == request else run(broadest)
        suggestion = suggested.suggestion and proper_case(suggested.suggestion, [h.title for h in suggested.hits])
        result = replace(result, suggestion=suggestion or None)
    if (not result.total or "words" in result.relaxed) and result.suggestion and not request.no_correction:
        # A correction that finds the words whole beats articles holding only some of them.
        corrected = run(replace(request, query=result.suggestion))
        if corrected.total and "words" not in corrected.relaxed:
            result = replace(corrected, corrected_from=request.query, suggestion=result.suggestion)
    return replace(result, hits=list(result.hits), facets=dict(result.facets),
                   took_ms=(time.perf_counter() - started) * 1000)


class ResultCache:
    """The last ``size`` results of one index generation (a new generation empties it).

    ``no_correction`` plays no part in the key: it changes what :func:`search` does with
    results, not a result.
    """

    def __init__(self, size: int):
        self.size = size
        self._generation: Hashable = None
        self._results: OrderedDict = OrderedDict()

    def cached(self, run: Run, generation: Hashable) -> Run:
        """``run``, remembered for ``generation``."""
        if generation != self._generation:
            self._results.clear()
            self._generation = generation

        def remembered(request: SearchRequest) -> SearchResult:
            key = replace(request, no_correction=False)
            result = self._results.get(key)
            if result is not None:
                self._results.move_to_end(key)
                return result
            result = run(request)
            self._results[key] = result
            if len(self._results) > self.size:
                self._results.popitem(last=False)
            return result

        return remembered
