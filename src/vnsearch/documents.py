"""An article as a storage engine receives it: its analysed fields, its content hash, and
which of two versions of one id wins. Every engine indexes these same fields, so every
engine matches and ranks alike.

Data flows one way: files -> articles -> **documents** -> storage engine -> search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from vnsearch import analysis
from vnsearch.articles import VIETNAM_TZ, Article, Rejection

# Part of every content hash: bump it when analysis changes, and a re-run re-analyses.
ANALYSIS_VERSION = "2.1"
# The date of an undated article: earlier than any real date, so "oldest first" can put
# undated articles last on purpose and date ranges never hold them.
UNDATED = -(2**62)


def is_dated(timestamps):
    """Whether each timestamp (seconds, an int or a numpy array) is a real date, 1970 or before included.

    >>> is_dated(0), is_dated(-86400 * 365 * 30), is_dated(UNDATED)
    (True, True, False)
    """
    return np.greater(timestamps, UNDATED) if isinstance(timestamps, np.ndarray) else timestamps > UNDATED


def document_fields(article: Article) -> dict:
    """One article's stored display fields plus its analysed views (whitespace-separated terms).

    - ``title_fold``, ``body_fold``: folded syllables, the recall backbone (any accents
      match); pyvi's compounds ride along ("cong/cong_thuong" in the title: a compound
      shares its first syllable's position); ``body_pos``: the body's folded syllables in
      order, read only by quoted phrases;
    - ``title_syl``, ``body_syl``: accented syllables and compounds (typed accents count);
    - ``title_terms``: the title's canonical syllables, for re-ranking and suggestions;
    - ``*_key``: normalized names for facets and filters; ``date`` (seconds, or
      :data:`UNDATED`), ``year`` and ``month`` in Vietnam time (0 when undated).
    """
    title = analysis.analyze(article.title)
    text = f"{article.summary}\n{article.body}" if article.summary else article.body
    body = analysis.analyze(text)
    when = article.date
    local = when.astimezone(VIETNAM_TZ) if when else None
    return {
        "id": article.id,
        "content_hash": content_hash(article),
        "title": article.title,
        "body": article.body,
        "summary": article.summary,
        "url": article.url,
        "tags": list(article.tags),
        "date_iso": when.isoformat() if when else "",
        "author": article.author,
        "source": article.source,
        "category": article.category,
        "title_fold": title.positional_terms(),
        "body_fold": body.folded_terms(),
        "body_pos": " ".join(body.folded),
        "title_syl": title.accented_terms(),
        "title_terms": " ".join(title.syllables).encode("utf-8"),
        "body_syl": body.accented_terms(),
        "category_key": analysis.normalize(article.category),
        "author_key": analysis.normalize(article.author),
        "source_key": analysis.normalize(article.source),
        "date": int(when.timestamp()) if when else UNDATED,
        "year": local.year if local else 0,
        "month": local.year * 100 + local.month if local else 0,
    }


def content_hash(article: Article) -> str:
    return f"{ANALYSIS_VERSION}:{article.content_hash()}"


def duplicate(record: Article, earlier_updated: datetime | None, earlier_origin: str) -> tuple[bool, str]:
    """Which of two versions of one id read in one run wins, and the warning saying so.

    The newer ``updated`` time wins, whatever the order the files were read in (a correction
    must not be reverted because its file's name sorts first); when the times tie or either
    is missing, the version read later wins. Returns (keep the earlier one, warning).
    """
    here = record.origin or repr(record.id)
    if earlier_updated and record.updated:
        if earlier_updated > record.updated:
            keep_earlier, winner, why = True, earlier_origin, "its 'updated' time is newer"
        elif earlier_updated < record.updated:
            keep_earlier, winner, why = False, here, "its 'updated' time is newer"
        else:
            keep_earlier, winner, why = False, here, "same 'updated' time: read later"
    else:
        keep_earlier, winner, why = False, here, "read later: 'updated' is missing"
    return keep_earlier, (f"{here}: duplicate id {record.id!r}, also at {earlier_origin}: "
                          f"the one at {winner} wins ({why})")


class Versions:
    """The version of each id read so far in one run, and the duplicate rule applied to the next one."""

    def __init__(self, report: "IndexReport", on_warning=None):
        self.report, self.on_warning = report, on_warning
        # Where the winning version was read, and its 'updated' time when it has one (two
        # dicts: a tuple per article cost 8 MB more on 150,000 articles).
        self.seen_at: dict[str, str] = {}
        self.seen_updated: dict[str, datetime] = {}

    def admit(self, record: Article) -> tuple[bool, bool]:
        """(whether ``record`` is to be indexed, whether its id is seen for the first time in this run)."""
        earlier_at = self.seen_at.get(record.id)
        first_time = earlier_at is None
        if not first_time:
            earlier_updated = self.seen_updated.get(record.id)
            keep_earlier, message = duplicate(record, earlier_updated, earlier_at)
            self.report.duplicates += 1
            self.report.decided_by_updated += bool(earlier_updated and record.updated)
            self.report.warnings.append(message)
            if self.on_warning:
                self.on_warning(message)
            if keep_earlier:
                return False, False
        self.seen_at[record.id] = record.origin or repr(record.id)
        if record.updated:
            self.seen_updated[record.id] = record.updated
        else:
            self.seen_updated.pop(record.id, None)
        return True, first_time


@dataclass
class MergeReport:
    """What merging an index down (``vnsearch optimize``) did: its segments before and after,
    and whether it stopped to let an indexer in (nothing is lost then; run it again)."""

    segments_before: int
    segments_after: int
    gave_way: bool = False

    def summary(self) -> str:
        """One line: ``6 segments merged into 1``, ``1 segment already: nothing to merge``..."""
        if self.gave_way:
            return (f"gave way to an indexer that was waiting: {segments(self.segments_after)}, "
                    "as before (nothing is lost; run it again when publishing is quiet)")
        if self.segments_after == self.segments_before:
            return f"{segments(self.segments_after)} already: nothing to merge"
        return f"{segments(self.segments_before)} merged into {self.segments_after}"


def segments(n: int) -> str:
    """``1 segment``, ``2 segments``."""
    return f"{n} segment" if n == 1 else f"{n} segments"


@dataclass
class IndexReport:
    """What one run did; ``rejected`` counts bad records, ``duplicates`` ids seen twice."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    duplicates: int = 0
    decided_by_updated: int = 0  # duplicates whose two versions both had an 'updated' time
    commits: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # ids a delete did not find

    def reject(self, rejection: Rejection, on_reject=None) -> None:
        self.rejected += 1
        self.rejections.append(rejection)
        if on_reject:
            on_reject(rejection)

    def summary(self) -> str:
        text = (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.deleted} deleted, {self.rejected} rejected")
        if self.missing:
            text += f", {len(self.missing)} not in the index"
        if self.duplicates:
            rule = "the newest 'updated' won, else the last one read" if self.decided_by_updated else "the last one won"
            text += f" ({self.duplicates} duplicate ids: {rule})"
        return text
