"""Known-item relevance on dantri: MRR@10 of vnsearch beside two plain Whoosh baselines.

About 300 articles whose title has at least 6 syllables are sampled (fixed seed; titles
shared by two articles are left out, they cannot identify one). Each gives six queries,
and the known item is the article itself:

1. ``fragment``: 3-6 consecutive syllables of the title, as written (edge punctuation off);
2. ``fragment, no diacritics``: the same folded (đ -> d, lowercase);
3. ``fragment, other tone placement``: the same with old-style marks made new-style and
   new-style made old (hòa <-> hoà, khỏe <-> khoẻ, thủy <-> thuỷ); fragments are chosen to
   hold such a syllable when the title has one, and the output says how many changed;
4. ``fragment, NFD``: the same, decomposed;
5. ``rare words``: the title's 2-3 syllables of lowest document frequency over dantri;
6. ``rare words, no diacritics``: the same folded.

A known-item query identifies its item, so, for the same reason as shared titles, a query
that another title holds too is not drawn. The fragment is drawn among the title's runs that
no other title holds (accents folded, so all four fragment kinds qualify). When another title
holds the 2 rarest words (accents compared for the accented query, folded for the other), the 3
rarest are taken, and when another holds those too the article gives no such query (the output
says how many). Many dantri "titles" are photo captions and lead sentences ("(Ảnh minh họa)",
"Phó Chủ tịch UBND TP Hà Nội Chử Xuân Dũng (giữa) phát biểu…"): drawn blindly, about one
fragment in ten and a fifth to a third of the rare-word queries are shared, and the sampled
article is first only by chance among identical matches. ``--as-drawn`` keeps those queries
and shows what they cost each system.

Systems: vnsearch (the library's index of dantri); B1, Whoosh's ``StandardAnalyzer``
(which also drops English stopwords and one-letter tokens); B2, Whoosh with NFC,
lowercase and diacritics folded (đ -> d), nothing dropped ("the", "can", "on" fold from
thế, cần, ổn), the query folded the same way. Both baselines index title and body as TEXT and parse with a ``MultifieldParser``
over title^2 and body, shown with both the default AND group and an OrGroup, so each
baseline is judged at its better setting.

    python bench/relevance.py [--sample 300] [--seed 7] [--examples 5] [--as-drawn]
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import shutil
import time
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

from whoosh import fields
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StandardAnalyzer
from whoosh.filedb.filestore import RamStorage
from whoosh.qparser import MultifieldParser, OrGroup

import common
from vnsearch import analysis
from vnsearch.indexer import Indexer, read_records
from vnsearch.search import SearchEngine, SearchRequest

QUERY_TYPES = (
    "fragment",
    "fragment, no diacritics",
    "fragment, other tone placement",
    "fragment, NFD",
    "rare words",
    "rare words, no diacritics",
)
TARGETS = (0.98, 0.98, 0.98, 0.98, 0.95, 0.95)
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
# oa, oe, uy closing the syllable (no final consonant), after a consonant onset other than q.
_FLIPPABLE_RE = re.compile(r"^([bcdđghklmnprstvx]*)(oa|oe|uy)$")
_SYLLABLE_RE = re.compile(r"[^\W_]+")


# -- query construction -------------------------------------------------------

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
    return _SYLLABLE_RE.sub(lambda m: flip_tone_placement(m.group(0)),
                            unicodedata.normalize("NFC", text))


def _clean_token(token: str) -> str:
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
            syllables = [_syllables(r["title"], accented) for r in records]
            self.padded[accented] = [f" {' '.join(t)} " for t in syllables]
            self.sets[accented] = [set(t) for t in syllables]

    def holders(self, query: str, in_order: bool, accented: bool = False) -> int:
        """How many titles hold the query's syllables (accents compared or folded away):
        as a run, or all of them."""
        wanted = _syllables(query, accented)
        if in_order:
            needle = f" {' '.join(wanted)} "
            return sum(needle in t for t in self.padded[accented])
        want = set(wanted)
        return sum(want <= t for t in self.sets[accented])

    def shared(self, query: str, in_order: bool) -> bool:
        """More than one title holds the query, accents compared when it has them (tone
        placement and NFD never count): no system can know which article is meant."""
        return self.holders(query, in_order, accented=analysis.has_diacritics(query)) > 1


def pick_fragment(title: str, rng: random.Random, identifies=lambda fragment: True) -> str | None:
    """3-6 consecutive title words that ``identifies`` accepts, holding a syllable whose
    tone placement can flip if possible."""
    words = [_clean_token(t) for t in title.split()]
    sizes = list(range(3, 7))
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


def document_frequencies(records: list[dict]) -> collections.Counter:
    """Documents holding each canonical syllable (title and body), as vnsearch spells them."""
    df: collections.Counter = collections.Counter()
    for r in records:
        df.update(set(analysis.syllables(analysis.normalize(f"{r['title']}\n{r.get('summary', '')}\n{r['body']}"))))
    return df


def rare_words(title: str, df: collections.Counter, k: int) -> str | None:
    """The k title syllables (not numbers) of lowest document frequency, in title order."""
    surface = _SYLLABLE_RE.findall(unicodedata.normalize("NFC", title))
    seen, candidates = set(), []
    for pos, syl in enumerate(surface):
        key = analysis.canonical_syllable(analysis.normalize(syl))
        if syl.isdigit() or key in seen:
            continue
        seen.add(key)
        candidates.append((df[key], pos, syl))
    if len(candidates) < k:
        return None
    chosen = sorted(sorted(candidates)[:k], key=lambda c: c[1])
    return " ".join(syl for _, _, syl in chosen)


@dataclass
class Sampling:
    """What choosing identifying queries changed, for the output (rare words: [accented, folded])."""

    fragments_none: int = 0  # no 3-6-word run of the title is its own
    rare_widened: list = field(default_factory=lambda: [0, 0])  # the 2 rarest words were not the title's own; 3 were
    rare_none: list = field(default_factory=lambda: [0, 0])  # another title holds the 3 rarest words too


def identifying_rare_words(title: str, df, k: int, titles: TitleSet, accented: bool,
                           sampling: Sampling) -> str | None:
    """The title's k rarest words as the query types them (folded unless ``accented``), or
    its 3 rarest when another title holds the 2; None when another title holds those too."""
    typed = (lambda words: words) if accented else analysis.fold
    rare = rare_words(title, df, k)
    widened = False
    if rare and k == 2 and titles.shared(typed(rare), in_order=False):
        rare, widened = rare_words(title, df, 3), True
    if rare and titles.shared(typed(rare), in_order=False):
        sampling.rare_none[not accented] += 1
        return None
    sampling.rare_widened[not accented] += widened and rare is not None
    return typed(rare) if rare else None


def build_queries(records: list[dict], title_set: TitleSet, sample: int, seed: int,
                  as_drawn: bool = False) -> tuple[list[dict], Sampling]:
    """Per sampled article: its id, title and the six queries (``None`` where impossible).

    Unless ``as_drawn``, every query identifies its article: no other title holds the
    fragment's syllables in order (accents folded, so that all four kinds qualify), or
    all of the rare words (accents compared for the accented query, folded for the other).
    Otherwise it is not a known-item query: no ranking can tell which title was meant.
    """
    rng = random.Random(seed)
    titles = collections.Counter(r["title"] for r in records)
    eligible = [r for r in records if titles[r["title"]] == 1
                and sum(bool(_clean_token(t)) for t in r["title"].split()) >= 6]
    df = document_frequencies(records)
    sampling = Sampling()
    cases = []
    for r in rng.sample(eligible, min(sample, len(eligible))):
        if as_drawn:
            fragment = pick_fragment(r["title"], rng)
            rare = rare_words(r["title"], df, rng.choice((2, 3)))
            unaccented_rare = analysis.fold(rare) if rare else None
        else:
            fragment = pick_fragment(r["title"], rng, lambda f: title_set.holders(f, in_order=True) == 1)
            sampling.fragments_none += fragment is None
            k = rng.choice((2, 3))
            rare = identifying_rare_words(r["title"], df, k, title_set, True, sampling)
            unaccented_rare = identifying_rare_words(r["title"], df, k, title_set, False, sampling)
        queries = [
            fragment,
            analysis.fold(fragment) if fragment else None,
            flip_text(fragment) if fragment else None,
            unicodedata.normalize("NFD", fragment) if fragment else None,
            rare,
            unaccented_rare,
        ]
        cases.append({"id": r["id"], "title": r["title"], "queries": queries})
    return cases, sampling


# -- the systems --------------------------------------------------------------

def strip_diacritics(text: str) -> str:
    """B2's folding, independent of vnsearch: NFC, lowercase, đ -> d, combining marks dropped."""
    text = unicodedata.normalize("NFC", text).lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


