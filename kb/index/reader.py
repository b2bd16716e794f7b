"""Open the live index for reading: one searcher per thread, reused per revision.

A Whoosh searcher is not safe to share across threads, and opening one costs
milliseconds, so each thread keeps its own until CURRENT names a new generation.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from kb.index import store
from kb.index.schema import SCHEMA_VERSION
from kb.index.store import IndexMissing

RECHECK_SECONDS = 0.5  # how often a thread looks for a newer generation


@dataclass
class _Slot:
    revision: str
    searcher: Searcher
    checked: float


class IndexReader:
    """Hands each thread a searcher for the newest complete generation."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._local = threading.local()

    def revision(self) -> str:
        """The live revision; raises IndexMissing when there is no index."""
        return self._slot().revision

    def searcher(self) -> Searcher:
        """This thread's searcher over the live generation."""
        return self._slot().searcher

    def _slot(self) -> _Slot:
        slot: _Slot | None = getattr(self._local, "slot", None)
        now = time.monotonic()
        if slot and now - slot.checked < RECHECK_SECONDS:
            return slot
        revision = store.current_revision(self.index_dir)
        if slot and (revision == slot.revision or revision is None):
            slot.checked = now  # a vanished pointer keeps the open generation serving
            return slot
        if revision is None:
            raise IndexMissing(f"no search index in {self.index_dir}")
        fresh = _Slot(revision, self._open(revision), now)
        if slot:
            slot.searcher.close()
        self._local.slot = fresh
        return fresh

    def _open(self, revision: str) -> Searcher:
        try:
            manifest = store.read_manifest(self.index_dir, revision)
            if manifest.schema_version != SCHEMA_VERSION:
                raise IndexMissing(f"search index {revision} was built by another version")
            return whoosh_index.open_dir(str(self.index_dir / revision)).searcher()
        except (OSError, ValueError, KeyError, whoosh_index.IndexError) as exc:
            raise IndexMissing(f"search index {revision} cannot be opened: {exc}") from exc
