"""The citation ledger: every passage ever published, kept beside the positions.

The ledger is a plain file in the content folder (``citations.ledger.jsonl``),
committed by editors with their change like a lock file, so it survives a fresh clone
and a rebuilt index. One JSON object per line, keys in a fixed order: rewriting it with
unchanged content gives the same bytes, and a diff shows only real changes. The first
line is a header naming the format; then one line per passage id ever published
(sorted by id: the wording, where it stood, when it was first and last published);
then one line per version of each position (sorted by slug and date: the title,
summary, topics, authors, change note and ordered passages as published that day).

Format 1 ledgers had no version lines. They are read as they are, and each position's
versions are rebuilt from its passages' dates (``synthesize_versions``), with what the
passages cannot tell (summary, topics, authors) left unknown; the next ``flask kb
index`` writes them down, so nothing is lost and every id resolves as before.

Reading never raises: a line that cannot be read is reported as ``file:line`` and the
other entries are kept; a ledger with such a line is never rewritten, so nothing is
lost. Git merge-conflict markers are skipped and both sides are kept, so running
``flask kb index`` resolves a conflicted ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from kb.content.loader import LoadResult, decode
from kb.content.model import Problem, is_passage_id, parse_day
from kb.index.records import PositionRecord

LEDGER_FILE = "citations.ledger.jsonl"
FORMAT_NAME = "positions-citation-ledger"
FORMAT_VERSION = 2
HEADER = {
    "format": FORMAT_NAME,
    "version": FORMAT_VERSION,
    "note": "Written by 'flask kb index'. Commit it with your change; do not edit it by hand.",
}
FIELDS = (
    "id", "slug", "title", "heading", "anchor", "ordinal",
    "first_seen", "last_seen", "revision", "text", "html",
)  # fmt: skip
VERSION_FIELDS = (
    "slug", "date", "status", "title", "summary", "topics", "authors", "change_note",
    "passages", "moved_to",
)  # fmt: skip
WITHDRAWN, MOVED = "withdrawn", "moved"  # version statuses besides the position's own
CONFLICT_MARKERS = ("<<<<<<<", "|||||||", "=======", ">>>>>>>")
RESTORE = "restore the line from version control"
FIX = f"run flask kb index and commit {LEDGER_FILE}"


@dataclass(frozen=True)
class Entry:
    """One passage id ever published: where it was, what it said, and when."""

    id: str
    slug: str
    title: str  # the position's title while the passage was current
    heading: str  # heading trail, e.g. "Europe › Trade"
    anchor: str
    ordinal: int
    first_seen: str  # ISO date the wording was first published
    last_seen: str | None  # ISO date it stopped being published; None while current
    revision: int  # the position's ledger revision in which the wording first appeared
    text: str  # the plain text, exactly as cited
    html: str  # sanitised HTML of the block, for the point-in-time view

    @property
    def is_current(self) -> bool:
        return self.last_seen is None

    def to_line(self) -> str:
        """The entry as one ledger line, keys in the fixed order."""
        return json.dumps({name: getattr(self, name) for name in FIELDS}, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: Any) -> Entry:
        """Build from one parsed line; raises ValueError naming what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        _expect_keys(data, FIELDS)
        _expect(data, ("slug", "title", "heading", "anchor", "text", "html"), str, "text")
        _expect(data, ("ordinal", "revision"), int, "a whole number")
        if not is_passage_id(str(data["id"])):
            raise ValueError(f"id '{data['id']}' is not 12 lower-case hex characters")
        if not _is_date(data["first_seen"]):
            raise ValueError("first_seen: expected a date like 2026-11-26")
        if data["last_seen"] is not None and not _is_date(data["last_seen"]):
            raise ValueError("last_seen: expected a date like 2026-11-26 or null")
        return cls(**{name: data[name] for name in FIELDS})


@dataclass(frozen=True)
class VersionPassage:
    """One passage of a version: its id, and where it stood on the page that day."""

    id: str
    anchor: str
    heading: str


