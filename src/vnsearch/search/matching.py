"""What a parsed query requires of an article: the matching rules, independent of any engine.

- **Typed accents are a filter, per syllable.** A syllable typed with any diacritic matches
  only that syllable as typed, up to tone-mark placement, NFC/NFD, case and i/y (``lúa``
  never matches ``lửa``); one typed without matches every spelling (``lua``).
- **Long queries need most words, not all.** The plain words of a query count by syllable
  (pyvi cannot segment text typed without accents, so syllables are what every query has):
  up to :data:`ALL_WORDS_UP_TO` syllables, all are needed; up to :data:`MOST_WORDS_UP_TO`,
  all but a quarter; beyond, :data:`LONG_QUERY_SHARE` of them (:func:`needed`), in the
  spirit of Elasticsearch's ``minimum_should_match`` ("4<-25% 12<60%"). A long query is
  a description or a pasted lead: a lead holds on average 87% of its words in its own
  article, and all of them in only 15% (vietnews).
  Quoted phrases, ``+words``, ``title:`` and the filters (``author:``...) stay strict;
  ``-`` exclusions always exclude. In a passage of more than :data:`MOST_WORDS_UP_TO`
  syllables (a pasted lead) quotation marks quote someone: the quoted words count as words.
- **Equivalent spellings**: a run of plain words that spells a variant of a synonym group
  (:mod:`vnsearch.synonyms`) is also satisfied by any other variant (``CSGT`` by
  "cảnh sát giao thông"), and counts as the syllables typed.

>>> from vnsearch.query import parse
>>> plan = Plan.build(parse("giá vàng hôm nay xyzqw"))
>>> [u.label for u in plan.should], plan.width, plan.needed
(['giá', 'vàng', 'hôm', 'nay', 'xyzqw'], 5, 4)
>>> needed(3), needed(4), needed(5), needed(8), needed(12), needed(16), needed(40)
(3, 4, 4, 6, 9, 9, 24)
"""

from __future__ import annotations

from dataclasses import dataclass

from vnsearch import analysis
from vnsearch.query import Clause, Query
from vnsearch.synonyms import Synonyms, Variant

ALL_WORDS_UP_TO = 4  # syllables: about two Vietnamese words
MOST_WORDS_UP_TO = 12  # syllables: a headline-sized description
LONG_QUERY_SHARE = 0.6  # of a longer query (tuned on vietnews leads, seed 11; 0.4-0.6 rank alike)
MAX_WILDCARD_TERMS = 50  # the terms a wildcard matches: its most frequent ones


def needed(width: int) -> int:
    """How many of ``width`` syllables typed as plain words an article must hold."""
    if width <= ALL_WORDS_UP_TO:
        return width
    if width <= MOST_WORDS_UP_TO:
        return width - width // 4
    return max(needed(MOST_WORDS_UP_TO), int(width * LONG_QUERY_SHARE))


@dataclass(frozen=True)
class Unit:
    """One thing the user asked for: any of ``options`` holds it, an option when all its clauses hold.

    The first option is what was typed; others are OR alternatives or synonyms.
    """

    options: tuple[tuple[Clause, ...], ...]
    width: int = 1
    label: str = ""
    synonym: bool = False  # options after the first are synonym variants, not OR alternatives

    @property
    def typed(self) -> tuple[Clause, ...]:
        return self.options[0]


@dataclass(frozen=True)
class Plan:
    """Strict units (``must``), units that count toward the minimum (``should``), exclusions."""

    query: Query
    must: tuple[Unit, ...] = ()
    should: tuple[Unit, ...] = ()
    exclude: tuple[Clause, ...] = ()

    @property
    def width(self) -> int:
        return sum(u.width for u in self.should)

    @property
    def needed(self) -> int:
        return needed(self.width)

    @property
    def accented(self) -> bool:
        """Whether any syllable was typed with diacritics (so folding them could find more)."""
        return any(analysis.has_diacritics(s) for u in self.must + self.should
                   for option in u.options for c in option for s in c.syllables) or any(
            analysis.has_diacritics(s) for c in self.exclude for s in c.syllables)

    def units(self) -> tuple[Unit, ...]:
        return self.must + self.should

    @classmethod
    def build(cls, query: Query, synonyms: Synonyms | None = None) -> "Plan":
        must, should = [], []
        run: list[Clause] = []
        passage = _is_passage(query)

        def end_run():
            should.extend(_word_units(run, synonyms))
            run.clear()

        for clause in query.required:
            if passage and clause.quoted and not clause.must and not clause.field:
                run.extend(_words_of(clause))  # quotation marks in pasted text, not a phrase
            elif clause.must or clause.quoted or clause.field:
                end_run()
                must.append(Unit(((clause,),), len(clause.syllables) or 1, str(clause)))
            elif clause.wildcard:
                end_run()
                should.append(Unit(((clause,),), 1, clause.text))
            else:
                run.append(clause)
        end_run()
        for group in query.any_of:
            unit = Unit(tuple((c,) for c in group), 1, " OR ".join(str(c) for c in group))
            strict = all(c.must or c.quoted or c.field for c in group)
            (must if strict else should).append(unit)
        return cls(query, tuple(must), tuple(should), query.excluded)


