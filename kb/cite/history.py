"""A position's history: the versions `flask kb index` records, what changed between
them, and the words that changed.

``record_publication`` is the one function the indexer calls: a pure function of the
ledger as read, the position records being published and the date, returning the new
entries and versions. Everything else here reads versions: ``changes`` says in words what
one version changed, ``compare`` pairs two versions' paragraphs and marks the words
inserted and deleted, ``version_on`` finds the version in force on a date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from difflib import SequenceMatcher

from kb.cite.ledger import (
    MOVED,
    WITHDRAWN,
    Entry,
    Ledger,
    LedgerUpdate,
    Version,
    VersionPassage,
    change_day,
    position_dates,
    published_passages,
    update_entries,
)
from kb.index.records import PositionRecord

PAIR_THRESHOLD = 0.5  # share of words in common, in order, for a paragraph to be "revised"
RENAME_THRESHOLD = 0.5  # share of a vanished position's paragraphs found word for word
TOKEN_RE = re.compile(r"\w+\s*|[^\w\s]\s*|\s+")  # a word keeps its trailing space


def version_of(record: PositionRecord, day: str) -> Version:
    """The version a published position record stands for on ``day``."""
    passages = tuple(VersionPassage(p.id, p.anchor, p.heading) for p in record.passages)
    return Version(
        slug=record.slug, date=day, status=record.status,
        title=record.title, summary=record.summary,
        topics=tuple(record.topics), authors=tuple(record.authors),
        change_note=record.change_note, passages=passages,
    )  # fmt: skip


def record_publication(
    ledger: Ledger,
    records: Iterable[PositionRecord],
    today: date,
    kept: frozenset[str] = frozenset(),
) -> LedgerUpdate:
    """The ledger after publishing ``records`` (every position record, drafts included).

    Each position whose published content differs from its latest version gets a new
    version (one per day: a second change the same day replaces the day's version, and a
    change undone the same day removes it). A position no longer published gets a
    "withdrawn" version, or a "moved" one when its paragraphs reappear word for word under
    a new address. Positions in ``kept`` (files that failed validation) are left alone.
    Unchanged content gives an unchanged result.
    """
    records = list(records)
    live = {r.slug: r for r in records if r.status != "draft"}
    known = {r.slug for r in records}
    history = ledger.history
    moves = detect_moves(ledger, live, known | kept)
    dates = position_dates(records)
    by_slug = ledger.by_slug
    versions: list[Version] = []
    days: dict[str, str] = {}
    renamed_from = {new: old for old, new in moves.items()}
    for slug in sorted(set(history) | set(live)):
        old = list(history.get(slug, ()))
        if slug in kept:
            versions += old
            continue
        # A renamed position's first version follows the last one at its old address.
        floor = old + list(history.get(renamed_from.get(slug, ""), ()))
        day = change_day(by_slug.get(slug, ()), dates.get(slug, ""), today, floor)
        new = _next_version(old, live.get(slug), moves.get(slug), day)
        days[slug] = new.date if new else day
        versions += _add(old, new) if new else old
    update = update_entries(ledger.entries, published_passages(live.values()), today, dates,
                            days, kept)  # fmt: skip
    return replace(update, versions=tuple(versions))


def _next_version(
    old: list[Version], record: PositionRecord | None, moved_to: str | None, day: str
) -> Version | None:
    """What a position publishes now, or None when it neither is nor was published."""
    if record is not None:
        return version_of(record, day)
    if not old or not old[-1].is_published:
        return None
    last = old[-1]
    if moved_to:
        return Version(last.slug, day, MOVED, last.title, None, None, None, "", (), moved_to)
    return Version(last.slug, day, WITHDRAWN, last.title, None, None, None, "", ())


def _add(old: list[Version], new: Version) -> list[Version]:
    """``old`` with ``new`` recorded: appended, merged into the day's version, or dropped."""
    if not old:
        return [new]
    last = old[-1]
    if last.content() == new.content():
        return old
    if last.summary is None and last.passages == new.passages and last.title == new.title:
        # A migrated version whose metadata was unknown: what is published now tells it.
        return [*old[:-1], replace(new, date=last.date, change_note=last.change_note)]
    if last.date >= new.date:
        earlier = old[:-1]
        if earlier and earlier[-1].content() == new.content():
            return earlier  # changed and changed back the same day
        return [*earlier, replace(new, date=last.date)]
    return [*old, new]


