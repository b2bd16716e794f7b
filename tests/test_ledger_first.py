"""The citation ledger is never behind what is served: a generation's passages are
recorded before it goes live, so a kill at the very moment of the swap loses nothing;
a ledger that cannot be written stops the run with its real cause and no litter."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app import create_app
from kb.cite.ledger import LEDGER_FILE, read_ledger
from kb.index import store
from kb.index.build import Generation, IndexReport

ROOT = Path(__file__).resolve().parent.parent

# Runs `flask kb index` with os.replace wrapped: SIGKILL right before, or right after,
# CURRENT is replaced — the exact moment the new generation goes live.
KILL_AT_SWAP = textwrap.dedent("""\
    import os, signal, sys
    from pathlib import Path

    when, real = sys.argv[1], os.replace

    def replace(src, dst, *args, **kwargs):
        swap = Path(dst).name == "CURRENT"
        if swap and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        real(src, dst, *args, **kwargs)
        if swap and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace
    from flask.cli import main

    sys.argv = ["flask", "--app", "app", "kb", "index"]
    main()
""")

PARAGRAPHS = ["Trade with our neighbours.", "A seat at the table.", "Fair pay for all."]


def write_europe(folder: Path, paragraphs: list[str]) -> None:
    text = "---\ntitle: Europe\nsummary: S.\nstatus: adopted\nupdated: 2026-11-01\n---\n"
    (folder / "europe.md").write_text(text + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


@pytest.fixture
def folders(tmp_path):
    folder, index_dir = tmp_path / "positions", tmp_path / "search_index"
    folder.mkdir()
    write_europe(folder, PARAGRAPHS)
    return folder, index_dir


def app_over(folder: Path, index_dir: Path):
    config = {"KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index_dir)}
    return create_app({"TESTING": True, **config})


def index(folder: Path, index_dir: Path, *args: str):
    return app_over(folder, index_dir).test_cli_runner().invoke(args=["kb", "index", *args])


def served_ids(folder: Path, index_dir: Path) -> dict[str, str]:
    """Passage id → text of every passage the live generation serves."""
    client = app_over(folder, index_dir).test_client()
    record = client.get("/api/positions/europe").get_json()
    return {p["id"]: p["text"] for p in record["passages"]}


def kill_at_swap(folder: Path, index_dir: Path, when: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index_dir)}
    return subprocess.run(
        [sys.executable, "-c", KILL_AT_SWAP, when],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_kill_at_the_swap_leaves_every_served_id_recorded(folders, when):
    folder, index_dir = folders
    assert index(folder, index_dir).exit_code == 0
    old_revision = store.current_revision(index_dir)
    edited = [*PARAGRAPHS[:1], "A seat at the top table.", *PARAGRAPHS[2:]]
    write_europe(folder, edited)
    killed = kill_at_swap(folder, index_dir, when)
    assert killed.returncode == -9, killed.stderr
    live = store.current_revision(index_dir)
    assert (live == old_revision) is (when == "before")
    served = served_ids(folder, index_dir)
    assert ("A seat at the top table." in served.values()) is (when == "after")
    ledger = read_ledger(folder)
    assert set(served) <= set(ledger.entries)  # every served id is in the ledger
    client = app_over(folder, index_dir).test_client()
    for pid in served:
        assert client.get(f"/api/cite/{pid}").get_json()["status"] == "current"
    # The editor's next edit and run: every id ever served still resolves.
    write_europe(folder, [*edited[:2], "Fair pay for everyone."])
    assert index(folder, index_dir).exit_code == 0
    client = app_over(folder, index_dir).test_client()
    for pid in served:
        assert client.get(f"/api/cite/{pid}").status_code == 200, pid
    leftovers = [p.name for p in (*folder.iterdir(), *index_dir.iterdir()) if p.suffix == ".tmp"]
    assert leftovers == []


def test_the_ledger_is_written_before_current_changes(folders, monkeypatch):
    """In-process: at the moment the pointer is replaced, the ledger already holds
    every passage of the generation about to go live."""
    folder, index_dir = folders
    assert index(folder, index_dir).exit_code == 0
    write_europe(folder, [*PARAGRAPHS, "A new closing paragraph."])
    seen: list[tuple[bool, set[str]]] = []
    real_publish = store.publish

    def publish(where: Path, revision: str) -> None:
        generation = Generation(where / revision, IndexReport(), live=False)
        ids = {p.id for record in generation.records() for p in record.passages}
        recorded = set(read_ledger(folder).entries)
        seen.append((ids <= recorded, ids))
        real_publish(where, revision)

    monkeypatch.setattr(store, "publish", publish)
    assert index(folder, index_dir).exit_code == 0
    assert [ok for ok, _ in seen] == [True] and len(seen[0][1]) == 4


@pytest.mark.parametrize(
    ("code", "cause"),
    [(errno.ENOSPC, "No space left on device"), (errno.EACCES, "Permission denied")],
    ids=["full-disk", "permissions"],
)
def test_a_ledger_write_failure_exits_1_with_its_cause_and_leaves_no_tmp_file(
    folders, monkeypatch, code, cause
):
    folder, index_dir = folders
    assert index(folder, index_dir).exit_code == 0
    revision = store.current_revision(index_dir)
    ledger_bytes = (folder / LEDGER_FILE).read_bytes()
    write_europe(folder, [*PARAGRAPHS, "A new closing paragraph."])
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        if f".{LEDGER_FILE}." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(code, os.strerror(code))  # the ledger's temporary file
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    result = index(folder, index_dir)
    monkeypatch.undo()
    assert result.exit_code == 1
    assert f"{LEDGER_FILE}:1: cannot write the citation ledger: {cause}; " in result.output
    refused = f"cannot write the citation ledger: {cause}; the site still serves the previous"
    assert refused in result.output
    assert sorted(p.name for p in folder.iterdir()) == [LEDGER_FILE, "europe.md"]  # no .tmp
    assert (folder / LEDGER_FILE).read_bytes() == ledger_bytes
    assert store.current_revision(index_dir) == revision  # the new wording was not served
    assert "A new closing paragraph." not in served_ids(folder, index_dir).values()
    again = index(folder, index_dir)
    assert again.exit_code == 0, again.output
    assert "A new closing paragraph." in served_ids(folder, index_dir).values()


def test_a_tmp_file_left_by_a_killed_run_is_removed(folders):
    folder, index_dir = folders
    assert index(folder, index_dir).exit_code == 0
    leftover = folder / f".{LEDGER_FILE}.0badc0de.tmp"
    leftover.write_text("half a ledger", encoding="utf-8")
    write_europe(folder, [*PARAGRAPHS, "A new closing paragraph."])
    assert index(folder, index_dir).exit_code == 0
    assert not leftover.exists()


def test_a_damaged_ledger_line_exits_1_and_nothing_new_is_served(folders):
    folder, index_dir = folders
    assert index(folder, index_dir).exit_code == 0
    ledger = folder / LEDGER_FILE
    text = ledger.read_text(encoding="utf-8")
    ledger.write_text(text + "{not json\n", encoding="utf-8")
    damaged = len(text.splitlines()) + 1
    unchanged = index(folder, index_dir)  # nothing to record: served, but still an error
    assert unchanged.exit_code == 1
    assert f"{LEDGER_FILE}:{damaged}: line is not valid JSON" in unchanged.output
    write_europe(folder, [*PARAGRAPHS, "A new closing paragraph."])
    result = index(folder, index_dir)
    assert result.exit_code == 1
    assert "citation ledger not updated: fix the problem above, then run flask kb index" in (
        result.output
    )
    assert "A new closing paragraph." not in served_ids(folder, index_dir).values()
