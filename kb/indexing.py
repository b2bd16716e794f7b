"""One entry point for bringing everything derived from the content up to date.

The CLI (`flask kb index`) and the live preview both call ``reindex``, so they can
never disagree about what an update involves.
"""

from __future__ import annotations

from kb.config import Settings
from kb.index.build import IndexReport, Progress, update_index


def reindex(
    settings: Settings,
    rebuild: bool = False,
    progress: Progress | None = None,
    lock_wait: float = 0.0,
) -> IndexReport:
    """Update the search index from the content folder; see ``update_index``."""
    return update_index(
        settings.positions_dir,
        settings.index_dir,
        rebuild=rebuild,
        progress=progress,
        lock_wait=lock_wait,
    )
