"""Build or update the index: full rebuilds and incremental updates, both atomic.

Every run applies the content rules (``kb.content.rules``) to the whole folder, the
same rules as `flask kb check`: a file with an error is not published. It keeps its
last good version instead — left in place by an incremental run, copied from the live
generation by a full one — so a typo never makes a position vanish from search. Only
files whose content hash changed are re-read: the manifest keeps what the rules need
to know of every published file.

``before_publish`` (the citation ledger) runs on the finished generation before it is
made live, and can refuse it: what is served is always recorded first.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import NamedTuple

from whoosh import index as whoosh_index
from whoosh.writing import IndexingError

from kb.content.checks import (
    FileFacts,
    inspect_many,
    inspect_path,
    read_topic_list,
    summarize,
    workers_for,
)
from kb.content.loader import content_digest, paths_to_look_at, settled, stat_facts
from kb.content.model import Passage, Position, Problem, TopicIntro
from kb.content.rules import Incumbents, Outcome, Summary, decide
from kb.index import posting_file, store
from kb.index.columns import encode_json, encode_meaning
from kb.index.evaluate import field_postings
from kb.index.merging import drop_emptied_segments, fold_small_segments, needs_folding
from kb.index.records import IntroRecord, PositionRecord
from kb.index.run import all_records
from kb.index.schema import SCHEMA_VERSION, SEARCHED_FIELDS, build_schema
from kb.index.vectors import position_meaning

Progress = Callable[[int, int], None]
RELEARN_FROM = 50  # unchanged files with new times: a new generation remembers them


@dataclass
class IndexReport:
    """What an indexing run did, for the CLI summary and for tests."""

    revision: str | None = None
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # skipped, last good version taken off
    skipped: list[str] = field(default_factory=list)  # files with errors
    kept: list[str] = field(default_factory=list)  # skipped, last good version still live
    # skipped files that were published (path → slug) and now are not on the site at all
    withheld: dict[str, str] = field(default_factory=dict)
    refused: str = ""  # why the new generation was not made live (before_publish said no)
    ledger_ok: bool = True  # False when the citation ledger step reported an error
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    rebuilt: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # extra summary lines, e.g. the ledger's

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.dropped) or self.rebuilt

    @property
    def failed(self) -> bool:
        """Exit non-zero: nothing was published, a published position could not be
        rebuilt, or the citation ledger has an error."""
        return bool(self.refused or self.withheld or not self.ledger_ok)

    def summary(self) -> str:
        verb = "rebuilt" if self.rebuilt else "updated"
        if not self.changed:
            verb = "up to date"
        if self.refused:
            verb = "not updated"
        lines = [
            f"index {verb}: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.skipped)} skipped with errors"
            f"{self._kept_note()}, {self.unchanged} unchanged ({self.seconds:.2f}s)"
        ]
        # counted once: a large folder has thousands of problems and hundreds skipped
        errors = Counter(p.path for p in self.problems if p.is_error)
        lines += [self._skipped_line(path, errors[path]) for path in self.skipped]
        warnings = len(self.problems) - errors.total()
        if warnings:
            lines.append(f"{_count(warnings, 'warning')}: flask kb check lists them")
        if self.refused:
            lines.append(f"{self.refused}; the site still serves the previous index")
        return "\n".join(lines + self.notes)

    def _skipped_line(self, path: str, errors: int) -> str:
        if not errors:
            return f"skipped {path}: nothing to publish in it (flask kb check says why)"
        if path in self.kept:
            fate = "its last good version stays on the site"
        elif path in self.withheld:
            fate = (
                f"it was published as /positions/{self.withheld[path]} and is now off the "
                "site; its citations stay current until it is fixed"
            )
        else:
            fate = "it is not on the site"
        return f"skipped {path} ({_count(errors, 'error')} above): {fate}"

    def _kept_note(self) -> str:
        if not self.kept:
            return ""
        verb = "shows its" if len(self.kept) == 1 else "show their"
        return f" ({len(self.kept)} still {verb} last good version)"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def file_hash(path: Path, root: Path) -> str:
    """The content hash; a file over the size limit or outside ``root`` is never read."""
    return content_digest(path, root)


def intro_documents(intro: TopicIntro | IntroRecord) -> Iterable[dict]:
    """A folder's introduction: one stored document, found by its topic, never searched."""
    record = intro if isinstance(intro, IntroRecord) else IntroRecord.of(intro)
    yield {"key": f"intro:{record.path}", "kind": "intro", "path": record.path,
           "record": json.dumps(record.to_json())}  # fmt: skip


