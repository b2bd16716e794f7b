"""The search counts on disk: one SQLite file, shared by every worker process.

WAL mode lets readers (``flask kb searches``, the preview) work while workers write;
each write is one short ``BEGIN IMMEDIATE`` transaction of upserts, and a busy timeout
makes concurrent writers queue instead of failing. One row per day and query:

    day       TEXT     the UTC date, YYYY-MM-DD (never a time)
    query     TEXT     the normalised search text
    searches  INTEGER  how many times it was searched that day
    empty     INTEGER  how many of those searches found nothing
    opened    INTEGER  how many of those searches had a result opened (never above searches)
    results   INTEGER  how many results the day's latest search found
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DB_FILE = "searches.sqlite3"
BUSY_TIMEOUT_MS = 5000  # writers wait in the background thread, never in a request
MAX_QUERIES_PER_DAY = 20_000  # new queries beyond this on one day are not stored
WAL_ATTEMPTS = 50
WAL_RETRY_SECONDS = 0.02

SCHEMA = """
CREATE TABLE IF NOT EXISTS search_counts (
    day TEXT NOT NULL,
    query TEXT NOT NULL,
    searches INTEGER NOT NULL,
    empty INTEGER NOT NULL,
    opened INTEGER NOT NULL DEFAULT 0,
    results INTEGER NOT NULL,
    PRIMARY KEY (day, query)
) WITHOUT ROWID
"""
UPSERT = """
INSERT INTO search_counts (day, query, searches, empty, opened, results)
VALUES (:day, :query, :searches, :empty, 0, :results)
ON CONFLICT (day, query) DO UPDATE SET
    searches = searches + excluded.searches,
    empty = empty + excluded.empty,
    results = excluded.results
"""
UPDATE = """
UPDATE search_counts SET searches = searches + :searches, empty = empty + :empty,
    results = :results
WHERE day = :day AND query = :query
"""
INSERT = """
INSERT INTO search_counts (day, query, searches, empty, opened, results)
VALUES (:day, :query, :searches, :empty, 0, :results)
"""
# An open is counted only for a query searched that day, and never more than its searches.
OPENED = """
UPDATE search_counts SET opened = MIN(searches, opened + :opened)
WHERE day = :day AND query = :query
"""


@dataclass(frozen=True)
class Tally:
    """Searches of one query on one day, as buffered before writing."""

    searches: int = 0
    empty: int = 0
    results: int = 0  # found by the latest search

    def add(self, results: int) -> Tally:
        return Tally(self.searches + 1, self.empty + (results == 0), results)


@dataclass(frozen=True)
class QueryTotals:
    """One query's counts summed over a period."""

    query: str
    searches: int
    empty: int
    opened: int
    results: int  # found by the latest search in the period


class InsightsStore:
    """The counts file in ``folder``; created on the first write."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / DB_FILE

    @contextmanager
    def _connect(self, create: bool) -> Iterator[sqlite3.Connection]:
        if create:
            self.folder.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are begun and ended explicitly below.
        with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                     isolation_level=None)) as conn:  # fmt: skip
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # In WAL mode NORMAL never corrupts the file; a power cut may lose the last
            # second's counts, which is worth not waiting for the disk on every write.
            conn.execute("PRAGMA synchronous = NORMAL")
            if create:
                _use_wal(conn)
                conn.execute(SCHEMA)
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect(create=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def write(
        self,
        searches: Mapping[tuple[str, str], Tally],
        opened: Mapping[tuple[str, str], int],
        forget_before: date | None = None,
    ) -> None:
        """Add buffered counts, keyed by (day, query), in one transaction.

        With ``forget_before``, counts from before that day are deleted in the same
        transaction. Raises ``sqlite3.Error`` or ``OSError`` when the file cannot be written.
        """
        with self._transaction() as conn:
            if forget_before is not None:
                conn.execute(
                    "DELETE FROM search_counts WHERE day < ?", (forget_before.isoformat(),)
                )
            for day in sorted({day for day, _ in searches}):
                batch = [
                    {"day": day, "query": query, "searches": t.searches, "empty": t.empty,
                     "results": t.results}
                    for (d, query), t in searches.items() if d == day
                ]  # fmt: skip
                _add_day(conn, day, batch)
            conn.executemany(
                OPENED,
                [{"day": day, "query": query, "opened": n} for (day, query), n in opened.items()],
            )

    def forget_before(self, day: date) -> int:
        """Delete every count from before ``day``; how many rows went."""
        if not self.path.exists():
            return 0
        with self._transaction() as conn:
            return conn.execute(
                "DELETE FROM search_counts WHERE day < ?", (day.isoformat(),)
            ).rowcount

    def totals(self, since: date, until: date, min_count: int) -> list[QueryTotals]:
        """Counts from ``since`` to ``until`` (both included) of each query searched at
        least ``min_count`` times in that period; rarer queries are never returned."""
        if not self.path.exists():
            return []
        with self._connect(create=False) as conn:
            # With exactly one max() in a query, SQLite takes a bare column (results)
            # from the row holding the maximum: the latest day's.
            rows = conn.execute(
                """
                SELECT query, SUM(searches), SUM(empty), SUM(opened), results, MAX(day)
                FROM search_counts WHERE day BETWEEN ? AND ?
                GROUP BY query HAVING SUM(searches) >= ?
                """,
                (since.isoformat(), until.isoformat(), min_count),
            ).fetchall()
        return [QueryTotals(*row[:5]) for row in rows]


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a new file to WAL mode (it stays so); a no-op for a file already in it.

    Switching needs the file to itself and SQLite does not wait for it, so when several
    workers create the file at once, the losers retry for a moment.
    """
    for _attempt in range(WAL_ATTEMPTS):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(WAL_RETRY_SECONDS)
    conn.execute("PRAGMA journal_mode = WAL")


def _add_day(conn: sqlite3.Connection, day: str, batch: list[dict]) -> None:
    """Upsert one day's counts; past the day's cap, only queries already stored grow.

    The cap keeps a flood of made-up queries from filling the disk.
    """
    stored = conn.execute("SELECT COUNT(*) FROM search_counts WHERE day = ?", (day,)).fetchone()[0]
    if stored + len(batch) <= MAX_QUERIES_PER_DAY:
        conn.executemany(UPSERT, batch)
        return
    room = MAX_QUERIES_PER_DAY - stored
    for row in batch:
        if conn.execute(UPDATE, row).rowcount == 0 and room > 0:
            conn.execute(INSERT, row)
            room -= 1
