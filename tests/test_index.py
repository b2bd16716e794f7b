"""The index is built into a new generation and swapped in atomically."""

from __future__ import annotations

import os
import threading

import pytest
from whoosh import index as whoosh_index

from kb.content import checks
from kb.index import build as build_module
from kb.index import store
from kb.index.build import update_index
from kb.index.reader import IndexReader
from kb.search.engine import SearchRequest, search
from kb.search.synonyms import build_synonyms


def titles(index_dir, q: str) -> list[str]:
    reader = IndexReader(index_dir)
    found = search(reader.searcher(), build_synonyms([]), SearchRequest(q=q))
    return [r.title for r in found.results]


def test_full_build_then_up_to_date(write_position, positions_dir, index_dir):
    write_position("europe", "We cooperate with our neighbours.", title="Europe")
    report = update_index(positions_dir, index_dir)
    assert (report.rebuilt, report.added) == (True, ["europe.md"])
    again = update_index(positions_dir, index_dir)
    assert not again.changed and again.revision == report.revision
    assert titles(index_dir, "neighbours") == ["Europe"]


def test_incremental_update_touches_only_changed_files(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.", title="Europe")
    write_position("climate", "Emissions.", title="Climate")
    update_index(positions_dir, index_dir)
    write_position("climate", "Emissions and warming.", title="Climate")
    (positions_dir / "europe.md").unlink()
    write_position("power", "Communities.", title="Power")
    report = update_index(positions_dir, index_dir)
    assert (report.added, report.updated, report.removed) == (
        ["power.md"],
        ["climate.md"],
        ["europe.md"],
    )
    assert titles(index_dir, "warming") == ["Climate"]
    assert titles(index_dir, "neighbours") == []


def test_bad_file_is_skipped_and_reported(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.", title="Europe")
    write_position("broken", raw="---\ntitle: [x\n---\nBody\n")
    report = update_index(positions_dir, index_dir)
    assert report.skipped == ["broken.md"]
    assert [str(p) for p in report.problems][0].startswith("broken.md:")
    assert titles(index_dir, "neighbours") == ["Europe"]


def test_file_that_turns_invalid_keeps_last_good_version(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    write_position("europe", raw="---\ntitle: Europe\nstatus: wrong\n---\nNew text.\n")
    report = update_index(positions_dir, index_dir)
    assert report.skipped == ["europe.md"]
    assert titles(index_dir, "neighbours") == ["Europe"]


def test_old_index_readable_while_rebuild_runs(
    write_position, positions_dir, index_dir, monkeypatch
):
    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    reader = IndexReader(index_dir)
    old = reader.revision()
    started, release = threading.Event(), threading.Event()
    real_documents = build_module.documents

    def slow_documents(position):
        started.set()
        release.wait(5)
        return real_documents(position)

    monkeypatch.setattr(build_module, "documents", slow_documents)
    write_position("europe", "Neighbours and friends.", title="Europe")
    worker = threading.Thread(target=update_index, args=(positions_dir, index_dir, True))
    worker.start()
    assert started.wait(5)
    assert titles(index_dir, "neighbours") == ["Europe"]  # served from the old generation
    assert store.current_revision(index_dir) == old
    release.set()
    worker.join(10)
    assert store.current_revision(index_dir) != old
    assert titles(index_dir, "friends") == ["Europe"]


def test_crash_mid_build_leaves_old_index_serving(
    write_position, positions_dir, index_dir, monkeypatch
):
    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    old = store.current_revision(index_dir)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "seal_generation", crash)
    write_position("europe", "Changed.", title="Europe")
    with pytest.raises(OSError):
        update_index(positions_dir, index_dir, rebuild=True)
    assert store.current_revision(index_dir) == old
    assert titles(index_dir, "neighbours") == ["Europe"]
    assert sorted(p.name for p in index_dir.glob("gen-*")) == [old]


def test_leftover_unfinished_generation_is_ignored_and_pruned(
    write_position, positions_dir, index_dir
):
    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    (index_dir / "gen-00000000T000000-deadbeef").mkdir()  # as left by a kill -9
    write_position("europe", "Friends.", title="Europe")
    update_index(positions_dir, index_dir)
    assert not (index_dir / "gen-00000000T000000-deadbeef").exists()
    assert titles(index_dir, "friends") == ["Europe"]


def test_second_indexer_gets_a_clear_message(write_position, positions_dir, index_dir):
    write_position("europe")
    with store.indexer_lock(index_dir):
        with pytest.raises(store.IndexBusy, match="another 'flask kb index' is running"):
            update_index(positions_dir, index_dir)


def test_every_generation_opens(write_position, positions_dir, index_dir):
    write_position("europe")
    update_index(positions_dir, index_dir)
    revision = store.current_revision(index_dir)
    assert whoosh_index.exists_in(os.fspath(index_dir / revision))


def test_large_folder_builds_in_parallel_with_same_result(write_position, positions_dir, index_dir):
    count = checks.PARALLEL_FROM + 10
    for n in range(count):
        write_position(f"p{n:03d}", f"Paragraph number {n} about topic{n % 7}.", title=f"P {n}")
    report = update_index(positions_dir, index_dir)
    assert len(report.added) == count
    reader = IndexReader(index_dir)
    found = search(reader.searcher(), build_synonyms([]), SearchRequest(q="topic3"))
    assert found.total == len([n for n in range(count) if n % 7 == 3])
    assert found.results[0].passages[0].text.endswith("topic3.")


@pytest.mark.parametrize("indent", [None, 2])
def test_a_generation_built_by_another_schema_is_not_opened(
    write_position, positions_dir, index_dir, indent
):
    """The reader checks the schema version (read off the manifest's end, or from the
    whole manifest when it was written some other way) before opening a generation."""
    import json

    from kb.index.reader import IndexUnreadable
    from kb.index.schema import SCHEMA_VERSION

    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    revision = store.current_revision(index_dir)
    assert store.schema_version(index_dir, revision) == SCHEMA_VERSION
    path = index_dir / revision / store.MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = SCHEMA_VERSION - 1
    path.write_text(json.dumps(data, indent=indent), encoding="utf-8")
    assert store.schema_version(index_dir, revision) == SCHEMA_VERSION - 1
    with pytest.raises(IndexUnreadable, match="built by another version"):
        IndexReader(index_dir).searcher()


def test_a_new_thread_takes_over_the_searcher_a_finished_thread_left(
    write_position, positions_dir, index_dir
):
    """A server that runs each request in a new thread (the preview) reuses searchers
    instead of opening one per request; one left on an older generation is closed."""
    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    reader = IndexReader(index_dir)

    def in_a_new_thread():
        opened = []
        thread = threading.Thread(target=lambda: opened.append(reader.searcher()))
        thread.start()
        thread.join()
        return opened[0]

    first = in_a_new_thread()
    assert in_a_new_thread() is first
    write_position("europe", "Friends.", title="Europe")
    update_index(positions_dir, index_dir)
    newer = in_a_new_thread()
    assert newer is not first and first.reader().is_closed and not newer.reader().is_closed
    reader.close()


def test_generation_files_read_at_a_position_without_moving_the_file(
    write_position, positions_dir, index_dir
):
    """How a searcher reads its files (``PositionalFile``): a ``get`` reads the bytes at
    its position and leaves the file where it was, as Whoosh's own in-memory files do,
    so Whoosh's sequential reads and its reads by position can be mixed."""
    from kb.index.reader import PinnedStorage

    write_position("europe", "Neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    folder = index_dir / store.current_revision(index_dir)
    name = max(os.listdir(folder), key=lambda n: (folder / n).stat().st_size)
    data = (folder / name).read_bytes()
    handle = PinnedStorage(folder).open_file(name)
    assert handle.read(3) == data[:3]
    assert handle.get(len(data) - 5, 10) == data[-5:]
    assert handle.read(4) == data[3:7]
    handle.close()
