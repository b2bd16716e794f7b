"""Open the live index for reading: one searcher per thread, reused per revision.

A Whoosh searcher is not safe to share across threads, and opening one costs
milliseconds, so each thread keeps its own until CURRENT names a new generation.

If the index folder is deleted under a running server, the process keeps serving the
last generation it opened: its files are held open (``PinnedStorage``), so even a
thread that never searched before can open a searcher on them.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.searching import Searcher

from kb.index import store
from kb.index.schema import SCHEMA_VERSION
from kb.index.store import IndexMissing

RECHECK_SECONDS = 0.5  # how often a thread looks for a newer generation
PROC_FD = Path("/proc/self/fd")  # Linux: reopens a held file even after it is deleted


class NoIndexFolder(IndexMissing):
    """The index folder does not exist: never built here, or deleted."""


class NoCompleteIndex(IndexMissing):
    """The index folder exists but names no complete generation."""


class IndexUnreadable(IndexMissing):
    """The live generation cannot be opened: damaged, or built by another version."""


class PinnedStorage(FileStorage):
    """A generation folder whose files stay readable after they are deleted.

    Every file is held open from the moment the process opens the generation, and read
    through /proc/self/fd: a fresh handle onto the same data, whether or not its name
    still exists (an indexer prunes old generations while readers may be opening them).
    The handles close when the last searcher using the storage is gone.

    Whoosh opens a multi-segment reader file by file and, if one fails, leaves the ones
    it opened to the garbage collector; ``opening()`` collects the files a thread opens,
    so a failed open can close them.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder), readonly=True)
        self.held: dict[str, int] = {}
        self._opening = threading.local()
        weakref.finalize(self, _close_all, self.held)
        for name in os.listdir(folder):
            if not name.endswith("LOCK"):
                self.held[name] = os.open(folder / name, os.O_RDONLY)
                _read_ahead(self.held[name])

    def list(self) -> list[str]:
        return super().list() or list(self.held)

    def _fpath(self, fname: str) -> str:
        if fname in self.held and PROC_FD.is_dir():
            return str(PROC_FD / str(self.held[fname]))
        return super()._fpath(fname)

    def open_file(self, name: str, **kwargs):
        handle = PositionalFile(open(self._fpath(name), "rb"), name=name, **kwargs)
        opened = getattr(self._opening, "files", None)
        if opened is not None:
            opened.append(handle)
        return handle

    @contextmanager
    def opening(self) -> Iterator[None]:
        """Close every file this thread opened in the block if the block fails."""
        self._opening.files = []
        try:
            yield
        except BaseException:
            for handle in self._opening.files:
                if not handle.is_closed:
                    handle.close()
            raise
        finally:
            self._opening.files = None


class PositionalFile(StructFile):
    """A Whoosh file whose ``get`` (read ``length`` bytes at ``position``) is one
    ``pread``. Whoosh finds a term and reads its postings in many small gets, each a
    seek and a read through Python's buffered file before; a fresh worker's first 200
    searches now take about a tenth less CPU. Whoosh's own in-memory files read
    the same way, leaving the file position where it was, so its readers expect that.
    (A memory mapping was as fast, but counted the index's pages in each worker's
    memory: 225 against 161 MB after those 200 searches.)"""

    def __init__(self, fileobj, name: str, **kwargs) -> None:
        super().__init__(fileobj, name=name, **kwargs)
        self._fd = fileobj.fileno()

    def get(self, position: int, length: int) -> bytes:
        return os.pread(self._fd, length, position)


def _read_ahead(fd: int) -> None:
    """Ask the kernel to bring a file into the page cache in the background: a
    generation's first searches then find its blocks in memory, not on disk (after the
    cache was emptied, a fresh worker's first 200 searches took 17 % more CPU, now 3 %)."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass  # only advice: a file system that ignores it is read as before


def _close_all(held: dict[str, int]) -> None:
    for fd in held.values():
        os.close(fd)


def _close_searchers(searchers: list[tuple[threading.Thread, Searcher, str]]) -> None:
    for _thread, searcher, _revision in searchers:
        searcher.close()
    searchers.clear()


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
        self._lock = threading.Lock()
        self._pinned: tuple[str, PinnedStorage] | None = None  # the newest opened
        # Every open searcher with its thread and revision, so searchers of finished
        # threads (a dev server runs each request in a new thread) are handed to new
        # threads or closed, and those of a discarded reader get closed.
        self._open_searchers: list[tuple[threading.Thread, Searcher, str]] = []
        weakref.finalize(self, _close_searchers, self._open_searchers)

    def close(self) -> None:
        """Close every searcher this reader opened (it can still open new ones)."""
        with self._lock:
            _close_searchers(self._open_searchers)
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
            revision = self._last_opened()
        adopted = self._adopt(revision) if slot is None else None
        fresh = _Slot(revision, adopted or self._open(revision), now)
        if adopted is None:
            self._track(fresh.searcher, revision, replaced=slot.searcher if slot else None)
        self._local.slot = fresh
        return fresh

    def _adopt(self, revision: str) -> Searcher | None:
        """A searcher that a finished thread left open on ``revision``, now this thread's:
        a server running each request in a new thread (the preview) would otherwise open
        one per request (4 ms on digitalgov)."""
        me = threading.current_thread()
        with self._lock:
            for i, (thread, searcher, opened) in enumerate(self._open_searchers):
                if opened == revision and not thread.is_alive():
                    self._open_searchers[i] = (me, searcher, opened)
                    return searcher
        return None

    def _track(self, searcher: Searcher, revision: str, replaced: Searcher | None) -> None:
        """Remember a new searcher; close the one it replaces and those of dead threads."""
        with self._lock:
            keep, done = [], []
            for thread, other, opened in self._open_searchers:
                if other is replaced or not thread.is_alive():
                    done.append(other)
                else:
                    keep.append((thread, other, opened))
            keep.append((threading.current_thread(), searcher, revision))
            self._open_searchers[:] = keep
        for other in done:
            other.close()

    def _last_opened(self) -> str:
        """With no live index on disk: the generation this process opened last."""
        with self._lock:
            if self._pinned is None:
                if not self.index_dir.is_dir():
                    raise NoIndexFolder(f"no index folder {self.index_dir}")
                raise NoCompleteIndex(f"no complete search index in {self.index_dir}")
            return self._pinned[0]

    def _open(self, revision: str) -> Searcher:
        try:
            storage = self._storage(revision)
            with storage.opening():
                return whoosh_index.FileIndex(storage).searcher()
        except (OSError, ValueError, KeyError, whoosh_index.IndexError) as exc:
            raise IndexUnreadable(f"search index {revision} cannot be opened: {exc}") from exc

    def _storage(self, revision: str) -> PinnedStorage:
        """The pinned files of ``revision``, pinning them on first use."""
        with self._lock:
            if self._pinned and self._pinned[0] == revision:
                return self._pinned[1]
        if store.schema_version(self.index_dir, revision) != SCHEMA_VERSION:
            raise IndexUnreadable(f"search index {revision} was built by another version")
        storage = PinnedStorage(self.index_dir / revision)
        with self._lock:
            self._pinned = (revision, storage)
        return storage
