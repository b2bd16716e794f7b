"""Record every file the process opens or lists while a test says so (PEP 578 audit hooks).

An audit hook cannot be removed, so one hook is installed once and does nothing unless
a ``FileAudit`` is recording.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.service import knowledge_base_of

EVENTS = frozenset({"open", "os.listdir", "os.scandir"})
_state = {"audit": None}
_lock = threading.Lock()


def _hook(event: str, args: tuple) -> None:
    audit = _state["audit"]
    if audit is None or event not in EVENTS or not args:
        return
    target = args[0]
    if isinstance(target, int) or target is None:
        return  # an already-open descriptor: its opening was recorded
    if isinstance(target, bytes):
        target = os.fsdecode(target)
    with _lock:
        audit.paths.append(os.fspath(target))


sys.addaudithook(_hook)


class FileAudit:
    """The paths opened or listed while recording."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    @contextmanager
    def recording(self) -> Iterator[FileAudit]:
        _state["audit"] = self
        try:
            yield self
        finally:
            _state["audit"] = None

    def outside(self, allowed: Iterable[Path]) -> list[str]:
        """Paths that resolve outside every one of the ``allowed`` folders."""
        roots = [Path(os.path.realpath(root)) for root in allowed]
        strays = []
        for path in self.paths:
            resolved = Path(os.path.realpath(os.path.abspath(path)))
            if not any(resolved == root or root in resolved.parents for root in roots):
                strays.append(path)
        return sorted(set(strays))


def allowed_roots(app) -> list[Path]:
    """Where serving may read: content, index, the package's code, templates and static
    files, and Python's own installation (the virtualenv and the standard library)."""
    settings = knowledge_base_of(app).settings
    package = Path(__file__).resolve().parent.parent / "kb"
    return [
        settings.positions_dir,
        settings.index_dir,
        package,
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.exec_prefix),
    ]