def _is_passage(query: Query) -> bool:
    """A query of more than :data:`MOST_WORDS_UP_TO` syllables in plain and quoted words: a lead
    or a paragraph pasted in, whose quotation marks quote someone rather than ask for a phrase."""
    words = [c for c in query.required if not c.field and not c.must and not c.wildcard]
    return sum(len(c.syllables) for c in words) > MOST_WORDS_UP_TO


def _words_of(clause: Clause) -> list[Clause]:
    """A quoted phrase as the plain words it holds."""
    return [Clause(s, (s,), (f,)) for s, f in zip(clause.syllables, clause.folded)]


def _word_units(run: list[Clause], synonyms: Synonyms | None) -> list[Unit]:
    """One unit per plain word, except a run of words that spells a synonym: one unit for it.

    A hyphenated word ("Covid-19", "TP.HCM") is one clause of several syllables; a synonym
    match starts and ends on clause boundaries, longest first.
    """
    units, i = [], 0
    while i < len(run):
        match = _synonym_at(run, i, synonyms) if synonyms else None
        if match:
            end, others = match
            typed = _as_phrase(run[i:end])
            alternatives = tuple((_variant_clause(v),) for v in others)
            units.append(Unit(((typed,),) + alternatives, len(typed.syllables), typed.text, synonym=True))
            i = end
            continue
        clause = run[i]
        units.append(Unit(((clause,),), len(clause.syllables), clause.text))
        i += 1
    return units


def _synonym_at(run: list[Clause], start: int, synonyms: Synonyms) -> tuple[int, list[Variant]] | None:
    """The longest run of clauses from ``start`` that spells a variant: (end, other variants)."""
    best = None
    folded: tuple[str, ...] = ()
    for end in range(start + 1, len(run) + 1):
        folded += run[end - 1].folded
        if len(folded) > synonyms.longest:
            break
        others = synonyms.others(folded)
        if others:
            best = (end, others)
    return best


def _as_phrase(clauses: list[Clause]) -> Clause:
    """Words that spell a synonym variant, as the phrase they spell (accents as typed): "cảnh sát
    giao thông" then finds what "CSGT" finds, not every article holding the four words apart."""
    syllables = tuple(s for c in clauses for s in c.syllables)
    folded = tuple(f for c in clauses for f in c.folded)
    return Clause(" ".join(c.text for c in clauses), syllables, folded, quoted=len(syllables) > 1)


def _variant_clause(variant: Variant) -> Clause:
    """A synonym variant as a clause: folded syllables (any accents), a phrase when several."""
    text = " ".join(variant.syllables)
    return Clause(text, variant.syllables, variant.syllables, quoted=len(variant.syllables) > 1)


def relaxations(plan: Plan) -> list[tuple[bool, int, list[str]]]:
    """The ways to try a plan, in order, until one admits an article: (typed accents are a
    filter, syllables needed, how it was relaxed).

    1. as typed: accents as a filter, long queries needing most of their words;
    2. ``"accents"``: nothing matched with the accents typed (an accent typo such as
       ``tiềm vắc xin``): every syllable matches every spelling;
    3. ``"words"``: still nothing: any of the plain words will do (ranking sorts out how many).

    Filters and dates never relax, nor do quoted phrases, ``+words`` and exclusions. When
    nothing admits an article however relaxed, the result is the first attempt's (empty).

    >>> from vnsearch.query import parse
    >>> relaxations(Plan.build(parse("tiềm vắc xin")))
    [(True, 3, []), (False, 3, ['accents']), (True, 1, ['words']), (False, 1, ['accents', 'words'])]
    """
    accented = plan.accented
    attempts = [(True, plan.needed, [])]
    if accented:
        attempts.append((False, plan.needed, ["accents"]))
    if plan.needed > 1:
        attempts.append((True, 1, ["words"]))
        if accented:
            attempts.append((False, 1, ["accents", "words"]))
    return attempts


def highlight_terms(plan: Plan, exact: bool) -> set[str]:
    """What snippets mark: accented syllables as typed, folded ones for every spelling.

    A word in a text is marked when its canonical syllable or its folded form is in the set;
    the two never collide, since an accented syllable never equals a folded one.
    """
    terms = set()
    for unit in plan.units():
        for option in unit.options:
            for clause in option:
                if clause.is_filter or clause.wildcard:
                    continue
                for syllable, folded in zip(clause.syllables, clause.folded):
                    terms.add(syllable if exact and analysis.has_diacritics(syllable) else folded)
    return terms


def name_matches(name: str, wanted: list[tuple[str | None, str]]) -> bool:
    """Whether the syllables ``wanted`` occur in order in ``name``: each pair is the syllable as
    typed when its accents count (else None) and its folded form.

    >>> name_matches("Hoàng Nga", [(None, "hoang"), ("nga", "nga")]), name_matches("Hoàng Ngà", [(None, "nga")])
    (True, True)
    >>> name_matches("Hoàng Ngà", [("nga", "nga")])
    False
    """
    syllables = analysis.syllables(analysis.normalize(name))
    folded = analysis.fold_terms(syllables)
    n = len(wanted)
    return any(all(folded[i + j] == f and (s is None or syllables[i + j] == s) for j, (s, f) in enumerate(wanted))
               for i in range(len(syllables) - n + 1))
