"""What a search means, whatever stores the index: the request and its checks, the matching
rules, the ranking weights and title re-ranking, snippets, suggestions, and the steps shared
around an engine's search (the result cache, the correction).

May import: the text layer (``vnsearch.analysis``, ``segmenter``, ``synonyms``, ``query``),
``vnsearch.articles`` and ``vnsearch.config``. Never an engine, the CLI or the web.
"""

from vnsearch.search.request import MAX_PER_PAGE, SORTS, SearchError, SearchRequest
from vnsearch.search.results import FacetValue, Hit, SearchResult

__all__ = ["MAX_PER_PAGE", "SORTS", "FacetValue", "Hit", "SearchError", "SearchRequest", "SearchResult"]
