"""The engine-neutral pieces this engine reuses, imported in one place.

Until the storage boundary (issue 13) moves them into ``vnsearch.search`` and
``vnsearch.documents``, they live beside the Whoosh engine; this module is the only one
of the OpenSearch engine that knows where.
"""

from vnsearch.indexer import (  # noqa: F401
    IndexBusyError, IndexFormatError, IndexMissingError, IndexReport, _duplicate as duplicate_rule,
    content_hash, document_fields,
)
from vnsearch.masks import MAX_WILDCARD_TERMS, highlight_terms  # noqa: F401
from vnsearch.matching import Plan, Unit  # noqa: F401
from vnsearch.search import (  # noqa: F401
    COMPOUND_RUN_LIMIT, COVERAGE_POWER, RERANK_DEPTH, SUGGESTION_EVIDENCE, W_BODY, W_COMPOUND, W_TITLE,
    FacetValue, Hit, SearchEngine, SearchError, SearchRequest, SearchResult, _add_as_typed as add_as_typed,
    _categories as categories, _render as render, _synonym_score as synonym_score, _unnarrowed as unnarrowed,
    vietnam_time,
)
from vnsearch.segments import die_with_parent  # noqa: F401
from vnsearch.suggest import Suggester, keep_case_of_text, proper_case  # noqa: F401
from vnsearch.synonyms import load_cached as load_synonyms  # noqa: F401


def rerank(view, query, docs, scores):
    """The title re-ranking of the top hits, the embedded engine's own code."""
    return SearchEngine._rerank(SearchEngine, view, query, docs, scores)


def runs(clauses):
    """Runs of adjacent words typed together (where compounds can form)."""
    return SearchEngine._runs(clauses)


class EngineError(RuntimeError):
    """The storage engine cannot serve."""


class EngineUnavailable(EngineError):
    """The cluster cannot be reached, or answers with an error it should not."""
