"""Build or update the index: full rebuilds and incremental updates, both atomic.

Only files whose content hash changed are re-read. A file that turns invalid keeps
its last good version in the index (and is reported), so a typo never makes a
position vanish from search.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.writing import IndexingError

from kb.content.loader import LoadResult, collect, content_digest, load_file, position_files
from kb.content.model import Position, Problem, TopicIntro
from kb.index import store
from kb.index.records import IntroRecord, PositionRecord
from kb.index.schema import SCHEMA_VERSION, build_schema

Progress = Callable[[int, int], None]
PARALLEL_FROM = 200  # files; below this, starting processes costs more than it saves


@dataclass
class IndexReport:
    """What an indexing run did, for the CLI summary and for tests."""

    revision: str | None = None
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files with errors
    kept: list[str] = field(default_factory=list)  # skipped, last good version still live
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    rebuilt: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # extra summary lines, e.g. the ledger's

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed) or self.rebuilt

    def summary(self) -> str:
        verb = "rebuilt" if self.rebuilt else "updated"
        if not self.changed:
            verb = "up to date"
        return (
            f"index {verb}: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.skipped)} skipped with errors"
            f"{self._kept_note()}, {self.unchanged} unchanged ({self.seconds:.2f}s)"
        ) + "".join(f"\n{note}" for note in self.notes)

    def _kept_note(self) -> str:
        if not self.kept:
            return ""
        verb = "shows its" if len(self.kept) == 1 else "show their"
        return f" ({len(self.kept)} still {verb} last good version)"


def file_hash(path: Path, root: Path) -> str:
    """The content hash; a file over the size limit or outside ``root`` is never read."""
    return content_digest(path, root)


def intro_documents(intro: TopicIntro) -> Iterable[dict]:
    """A folder's introduction: one stored document, found by its topic, never searched."""
    record = IntroRecord.of(intro)
    yield {"key": f"intro:{intro.path}", "kind": "intro", "path": intro.path,
           "record": json.dumps(record.to_json())}  # fmt: skip


def documents(position: Position) -> Iterable[dict]:
    """The position document followed by one document per passage."""
    # Passages carry only what scopes and deletes them; filters act on positions.
    shared = {"slug": position.slug, "path": position.path}
    record = PositionRecord.of(position)
    body = "\n\n".join(p.text for p in position.passages)
    yield {
        **shared,
        "key": position.slug,
        "kind": "position",
        "status": position.status,
        "updated": position.updated.isoformat() if position.updated else "",
        "updated_order": int(position.updated.strftime("%Y%m%d")) if position.updated else 0,
        "topics": ",".join(position.topics),
        "title": position.title,
        "summary": position.summary,
        "headings": "\n".join(position.headings),
        "body": body,
        "words": f"{position.title}\n{position.summary}\n{body}",
        "record": json.dumps(record.to_json()),
        "meta": json.dumps(record.meta.to_json()),
    }
    for passage in record.passages:
        yield {
            **shared,
            "key": f"passage:{passage.id}",
            "kind": "passage",
            "passage_heading": passage.heading,
            "passage_text": passage.text,
            "record": json.dumps(passage.to_ref_json()),
        }


def update_index(
    positions_dir: Path,
    index_dir: Path,
    rebuild: bool = False,
    progress: Progress | None = None,
    lock_wait: float = 0.0,
    after: Callable[[IndexReport], None] | None = None,
) -> IndexReport:
    """Bring the index up to date with the content folder; atomic, one indexer at a time.

    ``after`` runs inside the lock once the index is up to date (e.g. the citation ledger).
    """
    started = time.monotonic()
    with store.indexer_lock(index_dir, wait=lock_wait):
        revision = store.current_revision(index_dir)
        _recover(index_dir, revision)
        manifest = _manifest(index_dir, revision)
        if manifest is None or manifest.schema_version != SCHEMA_VERSION:
            rebuild = True
        if rebuild:
            report = _full_build(positions_dir, index_dir, progress)
        else:
            report = _incremental(positions_dir, index_dir, revision, manifest, progress)
        if after and report.revision:
            after(report)
    report.seconds = time.monotonic() - started
    return report


