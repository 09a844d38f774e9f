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
import itertools
import unicodedata
from functools import lru_cache

from vnsearch import analysis
from vnsearch.query import parse

MAX_SCAN_CHARS = 60_000
FORMS_CACHED = 20_000  # syllables as written (case included); a news archive's common ones
PATTERNS_CACHED = 256  # the patterns of the last queries' words, about 10 KB each
PATTERN_WORDS = 12  # a longer query (a pasted lead) reads each body syllable by syllable


def snippet(text: str, terms: set[str], width: int = 36) -> str:
    """The window of about ``width`` syllables holding the most distinct query terms.

    Only the matched syllables and the window's own are looked at one by one: a pattern
    built from the terms finds the candidates in the whole text (see :func:`_hits`).
    """
    # NFC only: the article's own tone-mark placement is shown; folding ignores placement.
    text = unicodedata.normalize("NFC", text[:MAX_SCAN_CHARS]).replace("\n", " ")
    hits = _hits(text, terms, width)
    lo = _window_start(text, hits, width)
    window = [m.span() for m in itertools.islice(analysis.syllable_matches(text, lo), width + 1)]
    if not window:
        return html.escape(text[:200])
    lo = window[0][0]
    hi = window[width - 1][1] if len(window) > width else len(text)
    marked = {a for _number, a, _b, _folded in hits}
    out = []
    cursor = lo
    for a, b in window[:width]:
        if a in marked:
            out.append(html.escape(text[cursor:a]))
            out.append(f"<mark>{html.escape(text[a:b])}</mark>")
            cursor = b
    out.append(html.escape(text[cursor:hi]))
    prefix = "… " if lo > 0 else ""
    suffix = " …" if hi < len(text) else ""
    return prefix + "".join(out).strip() + suffix


def _hits(text: str, terms: set[str], width: int) -> list[tuple[int, int, int, str]]:
    """``(number, start, end, folded)`` of each syllable of ``text`` that ``terms`` match.

    ``number`` is the syllable's position, except that the syllables between two matches
    are counted up to ``width`` (at least 4) only: matches that far apart share no window,
    whatever the true distance, and a long body is not counted syllable by syllable.
    """
    if not terms:
        return []
    most = max(width, 4)
    pattern = _pattern(frozenset(terms))
    hits = _hits_among(text, terms, most, pattern.finditer(text)) if pattern else None
    if hits is None:  # a long query, or a letter that folds to several ("ß", "北"): every syllable
        hits = _hits_among(text, terms, most, analysis.syllable_matches(text))
    return hits


def _hits_among(text: str, terms: set[str], most: int, candidates) -> list[tuple[int, int, int, str]] | None:
    """The hits among ``candidates`` (matches in ``text``), the syllables between them counted
    up to ``most``; None at a letter that :func:`vnsearch.analysis.folding_pattern` cannot fold."""
    hits: list[tuple[int, int, int, str]] = []
    number, cursor = 0, 0
    for m in candidates:
        if m.lastgroup == analysis.FOLDS_APART:
            return None
        a, b = m.span()
        canonical, folded = _forms(text[a:b])
        if folded in terms or canonical in terms:
            number += _count_syllables(text, cursor, a, most)
            hits.append((number, a, b, folded))
            number += 1
            cursor = b
    return hits


def _count_syllables(text: str, start: int, end: int, most: int) -> int:
    """How many syllables ``text[start:end]`` holds, or ``most`` when it holds more."""
    if end - start <= most * 8:  # a short stretch: counted in C
        return min(most, len(analysis.syllable_words(text, start, end)))
    return sum(1 for _ in itertools.islice(analysis.syllable_matches(text, start, end), most))


@lru_cache(maxsize=PATTERNS_CACHED)
def _pattern(terms: frozenset[str]):
    """The pattern of the terms' folded words; None for more than :data:`PATTERN_WORDS`
    (compiling costs some 0.3 ms a word, more than reading a few bodies syllable by syllable)."""
    folded = {analysis.fold(t) for t in terms}
    return analysis.folding_pattern(folded) if len(folded) <= PATTERN_WORDS else None


@lru_cache(maxsize=FORMS_CACHED)
def _forms(written: str) -> tuple[str, str]:
    """A syllable as written, canonical (tone placed, ``y`` as ``i``) and folded: one cache
    lookup a syllable, where a snippet of a long body made three for each."""
    canonical = analysis.canonical_syllable(analysis.place_tone(written))
    return canonical, analysis.fold(canonical)


def _window_start(text: str, hits: list[tuple[int, int, int, str]], width: int) -> int:
    """Where the window with the most distinct matched terms (then the most matches) begins:
    four syllables before one of the first 200 matches (the text's start without any)."""
    numbers = [h[0] for h in hits]
    best, best_score = None, -1
    for i, number in enumerate(numbers[:200]):
        start = max(0, number - 4)
        inside = hits[bisect.bisect_left(numbers, start):bisect.bisect_left(numbers, start + width)]
        score = len({h[3] for h in inside}) * 1000 + len(inside)
        if score > best_score:
            best, best_score = i, score
    if best is None:
        return 0
    # Numbers below 4 are exact (the counting stops at ``width`` or 4), so this is 0 to 4 syllables back.
    return _syllables_back(text, hits[best][1], min(4, numbers[best]))


def _syllables_back(text: str, position: int, count: int) -> int:
    """The start of the syllable ``count`` syllables before the one starting at ``position``."""
    reach = 64
    while count:
        lo = max(0, position - reach)
        starts = [m.start() for m in analysis.syllable_matches(text, lo, position)]
        if len(starts) > count or (lo == 0 and starts):  # the first may be cut at ``lo``
            return starts[-min(count, len(starts))]
        if lo == 0:
            break
        reach *= 4
    return position


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
