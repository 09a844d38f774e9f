"""What an article becomes on the cluster: the index's mapping and one document per article.

Vietnamese analysis stays in Python (:func:`document_fields`, shared with the embedded
engine): each analysed view is sent as whitespace-separated tokens and indexed with the
``whitespace`` analyzer, so the cluster holds exactly the terms the embedded engine holds.

- ``title_fold``/``body_fold``: folded syllables with positions (matching, phrases);
  pyvi's compound words go to ``*_fold_c`` (a field of their own: a compound sharing its
  first syllable's position would let ``"cong thuong"`` slop over it).
- ``title_syl``/``body_syl``: accented syllables and compounds, frequencies only.
- ``qlen.*``: each analysed field's length as the embedded engine's ranking sees it (its
  one-byte length norm, :func:`quantized_length`), so BM25 is computed alike.
- keywords for facets and filters, their folded form (filters ignore accents), and the
  names' syllables with positions for ``author:``/``category:``/``source:`` clauses.
- ``ts``: seconds since 1970 (absent when undated) and ``date`` for monthly histograms.
- ``shown``: the display fields, kept in ``_source`` only.
"""

from __future__ import annotations

import bisect

from vnsearch import analysis

from vnsearch.documents import document_fields

TEXT_FIELDS = ("title_fold", "body_fold", "title_syl", "body_syl")  # as the ranking names them
NAME_COLUMNS = ("category", "author", "source")
SHOWN = ("title", "body", "summary", "url", "tags", "date_iso", "author", "source", "category")
MAPPING_VERSION = 4

# The embedded engine stores a field's length in one byte: byte n stands for
# round((1.033**n - 1) * 27) tokens, and a length is stored as the first byte whose
# value is not below it. Ranking reads lengths back that way, so this engine does too.
_LENGTH_OF_BYTE = [int(round((pow(1.033, n) - 1) * 27)) for n in range(256)]


def quantized_length(n: int) -> int:
    """A field length as the embedded engine's length norm gives it back.

    >>> [quantized_length(n) for n in (0, 1, 10, 11, 50, 100, 200000)]
    [0, 1, 10, 12, 52, 101, 106374]
    """
    if n >= _LENGTH_OF_BYTE[-1]:
        return _LENGTH_OF_BYTE[-1]
    return _LENGTH_OF_BYTE[bisect.bisect_left(_LENGTH_OF_BYTE, n)]


def index_body(shards: int, replicas: int) -> dict:
    text = {"type": "text", "analyzer": "whitespace", "similarity": "BM25"}
    bag = dict(text, index_options="freqs")
    positions = dict(text, index_options="positions")
    keyword = {"type": "keyword"}
    properties = {
        "id": keyword,
        "content_hash": keyword,
        # fielddata: wildcard and prefix expansion by frequency; store: ranking reads the
        # analysed fields of its candidates without parsing their _source
        "title_fold": dict(positions, fielddata=True, store=True),
        "title_fold_c": dict(bag, fielddata=True, store=True),
        "body_fold": dict(positions, store=True),
        "body_fold_c": dict(bag, store=True),
        "title_syl": dict(bag, store=True),
        "body_syl": dict(bag, store=True),
        "title_terms": {"type": "keyword", "index": False, "doc_values": False, "store": True},
        "qlen": {"properties": {name: {"type": "integer"} for name in TEXT_FIELDS}},
        "ts": {"type": "long"},
        "date": {"type": "date", "format": "epoch_second"},
        "shown": {"type": "object", "enabled": False},
    }
    for column in NAME_COLUMNS:
        properties[f"{column}_key"] = keyword
        properties[f"{column}_keyfold"] = keyword
        properties[f"{column}_fold"] = positions
        properties[f"{column}_syl"] = positions
    return {
        "settings": {"index": {"number_of_shards": shards, "number_of_replicas": replicas,
                               "max_result_window": 20000}},
        "mappings": {"dynamic": "strict", "_meta": {"vnsearch_mapping": MAPPING_VERSION},
                     "properties": properties},
    }


def to_document(article) -> dict:
    """The cluster's document for one article (run in worker processes: pyvi is the cost)."""
    fields = document_fields(article)
    title_slots = fields["title_fold"].split()
    title_syllables = [slot.split("/")[0] for slot in title_slots]
    title_compounds = [term for slot in title_slots for term in slot.split("/")[1:]]
    body_syllables = fields["body_pos"].split()
    body_terms = fields["body_fold"].split()
    doc = {
        "id": fields["id"],
        "content_hash": fields["content_hash"],
        "title_fold": " ".join(title_syllables),
        "title_fold_c": " ".join(title_compounds),
        "body_fold": " ".join(body_syllables),
        "body_fold_c": " ".join(body_terms[len(body_syllables):]),
        "title_syl": fields["title_syl"],
        "body_syl": fields["body_syl"],
        "title_terms": fields["title_terms"].decode("utf-8"),
        "qlen": {
            "title_fold": quantized_length(len(title_syllables) + len(title_compounds)),
            "body_fold": quantized_length(len(body_terms)),
            "title_syl": quantized_length(len(fields["title_syl"].split())),
            "body_syl": quantized_length(len(fields["body_syl"].split())),
        },
        "shown": {name: fields[name] for name in SHOWN},
    }
    if fields["date_iso"]:
        doc["ts"] = doc["date"] = fields["date"]
    for column in NAME_COLUMNS:
        key = fields[f"{column}_key"]
        if key:
            syllables = analysis.syllables(key)
            doc[f"{column}_key"] = key
            doc[f"{column}_keyfold"] = analysis.fold(key)
            doc[f"{column}_fold"] = " ".join(analysis.fold_terms(syllables))
            doc[f"{column}_syl"] = " ".join(syllables)
    return doc
