"""Faults: a full disk while indexing, the index folder deleted under a running server, a
corrupted citation ledger, unreadable content. Each gives a clear message, the last good
index keeps serving, and nothing is lost.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import shutil
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import whoosh.multiproc
from whoosh.filedb.filestore import FileStorage

from app import create_app
from kb.cite.ledger import LEDGER_FILE, read_ledger
from kb.content import checks
from kb.index import build, store
from kb.web.errors import MISSING_INDEX
from tests.live_server import raw_get, run_gunicorn
from tests.tmpfs import mounted_tmpfs

NO_SPACE = "Error: could not write the index: [Errno 28] No space left on device\n"
# Closing a failed writer's files can fail on the same full disk: Python closes them when
# they are collected, which pytest reports as unraisable ResourceWarnings. Expected here.
FILES_CLOSED_LATE = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def app_over(positions_dir: Path, index_dir: Path, **config):
    settings = {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
    return create_app({"TESTING": True, **settings, **config})


def index(app, *options: str):
    """`flask kb index` as an editor runs it."""
    return app.test_cli_runner().invoke(args=["kb", "index", *options])


def word(n: int) -> str:
    """A word found only in bulk position ``n``: 12 → 'uniqbc'."""
    return "uniq" + "".join("abcdefghij"[int(digit)] for digit in str(n))


def bulk(positions_dir: Path, count: int, paragraphs: int = 3) -> None:
    """``count`` extra positions, each with a word of its own (``word(n)``)."""
    for n in range(count):
        body = "\n\n".join(
            f"A paragraph of {word(n)}: alpha beta gamma delta epsilon zeta eta theta "
            "iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega."
            for _ in range(paragraphs)
        )
        text = f"---\ntitle: Bulk {n}\nstatus: adopted\nupdated: 2026-11-01\n---\n{body}\n"
        (positions_dir / f"bulk-{n}.md").write_text(text, encoding="utf-8")


def search_total(client, q: str) -> int:
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["total"]


@pytest.fixture
def site(write_position, positions_dir, index_dir):
    """Three positions, indexed by the CLI (so the ledger exists), and an app serving them."""
    write_position("europe", "Trade with our neighbours.\n\nA seat at the table.", title="Europe",
                   topics=["europe"])  # fmt: skip
    write_position("climate", "Insulate every home.\n\nNet zero by 2040.", title="Climate")
    write_position("work", "Fair pay for every worker.", title="Work")
    app = app_over(positions_dir, index_dir)
    result = index(app)
    assert result.exit_code == 0, result.output
    return app


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*"))


def assert_unchanged(site, index_dir, positions_dir, revision, ledger_bytes) -> None:
    """The last good index is still live and served, and the ledger is untouched."""
    assert store.current_revision(index_dir) == revision
    assert generations(index_dir) == [revision]  # the half-written one was removed
    assert (positions_dir / LEDGER_FILE).read_bytes() == ledger_bytes
    client = site.test_client()
    assert search_total(client, "neighbours") == 1
    fresh = app_over(positions_dir, index_dir).test_client()  # a server started now
    assert search_total(fresh, "neighbours") == 1


# Disk full ---------------------------------------------------------------------------


class FullDisk:
    """Whoosh's files accept ``budget`` bytes in all, then every write fails (ENOSPC)."""

    def __init__(self, budget: int) -> None:
        self.left = budget

    def take(self, size: int) -> None:
        if size > self.left:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.left -= size


class FillingFile:
    def __init__(self, handle, disk: FullDisk) -> None:
        self._handle, self._disk = handle, disk

    def write(self, data) -> int:
        self._disk.take(len(data))
        return self._handle.write(data)

    def __getattr__(self, name: str):
        return getattr(self._handle, name)


@pytest.fixture
def full_disk(monkeypatch):
    """Call with a byte budget: from then on, index files fill the disk after it."""
    original = FileStorage.create_file

    def fill_after(budget: int) -> FullDisk:
        disk = FullDisk(budget)

        def create_file(storage, name, *args, **kwargs):
            handle = original(storage, name, *args, **kwargs)
            handle.file = FillingFile(handle.file, disk)
            return handle

        monkeypatch.setattr(FileStorage, "create_file", create_file)
        return disk

    return fill_after


