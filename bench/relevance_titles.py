"""Titles and their fragments, shared by the relevance benchmarks' query drawing.

A known-item query must identify its article: :class:`TitleSet` says how many dantri titles
hold a query, and :func:`pick_fragment` draws a run of title words that ``identifies`` accepts.
"""

from __future__ import annotations

import collections
import random
import re
import unicodedata

from vnsearch import analysis

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
# oa, oe, uy closing the syllable (no final consonant), after a consonant onset other than q.
_FLIPPABLE_RE = re.compile(r"^([bcdđghklmnprstvx]*)(oa|oe|uy)$")
SYLLABLE_RE = re.compile(r"[^\W_]+")


def flip_tone_placement(syllable: str) -> str:
    """The other placement of the tone in an oa/oe/uy rhyme without final consonant.

    >>> flip_tone_placement("hòa"), flip_tone_placement("hoà"), flip_tone_placement("Thủy")
    ('hoà', 'hòa', 'Thuỷ')
    >>> flip_tone_placement("quý"), flip_tone_placement("hoàn"), flip_tone_placement("khuya")
    ('quý', 'hoàn', 'khuya')
    """
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = [c for c in decomposed if c in _TONE_MARKS]
    if len(tones) != 1:
        return syllable
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    match = _FLIPPABLE_RE.match(base.lower())
    if not match or match.group(1) == "q":
        return syllable  # "quý": the u belongs to the onset, the tone has one place
    letters_before_tone = 0
    for c in decomposed:
        if c in _TONE_MARKS:
            break
        if not unicodedata.combining(c):
            letters_before_tone += 1
    first = len(match.group(1))  # index of the rhyme's first vowel
    target = first + 1 if letters_before_tone - 1 == first else first
    return unicodedata.normalize("NFC", base[: target + 1] + tones[0] + base[target + 1 :])


def flip_text(text: str) -> str:
    return SYLLABLE_RE.sub(lambda m: flip_tone_placement(m.group(0)),
                            unicodedata.normalize("NFC", text))


def clean_token(token: str) -> str:
    """A title token without edge punctuation and symbols ('“Đánh' -> 'Đánh'); '' when nothing is left."""
    def edge(c):
        return unicodedata.category(c)[0] in "PSZ"
    start, end = 0, len(token)
    while start < end and edge(token[start]):
        start += 1
    while end > start and edge(token[end - 1]):
        end -= 1
    token = token[start:end]
    return token if any(c.isalnum() for c in token) else ""


class TitleSet:
    """The syllables of every dantri title, to tell whether a query singles one out."""

    def __init__(self, records: list[dict]):
        self.padded, self.sets = {}, {}
        for accented in (True, False):
            syllables = [syllables_of(r["title"], accented) for r in records]
            self.padded[accented] = [f" {' '.join(t)} " for t in syllables]
            self.sets[accented] = [set(t) for t in syllables]

    def holders(self, query: str, in_order: bool, accented: bool = False) -> int:
        """How many titles hold the query's syllables (accents compared or folded away):
        as a run, or all of them."""
        wanted = syllables_of(query, accented)
        if in_order:
            needle = f" {' '.join(wanted)} "
            return sum(needle in t for t in self.padded[accented])
        want = set(wanted)
        return sum(want <= t for t in self.sets[accented])

    def shared(self, query: str, in_order: bool) -> bool:
        """More than one title holds the query, accents compared when it has them (tone
        placement and NFD never count): no system can know which article is meant."""
        return self.holders(query, in_order, accented=analysis.has_diacritics(query)) > 1


def pick_fragment(title: str, rng: random.Random, identifies=lambda fragment: True,
                  sizes=range(3, 7)) -> str | None:
    """A run of consecutive title words (its length drawn among ``sizes``) that ``identifies``
    accepts, holding a syllable whose tone placement can flip if possible."""
    words = [clean_token(t) for t in title.split()]
    sizes = list(sizes)
    rng.shuffle(sizes)
    for n in sizes:
        windows = [s for s in range(len(words) - n + 1)
                   if all(words[s : s + n]) and identifies(" ".join(words[s : s + n]))]
        if not windows:
            continue
        flippable = [s for s in windows
                     if flip_text(" ".join(words[s : s + n])) != unicodedata.normalize("NFC", " ".join(words[s : s + n]))]
        start = rng.choice(flippable or windows)
        return " ".join(words[start : start + n])
    return None


def syllables_of(text: str, accented: bool) -> list[str]:
    """vnsearch's syllables of ``text``, accents kept or folded away.

    >>> syllables_of("Thủy điện Hòa Bình", True), syllables_of("Thủy điện", False)
    (['thuỷ', 'điện', 'hoà', 'bình'], ['thuy', 'dien'])
    """
    syls = analysis.syllables(analysis.normalize(text))
    return syls if accented else analysis.fold_terms(syls)


def eligible_articles(records: list[dict]) -> list[dict]:
    """Articles whose title can identify them: no other article has the same title, and it
    has at least 6 words (edge punctuation off)."""
    titles = collections.Counter(r["title"] for r in records)
    return [r for r in records if titles[r["title"]] == 1
            and sum(bool(clean_token(t)) for t in r["title"].split()) >= 6]
