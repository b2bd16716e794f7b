"""Record in the ledger every passage a generation publishes, before it goes live.

Runs inside the indexer lock as the indexer's ``before_publish`` step, on the finished
generation, and reads the full set of its passages from its stored records, so an
incremental run that loaded only a few files still records (and retires) correctly.
When the ledger cannot be brought up to date (a damaged line, a full disk, no
permission), the generation is refused: the site never serves a passage the ledger
does not know.

Passages of a position that was published, and now fails validation with no last good
version to show (a fresh clone), stay current in the ledger: a typo never withdraws a
citation.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from kb.cite.history import record_publication
from kb.cite.ledger import LEDGER_FILE, Ledger, LedgerUpdate, read_ledger
from kb.cite.ledger_lines import LedgerText
from kb.content.loader import settled, stat_facts
from kb.content.model import Problem
from kb.index.build import Generation, PublishRefused
from kb.index.records import PositionRecord
from kb.index.store import remove_leftovers, write_atomic

STAMP_FILE = "ledger.stamp"  # in the index folder: the revision the ledger last matched


@dataclass
class Recorded:
    """What recording did: lines for the indexer's summary, and problems."""

    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    blocked: str = ""  # why the ledger could not be brought up to date, when it could not


def current_ids(ledger: Ledger) -> dict[str, frozenset[str]]:
    """Slug → ids of the passages the ledger records as current."""
    found: dict[str, set[str]] = {}
    for entry in ledger.entries.values():
        if entry.is_current:
            found.setdefault(entry.slug, set()).add(entry.id)
    return {slug: frozenset(ids) for slug, ids in found.items()}


class LedgerSnapshot:
    """The ledger file's bytes as read (None: no file), recognised as the indexer's own
    (``LedgerText``) when first asked."""

    def __init__(self, data: bytes | None) -> None:
        self.data = data

    @classmethod
    def read(cls, positions_dir: Path) -> LedgerSnapshot:
        try:
            return cls((positions_dir / LEDGER_FILE).read_bytes())
        except OSError:
            return cls(None)

    @cached_property
    def text(self) -> LedgerText | None:
        return None if self.data is None else LedgerText.of(self.data)

    def text_if_still(self, data: bytes) -> LedgerText | None:
        """``LedgerText`` of ``data``: this one, when the file has not changed since."""
        return self.text if data == self.data else LedgerText.of(data)


def recorded_ids(
    positions_dir: Path, snapshot: LedgerSnapshot | None = None
) -> dict[str, frozenset[str]]:
    """Slug → ids of the passages the ledger records as current: read off its bytes when
    the indexer wrote every line (fast), else from the whole ledger parsed."""
    text = (snapshot or LedgerSnapshot.read(positions_dir)).text
    found = text.current_ids() if text else None
    return found if found is not None else current_ids(read_ledger(positions_dir))


def remembered_ids(positions_dir: Path, memo: dict) -> dict[str, frozenset[str]]:
    """``recorded_ids``, kept in ``memo`` while the ledger file keeps its size and times:
    the preview asks after every save, and the ledger changes only when indexed."""
    try:
        facts = settled(stat_facts(positions_dir / LEDGER_FILE), time.time_ns())
    except OSError:
        facts = None
    key = tuple(facts) if facts else None
    if key is None or key not in memo:
        memo.clear()
        found = recorded_ids(positions_dir)
        if key is not None:
            memo[key] = found
        return found
    return memo[key]


def before_publish(
    positions_dir: Path,
    index_dir: Path,
    today: date | None = None,
    snapshot: LedgerSnapshot | None = None,
):
    """The indexer's ``before_publish`` step: record, or refuse the generation.

    ``snapshot`` (its bytes) is the ledger as read moments ago, reused when the file is
    unchanged since. A generation made from the live one by changing a few positions,
    when the ledger matched the live one, records only those.
    """
    ledger_path = positions_dir / LEDGER_FILE

    def record(generation: Generation) -> None:
        remove_leftovers(positions_dir, LEDGER_FILE)  # of a run killed while writing it
        if _read_stamp(index_dir) == _stamp(generation.revision, ledger_path):
            return  # recorded already, and the ledger is untouched since
        recorded = None
        if generation.base and _read_stamp(index_dir) == _stamp(generation.base, ledger_path):
            recorded = record_changes(positions_dir, index_dir, generation, today, snapshot)
        if recorded is None:
            report = generation.report
            served = generation.records()
            held = set(report.withheld.values()) - {record.slug for record in served}
            recorded = record_citations(
                positions_dir, index_dir, generation.revision, served, held, today
            )
        _report(generation, recorded)

    return record


def _report(generation: Generation, recorded: Recorded) -> None:
    report = generation.report
    report.problems.extend(recorded.problems)
    report.notes.extend(recorded.notes)
    report.ledger_ok = not any(problem.is_error for problem in recorded.problems)
    if recorded.blocked and not generation.live:
        raise PublishRefused(recorded.blocked)


