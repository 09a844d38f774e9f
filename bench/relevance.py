"""Relevance of vnsearch beside two plain Whoosh baselines: known items, accents, long queries.

Four sections (``--only`` runs some of them; each draws its sample from ``--seed`` alone):

- ``known``: known-item queries on dantri, MRR@10 (below);
- ``accent``: accent precision on dantri: one-syllable queries typed with and without
  accents, sorted newest first (see ``relevance_matching.py``);
- ``oneoff``: one word off: a title fragment with one word added that the article does not
  hold, MRR@10 (see ``relevance_matching.py``);
- ``long``: long natural queries: a vietnews article's summary (sapo) as the query, on
  20,000 vietnews articles indexed without it, MRR@10 (see ``relevance_long.py``).

Known items. About 300 articles whose title has at least 6 syllables are sampled (fixed seed; titles
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

Systems (``relevance_systems.py``): vnsearch (the library's index of dantri); B1, Whoosh's
``StandardAnalyzer`` (which also drops English stopwords and one-letter tokens); B2, Whoosh
with NFC, lowercase and diacritics folded (đ -> d), nothing dropped ("the", "can", "on" fold
from thế, cần, ổn), the query folded the same way. Both baselines index title and body as
TEXT and parse with a ``MultifieldParser`` over title^2 and body, shown with both the default
AND group and an OrGroup, so each baseline is judged at its better setting.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import time
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

import common
import relevance_long
import relevance_matching
import relevance_systems
from relevance_systems import b1_analyzer, b2_analyzer, whoosh_index
from relevance_titles import SYLLABLE_RE, TitleSet, eligible_articles, flip_text, pick_fragment
from vnsearch import analysis

from common import engine_at

USAGE = """\
    python bench/relevance.py                          # every section, seed 7, 300 articles
    python bench/relevance.py --only accent,oneoff     # some sections
    python bench/relevance.py --only long --rebuild    # rebuild the vietnews indexes first
    python bench/relevance.py [--sample 300] [--seed 7] [--examples 5] [--as-drawn] [--syllables 60]
"""

QUERY_TYPES = (
    "fragment",
    "fragment, no diacritics",
    "fragment, other tone placement",
    "fragment, NFD",
    "rare words",
    "rare words, no diacritics",
)
TARGETS = (0.98, 0.98, 0.98, 0.98, 0.95, 0.95)


# -- query construction -------------------------------------------------------

def document_frequencies(records: list[dict]) -> collections.Counter:
    """Documents holding each canonical syllable (title and body), as vnsearch spells them."""
    df: collections.Counter = collections.Counter()
    for r in records:
        df.update(set(analysis.syllables(analysis.normalize(f"{r['title']}\n{r.get('summary', '')}\n{r['body']}"))))
    return df


def rare_words(title: str, df: collections.Counter, k: int) -> str | None:
    """The k title syllables (not numbers) of lowest document frequency, in title order."""
    surface = SYLLABLE_RE.findall(unicodedata.normalize("NFC", title))
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
    eligible = eligible_articles(records)
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


# -- evaluation ---------------------------------------------------------------

def reciprocal_rank(ids: list[str], expected: str) -> float:
    return 1.0 / (ids.index(expected) + 1) if expected in ids else 0.0


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
    index_dir = common.per_backend(common.OUT / "relevance" / "vnsearch-dantri")
    if not reuse_index or not index_dir.exists():
        shutil.rmtree(index_dir, ignore_errors=True)
        index_dir.mkdir(parents=True)
        t0 = time.perf_counter()
        report = common.index_files(index_dir, [path], rebuild=True)
        print(f"vnsearch index of dantri ({common.backend_name()}): {report.summary()} in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    b1 = whoosh_index(b1_analyzer(), records)
    b2 = whoosh_index(b2_analyzer(), records)
    print(f"Whoosh baselines indexed in {time.perf_counter() - t0:.0f} s\n")
    return relevance_systems.systems(engine_at(str(index_dir)), b1, b2)


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


def run_known_item(records: list[dict], title_set: TitleSet, systems: dict, args) -> None:
    """The known-item columns: six query types per sampled article, MRR@10 per system."""
    print("== known-item queries (MRR@10)")
    cases, sampling = build_queries(records, title_set, args.sample, args.seed, args.as_drawn)
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


SECTIONS = {
    "known": "known-item queries on dantri",
    "accent": "accent precision on dantri",
    "oneoff": "one word off on dantri",
    "long": "long natural queries on vietnews",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run, among {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--sample", type=int, default=300,
                        help="articles sampled for the known-item, one-word-off and long queries (default 300)")
    parser.add_argument("--seed", type=int, default=7, help="sampling seed (default 7)")
    parser.add_argument("--examples", type=int, default=5, help="failing vnsearch examples shown per type (default 5)")
    parser.add_argument("--reuse-index", action="store_true",
                        help="reuse bench/out/relevance/vnsearch-dantri as it is instead of rebuilding it")
    parser.add_argument("--as-drawn", action="store_true",
                        help="keep queries that other titles hold too (the fragment and rare words as first "
                             "drawn), to see how often they occur and what they cost")
    parser.add_argument("--syllables", type=int, default=60,
                        help="accented syllables drawn for accent precision (default 60)")
    parser.add_argument("--vietnews", type=int, default=relevance_long.ARTICLES,
                        help=f"vietnews articles indexed for the long queries (default {relevance_long.ARTICLES:,})")
    parser.add_argument("--backend", choices=("whoosh", "opensearch"),
                        help="the storage engine vnsearch runs on (default: $VNSEARCH_BACKEND, else whoosh); "
                             "opensearch needs VNSEARCH_OPENSEARCH_URL")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the vietnews indexes in bench/out/relevance/ (reused when present)")
    args = parser.parse_args()
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown or not args.sections:
        parser.error(f"--only takes sections among {', '.join(SECTIONS)}, not {args.only!r}")
    return args


def main() -> None:
    args = parse_args()
    if args.backend:
        os.environ["VNSEARCH_BACKEND"] = args.backend
    run = [s for s in SECTIONS if s in args.sections]
    common.print_header("relevance: " + "; ".join(SECTIONS[s] for s in run),
                        f"seed {args.seed}, sample {args.sample}, engine {common.backend_name()}"
                        + (f", {args.syllables} accented syllables" if "accent" in run else ""))
    if {"known", "accent", "oneoff"} & set(run):
        records = list(common.iter_corpus("dantri"))
        title_set = TitleSet(records)
        systems = build_systems(records, common.corpus_path("dantri"), args.reuse_index)
    for section in run:
        t0 = time.perf_counter()
        if section == "known":
            run_known_item(records, title_set, systems, args)
        elif section == "accent":
            relevance_matching.run_accent_precision(records, systems, args.syllables, args.seed)
        elif section == "oneoff":
            relevance_matching.run_one_word_off(records, title_set, systems, args.sample, args.seed)
        else:
            relevance_long.run_long_queries(args.vietnews, args.sample, args.seed, args.rebuild)
        print(f"\n[{section}: {time.perf_counter() - t0:.0f} s]\n")
    common.print_footer()


if __name__ == "__main__":
    main()
