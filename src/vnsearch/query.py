"""The query language readers and journalists type, parsed into clauses.

- plain words: a short query needs them all, a long one most of them (see
  :mod:`vnsearch.search.matching`); a syllable typed with accents matches only as typed
  (``lúa``), one typed without matches every spelling (``lua``);
- ``"quoted phrases"``: the words in order, always required;
- ``+word``: this word must be there, however long the query;
- ``-word`` and ``-"phrase"``: exclude;
- ``a OR b``: either;
- ``title:``, ``author:``, ``category:``, ``source:`` prefixes;
- ``cong*`` and ``th?ong``: wildcards, bounded in how many terms they expand to.

Parsing never fails: unbalanced quotes close at the end, lone operators and stray
colons are read as text or ignored, and very long queries are cut to a bounded
number of clauses.

>>> [str(c) for c in parse('"bí thư" -covid title:Hoà Bình').clauses]
['"bí thư"', '-covid', 'title:hoà', 'bình']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from vnsearch import analysis

MAX_QUERY_CHARS = 2000
MAX_CLAUSES = 64  # a pasted lead is 16-61 syllables (vietnews); each plain word is a clause
MAX_WILDCARDS = 4  # wildcard clauses per query; each reads up to 50 terms' postings
FIELDS = ("title", "author", "category", "source")
FIELD_ALIASES = {"tieude": "title", "tacgia": "author", "chuyenmuc": "category", "nguon": "source"}
_RAW_TOKEN_RE = re.compile(r'([-+]?)(?:([^\s":]+):)?("[^"]*"?|[^\s"]+)')


@dataclass(frozen=True)
class Clause:
    """One thing the user asked for: a word, a phrase or a wildcard, maybe negated or fielded.

    ``syllables`` are canonical (normalized, lowercase, accents kept); ``folded`` match them
    position for position.
    """

    text: str
    syllables: tuple[str, ...]
    folded: tuple[str, ...]
    quoted: bool = False
    negated: bool = False
    field: str | None = None
    wildcard: str | None = None  # folded pattern with * and ?, for wildcard clauses
    must: bool = False  # typed with a leading "+": required however long the query

    @property
    def is_filter(self) -> bool:
        return self.field in ("author", "category", "source")

    @property
    def is_phrase(self) -> bool:
        """Only quoted words must stand in order; "Covid-19" asks for both, adjacency ranks."""
        return self.quoted and len(self.folded) > 1

    def render(self, syllables: tuple[str, ...] | list[str] | None = None) -> str:
        """The clause as query text again, with ``syllables`` (a respelling) for its own.

        The one renderer of the query language: unit labels, "not found" notices and
        suggestions all read a clause back this way.

        >>> [c.render() for c in parse('-covid +"bí thư" author:"Minh Anh" th* GD-ĐT').clauses]
        ['-covid', '+"bí thư"', 'author:"minh anh"', 'th*', 'gd-đt']
        >>> parse("Hoà bình").clauses[0].render(["hòa"])
        'hòa'
        """
        syllables = self.syllables if syllables is None else tuple(syllables)
        if self.wildcard:
            body = self.text
        elif self.quoted or (self.is_filter and len(syllables) > 1):
            body = '"' + " ".join(syllables) + '"'
        else:
            body = "-".join(syllables)  # one syllable, or a hyphenated word kept as one
        sign = "-" if self.negated else "+" if self.must else ""
        return sign + (f"{self.field}:" if self.field else "") + body

    __str__ = render


@dataclass(frozen=True)
class Query:
    """Required clauses, OR groups (each a tuple of alternatives) and exclusions."""

    text: str
    clauses: tuple[Clause, ...] = ()
    any_of: tuple[tuple[Clause, ...], ...] = ()
    accented: bool = False
    truncated: bool = False

    @property
    def required(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.negated)

    @property
    def excluded(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.negated)

    def positive_clauses(self) -> list[Clause]:
        """Every clause that adds to relevance, OR alternatives included."""
        out = [c for c in self.required if not c.is_filter]
        for group in self.any_of:
            out.extend(c for c in group if not c.is_filter)
        return out

    @property
    def is_empty(self) -> bool:
        return not self.clauses and not self.any_of


def parse(text: str) -> Query:
    """Parse what the user typed; never raises.

    >>> q = parse("cong thuong OR cong nghiep -covid")
    >>> [str(c) for c in q.clauses], [[str(c) for c in g] for g in q.any_of]
    (['cong', 'nghiep', '-covid'], [['thuong', 'cong']])
    """
    text = text or ""
    truncated = len(text) > MAX_QUERY_CHARS
    text = analysis.normalize(text[:MAX_QUERY_CHARS])
    items: list[Clause | str] = []
    for match in _RAW_TOKEN_RE.finditer(text):
        sign, prefix, body = match.groups()
        if body == "OR" and not sign and not prefix:
            items.append("OR")
            continue
        if not prefix and body.endswith(":") and _field(body.rstrip(":")):
            continue  # a field prefix with nothing after it
        fieldname = _field(prefix)
        if prefix and fieldname is None:
            body = f"{prefix} {body}"  # a stray colon: "a:b" is two words
        clauses = _clauses(body, sign == "-", fieldname)
        if sign == "+":
            clauses = [replace(c, must=True) for c in clauses]
        items.extend(clauses)
    items = _bound_wildcards(items)
    clauses, groups = _combine(items)
    groups = [list(dict.fromkeys(g)) for g in groups]  # "a OR a" asks for a once
    if len(clauses) + sum(len(g) for g in groups) > MAX_CLAUSES:
        truncated = True
        clauses = clauses[:MAX_CLAUSES]
        room, kept = MAX_CLAUSES - len(clauses), []
        for group in groups:  # alternatives count one by one: "a OR b OR ..." cannot grow without end
            if room < 2:
                break
            kept.append(group[:room])
            room -= len(kept[-1])
        groups = kept
    return Query(text, tuple(clauses), tuple(tuple(g) for g in groups),
                 accented=analysis.has_diacritics(text), truncated=truncated)


def _field(prefix: str | None) -> str | None:
    if not prefix:
        return None
    key = analysis.fold(prefix)
    return key if key in FIELDS else FIELD_ALIASES.get(key)


def _clauses(body: str, negated: bool, fieldname: str | None) -> list[Clause]:
    quoted = body.startswith('"')
    inner = body.strip('"')
    if fieldname in ("author", "category", "source"):
        syls = analysis.syllables(inner)
        if not syls:
            return []
        return [Clause(inner, tuple(syls), tuple(analysis.fold_terms(syls)), quoted, negated, fieldname)]
    if not quoted and ("*" in inner or "?" in inner):
        wildcard = _wildcard(inner)
        if wildcard:
            return [Clause(inner, (), (), False, negated, fieldname, wildcard)]
        inner = inner.replace("*", " ").replace("?", " ")
    syls = analysis.syllables(inner)
    if not syls:
        return []
    folded = tuple(analysis.fold_terms(syls))
    if quoted or negated:
        return [Clause(inner, tuple(syls), folded, quoted, negated, fieldname)]
    # Unquoted words are separate requirements; a hyphenated token ("CN-TTCN") stays one phrase.
    parts = inner.split()
    if len(parts) == 1 and len(syls) > 1:
        return [Clause(inner, tuple(syls), folded, False, negated, fieldname)]
    return [Clause(s, (s,), (f,), False, negated, fieldname) for s, f in zip(syls, folded)]


def _bound_wildcards(items: list) -> list:
    """Past the first ``MAX_WILDCARDS`` wildcards, ``th*`` is read as the word ``th``."""
    out, seen = [], 0
    for item in items:
        if isinstance(item, Clause) and item.wildcard:
            seen += 1
            if seen > MAX_WILDCARDS:
                out.extend(_clauses(item.text.replace("*", " ").replace("?", " "), item.negated, item.field))
                continue
        out.append(item)
    return out


def _wildcard(token: str) -> str | None:
    """A folded wildcard pattern, or None when it would match too much (needs 2 leading letters)."""
    pattern = "".join(c if c in "*?" else analysis.fold(c) for c in token.lower())
    pattern = re.sub(r"[^a-z0-9_*?]", "", pattern)
    head = re.match(r"[a-z0-9_]*", pattern).group(0)
    if len(head) < 2 or head == pattern:
        return None
    return pattern


def _combine(items: list) -> tuple[list[Clause], list[list[Clause]]]:
    """Fold ``a OR b OR c`` runs into groups; a lone or dangling OR is ignored."""
    clauses: list[Clause] = []
    groups: list[list[Clause]] = []
    i, n = 0, len(items)
    while i < n:
        if items[i] == "OR":
            i += 1
            continue
        group, j = [items[i]], i + 1
        while j < n and items[j] == "OR":
            while j < n and items[j] == "OR":
                j += 1
            if j < n:
                group.append(items[j])
                j += 1
        i = j
        if len(group) > 1 and not any(c.negated for c in group):
            groups.append(group)
        else:
            clauses.extend(group)
    return clauses, groups
