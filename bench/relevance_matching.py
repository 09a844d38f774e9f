"""What a query matches, on dantri: accents typed, and one word the article does not hold.

Accent precision. Accented syllables are drawn (fixed seed) among the Vietnamese syllables of
dantri that at least 3 articles hold and whose folded form has 3 or more spellings there
(lúa / lửa / lựa / lừa). Each is one query, sorted newest first, and gives three figures:

(a) the share of the first 10 hits that hold the typed syllable, in title or body, up to
    tone-mark placement, NFC, case and i/y (vnsearch's ``normalize``, ``syllables`` and
    ``canonical_syllable`` decide); target >= 0.95;
(b) the total found over the number of articles that hold it; target <= 1.10;
(c) the same syllable typed without accents: the total over the number of articles holding
    any spelling that folds alike; target >= 0.95.

Figures are means over the syllables (medians beside (b) and (c)); (a) is over the
syllables that found anything, and the table says how many found nothing.

One word off. Title fragments of 5 syllables that no other title holds (drawn as the
known-item fragments are) get one real word added at a random place: a syllable of dantri's
vocabulary (Vietnamese letters, held by at least 5 articles) of which the article holds no
spelling, accented or not, in title or body. MRR@10 of the article; target >= 0.90.
"""

from __future__ import annotations

import collections
import random
import statistics
import unicodedata

import common
from relevance_titles import TitleSet, eligible_articles, pick_fragment, syllables_of
from vnsearch import analysis

ACCENT_MIN_ARTICLES = 3  # a syllable fewer articles hold says little about a total
ACCENT_MIN_SPELLINGS = 3
ADDED_WORD_MIN_ARTICLES = 5  # a "real word": no typo, no one-off name
FRAGMENT_SYLLABLES = 5
WORST_SHOWN = 5

_VIETNAMESE_LETTERS = set("abcdđeghiklmnopqrstuvxy")
_VIETNAMESE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0306", "\u031b"}
_VOWELS = set("aeiouy")


def is_vietnamese_syllable(syllable: str) -> bool:
    """Written with Vietnamese letters and marks only, with a vowel.

    >>> is_vietnamese_syllable("lửa"), is_vietnamese_syllable("đường"), is_vietnamese_syllable("café")
    (True, True, False)
    >>> is_vietnamese_syllable("2021"), is_vietnamese_syllable("xwz")
    (False, False)
    """
    decomposed = unicodedata.normalize("NFD", syllable.lower())
    letters = [c for c in decomposed if not unicodedata.combining(c)]
    return (all(c in _VIETNAMESE_LETTERS for c in letters)
            and all(c in _VIETNAMESE_MARKS for c in decomposed if unicodedata.combining(c))
            and any(c in _VOWELS for c in letters))


class Vocabulary:
    """Which canonical syllables each dantri article holds (title, summary and body), and counts."""

    def __init__(self, records: list[dict]):
        self.held = {r["id"]: set(analysis.syllables(analysis.normalize(
            f"{r['title']}\n{r.get('summary', '')}\n{r['body']}"))) for r in records}
        self.held_folded = {i: set(analysis.fold_terms(sorted(s))) for i, s in self.held.items()}
        self.articles = collections.Counter(s for held in self.held.values() for s in held)
        self.articles_folded = collections.Counter(f for held in self.held_folded.values() for f in held)
        self.spellings = collections.defaultdict(set)  # folded form -> Vietnamese syllables folding to it
        for s in self.articles:
            if is_vietnamese_syllable(s):
                self.spellings[analysis.fold(s)].add(s)

    def holds(self, article_id: str, typed: str) -> bool:
        """The article holds the typed syllable, up to tone placement, NFC, case and i/y."""
        return analysis.canonical_syllable(analysis.normalize(typed)) in self.held[article_id]


