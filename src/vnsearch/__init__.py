"""vnsearch: full-text search for Vietnamese news.

Data flows one way: files -> articles -> analysis -> indexer -> index -> search -> CLI / web.
"""

from importlib import resources

__version__ = "0.1.0"


def sample_articles_path():
    """The packaged sample articles (written for vnsearch, not from any publication)."""
    return resources.files("vnsearch") / "samples" / "articles.jsonl"