def detect_moves(
    ledger: Ledger, live: Mapping[str, PositionRecord], present: set[str]
) -> dict[str, str]:
    """Old slug → new slug for positions renamed since the last run.

    A position was renamed when its file no longer gives it (not even as a draft) and a
    position new to the ledger publishes most of its paragraphs word for word.
    """
    history = ledger.history
    vanished = [s for s, v in history.items()
                if s not in present and v and v[-1].is_published]  # fmt: skip
    fresh = [s for s in live if not history.get(s)]
    moves: dict[str, str] = {}
    for old in sorted(vanished):
        texts = [ledger.entries[p.id].text for p in history[old][-1].passages
                 if p.id in ledger.entries]  # fmt: skip
        if not texts:
            continue
        best: tuple[float, str] | None = None
        for new in fresh:
            if new in moves.values():
                continue
            found = {p.text for p in live[new].passages}
            share = sum(text in found for text in texts) / len(texts)
            if share >= RENAME_THRESHOLD and (best is None or (share, new) > best):
                best = (share, new)
        if best:
            moves[old] = best[1]
    return moves


def version_on(versions: Sequence[Version], day: str) -> Version | None:
    """The version in force at the end of ``day`` (an ISO date), if any."""
    found = None
    for version in versions:
        if version.date <= day:
            found = version
    return found


def version_dated(versions: Sequence[Version], day: str) -> Version | None:
    """The version recorded on exactly ``day``."""
    return next((v for v in versions if v.date == day), None)


def last_version_with(versions: Sequence[Version], passage_id: str) -> Version | None:
    """The latest version that published ``passage_id``."""
    found = None
    for version in versions:
        if passage_id in version.ids:
            found = version
    return found


def absences(versions: Sequence[Version], passage_id: str) -> tuple[tuple[str, str | None], ...]:
    """(from, until) dates when ``passage_id``, once published, was not; ``until`` is None
    while it still is not. A reverted edit shows here: the wording was replaced, then back."""
    gaps: list[tuple[str, str | None]] = []
    seen, start = False, None
    for version in versions:
        present = passage_id in version.ids
        if present and start is not None:
            gaps.append((start, version.date))
            start = None
        elif not present and seen and start is None:
            start = version.date
        seen = seen or present
    if start is not None:
        gaps.append((start, None))
    return tuple(gaps)


# --- what changed ------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A run of words in a word-level comparison: kept, inserted or deleted."""

    op: str  # "same", "ins" or "del"
    text: str


def word_diff(old: str, new: str) -> tuple[Segment, ...]:
    """The words of ``new`` compared with ``old``: deletions and insertions marked."""
    a, b = TOKEN_RE.findall(old), TOKEN_RE.findall(new)
    segments: list[Segment] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if segments and segments[-1].op == op:
            segments[-1] = Segment(op, segments[-1].text + text)
        else:
            segments.append(Segment(op, text))

    # Words are compared without their trailing space, so a last word that gains one is
    # still the same word; kept words are shown as the new text has them.
    matcher = SequenceMatcher(None, [t.rstrip() for t in a], [t.rstrip() for t in b],
                              autojunk=False)  # fmt: skip
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("same", "".join(b[j1:j2]))
        else:
            add("del", "".join(a[i1:i2]))
            add("ins", "".join(b[j1:j2]))
    return tuple(segments)


