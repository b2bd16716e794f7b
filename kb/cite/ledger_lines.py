"""The ledger file's bytes, read and changed a few positions at a time.

Parsing every line of a large ledger takes seconds (digitalgov's is 40 MB), and so does
rendering it again. But the indexer writes every line the same way (``json.dumps`` with
keys in a fixed order, entries sorted by id, then versions by slug and date), so a
line's id, slug and date sit at known places at its start. Regular expressions over the
whole file find them in one pass each, which is enough to list the current passages,
to parse only the lines of the positions a run changed, and to put their new lines in
place by binary search, leaving every other byte as it was.

``LedgerText.of`` returns None for a file it does not recognise line by line (a line
edited by hand, merge-conflict markers, an older format): callers then read the whole
ledger with ``kb.cite.ledger``, which reports such lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable

from kb.cite.ledger import HEADER, Ledger, LedgerUpdate, parse_ledger

HEADER_LINE = json.dumps(HEADER, ensure_ascii=False).encode() + b"\n"
_SLUG = rb'"([^"\\\n]*)"'  # a slug with nothing to unescape; anything else is not ours
# Each pattern starts with the newline that ends the line before: a literal start lets
# the regular expression engine skip ahead instead of trying every offset of 40 MB.
ENTRY_RE = re.compile(rb'\n\{"id": "([0-9a-f]{12})", "slug": ' + _SLUG + rb", ")
VERSION_RE = re.compile(rb'\n\{"slug": ' + _SLUG + rb', "date": "(\d{4}-\d\d-\d\d)", ')
# Inside a JSON string a quote is escaped, so this can only be the key itself; every
# entry line has it once, and no version line has it.
STATE_RE = re.compile(rb', "last_seen": (null|"\d{4}-\d\d-\d\d"), ')


class LedgerText:
    """A ledger file written by this program, as bytes.

    Held as the header line, then ``entries`` and ``versions``: each a run of lines with
    the newline written before each line rather than after, so that every line, and every
    edit of one, starts with a newline.
    """

    def __init__(self, data: bytes, versions_at: int, heads: list) -> None:
        self.data = data
        self.entries = data[len(HEADER_LINE) - 1 : versions_at - 1]
        self.versions = data[versions_at - 1 : -1]
        self._heads = heads  # (id, slug) of every entry line, in order

    @classmethod
    def of(cls, data: bytes) -> LedgerText | None:
        """The ledger's bytes, if every line is as the indexer writes it; else None."""
        if not data.startswith(HEADER_LINE) or not data.endswith(b"\n"):
            return None
        first = VERSION_RE.search(data)
        versions_at = first.start() + 1 if first else len(data)
        heads = ENTRY_RE.findall(data, 0, versions_at)
        versions = len(VERSION_RE.findall(data, versions_at - 1))
        if 1 + len(heads) + versions != data.count(b"\n"):
            return None  # a line of another shape, or an entry among the versions
        return cls(data, versions_at, heads)

    def current_ids(self) -> dict[str, frozenset[str]] | None:
        """Slug → ids of the passages recorded as current (as ``publish.current_ids``);
        None if an entry line lacks its ``last_seen`` (not written by the indexer)."""
        states = STATE_RE.findall(self.entries)
        if len(states) != len(self._heads):
            return None
        current: dict[bytes, bool] = {}
        slugs: dict[bytes, bytes] = {}
        for (pid, slug), state in zip(self._heads, states, strict=True):
            current[pid] = current.get(pid, True) and state == b"null"  # twice: merged
            slugs[pid] = slug
        grouped: dict[str, set[str]] = {}
        for pid, live in current.items():
            if live:
                grouped.setdefault(slugs[pid].decode(), set()).add(pid.decode())
        return {slug: frozenset(ids) for slug, ids in grouped.items()}

    @staticmethod
    def _lines_of(slugs: Iterable[str]) -> tuple[re.Pattern, re.Pattern]:
        names = b"|".join(re.escape(slug.encode()) for slug in sorted(set(slugs)))
        entry = re.compile(rb'\n\{"id": "[0-9a-f]{12}", "slug": "(?:' + names + rb')", [^\n]*')
        version = re.compile(rb'\n\{"slug": "(?:' + names + rb')", "date": [^\n]*')
        return entry, version

    def ledger_of(self, slugs: Iterable[str]) -> Ledger:
        """The ledger as if it held only the lines of ``slugs``, parsed."""
        slugs = list(slugs)
        lines = [HEADER_LINE[:-1]]
        if slugs:
            entry, version = self._lines_of(slugs)
            lines += entry.findall(self.entries) + version.findall(self.versions)
        return parse_ledger(b"".join(lines).decode("utf-8") + "\n")

    def spliced(self, slugs: Iterable[str], update: LedgerUpdate) -> bytes:
        """The whole ledger with the lines of ``slugs`` replaced by ``update``'s, exactly
        as ``render_ledger`` writes it from every entry and version."""
        slugs = set(slugs)
        entries, versions = self.entries, self.versions
        if slugs:
            entry, version = self._lines_of(slugs)
            entries, versions = entry.sub(b"", entries), version.sub(b"", versions)
        new_entries = sorted(
            (e.id.encode(), b"\n" + e.to_line().encode())
            for e in update.entries.values()
            if e.slug in slugs
        )
        new_versions = sorted(
            ((v.slug.encode(), v.date.encode()), b"\n" + v.to_line().encode())
            for v in update.versions
            if v.slug in slugs
        )
        return b"".join(
            [HEADER_LINE[:-1], *_merged(entries, new_entries, _entry_key),
             *_merged(versions, new_versions, _version_key), b"\n"]
        )  # fmt: skip


def _entry_key(lines: bytes, at: int) -> bytes:
    return lines[at + 9 : at + 21]  # the id of the line starting (with its newline) at ``at``


def _version_key(lines: bytes, at: int) -> tuple[bytes, bytes]:
    end = lines.index(b'"', at + 11)
    return lines[at + 11 : end], lines[end + 12 : end + 22]


def _merged(lines: bytes, new: list, key: Callable[[bytes, int], object]) -> list[bytes]:
    """``lines`` (sorted) with each ``(key, line)`` of ``new`` (sorted) put in its place,
    found by binary search: the pieces to join."""
    pieces, start = [], 0
    for new_key, line in new:
        at = _insertion_point(lines, start, new_key, key)
        pieces += [lines[start:at], line]
        start = at
    pieces.append(lines[start:])
    return pieces


def _insertion_point(lines: bytes, low: int, wanted, key: Callable[[bytes, int], object]) -> int:
    """The start of the first line at or after ``low`` whose key is not below ``wanted``
    (every line starts with its newline, so ``low`` and the result sit on newlines)."""
    high = len(lines)
    while low < high:
        middle = lines.rfind(b"\n", low, (low + high) // 2 + 1)
        if key(lines, middle) < wanted:
            following = lines.find(b"\n", middle + 1)
            low = following if following >= 0 else high
        else:
            high = middle
    return low
