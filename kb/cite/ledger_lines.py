"""The ledger file as keyed lines, for runs that change a few positions of thousands.

Parsing every line of a large ledger takes seconds (digitalgov's is 40 MB), and so does
rendering it again. But the indexer writes every line the same way (``json.dumps`` with
keys in a fixed order), so a line's id, slug and date can be read off its start without
parsing it. That is enough to list which passages are current, to parse only the lines
of the positions a run changed, and to splice their new lines into the rest unchanged.

``LedgerLines.split`` returns None for text it does not recognise line by line (a line
edited by hand, merge-conflict markers, an older format): callers then read the whole
ledger with ``kb.cite.ledger``, which reports such lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from kb.cite.ledger import HEADER, Ledger, LedgerUpdate, parse_ledger

HEADER_LINE = json.dumps(HEADER, ensure_ascii=False).encode()
ENTRY_START, SLUG_KEY = b'{"id": "', b'", "slug": "'
VERSION_START, DATE_KEY = b'{"slug": "', b'", "date": "'
HEX_DIGITS = b"0123456789abcdef"
DATE_RE = re.compile(rb"\d{4}-\d\d-\d\d")
# Inside a JSON string a quote is escaped, so this can only be the key itself.
CURRENT_MARK = b', "last_seen": null, '


def _entry_key(line: bytes) -> tuple[str, str] | None:
    """(id, slug) read off an entry line's start; None if it is not written as ours are."""
    if not line.startswith(ENTRY_START) or line[20:32] != SLUG_KEY:
        return None
    end = line.find(b'"', 32)
    slug = line[32:end]
    if end < 0 or b"\\" in slug or line[8:20].strip(HEX_DIGITS):
        return None
    return line[8:20].decode(), slug.decode()


def _version_key(line: bytes) -> tuple[str, str] | None:
    """(slug, date) read off a version line's start; None if it is not one of ours."""
    if not line.startswith(VERSION_START):
        return None
    end = line.find(b'"', 10)
    slug = line[10:end]
    if end < 0 or b"\\" in slug or line[end : end + 12] != DATE_KEY:
        return None
    date = line[end + 12 : end + 22]
    if not DATE_RE.fullmatch(date) or line[end + 22 : end + 25] != b'", ':
        return None
    return slug.decode(), date.decode()


class EntryLine(NamedTuple):
    id: str
    slug: str
    current: bool
    line: bytes


class VersionLine(NamedTuple):
    slug: str
    date: str
    line: bytes


def current_ids(data: bytes) -> dict[str, frozenset[str]] | None:
    """Slug → ids of the passages recorded as current, read off the ledger's bytes (as
    ``LedgerLines.split(data).current_ids()`` without keeping the lines); None unless
    every line is as the indexer writes it."""
    lines = data.split(b"\n")
    if lines[0] != HEADER_LINE or lines[-1] != b"":
        return None
    current: dict[str, bool] = {}
    slugs: dict[str, str] = {}
    for line in lines[1:-1]:
        key = _entry_key(line)
        if key is None:
            if _version_key(line) is None:
                return None
            continue
        pid, slugs[pid] = key
        current[pid] = current.get(pid, True) and CURRENT_MARK in line  # twice: merged
    grouped: dict[str, set[str]] = {}
    for pid, live in current.items():
        if live:
            grouped.setdefault(slugs[pid], set()).add(pid)
    return {slug: frozenset(ids) for slug, ids in grouped.items()}


@dataclass(frozen=True)
class LedgerLines:
    """A ledger written by this program: its entry and version lines, keyed."""

    entries: tuple[EntryLine, ...]
    versions: tuple[VersionLine, ...]

    @classmethod
    def split(cls, data: bytes) -> LedgerLines | None:
        """The keyed lines of the ledger file's bytes; None unless every line is as the
        indexer writes it, in its order (header, entries by id, versions by slug, date)."""
        lines = data.split(b"\n")
        if lines[0] != HEADER_LINE or lines[-1] != b"":
            return None
        entries, versions = [], []
        for line in lines[1:-1]:
            key = None if versions else _entry_key(line)
            if key:
                entries.append(EntryLine(*key, CURRENT_MARK in line, line))
                continue
            key = _version_key(line)
            if not key:
                return None
            versions.append(VersionLine(*key, line))
        ids = [e.id for e in entries]
        keys = [(v.slug, v.date) for v in versions]
        if ids != sorted(set(ids)) or keys != sorted(set(keys)):
            return None  # out of order or listed twice: a merge, read it whole
        return cls(tuple(entries), tuple(versions))

    def current_ids(self) -> dict[str, frozenset[str]]:
        """Slug → ids of the passages recorded as current (as ``publish.current_ids``)."""
        found: dict[str, set[str]] = {}
        for entry in self.entries:
            if entry.current:
                found.setdefault(entry.slug, set()).add(entry.id)
        return {slug: frozenset(ids) for slug, ids in found.items()}

    def ledger_of(self, slugs: Iterable[str]) -> Ledger:
        """The ledger as if it held only the lines of ``slugs``, parsed."""
        wanted = set(slugs)
        lines = [HEADER_LINE]
        lines += [e.line for e in self.entries if e.slug in wanted]
        lines += [v.line for v in self.versions if v.slug in wanted]
        return parse_ledger(b"\n".join(lines).decode("utf-8") + "\n")

    def spliced(self, slugs: Iterable[str], update: LedgerUpdate) -> bytes:
        """The whole ledger with the lines of ``slugs`` replaced by ``update``'s, exactly
        as ``render_ledger`` writes it from every entry and version."""
        wanted = set(slugs)
        entries = [(e.id, e.line) for e in self.entries if e.slug not in wanted]
        entries += [(e.id, e.to_line().encode()) for e in update.entries.values()
                    if e.slug in wanted]  # fmt: skip
        versions = [((v.slug, v.date), v.line) for v in self.versions if v.slug not in wanted]
        versions += [((v.slug, v.date), v.to_line().encode()) for v in update.versions
                     if v.slug in wanted]  # fmt: skip
        lines = [HEADER_LINE]
        lines += [line for _, line in sorted(entries)]
        lines += [line for _, line in sorted(versions)]
        lines.append(b"")  # the final newline, without copying 40 MB once more
        return b"\n".join(lines)