@dataclass(frozen=True)
class Paragraph:
    """One paragraph in a comparison of two versions."""

    change: str  # "same", "revised", "added", "removed" or "moved"
    old_id: str | None
    new_id: str | None
    heading: str
    anchor: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Comparison:
    """Two versions of a position, paragraph by paragraph, and what changed in words."""

    old: Version
    new: Version
    paragraphs: tuple[Paragraph, ...]
    summary: str


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _pairs(removed: list[str], added: list[str], text: Mapping[str, str]) -> dict[str, str]:
    """Old id → new id for paragraphs revised rather than replaced (most similar first)."""
    scored = []
    for old in removed:
        for new in added:
            ratio = SequenceMatcher(None, _words(text[old]), _words(text[new]),
                                    autojunk=False).ratio()  # fmt: skip
            if ratio >= PAIR_THRESHOLD:
                scored.append((-ratio, removed.index(old), added.index(new), old, new))
    pairs: dict[str, str] = {}
    for _, _, _, old, new in sorted(scored):
        if old not in pairs and new not in pairs.values():
            pairs[old] = new
    return pairs


def _moved(old_ids: Sequence[str], new_ids: Sequence[str]) -> set[str]:
    """Ids both versions hold whose order changed: those outside the longest common run."""
    common_old = [i for i in old_ids if i in set(new_ids)]
    common_new = [i for i in new_ids if i in set(old_ids)]
    matcher = SequenceMatcher(None, common_old, common_new, autojunk=False)
    kept = {common_old[b.a + k] for b in matcher.get_matching_blocks() for k in range(b.size)}
    return set(common_old) - kept


def across_rename(old: Version, new: Version, text: Mapping[str, str]) -> Version:
    """``old`` with its passage ids replaced by ``new``'s where the wording is the same,
    when the two are at different addresses (a passage id includes the address)."""
    if old.slug == new.slug:
        return old
    by_text = {text[p.id]: p.id for p in new.passages}
    passages = tuple(replace(p, id=by_text.get(text[p.id], p.id)) for p in old.passages)
    return replace(old, passages=passages)


def compare(old: Version, new: Version, text: Mapping[str, str]) -> Comparison:
    """``new`` against ``old``: every paragraph of ``new`` in order, each removed one after
    the paragraph it followed, revised ones with their words marked. ``text`` maps every
    passage id of both versions to its wording."""
    shown_old, old = old, across_rename(old, new, text)
    old_ids, new_ids = list(old.ids), list(new.ids)
    removed = [i for i in old_ids if i not in set(new_ids)]
    added = [i for i in new_ids if i not in set(old_ids)]
    pairs = _pairs(removed, added, text)
    revised_new = {n: o for o, n in pairs.items()}
    moved = _moved(old_ids, new_ids)
    counterpart = {i: (pairs.get(i) or (i if i in new_ids else None)) for i in old_ids}
    after: dict[str | None, list[str]] = {}  # removed paragraphs, by the new id they follow
    previous: str | None = None
    for pid in old_ids:
        if pid in removed and pid not in pairs:
            after.setdefault(previous, []).append(pid)
        elif counterpart[pid]:
            previous = counterpart[pid]
    where = {p.id: p for p in (*old.passages, *new.passages)}
    paragraphs = [_removed(pid, where, text) for pid in after.get(None, [])]
    for p in new.passages:
        if p.id in revised_new:
            old_id = revised_new[p.id]
            segments = word_diff(text[old_id], text[p.id])
            paragraphs.append(Paragraph("revised", old_id, p.id, p.heading, p.anchor, segments))
        elif p.id in added:
            segments = (Segment("ins", text[p.id]),)
            paragraphs.append(Paragraph("added", None, p.id, p.heading, p.anchor, segments))
        else:
            change = "moved" if p.id in moved else "same"
            segments = (Segment("same", text[p.id]),)
            paragraphs.append(Paragraph(change, p.id, p.id, p.heading, p.anchor, segments))
        paragraphs += [_removed(pid, where, text) for pid in after.get(p.id, [])]
    return Comparison(shown_old, new, tuple(paragraphs), describe(shown_old, new, text))


def _removed(pid: str, where: Mapping[str, VersionPassage], text: Mapping[str, str]) -> Paragraph:
    p = where[pid]
    return Paragraph("removed", pid, None, p.heading, p.anchor, (Segment("del", text[pid]),))


