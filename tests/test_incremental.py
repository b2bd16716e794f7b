"""Incremental indexing: only changed files are re-read, and the index stays right."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest

from kb.cli import LONG_RUN_FILES, ProgressBar
from kb.index import store
from kb.index.build import update_index
from kb.index.reader import IndexReader
from kb.index.run import all_records
from kb.search.engine import SearchRequest, search
from kb.search.synonyms import build_synonyms
from tests.file_audit import FileAudit


def found(index_dir, q: str) -> list[str]:
    """Slugs of the positions a search finds, drafts included."""
    reader = IndexReader(index_dir)
    results = search(reader.searcher(), build_synonyms([]), SearchRequest(q=q), True)
    return sorted(r.slug for r in results.results)


def slugs(index_dir) -> list[str]:
    reader = IndexReader(index_dir)
    return sorted(r.slug for r in all_records(reader.searcher(), True))


def test_slug_change_moves_the_position(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    write_position("europe", "Neighbours.", title="Europe", slug="eu")
    report = update_index(positions_dir, index_dir)
    assert report.updated == ["europe.md"] and report.skipped == []
    assert slugs(index_dir) == ["eu"]
    assert found(index_dir, "neighbours") == ["eu"]


def test_two_files_swap_slugs_in_one_run(write_position, positions_dir, index_dir):
    write_position("a", "Apples.", title="A", slug="first")
    write_position("b", "Bananas.", title="B", slug="second")
    update_index(positions_dir, index_dir)
    write_position("a", "Apples.", title="A", slug="second")
    write_position("b", "Bananas.", title="B", slug="first")
    report = update_index(positions_dir, index_dir)
    errors = [p for p in report.problems if p.is_error]
    assert (report.updated, report.skipped, errors) == (["a.md", "b.md"], [], [])
    assert found(index_dir, "apples") == ["second"]
    assert found(index_dir, "bananas") == ["first"]


def test_renamed_file_keeps_one_position(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.", title="Europe", slug="europe")
    update_index(positions_dir, index_dir)
    (positions_dir / "europe.md").rename(positions_dir / "our-europe.md")
    report = update_index(positions_dir, index_dir)
    assert (report.added, report.removed, report.skipped) == (["our-europe.md"], ["europe.md"], [])
    assert slugs(index_dir) == ["europe"]
    record = IndexReader(index_dir)
    assert all_records(record.searcher(), True)[0].path == "our-europe.md"


def test_invalid_file_keeps_last_good_version_until_fixed(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    write_position("europe", raw="---\ntitle: Europe\nstatus: final\n---\nFriends.\n")
    first = update_index(positions_dir, index_dir)
    again = update_index(positions_dir, index_dir)  # still broken: still reported
    for report in (first, again):
        assert (report.skipped, report.kept) == (["europe.md"], ["europe.md"])
        assert [str(p) for p in report.problems] == [
            "europe.md:3: status: unknown value 'final'; use one of adopted, draft, archived"
        ]
    assert "1 skipped with errors (1 still shows its last good version)" in again.summary()
    assert found(index_dir, "neighbours") == ["europe"]
    write_position("europe", "Friends.", title="Europe")
    fixed = update_index(positions_dir, index_dir)
    assert (fixed.updated, fixed.skipped, fixed.kept) == (["europe.md"], [], [])
    assert found(index_dir, "friends") == ["europe"] and found(index_dir, "neighbours") == []


def test_deleting_a_broken_file_that_was_good_removes_it(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.", title="Europe")
    write_position("climate", "Warming.", title="Climate")
    update_index(positions_dir, index_dir)
    write_position("europe", raw="---\ntitle: [Europe\n---\nBroken.\n")
    update_index(positions_dir, index_dir)
    assert found(index_dir, "neighbours") == ["europe"]  # last good version
    (positions_dir / "europe.md").unlink()
    report = update_index(positions_dir, index_dir)
    assert (report.removed, report.skipped) == (["europe.md"], [])
    assert slugs(index_dir) == ["climate"]
    manifest = store.read_manifest(index_dir, store.current_revision(index_dir))
    assert sorted(manifest.files) == ["climate.md"]


def test_new_file_taking_a_kept_files_slug_is_refused(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    write_position("europe", raw="---\ntitle: Europe\nupdated: soon\n---\nBroken.\n")
    write_position("copy", "Copy.", title="Copy", slug="europe")
    report = update_index(positions_dir, index_dir)
    assert sorted(report.skipped) == ["copy.md", "europe.md"]
    assert (
        "copy.md:3: slug 'europe' is also used by europe.md, which keeps the address; "
        "give this file its own 'slug: ...' or rename it"
    ) in [str(p) for p in report.problems]
    assert found(index_dir, "neighbours") == ["europe"] and found(index_dir, "copy") == []


def test_unchanged_files_are_not_read_again(write_position, positions_dir, index_dir):
    for name in ("a", "b", "c"):
        write_position(name, f"Text {name}.")
    update_index(positions_dir, index_dir)
    write_position("b", "Changed text.")
    loaded = []
    report = update_index(positions_dir, index_dir, progress=lambda d, t: loaded.append((d, t)))
    assert (report.updated, report.unchanged, loaded) == (["b.md"], 2, [(1, 1)])
    assert report.summary().startswith(
        "index updated: 0 added, 1 updated, 0 removed, 0 skipped with errors, 2 unchanged ("
    )


def test_old_generation_is_untouched_by_an_incremental_update(
    write_position, positions_dir, index_dir
):
    """Generations share files by hard link; the old one must still read the old text."""
    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    old = store.current_revision(index_dir)
    write_position("europe", "Friends.", title="Europe")
    update_index(positions_dir, index_dir)
    from whoosh import index as whoosh_index

    with whoosh_index.open_dir(str(index_dir / old)).searcher() as searcher:
        (doc,) = [d for d in searcher.all_stored_fields() if d["kind"] == "position"]
        assert "Neighbours." in json.loads(doc["record"])["html"]


def test_vanished_file_during_scan_counts_as_removed(
    write_position, positions_dir, index_dir, monkeypatch
):
    from kb.content import loader

    write_position("europe", "Neighbours.")
    write_position("climate", "Warming.")
    update_index(positions_dir, index_dir)
    real = loader.position_paths

    def listing_then_delete(root):
        files = real(root)
        (root / "europe.md").unlink()  # an editor's save renames the file away for a moment
        return files

    monkeypatch.setattr(loader, "position_paths", listing_then_delete)
    report = update_index(positions_dir, index_dir)
    assert report.removed == ["europe.md"]
    assert slugs(index_dir) == ["climate"]


def test_leftovers_of_a_killed_run_are_cleaned(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.")
    update_index(positions_dir, index_dir)
    (index_dir / "gen-99999999T999999-deadbeef").mkdir()  # unfinished: no manifest
    (index_dir / ".CURRENT.1234abcd.tmp").write_text("gen-x")
    report = update_index(positions_dir, index_dir)  # nothing changed
    assert not report.changed
    assert not (index_dir / "gen-99999999T999999-deadbeef").exists()
    assert not (index_dir / ".CURRENT.1234abcd.tmp").exists()


def test_unreadable_manifest_means_a_full_rebuild(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.")
    update_index(positions_dir, index_dir)
    revision = store.current_revision(index_dir)
    (index_dir / revision / store.MANIFEST).write_text("{not json")
    report = update_index(positions_dir, index_dir)
    assert report.rebuilt and report.added == ["europe.md"]
    assert found(index_dir, "neighbours") == ["europe"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_index_output_is_one_line_per_problem_then_the_summary(
    make_app, write_position, positions_dir, monkeypatch
):
    for number in range(LONG_RUN_FILES + 10):  # long enough for a bar, were this a terminal
        write_position(f"p{number:02d}", "Text.")
    write_position("broken", raw="---\ntitle: Broken\nupdated: someday\n---\nBody\n")
    monkeypatch.chdir(positions_dir.parent)
    result = make_app(index=False).test_cli_runner().invoke(args=["kb", "index"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        lines[0] == "positions/broken.md:3: updated: expected a date like 2026-11-26, got 'someday'"
    )
    assert re.fullmatch(
        r"index rebuilt: 60 added, 0 updated, 0 removed, 1 skipped with errors, 0 unchanged "
        r"\(\d+\.\d\ds\)",
        lines[1],
    )
    assert "reading files" not in result.output and "\r" not in result.output


def test_progress_bar_on_a_terminal_ends_its_own_line():
    stream = FakeTerminal()
    with ProgressBar(stream) as progress:
        for done in range(1, 101):
            progress(done, 100)
    drawn = stream.getvalue()
    assert "reading files" in drawn and "100%" in drawn
    assert drawn.endswith("\nwriting the index...\n")  # what follows starts on its own line


def test_progress_bar_line_is_ended_even_when_indexing_fails():
    stream = FakeTerminal()
    with pytest.raises(OSError), ProgressBar(stream) as progress:
        progress(1, 100)
        raise OSError("disk full")
    assert stream.getvalue().endswith("\n")


@pytest.mark.parametrize(("stream", "total"), [(FakeTerminal(), 10), (io.StringIO(), 500)])
def test_no_progress_bar_for_short_runs_or_when_not_a_terminal(stream, total):
    with ProgressBar(stream) as progress:
        for done in range(1, total + 1):
            progress(done, total)
    assert stream.getvalue() == ""


def _age(folder, seconds: int = 3600) -> None:
    """Date every file back, as files that have not been touched for a while are."""
    for path in folder.rglob("*.md"):
        info = path.stat()
        past = info.st_mtime_ns - seconds * 10**9
        os.utime(path, ns=(past, past))


def test_files_whose_size_and_times_are_unchanged_are_not_read(
    write_position, positions_dir, index_dir
):
    for name in ("a", "b", "c"):
        write_position(name, f"Text {name}.")
    _age(positions_dir)
    update_index(positions_dir, index_dir)
    write_position("b", "Changed text.")
    update_index(positions_dir, index_dir)  # records a and c as seen, with their times
    with FileAudit().recording() as audit:
        report = update_index(positions_dir, index_dir)
    read = sorted(Path(p).name for p in audit.paths if p.endswith(".md"))
    assert (report.changed, read) == (False, ["b.md"])  # b changed too recently to trust


def test_new_times_on_unchanged_files_are_remembered_after_one_run(
    write_position, positions_dir, index_dir, monkeypatch
):
    """After a checkout or a copy, every file has new times but the same content: one
    run reads them all and remembers their times (in a generation with the same
    content), so the next run reads none, instead of every file on every run."""
    from kb.index import build

    monkeypatch.setattr(build, "RELEARN_FROM", 3)
    for name in ("a", "b", "c", "d"):
        write_position(name, f"Text {name}.")
    _age(positions_dir)
    update_index(positions_dir, index_dir)
    live = store.current_revision(index_dir)
    for path in positions_dir.glob("*.md"):  # what a checkout does: same bytes, new times
        path.write_bytes(path.read_bytes())
    _age(positions_dir, 1800)
    with FileAudit().recording() as audit:
        report = update_index(positions_dir, index_dir)
    assert len([p for p in audit.paths if p.endswith(".md")]) == 4
    assert report.changed is False and report.summary().startswith("index up to date")
    assert store.current_revision(index_dir) != live
    assert found(index_dir, "text") == ["a", "b", "c", "d"]
    with FileAudit().recording() as audit:
        assert update_index(positions_dir, index_dir).changed is False
    assert not [p for p in audit.paths if p.endswith(".md")]


def test_a_same_size_rewrite_with_its_old_time_put_back_is_noticed(
    write_position, positions_dir, index_dir
):
    path = write_position("a", "Text one.")
    _age(positions_dir)
    update_index(positions_dir, index_dir)
    before = path.stat()
    write_position("a", "Text two.")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` or rsync would
    assert path.stat().st_size == before.st_size
    report = update_index(positions_dir, index_dir)
    assert report.updated == ["a.md"]
    assert found(index_dir, "two") == ["a"]


def _segments(index_dir) -> list[tuple[str, int, int]]:
    """(id, documents, deleted) of each segment of the live generation."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(index_dir / store.current_revision(index_dir)))
    return [(s.segment_id(), s.doc_count_all(), s.deleted_count()) for s in ix._segments()]


