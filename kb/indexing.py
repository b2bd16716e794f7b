"""One entry point for bringing everything derived from the content up to date, and one
for checking it.

The CLI (`flask kb index`) and the live preview both call ``reindex``, so they can
never disagree about what an update involves; `flask kb check` and the preview's
problem list both call ``check_all``. Both apply the content rules of
``kb.content.rules`` with the same view of who publishes what now (``incumbents``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from kb.cite.ledger import LedgerFacts, ledger_facts, ledger_problems
from kb.cite.publish import LedgerSnapshot, before_publish, recorded_ids, remembered_ids
from kb.config import Settings
from kb.content.checks import FileFacts, check
from kb.content.model import Problem
from kb.content.rules import Incumbents
from kb.index.build import IndexReport, Progress, live_slugs, update_index


def incumbents(settings: Settings, ids_memo: dict | None = None) -> Incumbents:
    """Who publishes what now: the live index's manifest, and the citation ledger
    (read again only when it changed, with the preview's ``ids_memo``)."""
    root = settings.positions_dir
    ledger = recorded_ids(root) if ids_memo is None else remembered_ids(root, ids_memo)
    return Incumbents(by_path=live_slugs(settings.index_dir), ledger=ledger)


def reindex(
    settings: Settings,
    rebuild: bool = False,
    progress: Progress | None = None,
    lock_wait: float = 0.0,
    record_citations_too: bool = True,
    ids_memo: dict | None = None,
    fold: bool = True,
    changed: Collection[str] | None = None,
) -> IndexReport:
    """Update the search index and the citation ledger under one indexer lock; the
    ledger is written before the new generation goes live.

    The preview passes ``record_citations_too=False``: wordings saved while editing
    were never published, so they must not enter the committed ledger. It also passes
    the same ``ids_memo`` every time, so an unchanged ledger is not read again, and
    ``fold=False``: it folds small segments, and writes their posting files, between
    saves (``compact_index``); and the files its watcher saw change as ``changed``, so
    the folder is not walked.
    """
    root = settings.positions_dir
    snapshot = LedgerSnapshot.read(root) if record_citations_too else None
    if ids_memo is not None and snapshot is None:
        ledger_ids = remembered_ids(root, ids_memo)
    else:
        ledger_ids = recorded_ids(root, snapshot)
    record = before_publish(root, settings.index_dir, snapshot=snapshot)
    return update_index(
        root,
        settings.index_dir,
        rebuild=rebuild,
        progress=progress,
        lock_wait=lock_wait,
        before_publish=record if record_citations_too else None,
        ledger_ids=ledger_ids,
        fold=fold,
        changed=changed,
    )


def check_all(
    settings: Settings,
    cache: dict[str, FileFacts] | None = None,
    ledger_memo: dict[str, LedgerFacts] | None = None,
    ids_memo: dict | None = None,
    changed: Collection[str] | None = None,
) -> list[Problem]:
    """What `flask kb check` reports: every content problem, then the ledger's, sorted.

    The preview passes the same ``cache``, ``ledger_memo`` and ``ids_memo`` every time,
    so that only what changed is read again, and the files its watcher saw change.
    """
    cache = {} if cache is None else cache
    root = settings.positions_dir
    outcome = check(root, cache, incumbents(settings, ids_memo), changed)
    # Only what may be published counts as published for the ledger's freshness check.
    results = [
        fact.result if path in outcome.publishable else replace(fact.result, position=None)
        for path, fact in sorted(cache.items())
    ]
    facts = ledger_facts(root, ledger_memo)
    problems = list(outcome.problems) + ledger_problems(root, results, facts)
    return sorted(problems, key=lambda p: (p.path, p.line, not p.is_error, p.message))