def accent_syllables(vocabulary: Vocabulary, n: int, seed: int) -> tuple[list[str], int]:
    """``n`` accented syllables drawn among those with enough articles and spellings; and how
    many there were to draw from."""
    candidates = sorted(
        s for s, count in vocabulary.articles.items()
        if count >= ACCENT_MIN_ARTICLES and analysis.has_diacritics(s) and is_vietnamese_syllable(s)
        and len(vocabulary.spellings[analysis.fold(s)]) >= ACCENT_MIN_SPELLINGS)
    return random.Random(seed).sample(candidates, min(n, len(candidates))), len(candidates)


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def run_accent_precision(records: list[dict], systems: dict, n: int, seed: int) -> None:
    vocabulary = Vocabulary(records)
    chosen, pool = accent_syllables(vocabulary, n, seed)
    print(f"== accent precision: {len(chosen)} accented syllables (seed {seed}) drawn among {pool:,} that "
          f"{ACCENT_MIN_ARTICLES}+ dantri articles hold and whose folded form has {ACCENT_MIN_SPELLINGS}+ "
          f"spellings there")
    print("(a) share of the newest-first top 10 that hold the typed syllable (mean over syllables with hits)\n"
          "(b) total / articles holding the syllable, mean (median)\n"
          "(c) the syllable typed without accents: total / articles holding any spelling folding alike, "
          "mean (median)")
    figures = {name: {"a": {}, "b": {}, "c": {}} for name in systems}
    for syllable in chosen:
        folded = analysis.fold(syllable)
        for name, system in systems.items():
            ids, total = system.top10(syllable, newest=True)
            if ids:
                figures[name]["a"][syllable] = sum(vocabulary.holds(i, syllable) for i in ids) / len(ids)
            figures[name]["b"][syllable] = total / vocabulary.articles[syllable]
            _, folded_total = system.top10(folded)
            figures[name]["c"][syllable] = folded_total / vocabulary.articles_folded[folded]
    print(f"\n{'system':10} {'(a) top 10 holds':>17} {'(b) total/true':>17} {'(c) unaccented':>17} "
          f"{'no hits':>8}")
    for name, f in figures.items():
        print(f"{name:10} {_mean(f['a'].values()):17.3f} "
              f"{_mean(f['b'].values()):8.2f} ({statistics.median(f['b'].values()):6.2f})"
              f" {_mean(f['c'].values()):8.3f} ({statistics.median(f['c'].values()):6.3f})"
              f" {len(chosen) - len(f['a']):8d}")
    v = figures["vnsearch"]
    print(f"{'target':10} {'>= 0.95':>17} {'<= 1.10':>17} {'>= 0.95':>17}")
    print(f"vnsearch: (a) {common.verdict(_mean(v['a'].values()) >= 0.95)}, "
          f"(b) {common.verdict(_mean(v['b'].values()) <= 1.10)}, "
          f"(c) {common.verdict(_mean(v['c'].values()) >= 0.95)}")
    print_worst_syllables(figures, vocabulary)


def print_worst_syllables(figures: dict, vocabulary: Vocabulary) -> None:
    print(f"\nworst {WORST_SHOWN} syllables per system: (a) share held; (b) total/true (true count); "
          "(c) total/folded (folded count)")
    for name, f in figures.items():
        a = sorted(f["a"].items(), key=lambda kv: kv[1])[:WORST_SHOWN]
        b = sorted(f["b"].items(), key=lambda kv: -kv[1])[:WORST_SHOWN]
        c = sorted(f["c"].items(), key=lambda kv: kv[1])[:WORST_SHOWN]
        print(f"{name:10} (a) " + ", ".join(f"{s} {x:.1f}" for s, x in a))
        print(f"{'':10} (b) " + ", ".join(f"{s} {x:.1f} ({vocabulary.articles[s]})" for s, x in b))
        print(f"{'':10} (c) " + ", ".join(
            f"{analysis.fold(s)} {x:.2f} ({vocabulary.articles_folded[analysis.fold(s)]})" for s, x in c))


# -- one word off -------------------------------------------------------------

