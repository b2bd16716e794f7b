"""Counting a search costs a request a dictionary update; writing happens elsewhere.

Counts wait in a small in-process buffer. The first count after a write starts a timer
thread that writes the whole buffer ``FLUSH_SECONDS`` later, in one transaction, and
ends; at exit whatever is left is written. A write that fails (read-only or full disk,
a damaged file, a lock held too long) is logged and its counts are dropped: insights
never delay or break a search.
"""

from __future__ import annotations

import atexit
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, date, datetime

from kb.insights import normalise_query, oldest_kept_day
from kb.insights.store import InsightsStore, Tally

FLUSH_SECONDS = 1.0
MAX_BUFFERED = 10_000  # distinct queries waiting to be written; more are dropped
WARN_EVERY_SECONDS = 300.0  # a disk that stays unwritable is logged now and then, not each second

log = logging.getLogger(__name__)
_LIVE: weakref.WeakSet[SearchCounter] = weakref.WeakSet()


def utc_today() -> date:
    return datetime.now(UTC).date()


class SearchCounter:
    """Buffers searches and opened results for one process and writes them to ``store``."""

    def __init__(
        self,
        store: InsightsStore,
        keep_months: int,
        flush_seconds: float = FLUSH_SECONDS,
        today: Callable[[], date] = utc_today,
    ) -> None:
        self.store = store
        self.keep_months = keep_months
        self._forgot_on: date | None = None  # old counts are deleted once a day
        self._warned_at: float | None = None
        self.flush_seconds = flush_seconds
        self.today = today
        self._reset()
        _LIVE.add(self)

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        # Held while writing, so that a flush at exit waits for a timer's write under way.
        self._writing = threading.Lock()
        self._searches: dict[tuple[str, str], Tally] = {}
        self._opened: dict[tuple[str, str], int] = {}
        self._timer: threading.Timer | None = None

    def count_search(self, text: str, results: int) -> None:
        """Count one search of ``text`` that found ``results`` results."""
        query = normalise_query(text)
        if not query:
            return
        key = (self.today().isoformat(), query)
        with self._locked():
            tally = self._searches.get(key)
            if tally is None and len(self._searches) >= MAX_BUFFERED:
                return
            self._searches[key] = (tally or Tally()).add(results)
            self._schedule()

    def count_opened(self, text: str) -> None:
        """Count that a result of today's search for ``text`` was opened."""
        query = normalise_query(text)
        if not query:
            return
        key = (self.today().isoformat(), query)
        with self._locked():
            if key not in self._opened and len(self._opened) >= MAX_BUFFERED:
                return
            self._opened[key] = self._opened.get(key, 0) + 1
            self._schedule()

    def _locked(self) -> threading.Lock:
        # A worker forked from a process that had counted starts with an empty buffer
        # and no timer: the parent's timer thread does not exist in the child.
        if self._pid != os.getpid():
            self._reset()
        return self._lock

    def _schedule(self) -> None:
        if self._timer is None:
            self._timer = threading.Timer(self.flush_seconds, self.flush)
            self._timer.daemon = True
            self._timer.start()

    def flush(self) -> None:
        """Write everything buffered now; on failure log it and drop those counts.

        Returns once every count buffered before the call is written (or dropped).
        """
        with self._locked():
            writing = self._writing
        with writing:
            with self._locked():
                searches, opened = self._searches, self._opened
                self._searches, self._opened, self._timer = {}, {}, None
            if searches or opened:
                self._write(searches, opened)

    def _write(self, searches: dict, opened: dict) -> None:
        today = self.today()
        forget = None if self._forgot_on == today else oldest_kept_day(today, self.keep_months)
        try:
            self.store.write(searches, opened, forget_before=forget)
            self._forgot_on = today
        except (sqlite3.Error, OSError) as exc:
            now = time.monotonic()
            quiet = self._warned_at is not None and now - self._warned_at < WARN_EVERY_SECONDS
            if not quiet:
                self._warned_at = now
            log.log(
                logging.DEBUG if quiet else logging.WARNING,
                "search insights: could not write %d counts to %s: %s",
                len(searches) + len(opened), self.store.path, exc,
            )  # fmt: skip


@atexit.register
def flush_all() -> None:
    """Write what every counter still holds: at exit (a gunicorn worker stopping, say),
    and after each test, so that no count is left for a timer to write during the next."""
    for counter in list(_LIVE):
        counter.flush()