def position_from_record(record: PositionRecord) -> Position:
    """A position rebuilt from its stored record (without the Markdown body, which the
    index does not keep): how a full build carries a broken file's last good version."""
    passages = tuple(
        Passage(p.id, record.slug, p.anchor, p.ordinal, p.heading, p.text, p.html)
        for p in record.passages
    )
    updated = date.fromisoformat(record.updated) if record.updated else None
    return Position(
        slug=record.slug, title=record.title, summary=record.summary,
        topics=tuple(record.topics), status=record.status, updated=updated,
        authors=tuple(record.authors), body="", path=record.path,
        related=tuple(record.related), change_note=record.change_note, html=record.html,
        headings=tuple(record.headings), passages=passages, topic_labels=record.topic_labels,
        aliases=record.aliases, summary_derived=record.summary_derived,
    )  # fmt: skip


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
        "meta": encode_json(record.meta.to_json()),
        "meaning": _meaning(position),
    }
    for passage in record.passages:
        yield {
            **shared,
            "key": f"passage:{passage.id}",
            "kind": "passage",
            "passage_heading": passage.heading,
            "passage_text": passage.text,
            "passage": encode_json({**passage.to_ref_json(), "text": passage.text}),
        }


def _meaning(position: Position) -> bytes | None:
    """The meaning column's value; None (nothing written) without the word table."""
    meaning = position_meaning(position)
    return encode_meaning(*meaning) if meaning else None


class PublishRefused(Exception):
    """Raised by a ``before_publish`` step that could not record a generation: it is
    removed, never made live, and the message says why."""


@dataclass(frozen=True)
class Generation:
    """A complete generation handed to ``before_publish``: about to go live, or (when
    nothing changed) the one already live.

    A generation made from the live one by an incremental run names it as its ``base``,
    and ``touched`` names every slug whose positions it added, changed or removed: the
    others are published exactly as in the base.
    """

    folder: Path
    report: IndexReport
    live: bool
    base: str | None = None
    touched: frozenset[str] = frozenset()

    @property
    def revision(self) -> str:
        return self.folder.name

    def records(self, slugs: Iterable[str] | None = None) -> list[PositionRecord]:
        """Every position record in this generation, drafts included; only those of
        ``slugs`` when given."""
        ix = whoosh_index.open_dir(str(self.folder))
        try:
            with ix.searcher() as searcher:
                if slugs is None:
                    return all_records(searcher, include_drafts=True)
                return [
                    PositionRecord.from_json(json.loads(fields["record"]))
                    for slug in sorted(set(slugs))
                    for fields in searcher.documents(kind="position", slug=slug)
                ]
        finally:
            ix.close()


BeforePublish = Callable[[Generation], None]


@dataclass
class _Run:
    """What one indexing run works with."""

    positions_dir: Path
    index_dir: Path
    report: IndexReport
    progress: Progress | None
    ledger_ids: Mapping[str, frozenset[str]]
    before_publish: BeforePublish | None
    fold: bool = True  # fold small segments when they pile up (see kb.index.merging)
    changed: Collection[str] | None = None  # the files a watcher saw change; None: walk