def _counted(n: int, word: str) -> str:
    return f"{n} paragraph {word}" if n == 1 else f"{n} paragraphs {word}"


def describe(
    old: Version | None, new: Version, text: Mapping[str, str], labels: Mapping[str, str] = {}
) -> str:
    """What ``new`` changed since ``old``, in words: "2 paragraphs revised, 1 added;
    summary changed; topic Europe added". Unknown (migrated) fields are not compared."""
    if new.status == WITHDRAWN:
        return "withdrawn"
    if new.status == MOVED:
        return f"moved to /positions/{new.moved_to}"
    if old is None:
        return "first published"
    parts = []
    if old.slug != new.slug:
        parts.append(f"address changed from /positions/{old.slug}")
        old = across_rename(old, new, text)
    if not old.is_published:
        parts.append("published again")
    paragraphs = _paragraph_changes(old, new, text)
    if paragraphs:
        parts.append(paragraphs)
    if old.title != new.title:
        parts.append(f"title changed from “{old.title}” to “{new.title}”")
    if old.summary is not None and old.summary != new.summary:
        parts.append("summary changed")
    if old.status and old.is_published and new.status and old.status != new.status:
        parts.append(f"status changed to {new.status}")
    if old.topics is not None and new.topics is not None:
        for topic in new.topics:
            if topic not in old.topics:
                parts.append(f"topic {labels.get(topic, topic)} added")
        for topic in old.topics:
            if topic not in new.topics:
                parts.append(f"topic {labels.get(topic, topic)} removed")
    if old.authors is not None and new.authors is not None and old.authors != new.authors:
        parts.append("authors changed")
    if not parts and old.passages != new.passages:
        parts.append("headings changed")
    return "; ".join(parts) or "no change to the text"


def _paragraph_changes(old: Version, new: Version, text: Mapping[str, str]) -> str:
    if not old.is_published:
        return ""
    old_ids, new_ids = list(old.ids), list(new.ids)
    removed = [i for i in old_ids if i not in set(new_ids)]
    added = [i for i in new_ids if i not in set(old_ids)]
    pairs = _pairs(removed, added, text)
    counts = [
        (len(pairs), "revised"),
        (len(added) - len(pairs), "added"),
        (len(removed) - len(pairs), "removed"),
        (len(_moved(old_ids, new_ids)), "moved"),
    ]
    words = [(n, w) for n, w in counts if n]
    if not words:
        return ""
    first = _counted(*words[0])
    return ", ".join([first, *(f"{n} {w}" for n, w in words[1:])])


@dataclass(frozen=True)
class HistoryItem:
    """One version as the history page lists it."""

    version: Version
    number: int  # 1 for the first version
    changes: str
    previous: Version | None


def history_of(
    ledger: Ledger, slug: str, labels: Mapping[str, str] = {}
) -> tuple[HistoryItem, ...]:
    """Every version of ``slug`` (and of its former addresses), newest first."""
    versions = list(full_history(ledger, slug))
    text = texts(ledger)
    items, previous = [], None
    for number, version in enumerate(versions, start=1):
        items.append(HistoryItem(version, number, describe(previous, version, text, labels),
                                 previous))  # fmt: skip
        previous = version
    return tuple(reversed(items))


def full_history(ledger: Ledger, slug: str) -> tuple[Version, ...]:
    """The versions of ``slug``, preceded by those of the addresses it was renamed from
    (their "moved" versions left out: the new address's first version follows)."""
    earlier: list[Version] = []
    for old in ledger.moved_from(slug):
        earlier += [v for v in ledger.history.get(old, ()) if v.status != MOVED]
    return tuple(sorted(earlier, key=lambda v: v.date)) + ledger.history.get(slug, ())


def texts(ledger: Ledger) -> dict[str, str]:
    """Passage id → wording, for every id the ledger holds."""
    return {pid: entry.text for pid, entry in ledger.entries.items()}


def entries_of(ledger: Ledger, version: Version) -> list[Entry]:
    """The ledger entries of a version's passages, in its page order."""
    return [ledger.entries[p.id] for p in version.passages if p.id in ledger.entries]
