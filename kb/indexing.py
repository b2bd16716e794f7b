"""One entry point for bringing everything derived from the content up to date.

The CLI (`flask kb index`) and the live preview both call ``reindex``, so they can
never disagree about what an update involves.
"""

from __future__ import annotations

from kb.cite.publish import record_citations
from kb.config import Settings
from kb.index.build import IndexReport, Progress, update_index


def reindex(
    settings: Settings,
    rebuild: bool = False,
    progress: Progress | None = None,
    lock_wait: float = 0.0,
    record_citations_too: bool = True,
) -> IndexReport:
    """Update the search index, then the citation ledger, under one indexer lock.

    The preview passes ``record_citations_too=False``: wordings saved while editing
    were never published, so they must not enter the committed ledger.
    """

    def record(report: IndexReport) -> None:
        recorded = record_citations(settings.positions_dir, settings.index_dir, report.revision)
        report.problems.extend(recorded.problems)
        report.notes.extend(recorded.notes)

    return update_index(
        settings.positions_dir,
        settings.index_dir,
        rebuild=rebuild,
        progress=progress,
        lock_wait=lock_wait,
        after=record if record_citations_too else None,
    )