def update_index(
    positions_dir: Path,
    index_dir: Path,
    rebuild: bool = False,
    progress: Progress | None = None,
    lock_wait: float = 0.0,
    before_publish: BeforePublish | None = None,
    ledger_ids: Mapping[str, frozenset[str]] | None = None,
    fold: bool = True,
    changed: Collection[str] | None = None,
) -> IndexReport:
    """Bring the index up to date with the content folder; atomic, one indexer at a time.

    ``before_publish`` runs inside the lock on the finished generation before it goes
    live (or on the live one when nothing changed) and may raise PublishRefused.
    ``ledger_ids`` (slug → passage ids the citation ledger records as current) settles
    duplicate slugs and marks broken files that were published, when there is no index.
    With ``fold`` false, small segments, and a new segment's posting file, are left to
    ``compact_index``. ``changed`` names the only files that may have changed since the
    live generation (relative paths, as a file watcher saw them): the folder is then not
    walked.
    """
    started = time.monotonic()
    report = IndexReport()
    with store.indexer_lock(index_dir, wait=lock_wait):
        revision = store.current_revision(index_dir)
        _recover(index_dir, revision)
        manifest = _manifest(index_dir, revision)
        run = _Run(
            positions_dir, index_dir, report, progress, ledger_ids or {}, before_publish, fold,
            changed,
        )  # fmt: skip
        try:
            if rebuild or manifest is None or manifest.schema_version != SCHEMA_VERSION:
                _full_build(run, revision, manifest)
            else:
                _incremental(run, revision, manifest)
        except PublishRefused as exc:
            report.refused, report.revision = str(exc), revision
            report.added, report.updated, report.removed, report.dropped = [], [], [], []
        if before_publish and report.revision and not report.refused and not report.changed:
            before_publish(Generation(index_dir / report.revision, report, live=True))
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


class Scanned(NamedTuple):
    """A position file as found: its content hash, and the ``stat`` facts that let the
    next run trust that hash without reading the file (None: read it)."""

    root: Path
    relative: str
    sha: str
    stat: list[int] | None = None

    @property
    def file(self) -> Path:
        return self.root / self.relative


def _scan(
    positions_dir: Path,
    manifest: store.Manifest | None = None,
    changed: Collection[str] | None = None,
) -> dict[str, Scanned]:
    """Path → what was found, for every position file that exists right now.

    A file whose size, times and inode are those the manifest recorded is not read
    again (``kb.content.loader.stat_facts``). With ``changed`` (the files a watcher saw
    change), the folder is not walked: the manifest's files and those are looked at,
    and the manifest's facts are trusted for the others.
    """
    # A kept file is in both: its rejected entry is the newer sight of it.
    recorded = {**manifest.files, **manifest.rejected} if manifest else {}
    started = time.time_ns()
    top = os.fspath(positions_dir)
    paths, trusted = paths_to_look_at(positions_dir, recorded, changed)
    files = {}
    for relative in paths:
        entry = recorded.get(relative, {})
        if relative in trusted and entry.get("stat") and entry.get("sha"):
            files[relative] = Scanned(positions_dir, relative, entry["sha"], entry["stat"])
            continue
        try:
            facts = stat_facts(os.path.join(top, relative), positions_dir)
            if facts and entry.get("stat") == facts and entry.get("sha"):
                files[relative] = Scanned(positions_dir, relative, entry["sha"], facts)
                continue
            sha = file_hash(positions_dir / relative, positions_dir)
        except FileNotFoundError:
            continue  # deleted (or renamed away by an editor's save) since the listing
        except OSError:
            sha, facts = "", None  # unreadable: loading reports why, and the file is skipped
        files[relative] = Scanned(positions_dir, relative, sha, settled(facts, started))
    return files


def _inspect_all(
    files: Mapping[str, Scanned], positions_dir: Path, progress: Progress | None
) -> dict[str, FileFacts]:
    """Read files in order; large folders are parsed by several processes."""
    paths = [scanned.file for scanned in files.values()]
    inspected = inspect_many(partial(inspect_path, root=positions_dir), paths)
    return _with_progress(inspected, len(paths), progress)


def _with_progress(loaded, total: int, progress: Progress | None) -> dict[str, FileFacts]:
    results = {}
    for done, facts in enumerate(loaded, start=1):
        results[facts.path] = facts
        if progress:
            progress(done, total)
    return results


def _decide(run: _Run, summaries: Iterable[Summary], by_path: Mapping[str, str]) -> Outcome:
    """The content rules over the whole folder, exactly as `flask kb check` applies them."""
    topics, topic_problems = read_topic_list(run.positions_dir)
    incumbents = Incumbents(by_path=by_path, ledger=run.ledger_ids)
    outcome = decide(summaries, topics, topic_problems, incumbents)
    run.report.problems = list(outcome.problems)
    return outcome


def _relearned(entries: Mapping[str, dict], recorded: Mapping[str, dict]) -> int:
    """How many files' times changed while their content did not (a checkout, a copy)."""
    return sum(
        1
        for path, entry in entries.items()
        if entry.get("stat")
        and entry.get("stat") != recorded.get(path, {}).get("stat")
        and entry.get("sha") == recorded.get(path, {}).get("sha")
    )


