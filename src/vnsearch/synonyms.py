"""Equivalent spellings, applied at query time both ways: abbreviations (``UBND`` / ``uỷ ban
nhân dân``), loanwords (``vaccine`` / ``vắc xin``) and a newsroom's own list.

The built-in list is ``synonyms.txt`` beside this module; ``VNSEARCH_SYNONYMS`` names a file in
the same format, read at start and added to it. The format is Solr's ``synonyms.txt``: one group
per line, variants separated by commas (every variant finds every other); ``a, b => c`` makes a
query for ``a`` or ``b`` also find ``c``, not the reverse; ``#`` starts a comment.

A variant is a sequence of canonical syllables, so case, tone-mark placement, NFC/NFD and the
dots or hyphens between syllables do not matter:

>>> table = Synonyms.parse(["CSGT, cảnh sát giao thông", "TP.HCM, TPHCM, thành phố Hồ Chí Minh"])
>>> [" ".join(v.syllables) for v in table.others(("tp", "hcm"))]
['tphcm', 'thanh pho ho chi minh']
>>> [" ".join(v.syllables) for v in table.others(("canh", "sat", "giao", "thong"))]
['csgt']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from vnsearch import analysis

BUILTIN = "synonyms.txt"


class SynonymsError(ValueError):
    """A synonyms file that cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class Variant:
    """One spelling of a group, as folded syllables (variants match any accents)."""

    syllables: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> "Variant":
        return cls(tuple(analysis.fold_terms(analysis.syllables(analysis.normalize(text)))))


class Synonyms:
    """Groups of variants, looked up by the folded syllables a query spells."""

    def __init__(self, rules: list[tuple[tuple[Variant, ...], tuple[Variant, ...]]] = ()):
        # spelled variant -> the other variants that also satisfy it
        self._others: dict[tuple[str, ...], list[Variant]] = {}
        self.longest = 0
        for triggers, targets in rules:
            for trigger in triggers:
                found = self._others.setdefault(trigger.syllables, [])
                found.extend(v for v in targets if v != trigger and v not in found)
                self.longest = max(self.longest, len(trigger.syllables))

    def others(self, folded: tuple[str, ...]) -> list[Variant]:
        """The variants that a query spelling ``folded`` (folded syllables) also finds."""
        return list(self._others.get(tuple(folded), ()))

    @classmethod
    def parse(cls, lines, origin: str = "<synonyms>") -> "Synonyms":
        return cls(_rules(lines, origin))

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Synonyms":
        """The built-in groups, and those of ``path`` (a newsroom's own file) if given."""
        builtin = resources.files("vnsearch").joinpath(BUILTIN).read_text(encoding="utf-8")
        rules = _rules(builtin.splitlines(), BUILTIN)
        if path:
            try:
                with open(path, encoding="utf-8") as handle:
                    own = handle.read().splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise SynonymsError(f"{path}: cannot read the synonyms file: {exc}") from None
            rules += _rules(own, str(path))
        return cls(rules)


def _rules(lines, origin: str) -> list[tuple[tuple[Variant, ...], tuple[Variant, ...]]]:
    """(variants typed, variants they find) for each group line; errors name ``origin`` and the line."""
    rules = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if text.count("=>") > 1:
            raise SynonymsError(f"{origin}:{number}: more than one '=>' in {line.strip()!r}")
        left, arrow, right = text.partition("=>")
        triggers = _variants(left, origin, number)
        targets = _variants(right, origin, number) if arrow else triggers
        if not triggers or not targets or (not arrow and len(triggers) < 2):
            raise SynonymsError(f"{origin}:{number}: a group needs two variants or more: {line.strip()!r}")
        rules.append((triggers, targets))
    return rules


def _variants(text: str, origin: str, number: int) -> tuple[Variant, ...]:
    out = []
    for raw in text.split(","):
        if not raw.strip():
            continue
        variant = Variant.of(raw)
        if not variant.syllables:
            raise SynonymsError(f"{origin}:{number}: {raw.strip()!r} has no letters or digits")
        if variant not in out:
            out.append(variant)
    return tuple(out)


@lru_cache(maxsize=8)
def load_cached(path: str | None) -> Synonyms:
    """One parsed table per file for the process (the engine reads it at start)."""
    return Synonyms.load(path)
