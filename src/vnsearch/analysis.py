"""Vietnamese text analysis, shared by indexing and querying.

One text gives several aligned views (see :func:`analyze`):

- ``syllables``: normalized, lowercased syllables with their diacritics
  (``"Sở Công Thương"`` -> ``["sở", "công", "thương"]``);
- ``folded``: the same syllables without diacritics, position for position
  (``["so", "cong", "thuong"]``), so a query typed without accents matches;
- ``compounds``: pyvi's multi-syllable words (``công_thương``), indexed beside
  their syllables accented and folded (``cong_thuong``) to add precision to ranking.

Normalization makes the many spellings of one word identical:

>>> normalize("Uỷ viên") == normalize("Ủy viên")
True
>>> normalize("hòa bình khỏe thủy")
'hoà bình khoẻ thuỷ'
>>> fold("Đảng")
'dang'
>>> canonical_syllable("kỹ") == canonical_syllable("kĩ")
True
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from unidecode import unidecode

from vnsearch import segmenter

# Combining marks that carry a Vietnamese tone (huyền, sắc, ngã, hỏi, nặng).
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
# Vowels of the Vietnamese alphabet without tone; the shaped ones take the tone first.
_VOWELS = set("aăâeêioôơuưy")
_SHAPED_VOWELS = set("ăâêôơư")
# Two-vowel rhymes without a final consonant whose tone sits on the second vowel
# in the "new style" (hoà, khoẻ, thuỷ) that pyvi's dictionary and most news use.
_NEW_STYLE_SECOND = {"oa", "oe", "uy"}
# Onsets after which a lone "y" is the same syllable as "i" (kỹ/kĩ, lý/lí, quý/quí).
_I_Y_ONSETS = {
    "b", "c", "ch", "d", "đ", "g", "gh", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
    "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
}

_WORD_RE = re.compile(r"[^\W_]+")  # runs of letters and digits
_SEPARATOR_RE = re.compile(r"[\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")  # breaks: become spaces
_INVISIBLE_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200b-\u200f\ufeff]")  # removed


def normalize(text: str) -> str:
    """NFC, control characters dropped (line and page breaks become spaces), and one
    tone-mark placement for every syllable.

    Half-decomposed letters compose too: ``"ẹ"`` followed by U+0302 becomes ``"ệ"``.

    >>> normalize("Thuỷ điện Hòa Bình") == normalize("Thủy điện Hoà Bình")
    True
    >>> normalize("ke\u0323\u0302") == "kệ"
    True
    """
    text = unicodedata.normalize("NFC", _SEPARATOR_RE.sub(" ", _INVISIBLE_RE.sub("", text)))
    return _WORD_RE.sub(lambda m: place_tone(m.group(0)), text)


@lru_cache(maxsize=200_000)
def place_tone(syllable: str) -> str:
    """Move the tone mark of one NFC syllable to its new-style position.

    >>> place_tone("Ủy"), place_tone("hòa"), place_tone("người"), place_tone("quý")
    ('Uỷ', 'hoà', 'người', 'quý')
    """
    if syllable.isascii():
        return syllable
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = [c for c in decomposed if c in _TONE_MARKS]
    if len(tones) != 1:
        return syllable
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    target = _tone_position(base.lower())
    if target is None:
        return syllable
    toned = base[: target + 1] + tones[0] + base[target + 1 :]
    return unicodedata.normalize("NFC", toned)


def _tone_position(base: str) -> int | None:
    """Index of the vowel that carries the tone in a lowercase, toneless syllable."""
    start = 0
    if base.startswith("qu") and len(base) > 2 and base[2] in _VOWELS:
        start = 2
    elif base.startswith("gi") and len(base) > 2 and base[2] in _VOWELS:
        start = 2
    positions = [i for i in range(start, len(base)) if base[i] in _VOWELS]
    if not positions or positions[-1] - positions[0] + 1 != len(positions):
        return None  # no vowel, or vowels split by consonants: not a Vietnamese syllable
    shaped = [i for i in positions if base[i] in _SHAPED_VOWELS]
    if shaped:
        return shaped[-1]  # ươ takes the tone on ơ, iê/uô on the shaped vowel
    if len(positions) == 1:
        return positions[0]
    has_final_consonant = positions[-1] < len(base) - 1
    if has_final_consonant:
        return positions[-1]
    if len(positions) == 3:
        return positions[1]
    rhyme = base[positions[0] : positions[-1] + 1]
    return positions[1] if rhyme in _NEW_STYLE_SECOND else positions[0]


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lowercase and strip diacritics; ``đ`` becomes ``d``; other scripts are transliterated.

    >>> fold("Công_Thương"), fold("Đắk Lắk"), fold("Zürich")
    ('cong_thuong', 'dak lak', 'zurich')
    """
    text = text.lower().replace("đ", "d")
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    if stripped.isascii():
        return stripped
    return unidecode(stripped).lower()