def record_changes(
    positions_dir: Path,
    index_dir: Path,
    generation: Generation,
    today: date | None = None,
    snapshot: LedgerSnapshot | None = None,
) -> Recorded | None:
    """Record only the positions ``generation`` changed, splicing their lines into the
    ledger; None when the ledger's lines are not as the indexer writes them.

    Valid only when the ledger matched ``generation.base``: the other positions are
    published as they were then, so their lines stand.
    """
    ledger_path = positions_dir / LEDGER_FILE
    try:
        data = ledger_path.read_bytes()
    except OSError:
        return None
    text = (snapshot or LedgerSnapshot(None)).text_if_still(data)
    if text is None:
        return None
    slugs = set(generation.touched) | set(generation.report.withheld.values())
    served = generation.records(slugs)
    held = set(generation.report.withheld.values()) - {record.slug for record in served}
    ledger = text.ledger_of(slugs)
    if ledger.problems:
        return None
    update = record_publication(ledger, served, today or date.today(), kept=frozenset(held))
    spliced, outcome = text.spliced(slugs, update), Recorded()
    if spliced != data:
        outcome = _write(positions_dir, spliced, update, outcome, merged=False)
    if not outcome.blocked:
        write_atomic(index_dir / STAMP_FILE, _stamp(generation.revision, ledger_path))
    return outcome


def record_citations(
    positions_dir: Path,
    index_dir: Path,
    revision: str,
    records: list[PositionRecord],
    held: Iterable[str] = (),
    today: date | None = None,
) -> Recorded:
    """Bring the ledger in ``positions_dir`` up to date with generation ``revision``,
    whose position records are ``records``; passages of the ``held`` slugs stay as
    recorded.

    Skipped when this revision was already recorded and the ledger file is untouched
    since (a stamp in the index folder says so): a large ledger takes seconds to check.
    """
    ledger_path = positions_dir / LEDGER_FILE
    remove_leftovers(positions_dir, LEDGER_FILE)  # of a run killed while writing it
    if _read_stamp(index_dir) == _stamp(revision, ledger_path):
        return Recorded()
    outcome = _record(positions_dir, records, set(held), today or date.today())
    if not outcome.blocked and not any(p.is_error for p in outcome.problems):
        write_atomic(index_dir / STAMP_FILE, _stamp(revision, ledger_path))
    return outcome


def _stamp(revision: str, ledger_path: Path) -> str:
    try:
        stat = ledger_path.stat()
    except FileNotFoundError:
        return f"{revision} no-ledger\n"
    return f"{revision} {stat.st_mtime_ns} {stat.st_size}\n"


def _read_stamp(index_dir: Path) -> str | None:
    try:
        return (index_dir / STAMP_FILE).read_text(encoding="utf-8")
    except OSError:
        return None


def _record(
    positions_dir: Path,
    records: list[PositionRecord],
    held: set[str],
    today: date,
) -> Recorded:
    outcome = Recorded()
    ledger = read_ledger(positions_dir)
    outcome.problems.extend(ledger.problems)
    # Drafts are never published; the held positions' passages and versions stay as recorded.
    update = record_publication(ledger, records, today, kept=frozenset(held))
    if not ledger.writable:
        recorded = tuple(v for versions in ledger.history.values() for v in versions)
        if update.entries == dict(ledger.entries) and set(update.versions) == set(recorded):
            return outcome  # nothing to record: the damaged line is reported, nothing lost
        outcome.blocked = (
            "citation ledger not updated: fix the problem above, then run flask kb index"
        )
        line = ledger.problems[0].line if ledger.problems else 1
        outcome.problems.append(Problem(LEDGER_FILE, line, outcome.blocked))
        return outcome
    text = update.text().encode("utf-8")
    if hashlib.sha256(text).hexdigest() == ledger.digest:
        return outcome
    if not ledger.exists and not update.entries:
        return outcome
    return _write(positions_dir, text, update, outcome, merged=ledger.conflicted)


def _write(
    positions_dir: Path, text: bytes, update: LedgerUpdate, outcome: Recorded, merged: bool
) -> Recorded:
    """Write the ledger's new ``text``; a failure blocks the generation."""
    try:
        write_atomic(positions_dir / LEDGER_FILE, text)
    except OSError as exc:
        outcome.blocked = f"cannot write the citation ledger: {exc.strerror or exc}"
        message = f"{outcome.blocked}; free some space or check the folder's permissions"
        outcome.problems.append(Problem(LEDGER_FILE, 1, message))
        return outcome
    if merged:
        outcome.notes.append(f"citation ledger: merged both sides of the conflict in {LEDGER_FILE}")
    outcome.notes.append(update.summary())
    return outcome