def test_edits_fold_small_segments_and_keep_the_build(
    write_position, positions_dir, index_dir, monkeypatch
):
    """Each edit writes a segment; once FOLD_AT small ones pile up they are folded into
    one, so searches look words up in a few segments, not one more per edit."""
    from kb.index import merging

    monkeypatch.setattr(merging, "SMALL_DOCUMENTS", 20)  # so that the 60-document build is big
    for number in range(20):
        write_position(f"p{number}", f"Paragraph {number} about apples.\n\nAnd more.\n")
    update_index(positions_dir, index_dir)
    (build,) = _segments(index_dir)
    counts = []
    for round in range(2 * merging.FOLD_AT):
        write_position(f"p{round}", f"Paragraph about pears, round {round}.\n")
        update_index(positions_dir, index_dir)
        segments = _segments(index_dir)
        assert segments[0][0] == build[0]  # the build's segment is never rewritten
        counts.append(len(segments))
    assert max(counts) == 1 + merging.FOLD_AT and counts[merging.FOLD_AT] == 2
    assert found(index_dir, "pears") == [f"p{n}" for n in range(2 * merging.FOLD_AT)]
    reader = IndexReader(index_dir)
    apples = search(reader.searcher(), build_synonyms([]), SearchRequest(q="apples"), True)
    assert apples.total == 20 - 2 * merging.FOLD_AT


