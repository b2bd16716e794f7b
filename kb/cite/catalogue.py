"""Citations for one knowledge base: resolve ids, look up quotes, rebuild old versions.

Everything derived from the index and the ledger is cached per index revision (and
ledger digest), so a new generation or a new ledger invalidates it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from kb.cite.ledger import LEDGER_FILE, Entry, Ledger, read_ledger_file
from kb.cite.quote import QuoteIndex, Source, excerpt_in
from kb.cite.resolve import CurrentPassages, Resolution, resolve
from kb.content.render import TRAIL_SEPARATOR, sanitise
from kb.index.records import PassageRecord, PositionRecord
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


@dataclass(frozen=True)
class QuoteLookup:
    """A quote's source, whether its wording still stands, and the current wording."""

    status: str  # "current", "changed" or "withdrawn"
    match: str  # "exact" or "close"
    similarity: float
    excerpt: str  # the matched words in the source's wording
    resolution: Resolution
    current_text: str | None  # the current passage, when there is one
    current_excerpt: str | None  # the quoted stretch in the current wording, if found
    others: int


def lookup_quote(kb: KnowledgeBase, text: str) -> QuoteLookup | None:
    """Find where ``text`` was quoted from; None when nothing matches closely enough."""
    found = quote_index(kb).find(text)
    if found is None:
        return None
    resolution = resolve(found.source.id, ledger_of(kb), current_passages(kb))
    if resolution is None:
        return None
    current_text = current_excerpt = None
    if resolution.is_current:
        status = "current" if found.match == "exact" else "changed"
        current_text, current_excerpt = resolution.text, found.excerpt
    elif resolution.successor:
        status = "changed"
        current_text = resolution.successor.text
        current_excerpt = excerpt_in(current_text, text)
    else:
        status = "withdrawn"
    return QuoteLookup(status, found.match, found.similarity, found.excerpt, resolution,
                       current_text, current_excerpt, found.others)  # fmt: skip


@dataclass(frozen=True)
class PastVersion:
    """A position rebuilt from the ledger as it stood on one date."""

    as_of: str
    record: PositionRecord  # its ``updated`` is the last change on or before ``as_of``


def entries_as_of(ledger: Ledger, slug: str, day: date) -> list[Entry]:
    """The wordings of ``slug`` published at the end of ``day``, in page order."""
    iso = day.isoformat()
    return [e for e in ledger.by_slug.get(slug, ())
            if e.first_seen <= iso and (e.last_seen is None or e.last_seen > iso)]  # fmt: skip


def first_recorded(ledger: Ledger, slug: str) -> str | None:
    """The earliest date the ledger records for ``slug``."""
    return min((e.first_seen for e in ledger.by_slug.get(slug, ())), default=None)


def past_version(ledger: Ledger, slug: str, day: date) -> PastVersion | None:
    """The position as it stood on ``day``; None when it had no published passages."""
    entries = entries_as_of(ledger, slug, day)
    if not entries:
        return None
    latest = max(entries, key=lambda e: (e.first_seen, e.revision))
    changes = [d for e in ledger.by_slug[slug] for d in (e.first_seen, e.last_seen)
               if d and d <= day.isoformat()]  # fmt: skip
    parts, trail = [], []
    for entry in entries:
        heading = entry.heading.split(TRAIL_SEPARATOR) if entry.heading else []
        shared = 0
        while shared < min(len(trail), len(heading)) and trail[shared] == heading[shared]:
            shared += 1
        for level, text in enumerate(heading[shared:], start=shared + 2):
            tag = f"h{min(level, 6)}"
            parts.append(f"<{tag}>{html.escape(text, quote=False)}</{tag}>\n")
        trail = heading
        parts.append(entry.html)
    passages = tuple(PassageRecord(e.id, e.anchor, e.ordinal, e.heading, e.text, e.html)
                     for e in entries)  # fmt: skip
    record = PositionRecord(
        slug=slug, title=latest.title, summary="", topics=(), status="", updated=max(changes),
        authors=(), related=(), path="", html=sanitise("".join(parts)), headings=(),
        passages=passages,
    )  # fmt: skip
    return PastVersion(day.isoformat(), record)