@FILES_CLOSED_LATE
@pytest.mark.parametrize("options", [(), ("--rebuild",)], ids=["update", "rebuild"])
def test_disk_full_while_indexing_keeps_the_last_index(
    site, positions_dir, index_dir, full_disk, options
):
    revision = store.current_revision(index_dir)
    ledger_bytes = (positions_dir / LEDGER_FILE).read_bytes()
    bulk(positions_dir, 20)
    full_disk(4_000)  # the new generation fails part-way through
    result = index(site, *options)
    assert result.exit_code == 1
    assert result.output == NO_SPACE
    assert_unchanged(site, index_dir, positions_dir, revision, ledger_bytes)


@FILES_CLOSED_LATE
def test_after_a_full_disk_the_next_run_catches_up(site, positions_dir, index_dir, full_disk):
    bulk(positions_dir, 5)
    disk = full_disk(2_000)
    assert index(site).exit_code == 1
    disk.left = 10**9  # space freed
    result = index(site)
    assert result.exit_code == 0, result.output
    assert "5 added" in result.output
    assert search_total(site.test_client(), word(4)) == 1
    recorded = {e.slug for e in read_ledger(positions_dir).entries.values()}
    assert recorded == {"europe", "climate", "work"} | {f"bulk-{n}" for n in range(5)}


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MB tmpfs for the index (root only); skipped where mounting is refused."""
    with mounted_tmpfs(tmp_path / "small_disk", "2m", covered_by="the simulated full disk") as disk:
        yield disk / "search_index"


@FILES_CLOSED_LATE
@pytest.mark.parametrize("options", [(), ("--rebuild",)], ids=["update", "rebuild"])
def test_a_real_full_disk_keeps_the_last_index(write_position, positions_dir, small_disk, options):
    write_position("europe", "Trade with our neighbours.", title="Europe")
    app = app_over(positions_dir, small_disk)
    assert index(app).exit_code == 0
    revision = store.current_revision(small_disk)
    ledger_bytes = (positions_dir / LEDGER_FILE).read_bytes()
    bulk(positions_dir, 150, paragraphs=40)  # about 2 MB of text: more than the disk holds
    result = index(app, *options)
    assert (result.exit_code, result.output) == (1, NO_SPACE)
    assert_unchanged(app, small_disk, positions_dir, revision, ledger_bytes)


def test_a_parallel_build_that_loses_a_worker_is_never_published(
    site, positions_dir, index_dir, monkeypatch
):
    # Whoosh's multi-process writer commits an index without the documents of a worker
    # that died (a full disk, the OOM killer); the build must refuse it, not publish it.
    revision = store.current_revision(index_dir)
    ledger_bytes = (positions_dir / LEDGER_FILE).read_bytes()
    bulk(positions_dir, 12)
    monkeypatch.setattr(checks, "PARALLEL_FROM", 2)

    def die(task, filename, count):
        raise OSError(errno.ENOSPC, "No space left on device (in a worker)")

    monkeypatch.setattr(whoosh.multiproc.SubWriterTask, "_process_file", die)
    result = index(site, "--rebuild")
    assert result.exit_code == 1
    assert result.output.startswith("Error: could not write the index: only ")
    assert "documents were written (an indexing process failed; is the disk full?); the " in (
        result.output
    )
    assert_unchanged(site, index_dir, positions_dir, revision, ledger_bytes)


def test_a_ledger_that_cannot_be_written_is_reported_and_caught_up(
    site, positions_dir, index_dir, monkeypatch
):
    from kb.cite import publish

    ledger_bytes = (positions_dir / LEDGER_FILE).read_bytes()
    bulk(positions_dir, 1)

    def no_space(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(publish, "write_atomic", no_space)
    result = index(site)
    assert "citations.ledger.jsonl:1: cannot write the citation ledger: No space left" in (
        result.output
    )
    assert (positions_dir / LEDGER_FILE).read_bytes() == ledger_bytes
    monkeypatch.undo()
    again = index(site)
    assert again.exit_code == 0, again.output
    assert "bulk-0" in {e.slug for e in read_ledger(positions_dir).entries.values()}


# The index folder deleted under a running server ---------------------------------------


def in_new_thread(function):
    """Run ``function`` in a thread that has never opened the index."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result(timeout=30)