def test_a_segment_whose_documents_were_all_replaced_is_dropped(
    write_position, positions_dir, index_dir
):
    write_position("europe", "Neighbours.", title="Europe")
    write_position("climate", "Warming.", title="Climate")
    update_index(positions_dir, index_dir)
    for text in ("Friends.", "Partners.", "Allies."):
        write_position("europe", text, title="Europe")
        update_index(positions_dir, index_dir)
    segments = _segments(index_dir)
    assert len(segments) == 2  # the build (climate) and the last edit (europe)
    assert all(deleted < count for _, count, deleted in segments)
    assert found(index_dir, "allies") == ["europe"] and found(index_dir, "partners") == []


def test_unfolded_segments_are_folded_later_by_compact_index(
    write_position, positions_dir, index_dir, monkeypatch
):
    """The preview's saves leave small segments as they are (``fold=False``) and fold
    them between saves: the content served stays the same, in fewer segments."""
    from kb.index import merging
    from kb.index.build import compact_index

    monkeypatch.setattr(merging, "SMALL_DOCUMENTS", 20)
    for number in range(20):
        write_position(f"p{number}", f"Paragraph {number} about apples.\n\nAnd more.\n")
    update_index(positions_dir, index_dir)
    assert compact_index(index_dir) is False  # nothing to fold
    for round in range(merging.FOLD_AT + 1):
        write_position(f"p{round}", f"Paragraph about pears, round {round}.\n")
        update_index(positions_dir, index_dir, fold=False)
    assert len(_segments(index_dir)) == 2 + merging.FOLD_AT
    before = store.read_manifest(index_dir, store.current_revision(index_dir))
    assert compact_index(index_dir) is True
    after = store.read_manifest(index_dir, store.current_revision(index_dir))
    assert len(_segments(index_dir)) == 2 and after.files == before.files
    assert found(index_dir, "pears") == [f"p{n}" for n in range(merging.FOLD_AT + 1)]
    assert update_index(positions_dir, index_dir).changed is False  # nothing to redo


def test_named_changes_are_looked_at_without_walking_the_folder(
    write_position, positions_dir, index_dir
):
    """What a file watcher passes: the files it saw change are read (added, updated or
    removed); the others are trusted as the manifest has them, until a walk."""
    for name in ("a", "b", "c"):
        write_position(name, f"Text {name}.")
    _age(positions_dir)
    update_index(positions_dir, index_dir)
    update_index(positions_dir, index_dir)  # records every file as seen, with its times
    write_position("b", "Bananas.")
    write_position("c", "Cherries.")  # changed too, but not named
    write_position("d", "Dates.")
    (positions_dir / "a.md").unlink()
    with FileAudit().recording() as audit:
        report = update_index(positions_dir, index_dir, changed=["b.md", "d.md", "a.md", ".x.md"])
    read = sorted({Path(p).name for p in audit.paths if p.endswith(".md")})
    assert (report.updated, report.added, report.removed) == (["b.md"], ["d.md"], ["a.md"])
    assert read == ["b.md", "d.md"]
    assert found(index_dir, "cherries") == []  # not named: trusted until the folder is walked
    assert update_index(positions_dir, index_dir).updated == ["c.md"]
    assert found(index_dir, "cherries") == ["c"]
