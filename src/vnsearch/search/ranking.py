"""The ranking every engine applies: the weights of the score, and the re-ranking of the top titles.

An engine computes, for each admitted article, BM25 of the words as typed (title over body;
a word typed with accents in its own spelling, other spellings at :data:`W_FOLDED_ONLY`), of
the compound words the query's runs form (:func:`compounds`), and of the synonyms that stood
in for words; multiplies by the idf-weighted share of the query the article holds raised to
:data:`COVERAGE_POWER`, and by a gentle recency boost. Then :func:`title_boosts` re-ranks
the best :data:`RERANK_DEPTH` by what their titles hold.
"""

from __future__ import annotations

from typing import Iterator

from vnsearch import analysis
from vnsearch.query import Clause, Query

RERANK_DEPTH = 100
# Field weights: a title match outweighs a body match; a word typed with accents matches
# other accents at a fraction of the weight; compounds reward words kept together.
W_TITLE, W_BODY = 5.0, 1.0
W_FOLDED_ONLY = 0.1  # other spellings of a word typed with accents, where the article holds it too
COVERAGE_POWER = 2.0  # how steeply the share of the query held weighs
# A run of words longer than this (a pasted lead) forms no compounds: hundreds of look-ups,
# for ranking that the share of the query held decides anyway (long leads, seed 11: MRR
# 0.883 without, 0.888 with, at a third of the time).
COMPOUND_RUN_LIMIT = 16
W_COMPOUND = 0.3
# Re-ranking of the top titles: a title holding every query word scores x3, every word
# pair x2.5 more, and the words in the order typed x1.5 more.
TITLE_WORDS_BOOST = 2.0
TITLE_PHRASE_BOOST = 1.5
TITLE_RUN_BOOST = 0.5


def runs(clauses: list[Clause]) -> list[tuple[list[str], list[str]]]:
    """Maximal sequences of adjacent words typed together, as (syllables, folded): where compounds form.

    A hyphenated word ("GD-ĐT") continues the sequence around it; a quoted phrase, a
    wildcard or a filter stands apart.

    >>> from vnsearch.query import parse
    >>> runs(parse('sở công thương "hoà bình" th*').clauses)
    [(['sở', 'công', 'thương'], ['so', 'cong', 'thuong']), (['hoà', 'bình'], ['hoa', 'binh'])]
    """
    found, syls, folds = [], [], []
    for clause in clauses:
        if clause.wildcard or clause.is_filter or clause.quoted:
            if folds:
                found.append((syls, folds))
            syls, folds = [], []
            if clause.quoted:
                found.append((list(clause.syllables), list(clause.folded)))
            continue
        syls.extend(clause.syllables)
        folds.extend(clause.folded)
    if folds:
        found.append((syls, folds))
    return [r for r in found if len(r[1]) > 1]


def compounds(clauses: list[Clause]) -> Iterator[tuple[str, str]]:
    """The two- and three-syllable compounds a query's runs can form, as typed and folded.

    >>> from vnsearch.query import parse
    >>> list(compounds(parse("công thương").clauses))
    [('công_thương', 'cong_thuong')]
    """
    for syls, folds in runs(clauses):
        if len(folds) > COMPOUND_RUN_LIMIT:
            continue
        for n in (2, 3):
            for i in range(len(folds) - n + 1):
                yield "_".join(syls[i : i + n]), "_".join(folds[i : i + n])


def title_boosts(query: Query, titles: list[list[str]]) -> list[float] | None:
    """How much each of the top titles (as canonical syllables) multiplies its article's score;
    None when the query has too few words for titles to tell apart.

    A title word agrees with a query word when their folded forms are equal and, if the
    user typed that word with accents, the accents are equal too: for "đổi tuyển" a title
    with "đội tuyển" agrees on "tuyển" only. Three rewards multiply: the share of the
    query's words the title holds, squared so that holding all of them counts most; the
    share of the query's adjacent word pairs found as pairs in the title (a title holding
    "Bí thư Tỉnh ủy" and "Sở Công Thương" beats one that only mentions "Ban Bí thư"); and
    the share of its words in runs found whole, in order, in the title.

    >>> from vnsearch.query import parse
    >>> title_boosts(parse("công thương"), [["sở", "công", "thương"], ["thương", "mại"]])
    [11.25, 1.5]
    """
    clauses = query.positive_clauses()
    query_runs = [[_agreement_key(s, f) for s, f in zip(syls, folds)] for syls, folds in runs(clauses)]
    pairs = {(run[i], run[i + 1]) for run in query_runs for i in range(len(run) - 1)}
    words = {_agreement_key(s, f) for c in clauses if not c.wildcard and not c.is_filter
             for s, f in zip(c.syllables, c.folded)}
    run_words = sum(len(run) for run in query_runs)
    if not pairs and len(words) < 2:
        return None
    boosts = []
    for syls in titles:
        # title position -> the query words the title word there agrees with
        agree = {p: words.intersection((s, f)) for p, (s, f) in enumerate(zip(syls, analysis.fold_title(syls)))
                 if s in words or f in words}
        boost = 1.0
        if len(words) > 1:
            held = set().union(*agree.values())
            boost *= 1.0 + TITLE_WORDS_BOOST * (len(held) / len(words)) ** 2
        if pairs:
            title_pairs = {(a, b) for p, left in agree.items() if p + 1 in agree
                           for a in left for b in agree[p + 1]}
            boost *= 1.0 + TITLE_PHRASE_BOOST * len(pairs & title_pairs) / len(pairs)
            whole = sum(len(run) for run in query_runs if _holds_run(agree, run))
            boost *= 1.0 + TITLE_RUN_BOOST * whole / run_words
        boosts.append(boost)
    return boosts


def _agreement_key(syllable: str, folded: str) -> str:
    """What a title word must equal to agree with a query word: the accented form if typed so."""
    return syllable if analysis.has_diacritics(syllable) else folded


def _holds_run(agree: dict[int, set[str]], run: list[str]) -> bool:
    """Whether the title words agree with ``run`` at consecutive positions (``agree``: see title_boosts)."""
    return any(all(word in agree.get(start + j, ()) for j, word in enumerate(run))
               for start, held in agree.items() if run[0] in held)
