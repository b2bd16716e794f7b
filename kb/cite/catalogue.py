"""Citations for one knowledge base: resolve ids, look up quotes, rebuild old versions.

Everything derived from the index and the ledger is cached per index revision (and
ledger digest), so a new generation or a new ledger invalidates it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from kb.cite.history import Segment, full_history, version_on, word_diff
from kb.cite.ledger import LEDGER_FILE, Ledger, Version, read_ledger_file
from kb.cite.quote import QuoteIndex, Source, excerpt_in, misquote_ratio
from kb.cite.resolve import CurrentPassages, Resolution, resolve
from kb.content.render import TRAIL_SEPARATOR, sanitise
from kb.index.records import PassageRecord, PositionRecord
from kb.limits import MAX_ADDRESS_CHARS
from kb.service import KnowledgeBase


def ledger_of(kb: KnowledgeBase) -> Ledger:
    """The citation ledger of ``kb``'s content folder, re-read when it changes; never raises."""
    return kb.side_file(LEDGER_FILE, read_ledger_file)


def current_passages(kb: KnowledgeBase) -> CurrentPassages:
    """The visible positions' passages, cached per index revision."""
    return kb.cached(("cite:current",), lambda: CurrentPassages(kb.records()))


def resolve_id(kb: KnowledgeBase, passage_id: str) -> Resolution | None:
    """What a citation id points to now; None for ids never published."""
    return resolve(passage_id, ledger_of(kb), current_passages(kb))


def moved_to(kb: KnowledgeBase, slug: str) -> str | None:
    """The visible position a renamed one now lives at, or None."""
    target = ledger_of(kb).moved_to(slug) if len(slug) <= MAX_ADDRESS_CHARS else None
    return target if target and kb.position(target) is not None else None


def quote_index(kb: KnowledgeBase) -> QuoteIndex:
    """Current passages and archived wordings, cached per revision and ledger."""
    ledger = ledger_of(kb)

    def build() -> QuoteIndex:
        current = current_passages(kb)
        sources = [Source(pid, live.passage.text, True) for pid, live in current.by_id.items()]
        # Archived wordings were all published once, whatever their file says now.
        sources += [Source(e.id, e.text, False) for e in ledger.entries.values()
                    if e.id not in current.by_id]  # fmt: skip
        return QuoteIndex(sources)

    return kb.cached(("cite:quotes", ledger.digest), build)


MISQUOTE_RATIO = 0.8  # word-for-word likeness above which close wording is a misquote


@dataclass(frozen=True)
class QuoteLookup:
    """A quote's source, whether its wording still stands, and the current wording.

    ``status`` is "current" (our words today), "revised" (our words once, since
    changed), "withdrawn" (our words once, no longer published) or "misquote" (close to
    words we published, but not them: ``differences`` marks the words that differ, and
    the resolution is of our wording, never of the words pasted).
    """

    status: str
    match: str  # "exact" or "close"
    similarity: float
    excerpt: str  # the matched words in the source's wording
    resolution: Resolution
    current_text: str | None  # the current passage, when there is one
    current_excerpt: str | None  # the quoted stretch in the current wording, if found
    others: int
    differences: tuple[Segment, ...] = ()  # pasted words → ours (misquote), or old → new


def lookup_quote(kb: KnowledgeBase, text: str) -> QuoteLookup | None:
    """Find where ``text`` was quoted from; None when we have not published these words
    (nor anything differing from them by a word or two)."""
    found = quote_index(kb).find(text)
    if found is None:
        return None
    if found.match == "close" and misquote_ratio(text, found.excerpt) < MISQUOTE_RATIO:
        return None  # words from our vocabulary, but not a sentence we wrote
    resolution = resolve(found.source.id, ledger_of(kb), current_passages(kb))
    if resolution is None:
        return None
    current_text = current_excerpt = None
    differences: tuple[Segment, ...] = ()
    if resolution.is_current:
        current_text, current_excerpt = resolution.text, found.excerpt
    elif resolution.successor:
        current_text = resolution.successor.text
        current_excerpt = excerpt_in(current_text, text)
    if found.match == "close":
        status = "misquote"
        differences = words_only(word_diff(text.strip(), found.excerpt))
    else:
        status = resolution.status
        if current_excerpt and status == "revised":
            differences = word_diff(found.excerpt, current_excerpt)
    return QuoteLookup(status, found.match, found.similarity, found.excerpt, resolution,
                       current_text, current_excerpt, found.others, differences)  # fmt: skip


def words_only(segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """Changes in words only: the quote check ignores punctuation, so a full stop the
    pasted text has and ours does not is shown as it was pasted, not marked."""
    kept: list[Segment] = []
    for segment in segments:
        if segment.op != "same" and not any(c.isalnum() for c in segment.text):
            if segment.op == "ins":
                continue
            segment = Segment("same", segment.text)
        if kept and kept[-1].op == segment.op:
            kept[-1] = Segment(segment.op, kept[-1].text + segment.text)
        else:
            kept.append(segment)
    return tuple(kept)


@dataclass(frozen=True)
class PastVersion:
    """A position exactly as one recorded version published it."""

    as_of: str  # the date asked for
    record: PositionRecord  # as published then; ``updated`` is the version's date
    version: Version


def first_recorded(ledger: Ledger, slug: str) -> str | None:
    """The earliest date the ledger records for ``slug``."""
    versions = full_history(ledger, slug)
    return versions[0].date if versions else None


def past_version(ledger: Ledger, slug: str, day: date) -> PastVersion | None:
    """The position as it stood at the end of ``day``; None when it was not published."""
    version = version_on(full_history(ledger, slug), day.isoformat())
    if version is None or not version.is_published:
        return None
    parts, trail, passages = [], [], []
    for p in version.passages:
        entry = ledger.get(p.id)
        if entry is None:
            continue
        heading = p.heading.split(TRAIL_SEPARATOR) if p.heading else []
        shared = 0
        while shared < min(len(trail), len(heading)) and trail[shared] == heading[shared]:
            shared += 1
        for level, text in enumerate(heading[shared:], start=shared + 2):
            tag = f"h{min(level, 6)}"
            parts.append(f"<{tag}>{html.escape(text, quote=False)}</{tag}>\n")
        trail = heading
        # The stored HTML carries the passage's latest anchor; show the one it had then.
        parts.append(entry.html.replace(f'id="{entry.anchor}"', f'id="{p.anchor}"', 1))
        passages.append(PassageRecord(p.id, p.anchor, len(passages) + 1, p.heading,
                                      entry.text, entry.html))  # fmt: skip
    record = PositionRecord(
        slug=slug, title=version.title, summary=version.summary or "",
        topics=version.topics or (), status=version.status or "", updated=version.date,
        authors=version.authors or (), related=(), path="", html=sanitise("".join(parts)),
        headings=(), passages=tuple(passages), change_note=version.change_note,
    )  # fmt: skip
    return PastVersion(day.isoformat(), record, version)