@lru_cache(maxsize=200_000)
def canonical_syllable(syllable: str) -> str:
    """A lowercase normalized syllable with ``y`` after a consonant spelled ``i`` (kỹ -> kĩ).

    >>> canonical_syllable("Mỹ"), canonical_syllable("thuỷ"), canonical_syllable("quý")
    ('mĩ', 'thuỷ', 'quí')
    """
    s = syllable.lower()
    if len(s) < 2:
        return s
    last = s[-1]
    plain_last = unicodedata.normalize("NFD", last)[0]
    if plain_last == "y" and s[:-1] in _I_Y_ONSETS:
        return s[:-1] + unicodedata.normalize("NFC", "i" + unicodedata.normalize("NFD", last)[1:])
    return s


def syllables(text: str) -> list[str]:
    """Canonical lowercase syllables of already normalized text, punctuation dropped.

    >>> syllables(normalize("Bí thư Tỉnh ủy, CN-TTCN"))
    ['bí', 'thư', 'tỉnh', 'uỷ', 'cn', 'ttcn']
    """
    return [canonical_syllable(s) for s in _WORD_RE.findall(text)]


def syllable_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the syllables of ``text``, in the order :func:`syllables` gives them."""
    return [m.span() for m in _WORD_RE.finditer(text)]


def syllable_matches(text: str, start: int = 0, end: int | None = None):
    """The syllables of ``text[start:end]`` as regular-expression matches, in order.

    ``start`` and ``end`` should fall between syllables: one cut through is matched in part.
    """
    return _WORD_RE.finditer(text, start, len(text) if end is None else end)


def syllable_words(text: str, start: int = 0, end: int | None = None) -> list[str]:
    """The syllables of ``text[start:end]`` as written (see :func:`syllable_matches`)."""
    return _WORD_RE.findall(text, start, len(text) if end is None else end)


# Scripts whose letters fold to one ASCII letter each: Latin (with Vietnamese), Greek, Cyrillic.
_FOLDED_ONE_BY_ONE = [*range(0x530), *range(0x1E00, 0x1F00)]


@lru_cache(maxsize=1)
def _fold_classes() -> dict[str, list[int]]:
    """The letters and digits of Latin (with Vietnamese), Greek and Cyrillic that :func:`fold`
    turns into one ASCII letter or digit, by that character (``"o"``: ``oOòóỏõọôồ...``)."""
    members: dict[str, list[int]] = {}
    for code in _FOLDED_ONE_BY_ONE:
        c = chr(code)
        if c.isalnum():
            f = fold(c)
            if len(f) == 1 and f.isascii() and f.isalnum():
                members.setdefault(f, []).append(code)
    return members


def _ranges(codes) -> str:
    """Code points as the inside of a character class, runs written as ranges (quick to compile)."""
    out, codes = [], sorted(codes)
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        out.append(re.escape(chr(codes[i])) if i == j else f"{re.escape(chr(codes[i]))}-{re.escape(chr(codes[j]))}")
        i = j + 1
    return "".join(out)


FOLDS_APART = "apart"  # the group a :func:`folding_pattern` match sets at a letter it cannot fold


def folding_pattern(folded: set[str] | frozenset[str]) -> re.Pattern | None:
    """A pattern matching the whole syllables that fold to one of ``folded``, however they
    are written: case, diacritics, ``y`` for ``i`` (``kỹ`` for ``ki``).

    It may match a little more than :func:`fold` of :func:`canonical_syllable` admits
    (``quy`` for ``qui``): check each match. A letter or digit that does not fold to one
    ASCII character ("ß", "北") is matched alone, with the group ``FOLDS_APART`` set: the
    syllables around it may fold to a word the pattern cannot see. None when no syllable
    could fold to any of ``folded``.

    >>> [m.group() for m in folding_pattern({"hoa", "ki"}).finditer("Hoà Bình, hoạ sĩ, kỹ sư hoài")]
    ['Hoà', 'hoạ', 'kỹ']
    >>> [(m.group(), m.group(FOLDS_APART)) for m in folding_pattern({"moskva"}).finditer("Москва, Straße")]
    [('Москва', None), ('ß', '')]
    """
    members = _fold_classes()
    spellings = set()
    for key in folded:
        for spelling in (key, key[:-1] + "y") if len(key) > 1 and key.endswith("i") else (key,):
            if spelling and all(c in members for c in spelling):
                spellings.add(spelling)
    if not spellings:
        return None

    def chars(letters) -> str:
        return _ranges(code for letter in letters for code in members[letter])

    def one_of(letter: str) -> str:
        return "[" + chars(letter) + "]"

    by_first: dict[str, list[str]] = {}
    for spelling in sorted(spellings):
        by_first.setdefault(spelling[0], []).append("".join(one_of(c) for c in spelling[1:]))
    # One class leads: a first letter of a spelling, or a letter that does not fold to one.
    # The scan then jumps from one such character to the next, in C.
    lead = r"[^\W_" + chars(members.keys() - by_first.keys()) + "]"
    apart = r"(?<=[^\W_" + chars(members.keys()) + "])"
    words = "|".join(f"(?<={one_of(first)})(?:{'|'.join(rests)})" for first, rests in by_first.items())
    return re.compile(f"{lead}(?:{apart}(?P<{FOLDS_APART}>)|" + r"(?<![^\W_].)(?:" + words + r")(?![^\W_]))")


def fold_terms(terms: list[str]) -> list[str]:
    """Fold each term, keeping only letters, digits and word joiners."""
    out = []
    for term in terms:
        f = fold(term)
        if not f.isalnum():
            f = "".join(c for c in f if c.isalnum() or c == "_")
        out.append(f)
    return out


def fold_title(syllables: list[str]) -> tuple[str, ...]:
    """:func:`fold_terms` of a title's syllables, remembered: the titles of the top hits are
    read at every search that ranks them (re-ranking, suggestions).

    >>> fold_title(["giá", "vàng", "tăng"])
    ('gia', 'vang', 'tang')
    """
    return _fold_title(" ".join(syllables))


@lru_cache(maxsize=8_192)
def _fold_title(title: str) -> tuple[str, ...]:
    # Keyed by one string, not a tuple of fifteen: about 300 bytes an entry.
    return tuple(fold_terms(title.split(" ")))


def has_diacritics(text: str) -> bool:
    """True when the text carries Vietnamese marks (or ``đ``): the user typed accents.

    >>> has_diacritics("cong thuong"), has_diacritics("công thương"), has_diacritics("dang")
    (False, True, False)
    """
    return fold(text) != text.lower()


def segment_words(text: str) -> list[str]:
    """pyvi words of normalized, case-preserved text; lowercased, canonical syllables.

    >>> segment_words(normalize("Sở Công Thương tỉnh Hòa Bình"))
    ['sở', 'công_thương', 'tỉnh', 'hoà_bình']
    """
    words = []
    for token in segmenter.segment(text):
        parts = [canonical_syllable(p) for p in token.split("_") if _WORD_RE.fullmatch(p)]
        if parts:
            words.append("_".join(parts))
    return words


@dataclass(frozen=True)
class Analysis:
    """The aligned views of one text; ``syllables[i]`` folds to ``folded[i]``.

    ``compounds`` lists the multi-syllable pyvi words as (position of first syllable, word).
    """

    syllables: list[str]
    folded: list[str]
    compounds: list[tuple[int, str]]

    @property
    def words(self) -> list[str]:
        return [w for _, w in self.compounds]

    def positional_terms(self) -> str:
        """Folded syllables, each compound word sharing its first syllable's position.

        Terms at one position are joined by ``/`` for :class:`vnsearch.schema.TermListAnalyzer`.

        >>> analyze("Sở Công Thương").positional_terms()
        'so cong/cong_thuong thuong'
        """
        slots = list(self.folded)
        for pos, word in self.compounds:
            slots[pos] += "/" + fold(word)
        return " ".join(slots)

    def folded_terms(self) -> str:
        """Folded syllables followed by folded compound words (no positions needed).

        >>> analyze("Sở Công Thương").folded_terms()
        'so cong thuong cong_thuong'
        """
        return " ".join(self.folded + [fold(w) for w in self.words])

    def accented_terms(self) -> str:
        """Accented syllables followed by accented compound words (no positions needed).

        >>> analyze("Sở Công Thương").accented_terms()
        'sở công thương công_thương'
        """
        return " ".join(self.syllables + self.words)


def _align_compounds(syls: list[str], words: list[str]) -> list[tuple[int, str]]:
    """Positions of multi-syllable words within the syllable sequence they came from."""
    out, cursor = [], 0
    for word in words:
        parts = word.split("_")
        n = len(parts)
        i = cursor
        while i + n <= len(syls) and syls[i : i + n] != parts:
            i += 1
        if i + n > len(syls):
            continue  # pyvi tokenized differently here (numbers, abbreviations): skip the word
        if n > 1:
            out.append((i, word))
        cursor = i + n
    return out


def analyze(text: str, *, segment: bool = True) -> Analysis:
    """All views of a text; ``segment=False`` skips pyvi (queries without diacritics)."""
    norm = normalize(text)
    syls = syllables(norm)
    compounds = _align_compounds(syls, segment_words(norm)) if segment else []
    return Analysis(syls, fold_terms(syls), compounds)
