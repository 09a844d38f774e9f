"""The OpenSearch engine: the only code that imports ``opensearchpy``.

Articles are analysed in Python as for the embedded engine and sent as pre-analysed
tokens; the cluster matches, counts and aggregates; ranking, re-ranking, snippets and
suggestions are the shared Python code, so both engines answer alike.
"""

from .engine import OpenSearchEngine

__all__ = ["OpenSearchEngine"]