def _entry(scanned: Scanned, summary: Summary) -> dict:
    return {"sha": scanned.sha, "stat": scanned.stat, "slug": summary.slug,
            "rules": summary.to_json()}  # fmt: skip


def _rejected(run: _Run, files: Mapping[str, Scanned], summaries) -> dict[str, dict]:
    """The manifest's record of files with errors, so unchanged ones are not read again."""
    return {
        path: {
            "sha": files[path].sha,
            "stat": files[path].stat,
            "rules": summaries[path].to_json(),
        }  # fmt: skip
        for path in run.report.skipped
        if files[path].sha
    }


def _keepable(
    outcome: Outcome, summaries: Mapping[str, Summary], live: Mapping[str, dict]
) -> dict[str, str]:
    """Rejected files whose last good version stays live: path → its slug.

    Not when a publishable file now takes that slug (it won the address).
    """
    taken = {summaries[path].slug for path in outcome.publishable} - {None, ""}
    return {
        path: live[path]["slug"]
        for path in sorted(summaries)
        if path not in outcome.publishable
        and path in live
        and live[path]["slug"] not in taken  # an introduction's None is never taken
    }


def _settle(
    run: _Run,
    outcome: Outcome,
    summaries: Mapping[str, Summary],
    kept: Mapping[str, str],
    published_before: Mapping[str, str],
) -> None:
    """Fill the report's skipped, kept and withheld lists."""
    report = run.report
    report.skipped = [path for path in sorted(summaries) if path not in outcome.publishable]
    report.kept = [path for path in report.skipped if path in kept]
    served = {summaries[path].slug for path in outcome.publishable} | set(kept.values())
    for path in report.skipped:
        slug = published_before.get(path)
        if path not in kept and slug and slug not in served:
            report.withheld[path] = slug


def _published_before(
    run: _Run, summaries: Mapping[str, Summary], live: Mapping[str, dict]
) -> dict[str, str]:
    """Path → slug of every file that was published: in the live index, else named by
    the citation ledger (a fresh clone, or a file a fresh clone left off the site)."""
    found = {}
    for path, summary in summaries.items():
        slug = live[path]["slug"] if path in live else summary.slug or summary.claimed
        if path in live or slug in run.ledger_ids:
            found[path] = slug
    return found


def _full_build(run: _Run, live_revision: str | None, live: store.Manifest | None) -> None:
    report, index_dir = run.report, run.index_dir
    report.rebuilt = True
    files = _scan(run.positions_dir)
    facts = _inspect_all(files, run.positions_dir, run.progress)
    summaries = {path: summarize(fact) for path, fact in facts.items()}
    live_files = live.files if live else {}
    outcome = _decide(run, summaries.values(), {p: e["slug"] for p, e in live_files.items()})
    kept = _keepable(outcome, summaries, live_files)
    carried = _carry_over(index_dir, live_revision, kept)
    kept = {path: slug for path, slug in kept.items() if path in carried}
    _settle(run, outcome, summaries, kept, _published_before(run, summaries, live_files))
    entries: dict[str, dict] = {path: live_files[path] for path in kept}
    publishable = [facts[path] for path in sorted(outcome.publishable)]
    rejected = _rejected(run, files, summaries)
    with _new_generation(run, entries, rejected) as folder:
        folder.mkdir(parents=True)
        ix = whoosh_index.create_in(str(folder), build_schema())
        procs = workers_for(len(publishable))
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
            for fact in publishable:
                for doc in file_documents(fact):
                    writer.add_document(**doc)
                    expected += 1
                entries[fact.path] = _entry(files[fact.path], summaries[fact.path])
                report.added.append(fact.path)
            for docs in carried.values():
                for doc in docs:
                    writer.add_document(**doc)
                    expected += 1
            writer.commit()
        except BaseException:
            _abandon(writer)
            raise
        _check_complete(ix, expected)
        ix.close()
    report.revision = folder.name