def _recover(index_dir: Path, live: str | None) -> None:
    """Remove what a killed indexer left: unfinished generations and temporary files.

    Safe only under the indexer lock: no other process is writing a generation.
    """
    for folder in index_dir.glob("gen-*"):
        if folder.name != live and not (folder / store.MANIFEST).is_file():
            shutil.rmtree(folder, ignore_errors=True)
    for leftover in index_dir.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)


def _manifest(index_dir: Path, revision: str | None) -> store.Manifest | None:
    """The live generation's manifest, or None (meaning: rebuild) if it cannot be read."""
    if revision is None:
        return None
    try:
        return store.read_manifest(index_dir, revision)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _scan(positions_dir: Path) -> dict[str, tuple[Path, str]]:
    """Path → (file, content hash) for every position file that exists right now."""
    files = {}
    for path in position_files(positions_dir):
        try:
            sha = file_hash(path, positions_dir)
        except FileNotFoundError:
            continue  # deleted (or renamed away by an editor's save) since the listing
        except OSError:
            sha = ""  # unreadable: loading reports why, and the file is skipped
        files[path.relative_to(positions_dir).as_posix()] = (path, sha)
    return files


def _workers(jobs: int) -> int:
    """How many processes a job of this size deserves: one unless it is large."""
    return min(os.cpu_count() or 1, 4) if jobs >= PARALLEL_FROM else 1


def _load_all(
    files: dict[str, tuple[Path, str]], positions_dir: Path, progress: Progress | None
) -> list[LoadResult]:
    """Load files in order; large folders are parsed by several processes."""
    paths = [path for path, _sha in files.values()]
    workers = _workers(len(paths))
    load = partial(load_file, root=positions_dir)
    if workers == 1:
        loaded = map(load, paths)
        return _with_progress(loaded, len(paths), progress)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return _with_progress(pool.map(load, paths, chunksize=8), len(paths), progress)


def _with_progress(loaded, total: int, progress: Progress | None) -> list[LoadResult]:
    results = []
    for done, result in enumerate(loaded, start=1):
        results.append(result)
        if progress:
            progress(done, total)
    return results


def _full_build(positions_dir: Path, index_dir: Path, progress: Progress | None) -> IndexReport:
    files = _scan(positions_dir)
    collection = collect(_load_all(files, positions_dir, progress))
    report = IndexReport(rebuilt=True, problems=list(collection.problems))
    entries: dict[str, dict] = {}
    with _new_generation(index_dir, entries) as folder:
        folder.mkdir(parents=True)
        ix = whoosh_index.create_in(str(folder), build_schema())
        procs = _workers(len(collection.positions))
        # Whoosh's multi-process writer analyses documents in parallel sub-writers.
        # Segments are written as separate files, not one compound file: Whoosh copies a
        # compound file's parts into memory for every searcher (≈190 MB each on 4,000
        # files), and a searcher per thread multiplied that per worker.
        if procs > 1:
            sub = {"limitmb": 128, "compound": False}
            writer = ix.writer(procs=procs, subargs=sub, **sub)
        else:
            writer = ix.writer(limitmb=256, compound=False)
        expected = 0
        try:
            for result in collection.results:
                if result.intro is not None:
                    expected += _add_intro(writer, result, entries, files[result.path][1])
                    continue
                if result.position is None:
                    report.skipped.append(result.path)
                    continue
                for doc in documents(result.position):
                    writer.add_document(**doc)
                    expected += 1
                entries[result.path] = {"sha": files[result.path][1], "slug": result.position.slug}
                report.added.append(result.path)
            writer.commit()
        except BaseException:
            _abandon(writer)
            raise
        _check_complete(ix, expected)
        ix.close()
    report.revision = folder.name
    return report


def _add_intro(writer, result: LoadResult, entries: dict[str, dict], sha: str) -> int:
    """Write a folder introduction; returns the number of documents written."""
    count = 0
    for doc in intro_documents(result.intro):
        writer.add_document(**doc)
        count += 1
    entries[result.path] = {"sha": sha, "slug": ""}
    return count


class IncompleteIndex(OSError):
    """The writer finished without every document: never publish such a generation."""


def _check_complete(ix, expected: int) -> None:
    """Refuse a generation that lost documents, as Whoosh's multi-process writer does
    without a word when one of its workers dies (for example on a full disk)."""
    written = ix.doc_count()
    if written != expected:
        ix.close()
        raise IncompleteIndex(
            f"only {written:,} of {expected:,} documents were written (an indexing process "
            "failed; is the disk full?); the previous index is still live"
        )