def add_word(fragment: str, word: str, position: int) -> str:
    """The fragment with ``word`` put before its ``position``-th word (at the end past the last).

    >>> add_word("giá vàng hôm nay tăng", "lúa", 2)
    'giá vàng lúa hôm nay tăng'
    >>> add_word("giá vàng hôm nay tăng", "lúa", 5)
    'giá vàng hôm nay tăng lúa'
    """
    words = fragment.split()
    return " ".join(words[:position] + [word] + words[position:])


def absent_word(rng: random.Random, words: list[str], held_folded: set[str]) -> str:
    """A word drawn from ``words`` of which the article holds no spelling (accents folded)."""
    while True:
        word = rng.choice(words)
        if analysis.fold(word) not in held_folded:
            return word


def one_word_off_queries(records: list[dict], title_set: TitleSet, vocabulary: Vocabulary,
                         sample: int, seed: int) -> tuple[list[dict], int]:
    """Per article: its id, title, fragment and the query with one word added; and how many
    sampled titles had no identifying 5-syllable fragment (another article is drawn instead)."""
    rng = random.Random(seed)
    words = sorted(s for s, count in vocabulary.articles.items()
                   if count >= ADDED_WORD_MIN_ARTICLES and is_vietnamese_syllable(s))

    def identifies(fragment: str) -> bool:
        return (len(syllables_of(fragment, True)) == FRAGMENT_SYLLABLES
                and title_set.holders(fragment, in_order=True) == 1)

    eligible = eligible_articles(records)
    cases, skipped = [], 0
    for r in rng.sample(eligible, len(eligible)):
        if len(cases) == sample:
            break
        fragment = pick_fragment(r["title"], rng, identifies, sizes=(FRAGMENT_SYLLABLES,))
        if fragment is None:
            skipped += 1
            continue
        word = absent_word(rng, words, vocabulary.held_folded[r["id"]])
        query = add_word(fragment, word, rng.randint(0, FRAGMENT_SYLLABLES))
        cases.append({"id": r["id"], "title": r["title"], "fragment": fragment, "query": query})
    return cases, skipped


def run_one_word_off(records: list[dict], title_set: TitleSet, systems: dict, sample: int, seed: int,
                     examples: int = 3) -> None:
    vocabulary = Vocabulary(records)
    cases, skipped = one_word_off_queries(records, title_set, vocabulary, sample, seed)
    print(f"== one word off: {len(cases)} title fragments of {FRAGMENT_SYLLABLES} syllables that no other title "
          f"holds (seed {seed}; {skipped} sampled titles had none and were passed over), each with one word "
          f"added that the article holds in no spelling (drawn from the {ADDED_WORD_MIN_ARTICLES}+-article "
          f"vocabulary, at a random place)")
    rr = {name: [] for name in systems}
    empty = collections.Counter()
    misses = []
    for case in cases:
        for name, system in systems.items():
            ids, total = system.top10(case["query"])
            rr[name].append(1.0 / (ids.index(case["id"]) + 1) if case["id"] in ids else 0.0)
            empty[name] += total == 0
            if name == "vnsearch" and rr[name][-1] < 1.0:
                misses.append((case, total))
    print(f"\n{'system':10} {'MRR@10':>7} {'first':>6} {'top 10':>7} {'no result':>10}")
    for name, values in rr.items():
        print(f"{name:10} {_mean(values):7.3f} {sum(v == 1.0 for v in values):6d} "
              f"{sum(v > 0 for v in values):7d} {empty[name]:10d}")
    best_baseline = max(_mean(v) for name, v in rr.items() if name != "vnsearch")
    print(f"target: vnsearch >= 0.90: {common.verdict(_mean(rr['vnsearch']) >= 0.90)} "
          f"(best baseline {best_baseline:.3f})")
    print(f"\nvnsearch: {len(misses)} not first; up to {examples}:")
    for case, total in misses[:examples]:
        print(f"  query: {case['query']!r} ({total} matches; fragment {case['fragment']!r})")
        print(f"  title: {case['title'][:150]}")