def _carry_over(
    index_dir: Path, revision: str | None, kept: Mapping[str, str]
) -> dict[str, list[dict]]:
    """Path → the documents of each kept file's last good version (a position or a
    folder introduction), read from the live generation.

    A generation that cannot be read gives nothing: those files stay off the site.
    """
    if not kept or revision is None:
        return {}
    try:
        ix = whoosh_index.open_dir(str(index_dir / revision))
    except (OSError, ValueError, whoosh_index.IndexError):
        return {}
    carried = {}
    try:
        with ix.searcher() as searcher:
            for path in kept:
                try:
                    carried[path] = _last_good(searcher, path)
                except (TypeError, KeyError, ValueError):
                    continue  # written by another version: not carried over
    finally:
        ix.close()
    return carried


def _last_good(searcher, path: str) -> list[dict]:
    """The documents of ``path`` as the live generation holds them; raises TypeError,
    KeyError or ValueError when there is none or it was written by another version."""
    intro = searcher.document(kind="intro", path=path)
    if intro is not None:
        return list(intro_documents(IntroRecord.from_json(json.loads(intro["record"]))))
    fields = searcher.document(kind="position", path=path)
    record = PositionRecord.from_json(json.loads(fields["record"]))
    return list(documents(position_from_record(record)))


def file_documents(fact: FileFacts) -> Iterable[dict]:
    """The documents of one publishable file: a position's, or a folder introduction's."""
    if fact.result.intro is not None:
        return intro_documents(fact.result.intro)
    return documents(fact.result.position)


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
def _new_generation(
    run: _Run,
    entries: dict[str, dict],
    rejected: dict[str, dict],
    base: str | None = None,
    touched: frozenset[str] = frozenset(),
    postings: bool = True,
) -> Iterator[Path]:
    """A fresh generation folder to write; if the block succeeds, its segments' missing
    posting files are written (unless ``postings`` is false), and it is sealed with
    ``entries``, handed to ``before_publish``, and made live; otherwise it is removed,
    so readers only ever see complete generations, and only recorded ones."""
    revision = store.new_revision()
    folder = run.index_dir / revision
    try:
        yield folder
        if postings:
            posting_file.write_missing(folder, SEARCHED_FIELDS, field_postings)
        manifest = store.Manifest(revision, time.time(), entries, SCHEMA_VERSION, rejected)
        store.seal_generation(run.index_dir, folder, manifest)
        if run.before_publish:
            run.before_publish(Generation(folder, run.report, False, base, touched))
        store.publish(run.index_dir, revision)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _incremental(run: _Run, revision: str, manifest: store.Manifest) -> None:
    report = run.report
    report.revision = revision
    files = _scan(run.positions_dir, manifest, run.changed)
    known = manifest.files
    summaries = {}
    for path, scanned in files.items():
        stored = _stored_summary(path, known.get(path), scanned.sha)
        stored = stored or _stored_summary(path, manifest.rejected.get(path), scanned.sha)
        if stored:
            summaries[path] = stored
    changed = {path: v for path, v in files.items() if path not in summaries}
    removed = sorted(set(known) - set(files))
    report.unchanged = len(files) - len(changed)
    facts = _inspect_all(changed, run.positions_dir, run.progress)
    summaries.update({path: summarize(fact) for path, fact in facts.items()})
    outcome = _decide(run, summaries.values(), {p: e["slug"] for p, e in known.items()})
    kept = _keepable(outcome, summaries, known)
    _settle(run, outcome, summaries, kept, _published_before(run, summaries, known))
    new = [p for p in sorted(outcome.publishable) if known.get(p, {}).get("sha") != files[p].sha]
    # A file with errors, unchanged, that another file's change made publishable.
    facts.update(
        _inspect_all({p: files[p] for p in new if p not in facts}, run.positions_dir, None)
    )
    fresh = [facts[path] for path in new if facts[path].result.publishable]
    # A rejected file whose address another file won: its old version must go too.
    dropped = [path for path in report.skipped if path in known and path not in kept]
    report.dropped = dropped
    entries = {path: _seen(entry, files[path]) for path, entry in known.items() if path in files}
    for path in dropped:
        entries.pop(path, None)
    rejected = _rejected(run, files, summaries)
    if not fresh and not removed and not dropped:
        # Nothing to publish: the live generation already shows the right versions. But
        # after a checkout or a copy, every file's times are new, and until they are
        # remembered every run reads every file again (0.4 s on digitalgov).
        if _relearned({**entries, **rejected}, {**known, **manifest.rejected}) >= RELEARN_FROM:
            with _new_generation(run, entries, rejected, revision) as folder:
                store.link_copy(run.index_dir / revision, folder)
            report.revision = folder.name
        return
    rewritten = removed + dropped + [fact.path for fact in fresh]
    touched = {known[path]["slug"] for path in rewritten if path in known}
    touched |= {summaries[fact.path].slug for fact in fresh}
    touched = frozenset(slug for slug in touched if slug)  # a folder introduction has none
    # Without folding (the preview), the new segment's posting file is left to
    # compact_index too: a save goes live without the 0.08 s of writing it on
    # digitalgov, and searches read the small segment through Whoosh until the pause.
    with _new_generation(run, entries, rejected, revision, touched, run.fold) as folder:
        store.link_copy(run.index_dir / revision, folder)
        ix = whoosh_index.open_dir(str(folder))
        writer = ix.writer(limitmb=128, compound=False)
        try:
            for path in rewritten:
                writer.delete_by_term("path", path)
            for fact in fresh:
                for doc in file_documents(fact):
                    writer.add_document(**doc)
                entries[fact.path] = _entry(files[fact.path], summaries[fact.path])
                (report.updated if fact.path in known else report.added).append(fact.path)
            report.removed = removed
            writer.commit(mergetype=fold_small_segments if run.fold else drop_emptied_segments)
        except BaseException:
            _abandon(writer)
            raise
        ix.close()
    report.revision = folder.name


