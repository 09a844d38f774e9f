"""Suggestions from the index's own vocabulary: accents restored, misspellings corrected.

A query typed without diacritics is folded; every accented spelling of each folded
syllable is generated (a handful per syllable: vowel shapes times five tones) and
kept if the index holds it. A small Viterbi pass then picks the sequence the index
makes most likely, rewarding pairs that pyvi indexed as one word (``công_thương``).

Engine-neutral: what it reads of an index is the small :class:`Vocabulary` protocol,
which each storage engine's view implements.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections import Counter
from functools import lru_cache

from typing import Iterable, Protocol

from vnsearch import analysis
from vnsearch.query import Query

_SHAPES = {"a": "aăâ", "e": "eê", "o": "oôơ", "u": "uư", "i": "i", "y": "y", "d": "dđ"}
_TONES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
_VOWELS = set("aeiouy")
CANDIDATES_PER_SYLLABLE = 6
TITLES_READ_PER_WORD = 300  # titles read for the words that follow a word, in completions


@lru_cache(maxsize=50_000)
def accent_variants(folded: str) -> tuple[str, ...]:
    """Every canonical accented syllable that folds to ``folded``.

    >>> "công" in accent_variants("cong") and "đảng" in accent_variants("dang")
    True
    """
    if not folded.isascii() or not folded.isalpha() or len(folded) > 7:
        return (folded,)
    options = [(_SHAPES.get(c, c) if (c in _VOWELS or (c == "d" and i == 0)) else c)
               for i, c in enumerate(folded)]
    first_vowel = next((i for i, c in enumerate(folded) if c in _VOWELS), None)
    out = set()
    for letters in itertools.islice(itertools.product(*options), 64):
        base = "".join(letters)
        for tone in _TONES if first_vowel is not None else ("",):
            raw = base if not tone else base[: first_vowel + 1] + tone + base[first_vowel + 1 :]
            syllable = analysis.place_tone(unicodedata.normalize("NFC", raw))
            out.add(analysis.canonical_syllable(syllable))
    return tuple(sorted(out))


class Vocabulary(Protocol):
    """What suggestions read of an index (``field`` is one of the analysed fields:
    ``title_fold``, ``body_fold``, ``title_syl``, ``body_syl``)."""

    def df(self, field: str, term: str) -> int:
        """How many live articles hold ``term`` in ``field``."""

    def near_words(self, folded: str) -> list[str]:
        """Indexed folded syllables one edit away from ``folded``."""

    def prefix_terms(self, field: str, prefix: str) -> Iterable[str]:
        """The terms of ``field`` that begin with ``prefix``, in term order."""

    def title_syllables(self, key) -> list[str]:
        """The canonical syllables of the title of the article ``key`` (a hit's engine key)."""

    def titles_holding(self, field: str, term: str, limit: int) -> list[list[str]]:
        """The titles (as syllables) of at most ``limit`` articles holding ``term``, spread evenly."""


def suggestion_for(vocabulary: Vocabulary, query: Query, top_keys: list) -> str | None:
    """The query as typed with its words respelled, or None when they are fine as typed.

    ``top_keys``: the best-ranked articles the query matched (their titles are evidence).
    Exclusions, phrases, field prefixes and wildcards stay as typed, or following the
    suggestion would change what is asked.
    """
    words = [c for c in query.required if not c.is_filter and not c.wildcard and not c.negated]
    if not words or query.any_of:
        return None
    syls = [s for c in words for s in c.syllables]
    folds = [f for c in words for f in c.folded]
    respelled = Suggester(vocabulary, top_keys).suggestion(syls, folds, query.accented)
    if respelled is None:
        return None
    new_syllables = iter(respelled.split(" "))
    rendered = " ".join(c.render([next(new_syllables) for _ in c.syllables]) if c in words else c.render()
                        for c in query.clauses)
    return keep_case_of_text(query.text, rendered)  # "Ca Mau" -> "Cà Mau"


class Suggester:
    """Accent restoration, spelling correction and completions over one index's :class:`Vocabulary`."""

    def __init__(self, vocabulary: Vocabulary, top_docs=()):
        """``top_docs``: the best-ranked documents the query matched, if any.

        Their titles are the best evidence of what the user meant: the accented form that
        occurs there ("tiem vac xin" finds titles saying "tiêm", not "tiềm") and the accented
        words that stand side by side ("giá vàng"). Titles come from a column, so this
        costs no posting reads.
        """
        self.vocabulary = vocabulary
        self.top_docs = list(top_docs)
        self.title_pairs: Counter = Counter()
        self.title_words: Counter = Counter()

    def _learn_from_titles(self, folded: list[str]) -> None:
        wanted_pairs = set(zip(folded, folded[1:]))
        wanted = set(folded)
        for docnum in self.top_docs:
            syls = self.vocabulary.title_syllables(docnum)
            folds = analysis.fold_title(syls)
            for i, f in enumerate(folds):
                if f in wanted:
                    self.title_words[syls[i]] += 1
                if i + 1 < len(folds) and (f, folds[i + 1]) in wanted_pairs:
                    self.title_pairs[(syls[i], syls[i + 1])] += 1

    def _df(self, fieldname: str, term: str) -> int:
        return self.vocabulary.df(fieldname, term)

    def _known(self, syllable: str) -> bool:
        return bool(self._df("body_syl", syllable))

    def candidates(self, folded: str) -> list[tuple[str, int]]:
        """Accented spellings of a folded syllable that the index holds, with their weight:
        how often the top titles hold them when they do, else document frequency."""
        seen = [(v, n) for v in accent_variants(folded) if (n := self.title_words[v])]
        if seen:
            return sorted(seen, key=lambda c: -c[1])[:CANDIDATES_PER_SYLLABLE]
        # Bodies hold nearly every title word too: one lookup per variant is enough.
        scored = [(v, self._df("body_syl", v)) for v in accent_variants(folded)]
        scored = [c for c in scored if c[1] > 0]
        scored.sort(key=lambda c: -c[1])
        return scored[:CANDIDATES_PER_SYLLABLE] or [(folded, 0)]

    def _viterbi(self, lattice: list[list[tuple[str, int]]]) -> list[tuple[float, list[str]]]:
        """For each candidate of the last position, the best-scoring path ending there."""
        best = [(math.log1p(df), [syl]) for syl, df in lattice[0]]
        for column in lattice[1:]:
            step = []
            for syl, df in column:
                options = []
                for score, path in best:
                    pair = self._df("body_syl", f"{path[-1]}_{syl}") + self.title_pairs[(path[-1], syl)]
                    options.append((score + math.log1p(df) + 3.0 * math.log1p(pair), path + [syl]))
                step.append(max(options, key=lambda o: o[0]))
            best = step
        return best

    def restore(self, folded: list[str], lattice: list[list[tuple[str, int]]] | None = None) -> list[str]:
        """The most likely accented spelling of a sequence of folded syllables."""
        lattice = lattice or [self.candidates(f) for f in folded]
        return max(self._viterbi(lattice), key=lambda o: o[0])[1]

    def near(self, folded: str) -> list[str]:
        """Indexed syllables one edit away from one the index has never seen, most frequent first."""
        if self._df("body_fold", folded) or self._df("title_fold", folded):
            return []
        near = self.vocabulary.near_words(folded)[:200]
        return sorted(near, key=lambda t: -self._df("body_fold", t))[:6]

    def suggestion(self, syllables: list[str], folded: list[str], accented: bool) -> str | None:
        """What to offer the user instead of their query, or None when it is fine as typed.

        Unknown syllables are replaced by the near one that fits its neighbours best
        ("bóng đáa" -> "bóng đá", because the index holds the word ``bóng_đá``).
        """
        if not folded or len(folded) > 12:
            return None
        near = [self.near(f) for f in folded]
        misspelled = [bool(n) for n in near]
        self._learn_from_titles(folded)
        if accented:
            # An accented syllable the index never saw ("nọi") is a misspelling too.
            misspelled = [misspelled[i] or (syllables[i] != folded[i] and not self._known(syllables[i]))
                          for i in range(len(folded))]
            if not any(misspelled):
                return None
        lattice = []
        for i, (f, options) in enumerate(zip(folded, near)):
            if options:
                # nearest to what was typed, accents included ("đáa": "đá" before "đã"), then most frequent
                merged = [c for option in options for c in self.candidates(option)]
                typed = syllables[i] if analysis.has_diacritics(syllables[i]) else None
                merged.sort(key=lambda c: (_edits(typed, c[0]) if typed else _edits(f, analysis.fold(c[0])), -c[1]))
                lattice.append(merged[: CANDIDATES_PER_SYLLABLE * 6])  # the neighbours decide among them
            elif accented and not misspelled[i]:
                # a word typed right stays as typed, and its neighbours are fitted to it
                lattice.append([(syllables[i], self._df("body_syl", syllables[i]))])
            else:
                lattice.append(self.candidates(f))
        restored = self.restore(folded, lattice)
        if accented:
            words = [restored[i] if misspelled[i] else syllables[i] for i in range(len(folded))]
        else:
            words = restored
        if words == syllables or not all(map(self._indexed, words)):
            return None  # "lehoi" from "lễhội" is no better: nothing holds it
        return " ".join(words)

    def _indexed(self, syllable: str) -> bool:
        """Held anywhere: in a body (:meth:`_known`) or only in a title."""
        return self._known(syllable) or bool(self._df("title_syl", syllable))

    def completions(self, text: str, limit: int = 8) -> list[str]:
        """Ways to finish what is being typed, keeping what was typed.

        Only the last word is completed; a word typed with accents stays as typed, and the
        last one is finished only by words that begin like it (``"giá v"`` -> ``"giá vàng"``,
        not ``"gia vị"``; ``"bóng đ"`` -> ``"bóng đá"``). Words typed without accents get them
        restored (``"cong th"`` -> ``"công thương"``); quotes, a minus or a field prefix stay.
        One Viterbi pass scores every ending in the context of the words before it.
        """
        text = unicodedata.normalize("NFC", text or "")
        spans = analysis.syllable_spans(text)
        if not spans or text.endswith(" ") or len(spans) > 12:
            return []
        typed = [text[a:b] for a, b in spans]
        syls = [analysis.canonical_syllable(analysis.normalize(t)) for t in typed]
        folded = analysis.fold_terms(syls)
        endings = self._endings(syls[-1], folded[-1], limit)
        if not endings:
            return []
        lattice = [[(s, self._df("body_syl", s))] if analysis.has_diacritics(s) else self.candidates(f)
                   for s, f in zip(syls[:-1], folded[:-1])]
        self._learn_title_pairs({c for column in lattice for c, _ in column})
        out = []
        for _, path in sorted(self._viterbi(lattice + [endings]), key=lambda o: -o[0]):
            pieces, cursor = [], 0
            for (a, b), word, syl, path_word in zip(spans, typed, syls, path):
                pieces.append(text[cursor:a])
                pieces.append(word if path_word == syl else keep_case(word, path_word))
                cursor = b
            phrase = "".join(pieces) + text[cursor:]
            if phrase not in out:
                out.append(phrase)
        return out[:limit]

    def _endings(self, typed: str, folded: str, limit: int) -> list[tuple[str, int]]:
        """Indexed syllables that finish ``typed``, with their weights (see :meth:`candidates`).

        Typed with accents, only the spellings that begin like it: "lúa" gives "lúa", not "lửa".
        """
        found = []
        for i, term in enumerate(self.vocabulary.prefix_terms("title_fold", folded)):
            if i >= 5000:
                break
            if "_" not in term:
                found.append((self.vocabulary.df("title_fold", term), term))
        found.sort(reverse=True)
        if not analysis.has_diacritics(typed):
            return [c for _, term in found[: limit * 4] for c in self.candidates(term)]
        endings = [(v, df) for _, term in found[: limit * 4] for v in accent_variants(term)
                   if begins_like(v, typed) and (df := self._df("body_syl", v))]
        endings.sort(key=lambda c: -c[1])
        return endings[: limit * 8]

    def _learn_title_pairs(self, lefts: set[str]) -> None:
        """Count, in a sample of the titles holding each word of ``lefts``, the words that follow
        it: "giá vàng" stands in many titles, though pyvi keeps the two words apart (no
        ``giá_vàng`` to reward). A sample keeps the cost fixed however large the index."""
        for left in lefts:
            for words in self.vocabulary.titles_holding("title_syl", left, TITLES_READ_PER_WORD):
                for a, b in zip(words, words[1:]):
                    if a == left:
                        self.title_pairs[(a, b)] += 1


def begins_like(word: str, typed: str) -> bool:
    """Whether ``word`` can be what ``typed`` is the start of, with the letters and the tone typed.

    The tone may sit elsewhere in the finished word ("hó" is the start of "hoá").

    >>> begins_like("vàng", "v"), begins_like("đá", "đ"), begins_like("da", "đ"), begins_like("hoá", "hó")
    (True, True, False, True)
    >>> begins_like("lúa", "lúa"), begins_like("lửa", "lúa"), begins_like("lúa", "lua")
    (True, False, True)
    """
    word_base, word_tone = _split_tone(word.lower())
    typed_base, typed_tone = _split_tone(typed.lower())
    return word_base.startswith(typed_base) and (not typed_tone or typed_tone == word_tone)


def _split_tone(syllable: str) -> tuple[str, str]:
    """A syllable without its tone mark (its letter shapes kept: ơ, â, đ), and the tone mark."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = "".join(c for c in decomposed if c in _TONES)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES)), tones


def keep_case(typed: str, word: str) -> str:
    """``word`` capitalized as ``typed`` was: a proper noun typed with capitals keeps them.

    >>> keep_case("Ca", "cà"), keep_case("HCM", "hcm"), keep_case("mau", "mau")
    ('Cà', 'HCM', 'mau')
    """
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def keep_case_of_text(typed: str, suggestion: str) -> str:
    """The suggestion with each word capitalized as the user typed the word in its place.

    >>> keep_case_of_text("Ca Mau -covid", "cà mau -covid")
    'Cà Mau -covid'
    """
    typed_spans = analysis.syllable_spans(typed)
    spans = analysis.syllable_spans(suggestion)
    if len(typed_spans) != len(spans):
        return suggestion
    out, cursor = [], 0
    for (a, b), (ta, tb) in zip(spans, typed_spans):
        out.append(suggestion[cursor:a])
        out.append(keep_case(typed[ta:tb], suggestion[a:b]))
        cursor = b
    return "".join(out) + suggestion[cursor:]


def proper_case(suggestion: str, titles: list[str]) -> str:
    """The suggestion with the proper nouns the titles write with capitals.

    A word is capitalized when most titles that hold it beside its neighbour in the suggestion
    capitalize it there; a word no title holds beside a neighbour goes by how the titles write it
    alone. A title's first word is capitalized anyway: there the next word's capital counts.

    >>> proper_case("mưa lớn ở cà mau", ["Mưa lớn ở Cà Mau", "Cà Mau mưa to", "Bão vào cà mau"])
    'mưa lớn ở Cà Mau'
    >>> proper_case("hà nội covid", ["Hà Nội thêm ca Covid", "Công nhân Hà Nội nghỉ"])
    'Hà Nội Covid'
    """
    spans = analysis.syllable_spans(suggestion)
    words = [analysis.canonical_syllable(analysis.place_tone(suggestion[a:b])) for a, b in spans]
    wanted, pairs = set(words), set(zip(words, words[1:]))
    votes: dict[tuple, list[int]] = {}  # (pair, side) or (word,) -> [capitalized, seen]
    for title in titles:
        text = analysis.normalize(title)
        found = [text[a:b] for a, b in analysis.syllable_spans(text)]
        canonical = [analysis.canonical_syllable(w) for w in found]
        for j in range(len(found)):
            keys = [(canonical[j],)] if canonical[j] in wanted else []
            keys += [((canonical[j - 1], canonical[j]), 1)] if (canonical[j - 1], canonical[j]) in pairs else []
            keys += [((canonical[j], canonical[j + 1]), 0)] if (j + 1 < len(found)
                                                              and (canonical[j], canonical[j + 1]) in pairs) else []
            for key in keys:
                tally = votes.setdefault(key, [0, 0])
                tally[0] += found[j if j or len(found) < 2 else 1][:1].isupper()
                tally[1] += 1
    out, cursor = [], 0
    for i, (a, b) in enumerate(spans):
        beside = [((words[i - 1], words[i]), 1)] if i else []
        beside += [((words[i], words[i + 1]), 0)] if i + 1 < len(words) else []
        tallies = [votes[k] for k in beside if k in votes] or [votes.get((words[i],), [0, 0])]
        capitalized, seen = sum(t[0] for t in tallies), sum(t[1] for t in tallies)
        word = suggestion[a:b]
        if seen and capitalized * 2 > seen:
            word = word[:1].upper() + word[1:]
        out.append(suggestion[cursor:a] + word)
        cursor = b
    return "".join(out) + suggestion[cursor:]


def _edits(a: str, b: str) -> int:
    """Levenshtein distance between two short words (accented letters count as letters).

    >>> _edits("đáa", "đá"), _edits("đáa", "đã")
    (1, 2)
    """
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]