def _abandon(writer) -> None:
    """Release a failed writer's files and stop its worker processes, before the
    generation folder is removed.

    Whoosh's MpWriter.cancel() cannot reach its workers: left alone they crash with
    tracebacks on the editor's terminal, or wait on their queue for ever and keep the
    indexer from exiting.
    """
    for task in getattr(writer, "tasks", ()):
        task.terminate()
        task.join(timeout=5)
    try:
        writer.cancel()
    except (OSError, IndexingError):
        pass  # closing can fail on the same full disk; the folder is removed anyway


@contextmanager
def _new_generation(index_dir: Path, entries: dict[str, dict]) -> Iterator[Path]:
    """A fresh generation folder to write; published with ``entries`` if the block
    succeeds, removed if it fails, so readers only ever see complete generations."""
    revision = store.new_revision()
    folder = index_dir / revision
    try:
        yield folder
        manifest = store.Manifest(revision, time.time(), entries, SCHEMA_VERSION)
        store.seal_generation(index_dir, folder, manifest)
        store.publish(index_dir, revision)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _incremental(
    positions_dir: Path,
    index_dir: Path,
    revision: str,
    manifest: store.Manifest,
    progress: Progress | None,
) -> IndexReport:
    files = _scan(positions_dir)
    known = manifest.files
    changed = {path: v for path, v in files.items() if known.get(path, {}).get("sha") != v[1]}
    removed = sorted(set(known) - set(files))
    report = IndexReport(revision=revision, unchanged=len(files) - len(changed))
    if not changed and not removed:
        return report
    results = _load_all(changed, positions_dir, progress)
    intros = [result for result in results if result.intro is not None]
    results = [result for result in results if result.intro is None]
    entries = {path: entry for path, entry in known.items() if path not in removed}
    valid, taken = _accept(results, entries, report)
    report.kept = [path for path in report.skipped if path in entries]
    if not valid and not removed and not intros:
        return report  # only broken files changed: the last good versions stay live
    with _new_generation(index_dir, entries) as folder:
        store.link_copy(index_dir / revision, folder)
        ix = whoosh_index.open_dir(str(folder))
        writer = ix.writer(limitmb=128, compound=False)
        try:
            for path in removed + [r.path for r in valid + intros]:
                writer.delete_by_term("path", path)
            for result in intros:
                _add_intro(writer, result, entries, changed[result.path][1])
            for result in valid:
                for doc in documents(result.position):
                    writer.add_document(**doc)
                entries[result.path] = {"sha": changed[result.path][1], "slug": taken[result.path]}
                (report.updated if result.path in known else report.added).append(result.path)
            report.removed = removed
            writer.commit()
        except BaseException:
            _abandon(writer)
            raise
        ix.close()
    report.revision = folder.name
    return report


def _accept(
    results: list[LoadResult], entries: dict[str, dict], report: IndexReport
) -> tuple[list[LoadResult], dict[str, str]]:
    """Split changed files into valid ones and skipped ones, checking slug clashes.

    A slug stays taken by every file that keeps its indexed version (unchanged, or
    changed but invalid or refused); changed valid files claim theirs in path order.
    A refused file keeps its old slug, which may refuse another: repeat until stable.
    """
    fresh = {}
    for result in results:
        report.problems.extend(result.problems)
        if result.position is None:
            report.skipped.append(result.path)
        else:
            fresh[result.path] = result
    refused: dict[str, str] = {}
    while True:
        owners = {e["slug"]: path for path, e in entries.items() if path not in fresh}
        owners.update({entries[p]["slug"]: p for p in refused if p in entries})
        taken = {}
        for path, result in fresh.items():
            slug = result.position.slug
            owner = owners.get(slug)
            if path not in refused and owner and owner != path:
                refused[path] = owner
                break
            if path not in refused:
                owners[slug], taken[path] = path, slug
        else:
            break
    for path, owner in refused.items():
        message = f"slug '{fresh[path].position.slug}' is already used by {owner}"
        report.problems.append(Problem(path, 1, message))
        report.skipped.append(path)
    return [r for p, r in fresh.items() if p not in refused], taken