def test_a_deleted_index_folder_keeps_serving_the_last_generation(site, positions_dir, index_dir):
    client = site.test_client()
    before = client.get("/api/search?q=neighbours").get_json()
    shutil.rmtree(index_dir)  # rm -rf search_index under the running server
    pages = ["/", "/positions/europe", "/search?q=insulate", "/api/search?q=neighbours",
             "/api/suggest?q=nei", "/positions", "/topics/europe", "/feed.atom"]  # fmt: skip
    pid = before["results"][0]["passages"][0]["id"]
    pages.append(f"/cite/{pid}")
    for path in pages:
        assert client.get(path).status_code == 200, path

    def fresh_thread() -> list[int]:
        other = site.test_client()
        assert other.get("/api/search?q=neighbours").get_json() == before
        return [other.get(path).status_code for path in pages]

    assert in_new_thread(fresh_thread) == [200] * len(pages)
    result = index(site)  # the next index run rebuilds it
    assert result.exit_code == 0, result.output
    assert "index rebuilt: 3 added" in result.output
    write_new = positions_dir / "housing.md"
    write_new.write_text("---\ntitle: Housing\n---\nBuild council homes.\n", encoding="utf-8")
    assert index(site).exit_code == 0
    assert in_new_thread(lambda: search_total(site.test_client(), "council")) == 1


def test_a_server_that_never_opened_an_index_says_how_to_build_it(site, positions_dir, index_dir):
    shutil.rmtree(index_dir)
    client = app_over(positions_dir, index_dir).test_client()
    page = client.get("/")
    assert page.status_code == 503
    assert MISSING_INDEX in page.get_data(as_text=True)
    assert client.get("/api/search?q=x").get_json() == {
        "ok": False,
        "error": MISSING_INDEX,
        "status": 503,
    }


def test_gunicorn_keeps_answering_after_the_index_folder_is_deleted(
    site, positions_dir, index_dir, tmp_path
):

    env = {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
    # Two workers, the folder deleted before either searched: under gunicorn the app
    # reads the index before it answers anything (app.py), so each holds the generation.
    with run_gunicorn(env, tmp_path / "gunicorn.log", workers=2, threads=4) as port:

        def get(path: str) -> int:
            return raw_get(port, path).status

        shutil.rmtree(index_dir)
        paths = [f"/api/search?q=neighbours+{n}" for n in range(40)] + ["/positions/europe"] * 8
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(get, paths))
    assert statuses == [200] * len(paths)


# A corrupted citation ledger -----------------------------------------------------------


def ledger_lines(positions_dir: Path) -> list[bytes]:
    return (positions_dir / LEDGER_FILE).read_bytes().split(b"\n")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda line: line[: len(line) // 2], "line is not valid JSON"),
        (lambda line: b"\xff\xfe garbage \x00\x01", "line is not valid UTF-8"),
    ],
    ids=["truncated-line", "garbage-bytes"],
)
def test_a_corrupted_ledger_line_is_named_and_nothing_else_is_lost(
    site, positions_dir, index_dir, damage, message
):
    client = site.test_client()
    entries = read_ledger(positions_dir).entries
    lines = ledger_lines(positions_dir)
    victim = 2  # the second entry (line 1 is the header)
    lines[victim] = damage(lines[victim])
    (positions_dir / LEDGER_FILE).write_bytes(b"\n".join(lines))
    damaged = (positions_dir / LEDGER_FILE).read_bytes()
    check = site.test_cli_runner().invoke(args=["kb", "check"])
    assert check.exit_code == 1
    assert f"{LEDGER_FILE}:{victim + 1}: {message}" in check.output
    assert "Traceback" not in check.output
    bulk(positions_dir, 1)
    result = index(site)
    assert result.exit_code == 1
    assert f"{LEDGER_FILE}:{victim + 1}: {message}" in result.output
    assert "citation ledger not updated: fix the problem above" in result.output
    assert "index not updated: 0 added" in result.output
    assert (positions_dir / LEDGER_FILE).read_bytes() == damaged  # never rewritten
    kept = read_ledger(positions_dir).entries
    assert len(kept) == len(entries) - 1 and set(kept) < set(entries)
    for pid in entries:
        assert client.get(f"/cite/{pid}").status_code == 200, pid  # current: from the index
    # The ledger could not record the new passages, so they are not served either.
    assert search_total(client, word(0)) == 0