class NFCTokenizer(RegexTokenizer):
    """Whoosh's word tokenizer on NFC text (on NFD text ``\\w`` would stop at every mark)."""

    def __call__(self, value, **kwargs):
        return super().__call__(unicodedata.normalize("NFC", value), **kwargs)


class FoldFilter(Filter):
    def __call__(self, tokens):
        for t in tokens:
            t.text = strip_diacritics(t.text)
            yield t


def whoosh_index(analyzer, records):
    """A RAM index of title and body (summary first when there is one) through ``analyzer``."""
    schema = fields.Schema(id=fields.ID(stored=True), title=fields.TEXT(analyzer=analyzer),
                           body=fields.TEXT(analyzer=analyzer))
    ix = RamStorage().create_index(schema)
    with ix.writer() as writer:
        for r in records:
            writer.add_document(id=r["id"], title=r["title"], body=f"{r.get('summary', '')}\n{r['body']}")
    return ix


class WhooshBaseline:
    """Whoosh's BM25F over title^2 and body, through a MultifieldParser (AND or OR group)."""

    def __init__(self, ix, or_group: bool, fold_query: bool):
        self.searcher = ix.searcher()
        self.fold_query = fold_query
        kwargs = {"group": OrGroup} if or_group else {}
        self.parser = MultifieldParser(["title", "body"], ix.schema, fieldboosts={"title": 2.0}, **kwargs)

    def top10(self, query: str) -> tuple[list[str], int]:
        text = strip_diacritics(query) if self.fold_query else query
        hits = self.searcher.search(self.parser.parse(text), limit=10)
        return [h["id"] for h in hits], len(hits)


class VnsearchSystem:
    def __init__(self, engine: SearchEngine):
        self.engine = engine

    def top10(self, query: str) -> tuple[list[str], int]:
        result = self.engine.search(SearchRequest(query=query, per_page=10))
        return [h.id for h in result.hits], result.total


# -- evaluation ---------------------------------------------------------------

def reciprocal_rank(ids: list[str], expected: str) -> float:
    return 1.0 / (ids.index(expected) + 1) if expected in ids else 0.0


def _syllables(text: str, accented: bool) -> list[str]:
    syls = analysis.syllables(analysis.normalize(text))
    return syls if accented else analysis.fold_terms(syls)


class Failure(NamedTuple):
    """A query whose known item vnsearch did not rank first."""

    query: str
    expected: str  # the known item's title
    rank: int | None  # None: not in the top 10
    first: str  # the title ranked first
    matches: int
    ambiguous: bool


@dataclass
class Evaluation:
    """Reciprocal ranks per system and query type, and what vnsearch got wrong."""

    rr: dict[str, list[list[float]]]
    unambiguous_rr: list[list[float]]  # vnsearch, queries only one title holds
    ambiguous: list[int]
    failures: list[list[Failure]]


def build_systems(records: list[dict], path, reuse_index: bool) -> dict:
    index_dir = common.OUT / "relevance" / "vnsearch-dantri"
    if not reuse_index or not index_dir.exists():
        shutil.rmtree(index_dir, ignore_errors=True)
        t0 = time.perf_counter()
        report = Indexer(index_dir).index(read_records([path]), rebuild=True)
        print(f"vnsearch index of dantri: {report.summary()} in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    b1 = whoosh_index(StandardAnalyzer(), records)
    b2 = whoosh_index(NFCTokenizer() | LowercaseFilter() | FoldFilter(), records)
    print(f"Whoosh baselines indexed in {time.perf_counter() - t0:.0f} s\n")
    return {
        "vnsearch": VnsearchSystem(SearchEngine(str(index_dir))),
        "B1 AND": WhooshBaseline(b1, or_group=False, fold_query=False),
        "B1 OR": WhooshBaseline(b1, or_group=True, fold_query=False),
        "B2 AND": WhooshBaseline(b2, or_group=False, fold_query=True),
        "B2 OR": WhooshBaseline(b2, or_group=True, fold_query=True),
    }


def evaluate(cases: list[dict], systems: dict, records: list[dict], title_set: TitleSet) -> Evaluation:
    types = range(len(QUERY_TYPES))
    result = Evaluation({name: [[] for _ in types] for name in systems}, [[] for _ in types],
                        [0 for _ in types], [[] for _ in types])
    titles = {r["id"]: r["title"] for r in records}
    for case in cases:
        for t, query in enumerate(case["queries"]):
            if not query:
                continue
            unclear = title_set.shared(query, in_order=t < 4)
            result.ambiguous[t] += unclear
            for name, system in systems.items():
                ids, total = system.top10(query)
                rr = reciprocal_rank(ids, case["id"])
                result.rr[name][t].append(rr)
                if name != "vnsearch":
                    continue
                if not unclear:
                    result.unambiguous_rr[t].append(rr)
                if rr < 1.0:
                    result.failures[t].append(Failure(query, case["title"], ids.index(case["id"]) + 1 if rr else None,
                                                      titles.get(ids[0], "") if ids else "", total, unclear))
    return result


def print_table(result: Evaluation) -> None:
    names = list(result.rr)
    print("MRR@10. ambig.: queries that more than one dantri title holds (in order, for fragments;\n"
          "accents compared when the query has them); vns unamb.: vnsearch's MRR@10 over the others")
    print(f"{'query type':32} {'n':>4} {'ambig.':>6} " + " ".join(f"{n:>9}" for n in names)
          + f" {'vns unamb.':>10}   target")
    for t, label in enumerate(QUERY_TYPES):
        n = len(result.rr["vnsearch"][t])
        mrr = {name: sum(result.rr[name][t]) / max(1, n) for name in names}
        best_baseline = max(v for k, v in mrr.items() if k != "vnsearch")
        ok = mrr["vnsearch"] >= TARGETS[t] and mrr["vnsearch"] > best_baseline
        clear = result.unambiguous_rr[t]
        print(f"{label:32} {n:4d} {result.ambiguous[t]:6d} " + " ".join(f"{mrr[name]:9.3f}" for name in names)
              + f" {sum(clear) / max(1, len(clear)):10.3f}"
              + f"   >= {TARGETS[t]:.2f} and above baselines: {common.verdict(ok)}")


def print_failures(result: Evaluation, examples: int) -> None:
    print(f"\nvnsearch failures (known item not first), up to {examples} per type, "
          "those missing from the top 10 first, then the unambiguous ones:")
    for label, failures in zip(QUERY_TYPES, result.failures):
        missing = sum(f.rank is None for f in failures)
        unclear = sum(f.ambiguous for f in failures)
        print(f"\n[{label}] {len(failures)} not first ({unclear} of them ambiguous), {missing} not in the top 10")
        shown = sorted(failures, key=lambda f: (f.rank is not None, f.ambiguous, f.rank or 0))
        for f in shown[:examples]:
            where = f"rank {f.rank}" if f.rank else "not in top 10"
            print(f"  query:    {f.query!r}  ({f.matches} matches, expected at {where}"
                  f"{'; ambiguous: other titles hold it too' if f.ambiguous else ''})")
            print(f"  expected: {f.expected[:150]}")
            print(f"  first:    {f.first[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=300, help="articles sampled (default 300)")
    parser.add_argument("--seed", type=int, default=7, help="sampling seed (default 7)")
    parser.add_argument("--examples", type=int, default=5, help="failing vnsearch examples shown per type (default 5)")
    parser.add_argument("--reuse-index", action="store_true",
                        help="reuse bench/out/relevance/vnsearch-dantri as it is instead of rebuilding it")
    parser.add_argument("--as-drawn", action="store_true",
                        help="keep queries that other titles hold too (the fragment and rare words as first "
                             "drawn), to see how often they occur and what they cost")
    args = parser.parse_args()

    path = common.corpus_path("dantri")
    common.print_header("known-item relevance on dantri (MRR@10)")
    records = list(common.iter_corpus("dantri"))
    title_set = TitleSet(records)
    cases, sampling = build_queries(records, title_set, args.sample, args.seed, args.as_drawn)
    systems = build_systems(records, path, args.reuse_index)
    result = evaluate(cases, systems, records, title_set)

    fragments = [c["queries"][0] for c in cases if c["queries"][0]]
    flipped = sum(flip_text(f) != unicodedata.normalize("NFC", f) for f in fragments)
    print(f"{len(cases)} sampled articles (seed {args.seed}) of {len(records):,}; "
          f"other-placement queries that differ from the fragment: {flipped}/{len(fragments)} "
          f"({flipped / max(1, len(fragments)):.0%}; the rest repeat the fragment unchanged)")
    if args.as_drawn:
        print("Queries as first drawn (--as-drawn): those that other titles hold too are kept and judged "
              "against the sampled article alone.\n")
    else:
        print(f"Every query identifies its article: no other title holds it. Fragments: "
              f"{len(fragments)}, {sampling.fragments_none} titles have no 3-6-word run of their own. "
              f"Rare words, accented / folded: {sampling.rare_widened[0]} / {sampling.rare_widened[1]} titles "
              f"needed their 3 rarest words (another title held the 2), {sampling.rare_none[0]} / "
              f"{sampling.rare_none[1]} give no query (another title holds the 3 rarest too).\n")
    print_table(result)
    print_failures(result, args.examples)
    common.print_footer()


if __name__ == "__main__":
    main()
