"""What the live indexer (``kb.preview``) shares with the preview pages
(``kb.web.preview``): the latest check's outcome. Kept apart from the indexer so that a
server that never previews does not import the file watcher to serve pages."""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.content.model import Problem

STATE_KEY = "kb_preview"


@dataclass(frozen=True)
class Snapshot:
    """What the preview pages show: the latest problems and indexing outcome."""

    problems: tuple[Problem, ...] = ()
    kept: frozenset[str] = frozenset()  # files whose page shows their last good version
    summary: str = ""  # the last indexing run's summary
    failure: str = ""  # why the last refresh failed, when it did
    checked_at: float | None = None  # time.time() of the last refresh; None: never

    def for_path(self, path: str) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.path == path)

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors


@dataclass
class PreviewState:
    """The latest Snapshot, replaced whole by the one writer; readers never lock."""

    current: Snapshot = field(default_factory=Snapshot)
