"""After indexing: record in the ledger every passage the live index publishes.

Runs inside the indexer lock, right after a generation goes live, and reads the full
set of current passages from that generation's stored records, so an incremental run
that loaded only a few files still records (and retires) correctly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kb.cite.history import record_publication
from kb.cite.ledger import LEDGER_FILE, read_ledger
from kb.content.model import Problem
from kb.index.reader import IndexReader
from kb.index.run import all_records
from kb.index.store import write_atomic

STAMP_FILE = "ledger.stamp"  # in the index folder: the revision the ledger last matched


@dataclass
class Recorded:
    """What recording did: lines for the indexer's summary, and problems."""

    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def live_records(index_dir: Path) -> list[dict]:
    """Every position record of the live generation, drafts included."""
    reader = IndexReader(index_dir)
    try:
        return all_records(reader.searcher(), include_drafts=True)
    finally:
        reader.close()


def record_citations(
    positions_dir: Path, index_dir: Path, revision: str, today: date | None = None
) -> Recorded:
    """Bring the ledger in ``positions_dir`` up to date with the live index ``revision``.

    Skipped when this revision was already recorded and the ledger file is untouched
    since (a stamp in the index folder says so): a large ledger takes seconds to check.
    """
    ledger_path = positions_dir / LEDGER_FILE
    if _read_stamp(index_dir) == _stamp(revision, ledger_path):
        return Recorded()
    outcome = _record(positions_dir, index_dir, today or date.today())
    if not any(problem.is_error for problem in outcome.problems):
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


def _record(positions_dir: Path, index_dir: Path, today: date) -> Recorded:
    outcome = Recorded()
    ledger = read_ledger(positions_dir)
    outcome.problems.extend(ledger.problems)
    if not ledger.writable:
        message = "citation ledger not updated: fix the problem above, then run flask kb index"
        line = ledger.problems[0].line if ledger.problems else 1
        outcome.problems.append(Problem(LEDGER_FILE, line, message))
        return outcome
    records = live_records(index_dir)
    update = record_publication(ledger, records, today)  # drafts are never published
    text = update.text()
    unchanged = hashlib.sha256(text.encode("utf-8")).hexdigest() == ledger.digest
    if unchanged or (not ledger.exists and not update.entries):
        return outcome
    try:
        write_atomic(positions_dir / LEDGER_FILE, text)
    except OSError as exc:
        message = (
            f"cannot write the citation ledger: {exc.strerror}; check the folder's permissions"
        )
        outcome.problems.append(Problem(LEDGER_FILE, 1, message))
        return outcome
    if ledger.conflicted:
        outcome.notes.append(f"citation ledger: merged both sides of the conflict in {LEDGER_FILE}")
    outcome.notes.append(update.summary())
    return outcome
