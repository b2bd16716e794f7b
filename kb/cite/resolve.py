"""Resolve a passage id: current, revised (with its successor) or withdrawn.

Pure functions over the ledger and the positions the live index shows. A revised
passage's successor is the most similar current passage of the same position, by word
sequence similarity (difflib), above a threshold; below it the passage is withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from kb.cite.formats import CitationRecord
from kb.cite.ledger import Entry, Ledger
from kb.cite.quote import WORD_RE, fold
from kb.index.records import PassageRecord, PositionRecord

SUCCESSOR_THRESHOLD = 0.5  # share of words in common, in order; edits score 0.8 and up


@dataclass(frozen=True)
class LivePassage:
    """A passage of a position the live index shows, with that position's record."""

    record: PositionRecord
    passage: PassageRecord

    @property
    def id(self) -> str:
        return self.passage.id


class CurrentPassages:
    """The visible positions' passages, by id and by position (in page order)."""

    def __init__(self, records: Iterable[PositionRecord]) -> None:
        self.records = {r.slug: r for r in records}
        self.by_id: dict[str, LivePassage] = {}
        self.by_slug: dict[str, list[LivePassage]] = {}
        for record in self.records.values():
            for passage in record.passages:
                live = LivePassage(record, passage)
                self.by_id[live.id] = live
                self.by_slug.setdefault(record.slug, []).append(live)


@dataclass(frozen=True)
class Successor:
    """The current passage that replaced a revised one."""

    id: str
    heading: str
    anchor: str
    text: str
    first_seen: str | None
    similarity: float


@dataclass(frozen=True)
class Resolution:
    """What a citation points to now."""

    id: str
    status: str  # "current", "revised" or "withdrawn"
    slug: str
    title: str
    heading: str
    anchor: str
    text: str  # the current text, or the archived text exactly as cited
    first_seen: str | None
    last_seen: str | None
    revision: int | None
    changed_on: str | None  # the date it was revised or withdrawn, when recorded
    successor: Successor | None
    position: PositionRecord | None  # the position's current record, when it is visible
    moved_from: str | None = None  # the position's former address, for a renamed one

    @property
    def is_current(self) -> bool:
        return self.status == "current"

    @property
    def wording_date(self) -> str:
        """The date of the cited wording: the position's update date, or first seen."""
        if self.is_current and self.position and self.position.updated:
            return self.position.updated
        return self.first_seen or ""

    def citation(self, url: str, site: str, accessed: str) -> CitationRecord:
        """The one metadata record every citation format is rendered from."""
        authors = self.position.authors if self.position else ()
        return CitationRecord(
            id=self.id, slug=self.slug, title=self.title, section=self.heading,
            quote=self.text, date=self.wording_date, url=url, site=site, authors=authors,
            accessed=accessed, status=self.status, changed_on=self.changed_on or "",
        )  # fmt: skip


def words(text: str) -> list[str]:
    """Lower-cased words, accents folded: what similarity compares."""
    return WORD_RE.findall(fold(text))


def similarity(a: list[str], b: list[str]) -> float:
    """Share of words the two sequences have in common, in order (0 to 1)."""
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def find_successor(
    entry: Entry, candidates: Iterable[LivePassage], ledger: Ledger
) -> Successor | None:
    """The most similar candidate above the threshold; nearer ordinals win ties."""
    old = words(entry.text)
    best: tuple[float, int, LivePassage] | None = None
    for live in candidates:
        matcher = SequenceMatcher(None, old, words(live.passage.text), autojunk=False)
        if matcher.real_quick_ratio() < SUCCESSOR_THRESHOLD:
            continue
        if matcher.quick_ratio() < SUCCESSOR_THRESHOLD:
            continue
        score = matcher.ratio()
        rank = (score, -abs(live.passage.ordinal - entry.ordinal))
        if score >= SUCCESSOR_THRESHOLD and (best is None or rank > best[:2]):
            best = (*rank, live)
    if best is None:
        return None
    score, _, live = best
    recorded = ledger.get(live.id)
    p = live.passage
    return Successor(p.id, p.heading, p.anchor, p.text,
                     recorded.first_seen if recorded else None, round(score, 3))  # fmt: skip


def resolve(passage_id: str, ledger: Ledger, current: CurrentPassages) -> Resolution | None:
    """Where ``passage_id`` stands now; None when it was never published."""
    entry = ledger.get(passage_id)
    live = current.by_id.get(passage_id)
    if live:
        return _current(live, entry)
    if entry is None:
        return None
    # A renamed position's passages have new ids (the slug is part of the id); the
    # wording, where it still stands at the new address, is current there.
    slug = ledger.moved_to(entry.slug) or entry.slug
    moved_from = entry.slug if slug != entry.slug else None
    candidates = current.by_slug.get(slug, [])
    if moved_from:
        same = next((c for c in candidates if c.passage.text == entry.text), None)
        if same:
            return replace(_current(same, entry), id=entry.id, moved_from=moved_from)
    position = current.records.get(slug)
    if entry.is_current and position is None:
        return _unavailable(entry)
    successor = find_successor(entry, candidates, ledger)
    changed_on = entry.last_seen or (successor.first_seen if successor else None)
    return Resolution(
        id=entry.id, status="revised" if successor else "withdrawn", slug=slug,
        title=position.title if position else entry.title, heading=entry.heading,
        anchor=entry.anchor, text=entry.text, first_seen=entry.first_seen,
        last_seen=entry.last_seen, revision=entry.revision, changed_on=changed_on,
        successor=successor, position=position, moved_from=moved_from,
    )  # fmt: skip


def _current(live: LivePassage, entry: Entry | None) -> Resolution:
    record, p = live.record, live.passage
    return Resolution(
        id=p.id, status="current", slug=record.slug, title=record.title,
        heading=p.heading, anchor=p.anchor, text=p.text,
        first_seen=entry.first_seen if entry else None, last_seen=None,
        revision=entry.revision if entry else None, changed_on=None, successor=None,
        position=record,
    )  # fmt: skip


def _unavailable(entry: Entry) -> Resolution:
    """Still current, but its position is off the site for now: a file that fails
    validation on a fresh build with no last good version. Never called withdrawn."""
    return Resolution(
        id=entry.id, status="current", slug=entry.slug, title=entry.title,
        heading=entry.heading, anchor=entry.anchor, text=entry.text,
        first_seen=entry.first_seen, last_seen=None, revision=entry.revision,
        changed_on=None, successor=None, position=None,
    )  # fmt: skip