def compact_index(index_dir: Path, lock_wait: float = 0.0) -> bool:
    """Fold the live generation's small segments into one, and write the posting files
    its segments lack, published as a new generation with the same content; False when
    there was nothing to do. The preview calls this between saves, so that no save waits
    for a merge."""
    with store.indexer_lock(index_dir, wait=lock_wait):
        revision = store.current_revision(index_dir)
        manifest = _manifest(index_dir, revision)
        if revision is None or manifest is None or manifest.schema_version != SCHEMA_VERSION:
            return False
        live = whoosh_index.open_dir(str(index_dir / revision))
        try:
            segments = live._segments()
            fold = needs_folding(segments)
            if not fold and not posting_file.missing(index_dir / revision, segments):
                return False
        finally:
            live.close()
        run = _Run(Path(), index_dir, IndexReport(), None, {}, None)
        with _new_generation(run, manifest.files, manifest.rejected, revision) as folder:
            store.link_copy(index_dir / revision, folder)
            if fold:
                _fold(folder)
        return True


def _fold(folder: Path) -> None:
    """Fold the small segments of the generation being written in ``folder``."""
    ix = whoosh_index.open_dir(str(folder))
    writer = ix.writer(limitmb=128, compound=False)
    try:
        writer.commit(mergetype=fold_small_segments)
    except BaseException:
        _abandon(writer)
        raise
    ix.close()


def _seen(entry: dict, scanned: Scanned) -> dict:
    """An unchanged file's manifest entry with the ``stat`` facts of this scan, so the
    next run need not read it; a kept file's entry (an older version) as it was."""
    return {**entry, "stat": scanned.stat} if entry.get("sha") == scanned.sha else entry


def _stored_summary(path: str, entry: dict | None, sha: str) -> Summary | None:
    """What the rules need of an unchanged published file, from its manifest entry;
    None when the file changed (or the entry predates these summaries): read it."""
    if not entry or entry.get("sha") != sha or not sha or "rules" not in entry:
        return None
    found = _SUMMARIES.get((path, sha))
    if found is None:
        try:
            found = Summary.from_json(path, entry["rules"])
        except (KeyError, TypeError, ValueError):
            return None
        if len(_SUMMARIES) >= MAX_SUMMARIES:
            _SUMMARIES.clear()
        _SUMMARIES[(path, sha)] = found
    return found


# (path, content hash) → Summary: a file's summary follows from its content, and the
# preview re-reads 4,000 of them from the manifest after every save on digitalgov.
_SUMMARIES: dict[tuple[str, str], Summary] = {}
MAX_SUMMARIES = 100_000


def live_slugs(index_dir: Path) -> dict[str, str]:
    """Path → slug of every file the live generation publishes; {} without an index."""
    manifest = _manifest(index_dir, store.current_revision(index_dir))
    if manifest is None:
        return {}
    return {path: entry.get("slug", "") for path, entry in manifest.files.items()}