@dataclass(frozen=True)
class Version:
    """A position as published on one date. ``None`` means not known (migrated ledgers)."""

    slug: str
    date: str  # ISO date it was published; at most one version per position per day
    status: str | None  # "adopted", "archived", "withdrawn" or "moved"
    title: str
    summary: str | None
    topics: tuple[str, ...] | None
    authors: tuple[str, ...] | None
    change_note: str
    passages: tuple[VersionPassage, ...]  # in page order
    moved_to: str | None = None  # the new address, when status is "moved"

    @property
    def is_published(self) -> bool:
        return self.status not in (WITHDRAWN, MOVED)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.passages)

    def content(self) -> tuple:
        """What a change is: everything but the date and the change note."""
        return (self.status, self.title, self.summary, self.topics, self.authors,
                self.passages, self.moved_to)  # fmt: skip

    def to_line(self) -> str:
        data: dict[str, Any] = {name: getattr(self, name) for name in VERSION_FIELDS}
        for name in ("topics", "authors"):
            data[name] = list(data[name]) if data[name] is not None else None
        data["passages"] = [[p.id, p.anchor, p.heading] for p in self.passages]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: dict) -> Version:
        """Build from one parsed version line; raises ValueError naming what is wrong."""
        _expect_keys(data, VERSION_FIELDS)
        _expect(data, ("slug", "title", "change_note"), str, "text")
        if not _is_date(data["date"]):
            raise ValueError("date: expected a date like 2026-11-26")
        for name in ("status", "summary", "moved_to"):
            if data[name] is not None and not isinstance(data[name], str):
                raise ValueError(f"{name}: expected text or null")
        lists = {}
        for name in ("topics", "authors"):
            value = data[name]
            if value is not None and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                raise ValueError(f"{name}: expected a list of text or null")
            lists[name] = tuple(value) if value is not None else None
        passages = []
        for item in data["passages"] if isinstance(data["passages"], list) else [None]:
            if not _is_version_passage(item):
                raise ValueError("passages: expected a list of [id, anchor, heading]")
            passages.append(VersionPassage(*item))
        return cls(
            slug=data["slug"], date=data["date"], status=data["status"], title=data["title"],
            summary=data["summary"], change_note=data["change_note"], passages=tuple(passages),
            moved_to=data["moved_to"], **lists,
        )  # fmt: skip


def _is_version_passage(item: Any) -> bool:
    return (
        isinstance(item, list)
        and len(item) == 3
        and all(isinstance(v, str) for v in item)
        and is_passage_id(item[0])
    )


def _expect_keys(data: dict, names: tuple[str, ...]) -> None:
    """Exactly the keys ``names``; raises ValueError naming the first unknown or missing."""
    unknown = sorted(set(data) - set(names))
    missing = [name for name in names if name not in data]
    if unknown:
        raise ValueError(f"unknown field '{unknown[0]}'")
    if missing:
        raise ValueError(f"missing field '{missing[0]}'")


