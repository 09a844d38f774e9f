"""Body snippets with the matched words wrapped in ``<mark>``; everything else escaped.

``terms`` follow the matching rules: a folded term (``lua``, typed without accents) marks
every spelling; an accented one (``lúa``) marks only that syllable, whatever its tone-mark
placement, case or i/y spelling.

>>> snippet("Sở Công Thương tỉnh Hoà Bình họp <b>bàn</b>.", {"cong", "thuong"}, width=12)
'Sở <mark>Công</mark> <mark>Thương</mark> tỉnh Hoà Bình họp &lt;b&gt;bàn&lt;/b&gt;.'
>>> snippet("Giá lúa tăng, lựa chọn giống lúa mới.", {"lúa"})
'Giá <mark>lúa</mark> tăng, lựa chọn giống <mark>lúa</mark> mới.'
"""

from __future__ import annotations

import bisect
import html
import unicodedata
from functools import lru_cache

from vnsearch import analysis
from vnsearch.query import parse

MAX_SCAN_CHARS = 60_000
FORMS_CACHED = 20_000  # syllables as written (case included); a news archive's common ones


def snippet(text: str, terms: set[str], width: int = 36) -> str:
    """The window of about ``width`` syllables holding the most distinct query terms."""
    # NFC only: the article's own tone-mark placement is shown; folding ignores placement.
    text = unicodedata.normalize("NFC", text[:MAX_SCAN_CHARS]).replace("\n", " ")
    spans = analysis.syllable_spans(text)
    if not spans:
        return html.escape(text[:200])
    forms = [_forms(text[a:b]) for a, b in spans]
    folded = [f for _s, f in forms]
    hits = [f in terms or s in terms for s, f in forms]
    start = _best_window(folded, hits, width)
    end = min(len(spans), start + width)
    lo = spans[start][0]
    hi = spans[end - 1][1] if end < len(spans) else len(text)
    out = []
    cursor = lo
    for i in range(start, end):
        a, b = spans[i]
        if hits[i]:
            out.append(html.escape(text[cursor:a]))
            out.append(f"<mark>{html.escape(text[a:b])}</mark>")
            cursor = b
    out.append(html.escape(text[cursor:hi]))
    prefix = "… " if lo > 0 else ""
    suffix = " …" if hi < len(text) else ""
    return prefix + "".join(out).strip() + suffix


@lru_cache(maxsize=FORMS_CACHED)
def _forms(written: str) -> tuple[str, str]:
    """A syllable as written, canonical (tone placed, ``y`` as ``i``) and folded: one cache
    lookup a syllable, where a snippet of a long body made three for each."""
    canonical = analysis.canonical_syllable(analysis.place_tone(written))
    return canonical, analysis.fold(canonical)


def _best_window(folded: list[str], hits: list[bool], width: int) -> int:
    """Start of the window with the most distinct matched terms (then the most matches)."""
    positions = [i for i, h in enumerate(hits) if h]
    best, best_score = 0, -1
    for i in positions[:200]:
        start = max(0, i - 4)
        inside = positions[bisect.bisect_left(positions, start):bisect.bisect_left(positions, start + width)]
        score = len({folded[j] for j in inside}) * 1000 + len(inside)
        if score > best_score:
            best, best_score = start, score
    return best


def highlight(text: str, terms: set[str]) -> str:
    """``text`` escaped, with every syllable that folds to one of ``terms`` in ``<mark>``.

    >>> highlight("Hoà Bình <b>& hòa bình", {"hoa", "binh"})
    '<mark>Hoà</mark> <mark>Bình</mark> &lt;b&gt;&amp; <mark>hòa</mark> <mark>bình</mark>'
    """
    text = unicodedata.normalize("NFC", text)
    if not terms:
        return html.escape(text)
    fold, canonical = analysis.fold, analysis.canonical_syllable
    out, cursor = [], 0
    for a, b in analysis.syllable_spans(text):
        if fold(canonical(text[a:b])) in terms:
            out.append(html.escape(text[cursor:a]))
            out.append(f"<mark>{html.escape(text[a:b])}</mark>")
            cursor = b
    out.append(html.escape(text[cursor:]))
    return "".join(out)


def query_terms(query: str) -> set[str]:
    """The folded words a query asks for (not those it excludes): what to highlight.

    >>> sorted(query_terms('hoa binh -covid "bí thư" author:Nga'))
    ['bi', 'binh', 'hoa', 'thu']
    """
    return {f for clause in parse(query).positive_clauses() for f in clause.folded}
