"""Live preview for editors: watch the content folder, re-index within a second of a save.

An editor's save is a burst of file events (write, close, rename of a temporary file), so
events only mark the index as due; a background thread re-indexes once the burst has
been quiet for ``DEBOUNCE`` seconds (or ``MAX_DELAY`` after the first event, so a steady
stream cannot starve it). Re-indexing goes through ``kb.indexing.reindex``, the same
atomic, locked path as ``flask kb index``: requests in flight keep reading the previous
generation until the new one is live. After each run the folder is checked as
``flask kb check`` would, and the findings are kept in memory for the preview pages.
Small index segments left by saves are folded, and their posting files written, once
the editor pauses (``COMPACT_AFTER``), so that no save waits for either.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

from flask import Flask
from watchdog.events import (
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from kb.cite.ledger import LedgerFacts
from kb.config import Settings
from kb.content.checks import FileFacts
from kb.content.deadline import WORKER
from kb.content.editors import TOPICS_FILE
from kb.index.build import compact_index
from kb.index.store import IndexBusy
from kb.indexing import check_all, reindex
from kb.preview_state import STATE_KEY, PreviewState, Snapshot
from kb.service import knowledge_base_of

DEBOUNCE = 0.1  # seconds of quiet after the last event of a save
MAX_DELAY = 1.0  # re-index at the latest this long after the first pending event
LOCK_WAIT = 30.0  # how long to wait for a `flask kb index` run to finish first
COMPACT_AFTER = 3.0  # seconds without a save before small index segments are folded
# Opening, reading and closing without writing (our own indexer does all three) and
# attribute changes say nothing about content; directories only matter as a whole.
CONTENT_EVENTS = {"created", "deleted", "modified", "moved", "closed"}
DIRECTORY_EVENTS = {EVENT_TYPE_CREATED, EVENT_TYPE_DELETED, EVENT_TYPE_MOVED}

log = logging.getLogger(__name__)


def is_relevant(event: FileSystemEvent, root: Path) -> bool:
    """Does this event change what the index or the checks see?

    Position files (``*.md``, not hidden, not ``_``-prefixed) and the topic list count;
    the citation ledger, synonyms, editors' swap and backup files do not.
    """
    if event.is_directory:
        if event.event_type not in DIRECTORY_EVENTS:
            return False
        return any(_visible(path, root) is not None for path in _paths(event))
    if event.event_type not in CONTENT_EVENTS:
        return False
    for path in _paths(event):
        relative = _visible(path, root)
        if relative is not None and (
            relative.suffix == ".md" or relative.as_posix() == TOPICS_FILE
        ):
            return True
    return False


def _paths(event: FileSystemEvent) -> list[str]:
    paths = [os.fsdecode(event.src_path)]
    if event.event_type == EVENT_TYPE_MOVED and event.dest_path:
        paths.append(os.fsdecode(event.dest_path))
    return paths


def _visible(path: str, root: Path) -> Path | None:
    """``path`` relative to ``root``, or None if outside it or hidden."""
    try:
        relative = Path(path).relative_to(root)
    except ValueError:
        return None
    if not relative.parts or any(part.startswith((".", "_")) for part in relative.parts):
        return None
    return relative


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, on_change) -> None:
        self.root, self.on_change = root, on_change

    def on_any_event(self, event: FileSystemEvent) -> None:
        if is_relevant(event, self.root):
            self.on_change(changed_files(event, self.root))


def changed_files(event: FileSystemEvent, root: Path) -> list[str] | None:
    """The position files a relevant event names, relative to ``root`` ("news/a.md"), or
    None when it may have changed more than files (a folder, the topic list)."""
    if event.is_directory:
        return None
    found = []
    for path in _paths(event):
        relative = _visible(path, root)
        if relative is not None and relative.as_posix() == TOPICS_FILE:
            return None
        if relative is not None and relative.suffix == ".md":
            found.append(relative.as_posix())
    return found


class LiveIndexer:
    """Re-indexes and re-checks in one background thread, shortly after changes stop."""

    def __init__(self, settings: Settings, state: PreviewState, debounce: float = DEBOUNCE) -> None:
        self.settings, self.state, self.debounce = settings, state, debounce
        self.runs = 0  # completed refreshes, for the CLI and tests
        self._cache: dict[str, FileFacts] = {}
        self._ledger_memo: dict[str, LedgerFacts] = {}
        self._ids_memo: dict = {}  # the ledger's current passage ids, while it is unchanged
        self._refreshing = threading.Lock()
        self._wake = threading.Condition()
        self._first: float | None = None  # monotonic time of the first pending event
        self._last: float | None = None
        self._compact_at: float | None = None  # when to fold segments, if no save comes
        self._changed: set[str] | None = set()  # files events named; None: maybe any
        self._unwalked = False  # a refresh trusted the watcher since the folder was walked
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="kb-preview", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request(self, files: list[str] | None = None) -> None:
        """Note a change to ``files`` (None: to anything); the refresh follows once
        changes pause, and looks only at the files named when every change named some."""
        with self._wake:
            if files is None or self._changed is None:
                self._changed = None
            else:
                self._changed.update(files)
            now = time.monotonic()
            self._first = self._first if self._first is not None else now
            self._last = now
            self._wake.notify()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _due(self) -> float | None:
        if self._first is None or self._last is None:
            return None
        return min(self._last + self.debounce, self._first + MAX_DELAY)

    def _loop(self) -> None:
        WORKER.start()  # this thread renders saved files in it (kb.content.deadline)
        while True:
            with self._wake:
                while not self._stopping:
                    due = self._due()
                    wake_at = due if due is not None else self._compact_at
                    if wake_at is not None and time.monotonic() >= wake_at:
                        break
                    self._wake.wait(None if wake_at is None else wake_at - time.monotonic())
                if self._stopping:
                    return
                pending = self._first is not None
                changed, self._changed = self._changed, set()
                self._first = self._last = self._compact_at = None
            if not pending:
                self._settle()
                continue
            self.refresh(changed)
            with self._wake:
                self._compact_at = time.monotonic() + COMPACT_AFTER

    def _settle(self) -> None:
        """Once the editor pauses: walk the folder, in case the watcher missed a change
        (a refresh trusted it since the last walk), then fold small segments."""
        if self._unwalked:
            self.refresh()
        self.compact()

    def compact(self) -> None:
        """Fold the small segments that saves left (see kb.index.merging) and write the
        posting files they lack. Never raises: the index stays as it was, and searches
        merely look in a few more segments, reading them through Whoosh."""
        with self._refreshing:
            try:
                compact_index(self.settings.index_dir)
            except IndexBusy:
                pass  # `flask kb index` is running, and folds them itself
            except OSError as exc:
                log.warning("could not fold the index's segments: %s", exc)

    def refresh(self, changed: Collection[str] | None = None) -> Snapshot:
        """Re-index and re-check now; with ``changed``, look only at those files (and the
        index's) instead of walking the folder. Never raises: a failure is shown on the
        pages."""
        with self._refreshing:
            self._unwalked = changed is not None
            try:
                snapshot = self._refresh(changed)
            except Exception:  # a bug must not kill the watcher; the editor sees it
                log.exception("preview refresh failed")
                failure = "re-indexing failed unexpectedly; the terminal shows why"
                snapshot = replace(self.state.current, failure=failure, checked_at=time.time())
            self.state.current = snapshot
            self.runs += 1
            return self.state.current

    def _refresh(self, changed: Collection[str] | None) -> Snapshot:
        previous = self.state.current
        try:
            report = reindex(
                self.settings, lock_wait=LOCK_WAIT, record_citations_too=False,
                ids_memo=self._ids_memo, fold=False, changed=changed,
            )  # fmt: skip
        except IndexBusy:
            self.request()  # try again shortly, without waiting for another save
            failure = "another indexer is busy with the index; trying again"
            return replace(previous, failure=failure, checked_at=time.time())
        except OSError as exc:
            failure = f"could not update the search index: {exc}"
            return replace(previous, failure=failure, checked_at=time.time())
        problems = check_all(self.settings, self._cache, self._ledger_memo, self._ids_memo, changed)
        return Snapshot(
            problems=tuple(problems),
            kept=frozenset(report.kept),
            summary=report.summary(),
            checked_at=time.time(),
        )


def watch(root: Path, on_change) -> Observer:
    """Start watching ``root`` recursively; ``on_change()`` runs on each relevant event."""
    observer = Observer()
    observer.schedule(_Handler(root, on_change), str(root), recursive=True)
    observer.daemon = True
    observer.start()
    return observer


class QuietServerHandler(WSGIRequestHandler):
    """Werkzeug's request handler without its "Werkzeug/x.y Python/x.y" banner."""

    def version_string(self) -> str:
        return "Positions"


class _QuietHandler(QuietServerHandler):
    def log_request(self, code="-", size="-") -> None:
        """Tests hammer the server; a line per request would only be noise."""


class PreviewServer:
    """The app served on host:port with live re-indexing; use as a context manager.

    The app must be in preview mode (``kb.web.preview.enable_preview``).
    """

    def __init__(
        self,
        app: Flask,
        host: str = "127.0.0.1",
        port: int = 5000,
        debounce: float = DEBOUNCE,
        quiet: bool = False,
    ) -> None:
        self.settings: Settings = knowledge_base_of(app).settings
        self.state: PreviewState = app.extensions[STATE_KEY]
        self.indexer = LiveIndexer(self.settings, self.state, debounce)
        handler = _QuietHandler if quiet else QuietServerHandler  # no version banner
        self.server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=handler
        )
        self.observer: Observer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, background: bool = True) -> PreviewServer:
        """Index and check once, start watching, then serve (in a thread if background)."""
        self.indexer.start()
        self.observer = watch(self.settings.positions_dir, self.indexer.request)
        self.indexer.refresh()
        # The folder's facts, kept for the next check, last as long as the server; out of
        # the collector's sight, a save no longer waits for a full pass over them (0.2 s
        # on a folder of 3,000 files).
        gc.freeze()
        if background:
            self._thread = threading.Thread(
                target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._thread:
            self.server.shutdown()
            self._thread.join(5)
        if self.observer:
            self.observer.stop()
            self.observer.join(5)
        self.indexer.stop()
        self.server.server_close()
        gc.unfreeze()  # what start froze is the collector's again

    def __enter__(self) -> PreviewServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