# Unreadable content ----------------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_reported_and_the_rest_indexed(site, positions_dir):
    bulk(positions_dir, 2)
    locked = positions_dir / "bulk-1.md"
    locked.chmod(0)
    try:
        result = index(site)
    finally:
        locked.chmod(0o644)
    assert "bulk-1.md:1: cannot read file: Permission denied" in result.output
    assert "1 added" in result.output


def test_an_unreadable_file_is_reported_even_as_root(site, positions_dir, monkeypatch):
    from kb.content import loader

    bulk(positions_dir, 2)
    original = loader.read_bounded

    def refuse(path: Path, root: Path | None = None):
        if path.name == "bulk-1.md":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return original(path, root)

    monkeypatch.setattr(loader, "read_bounded", refuse)
    result = index(site)
    assert result.exit_code == 0, result.output
    assert "bulk-1.md:1: cannot read file: Permission denied" in result.output
    assert "1 added" in result.output and "1 skipped with errors" in result.output


def test_a_file_deleted_while_indexing_is_not_fatal(site, positions_dir, monkeypatch):
    from kb.content import loader

    bulk(positions_dir, 3)
    original = loader.read_bounded

    reads: list[str] = []

    def vanish(path: Path, root: Path | None = None):
        reads.append(path.name)
        if reads.count("bulk-2.md") == 2:  # hashed, then deleted before it is loaded
            path.unlink()  # the editor deleted it between the listing and the read
        return original(path, root)

    monkeypatch.setattr(loader, "read_bounded", vanish)
    result = index(site)
    assert result.exit_code == 0, result.output
    assert "bulk-2.md:1: cannot read file: No such file or directory" in result.output
    assert search_total(site.test_client(), word(1)) == 1


def test_an_unreadable_content_folder_gives_a_clear_message(site, positions_dir, index_dir):
    revision = store.current_revision(index_dir)
    moved = positions_dir.with_name("elsewhere")
    positions_dir.rename(moved)
    try:
        result = index(site)
    finally:
        moved.rename(positions_dir)
    assert result.exit_code == 1
    assert result.output == f"Error: content folder not found: {positions_dir}\n"
    assert store.current_revision(index_dir) == revision
    assert search_total(site.test_client(), "neighbours") == 1


def test_threads_opening_the_index_at_once_all_get_it(site):
    # Many request threads start together after a deploy: each opens its own searcher.
    barrier = threading.Barrier(8)

    def search() -> int:
        barrier.wait(timeout=10)
        return search_total(site.test_client(), "neighbours")

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lambda _: search(), range(8))) == [1] * 8


def test_a_generation_pruned_while_a_reader_opens_it_leaves_no_file_open(
    write_position, positions_dir, index_dir
):
    """An indexer prunes old generations while a server thread may be opening one. If a
    segment is gone half-way through, the segments already opened are closed at once,
    not left to the garbage collector (a ResourceWarning, and a failed suite)."""
    from kb.index.reader import IndexReader, IndexUnreadable

    write_position("europe", "Our closest partners.")
    build.update_index(positions_dir, index_dir)
    write_position("climate", "Net zero.")
    build.update_index(positions_dir, index_dir)  # a second segment
    revision = store.current_revision(index_dir)
    folder = index_dir / revision
    segments = sorted({p.name.split(".")[0] for p in folder.glob("*.trm")})
    assert len(segments) == 2
    reader = IndexReader(index_dir)
    storage = reader._storage(revision)
    last = f"{segments[-1]}.trm"  # opened when the segment's reader is made
    os.close(storage.held.pop(last))  # pruned before it was pinned
    (folder / last).unlink()
    with _no_resource_warnings():
        with pytest.raises(IndexUnreadable):
            reader._open(revision)
        gc.collect()


@contextlib.contextmanager
def _no_resource_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaked == []
