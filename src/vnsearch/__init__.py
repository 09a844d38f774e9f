"""vnsearch: full-text search for Vietnamese news.

Data flows one way: files (``readers``) -> articles -> documents (``analysis``) -> storage
engine (``engines``) -> search -> CLI / web. The modules at this level are the text layer
(``analysis``, ``segmenter``, ``synonyms``, ``query``, ``config``) and the article layer
(``articles``, ``readers``, ``documents``); they import nothing above them. ``search/``
defines what a search means, ``engines/`` stores and searches, ``cli``, ``serving`` and
``web/`` are the product. tests/test_layers.py holds every module to its layer.
"""

from importlib import resources

__version__ = "0.1.0"


def sample_articles_path():
    """The packaged sample articles (written for vnsearch, not from any publication)."""
    return resources.files("vnsearch") / "samples" / "articles.jsonl"