def _expect(data: dict, names: tuple[str, ...], kind: type, label: str) -> None:
    for name in names:
        value = data[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{name}: expected {label}")


def _is_date(value: Any) -> bool:
    return parse_day(value) is not None


@dataclass(frozen=True)
class Ledger:
    """The ledger as read: entries by id, and every problem found reading it."""

    entries: Mapping[str, Entry] = field(default_factory=dict)
    versions: Mapping[str, tuple[Version, ...]] = field(default_factory=dict)  # as recorded
    problems: tuple[Problem, ...] = ()
    digest: str = ""  # sha256 of the file's bytes; "" when there is no file
    exists: bool = False
    writable: bool = True  # False when a line could not be read: rewriting would lose it
    conflicted: bool = False

    @cached_property
    def by_slug(self) -> dict[str, tuple[Entry, ...]]:
        """Entries grouped by position, in page order (oldest wording first on ties)."""
        groups: dict[str, list[Entry]] = {}
        for entry in self.entries.values():
            groups.setdefault(entry.slug, []).append(entry)
        return {
            slug: tuple(sorted(items, key=lambda e: (e.ordinal, e.first_seen, e.id)))
            for slug, items in groups.items()
        }

    def get(self, passage_id: str) -> Entry | None:
        return self.entries.get(passage_id)

    @cached_property
    def history(self) -> dict[str, tuple[Version, ...]]:
        """Every position's versions, oldest first: as recorded, or rebuilt from the
        passages' dates for a position a format 1 ledger knows only by its passages."""
        found = dict(self.versions)
        for slug, entries in self.by_slug.items():
            if slug not in found:
                found[slug] = synthesize_versions(slug, entries)
        return found

    def moved_to(self, slug: str) -> str | None:
        """Where a renamed position lives now, following later renames; None if not renamed."""
        seen, current = {slug}, slug
        while True:
            versions = self.history.get(current, ())
            if not versions or versions[-1].status != MOVED or not versions[-1].moved_to:
                return current if current != slug else None
            current = versions[-1].moved_to
            if current in seen:
                return None  # a loop of renames leads nowhere
            seen.add(current)

    def moved_from(self, slug: str) -> tuple[str, ...]:
        """Former addresses of ``slug``, oldest rename first."""
        return self._renamed.get(slug, ())

    @cached_property
    def _renamed(self) -> dict[str, tuple[str, ...]]:
        earlier: dict[str, list[tuple[str, str]]] = {}
        for old, versions in self.history.items():
            target = self.moved_to(old)
            if target:
                earlier.setdefault(target, []).append((versions[-1].date, old))
        return {slug: tuple(old for _, old in sorted(items)) for slug, items in earlier.items()}


def synthesize_versions(slug: str, entries: Iterable[Entry]) -> tuple[Version, ...]:
    """A position's versions rebuilt from its passages' first and last dates (format 1).

    Page order and title come from the passages; summary, topics and authors are unknown.
    """
    entries = sorted(entries, key=lambda e: (e.ordinal, e.first_seen, e.id))
    days = sorted({d for e in entries for d in (e.first_seen, e.last_seen) if d})
    versions: list[Version] = []
    for day in days:
        live = [e for e in entries if e.first_seen <= day and (e.last_seen or "9") > day]
        if live:
            title = max(live, key=lambda e: (e.first_seen, e.revision)).title
        else:
            title = versions[-1].title if versions else entries[0].title
        passages = tuple(VersionPassage(e.id, e.anchor, e.heading) for e in live)
        version = Version(slug, day, None if live else WITHDRAWN, title, None, None, None, "",
                          passages)  # fmt: skip
        if versions and versions[-1].content() == version.content():
            continue
        if versions or live:
            versions.append(version)
    return tuple(versions)


def parse_ledger(text: str, label: str = LEDGER_FILE) -> Ledger:
    """Read ledger text; bad lines become problems naming ``label:line``."""
    entries: dict[str, Entry] = {}
    versions: dict[tuple[str, str], Version] = {}
    problems: list[Problem] = []
    writable, conflicted = True, False
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(CONFLICT_MARKERS):
            conflicted = True
            continue
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            message = f"line is not valid JSON ({exc.msg} at column {exc.colno}); {RESTORE}"
            problems.append(Problem(label, number, message))
            writable = False
            continue
        if isinstance(data, dict) and "format" in data:
            header_problem = _header_problem(data, label, number)
            if header_problem:
                problems.append(header_problem)
                writable = False
            continue
        if isinstance(data, dict) and "passages" in data and "id" not in data:
            try:
                version = Version.from_json(data)
            except ValueError as exc:
                message = f"not a ledger version: {exc}; {RESTORE}"
                problems.append(Problem(label, number, message))
                writable = False
                continue
            # Both sides of a merge may record the same day: the later line wins, and
            # the next `flask kb index` records what is really published.
            versions[(version.slug, version.date)] = version
            continue
        try:
            entry = Entry.from_json(data)
        except ValueError as exc:
            problems.append(Problem(label, number, f"not a ledger entry: {exc}; {RESTORE}"))
            writable = False
            continue
        if entry.id in entries:
            entry = merge_entries(entries[entry.id], entry)
            if not conflicted:
                message = f"passage {entry.id} is listed twice; the lines were merged"
                problems.append(Problem(label, number, message, "warning"))
        entries[entry.id] = entry
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    by_slug: dict[str, list[Version]] = {}
    for key in sorted(versions):
        by_slug.setdefault(key[0], []).append(versions[key])
    grouped = {slug: tuple(items) for slug, items in by_slug.items()}
    return Ledger(entries, grouped, tuple(problems), digest, True, writable, conflicted)


def _header_problem(data: dict, label: str, number: int) -> Problem | None:
    if data.get("format") != FORMAT_NAME:
        return Problem(label, number, f"unknown ledger format '{data.get('format')}'")
    version = data.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        message = f"ledger format version {version} is newer than this program understands"
        return Problem(label, number, message)
    return None


def merge_entries(first: Entry, second: Entry) -> Entry:
    """Two lines for one id (both sides of a merge): keep the earliest dates."""
    retired = [d for d in (first.last_seen, second.last_seen) if d]
    return replace(
        second,
        first_seen=min(first.first_seen, second.first_seen),
        last_seen=min(retired) if retired else None,
        revision=min(first.revision, second.revision),
    )


def read_ledger_file(path: Path) -> Ledger:
    """The ledger at ``path``; an empty one when the file does not exist. Never raises."""
    label = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Ledger()
    except OSError as exc:
        problem = Problem(label, 1, f"cannot read the citation ledger: {exc.strerror}")
        return Ledger(problems=(problem,), exists=True, writable=False)
    text, problem = decode(label, data)
    if problem:
        return _read_damaged(data, label)
    return parse_ledger(text, label)


def _read_damaged(data: bytes, label: str) -> Ledger:
    """A ledger with bytes that are not UTF-8: each such line is reported and skipped,
    every other entry is kept, and the file is never rewritten (nothing is lost)."""
    lines, problems = [], []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError:
            lines.append("")  # keeps the numbering of the lines after it
            problems.append(Problem(label, number, f"line is not valid UTF-8; {RESTORE}"))
    ledger = parse_ledger("\n".join(lines), label)
    return replace(ledger, problems=tuple(problems) + ledger.problems, writable=False)


def read_ledger(folder: Path) -> Ledger:
    """The ledger of a content folder."""
    return read_ledger_file(folder / LEDGER_FILE)


def render_ledger(entries: Iterable[Entry], versions: Iterable[Version] = ()) -> str:
    """The ledger file text: the header, one line per entry sorted by id, then one line
    per version sorted by slug and date."""
    lines = [json.dumps(HEADER, ensure_ascii=False)]
    lines += [entry.to_line() for entry in sorted(entries, key=lambda e: e.id)]
    lines += [v.to_line() for v in sorted(versions, key=lambda v: (v.slug, v.date))]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Published:
    """A passage the live index publishes, with its position's title and date."""

    id: str
    slug: str
    title: str
    heading: str
    anchor: str
    ordinal: int
    text: str
    html: str
    updated: str  # the position's ISO ``updated`` date, or ""


def published_passages(records: Iterable[PositionRecord]) -> list[Published]:
    """Every passage of every non-draft position record: what the public can cite."""
    published = []
    for record in records:
        if record.is_draft:
            continue
        for p in record.passages:
            published.append(Published(
                p.id, record.slug, record.title, p.heading, p.anchor, p.ordinal, p.text,
                p.html, record.updated,
            ))  # fmt: skip
    return published


def position_dates(records: Iterable[PositionRecord]) -> dict[str, str]:
    """Slug → ``updated`` date of every position record, drafts included."""
    return {record.slug: record.updated for record in records}


@dataclass(frozen=True)
class LedgerUpdate:
    """The new entries and what changed, for the indexer's summary."""

    entries: dict[str, Entry]
    added: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()
    restored: tuple[str, ...] = ()
    versions: tuple[Version, ...] = ()  # every position's versions, after this run

    def text(self) -> str:
        """The ledger file as it should now read."""
        return render_ledger(self.entries.values(), self.versions)

    def summary(self) -> str:
        return (
            f"citation ledger: {len(self.added)} "
            f"{'passage' if len(self.added) == 1 else 'passages'} recorded, {len(self.retired)} "
            f"retired, {len(self.restored)} restored; commit {LEDGER_FILE}"
        )


def update_entries(
    old: Mapping[str, Entry],
    published: Sequence[Published],
    today: date,
    dates: Mapping[str, str] | None = None,
    days: Mapping[str, str] | None = None,
    kept: frozenset[str] = frozenset(),
) -> LedgerUpdate:
    """Record ``published`` as the current passages; retire what is no longer there.

    ``dates`` gives the ``updated`` date of positions that publish nothing now (drafts),
    so unpublishing can be dated too; ``days`` fixes the date a position's change is
    recorded under (``record_publication`` passes the date of its new version). The
    passages of positions in ``kept`` are left as they are. A pure function of its
    inputs: unchanged content gives unchanged entries.
    """
    live = {p.id: p for p in published}
    groups: dict[str, list[Entry]] = {}
    for entry in old.values():
        groups.setdefault(entry.slug, []).append(entry)
    added = tuple(sorted(pid for pid in live if pid not in old))
    restored = tuple(sorted(pid for pid in live if pid in old and not old[pid].is_current))
    gone = [e for e in old.values() if e.is_current and e.id not in live]
    retired = tuple(sorted(e.id for e in gone if e.slug not in kept))
    touched = {live[pid].slug for pid in added + restored} | {old[pid].slug for pid in retired}
    updated = {**(dates or {}), **{p.slug: p.updated for p in published}}
    day = {s: (days or {}).get(s) or change_day(groups.get(s, []), updated.get(s, ""), today)
           for s in touched}  # fmt: skip
    revision = {s: 1 + max((e.revision for e in groups.get(s, [])), default=0) for s in touched}
    entries = dict(old)
    for pid, p in live.items():
        where = dict(slug=p.slug, title=p.title, heading=p.heading, anchor=p.anchor,
                     ordinal=p.ordinal, html=p.html)  # fmt: skip
        if pid in old:
            entries[pid] = replace(old[pid], last_seen=None, **where)
        else:
            entries[pid] = Entry(id=pid, text=p.text, first_seen=day[p.slug], last_seen=None,
                                 revision=revision[p.slug], **where)  # fmt: skip
    for pid in retired:
        entries[pid] = replace(old[pid], last_seen=day[old[pid].slug])
    return LedgerUpdate(entries, added, retired, restored)


def change_day(
    entries: Iterable[Entry], updated: str, today: date, versions: Iterable[Version] = ()
) -> str:
    """The date a change to one position is recorded under.

    The position's ``updated`` date when editors moved it past every date already
    recorded for the position (so dates mean what writers expect), otherwise the
    indexing date; never earlier than a date already recorded, and never later than the
    day it is indexed (a mistyped future date must not rewrite history).
    """
    recorded = [d for e in entries for d in (e.first_seen, e.last_seen) if d]
    recorded += [v.date for v in versions]
    latest = max(recorded, default="")
    if updated and latest < updated <= today.isoformat():
        return updated
    return max(today.isoformat(), latest)


@dataclass(frozen=True)
class LedgerFacts:
    """What `flask kb check` needs of a ledger: its problems and its current passages.
    Small enough to keep between the preview's checks while the file is unchanged."""

    exists: bool
    problems: tuple[Problem, ...]
    conflicted: bool
    current: Mapping[str, str]  # id → slug of every passage recorded as current

    @classmethod
    def of(cls, ledger: Ledger) -> LedgerFacts:
        current = {pid: e.slug for pid, e in ledger.entries.items() if e.is_current}
        return cls(ledger.exists, ledger.problems, ledger.conflicted, current)


def ledger_facts(root: Path, memo: dict[str, LedgerFacts] | None = None) -> LedgerFacts:
    """The facts of the ledger in ``root``, from ``memo`` (by content hash) when it has
    them: parsing a large ledger takes seconds, hashing it a few hundredths."""
    if memo is None:
        return LedgerFacts.of(read_ledger(root))
    try:
        digest = hashlib.sha256((root / LEDGER_FILE).read_bytes()).hexdigest()
    except OSError:
        return LedgerFacts.of(read_ledger(root))
    if digest not in memo:
        memo.clear()  # only the latest matters
        memo[digest] = LedgerFacts.of(read_ledger(root))
    return memo[digest]


def ledger_problems(
    root: Path, results: Iterable[LoadResult], facts: LedgerFacts | None = None
) -> list[Problem]:
    """For `flask kb check`: unreadable lines, and a ledger behind the content."""
    ledger = facts or ledger_facts(root)
    results = list(results)
    positions = [r.position for r in results if r.position]
    published = {p.id: pos.path for pos in positions if pos.is_public
                 for p in pos.passages}  # fmt: skip
    if not ledger.exists:
        return []  # never indexed yet: the first `flask kb index` writes it
    problems = list(ledger.problems)
    if ledger.conflicted:
        message = f"the ledger has merge-conflict markers; {FIX} to merge both sides"
        problems.append(Problem(LEDGER_FILE, 1, message))
    current = ledger.current
    missing = sorted(pid for pid in published if pid not in current)
    # A file with errors keeps its last good version live, so its passages are not stale.
    loaded = {p.slug for p in positions}
    any_failed = any(r.position is None and r.intro is None for r in results)
    stale = [pid for pid, slug in current.items() if pid not in published
             and (slug in loaded or not any_failed)]  # fmt: skip
    if missing or stale:
        problems.append(Problem(LEDGER_FILE, 1, _out_of_date(missing, stale, published)))
    return problems


def _out_of_date(missing: list[str], stale: list[str], published: dict[str, str]) -> str:
    parts = []
    if missing:
        files = ", ".join(sorted({published[pid] for pid in missing}))
        parts.append(f"{_count(len(missing), 'published passage')} not recorded ({files})")
    if stale:
        verb = "is" if len(stale) == 1 else "are"
        parts.append(f"{_count(len(stale), 'passage')} recorded as current {verb} "
                     "no longer published")  # fmt: skip
    return f"ledger out of date: {' and '.join(parts)}; {FIX}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
