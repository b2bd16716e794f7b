"""Crash safety: SIGKILL at any moment never breaks the index or the ledger; one indexer
at a time, and a second one waits or says clearly why it stopped."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from kb.cite.ledger import read_ledger
from kb.index import store
from kb.index.build import Generation, IndexReport
from kb.search.engine import SearchRequest, search
from kb.search.synonyms import build_synonyms

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261128
KILLS = 20  # at least this many runs killed mid-way
MAX_RUNS = 60  # bounded even if many runs finish before their kill
POSITIONS = 80
KNOWN_WORD = "lighthouse"
WORDS = (
    "policy housing climate trade europe workers fair pay energy transport schools health "
    "community power reform growth jobs rights cooperation democracy"
).split()


def write_generated(folder: Path, number: int, rng: random.Random, marker: str = "") -> None:
    """One predictable position: three sections of three paragraphs, the known word in each."""
    sections = []
    for section in range(3):
        paragraphs = [
            " ".join(rng.choice(WORDS) for _ in range(50)) + f" {KNOWN_WORD} item{number}."
            for _ in range(3)
        ]
        sections.append(f"## Section {section}\n\n" + "\n\n".join(paragraphs))
    front = (
        f"---\ntitle: Position {number}\nsummary: Generated position {number}.\n"
        "status: adopted\nupdated: 2026-01-01\n---\n"
    )
    marker_line = f"\n\nRevised: {marker}.\n" if marker else "\n"
    (folder / f"position-{number:03d}.md").write_text(
        front + "\n\n".join(sections) + marker_line, encoding="utf-8"
    )


def marker(run: int) -> str:
    """A made-up word per run, letters only so the analyser keeps it whole."""
    return "stamp" + chr(97 + run // 26) + chr(97 + run % 26)


def make_corpus(tmp_path: Path, count: int) -> tuple[Path, Path, dict]:
    folder, index_dir = tmp_path / "positions", tmp_path / "search_index"
    folder.mkdir()
    rng = random.Random(SEED)
    for number in range(count):
        write_generated(folder, number, rng)
    env = {**os.environ, "KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index_dir)}
    return folder, index_dir, env


def timed_run(env: dict, *args: str) -> float:
    """Run an indexer to the end; its wall time, to aim the kills across a whole run."""
    started = time.monotonic()
    process = start_indexer(env, *args)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return time.monotonic() - started


def start_indexer(env: dict, *args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "flask", "--app", "app", "kb", "index", *args]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def search_slugs(index_dir: Path, words: str) -> list[str]:
    """Open the live generation the way the app does and search it."""
    revision = store.current_revision(index_dir)
    assert revision is not None, "no complete index"
    ix = whoosh_index.open_dir(str(index_dir / revision))
    try:
        with ix.searcher() as searcher:
            request = SearchRequest(q=words, per_page=50)
            found = search(searcher, build_synonyms([]), request, True)
            return [result.slug for result in found.results]
    finally:
        ix.close()


def assert_healthy(folder: Path, index_dir: Path) -> None:
    """The index opens and answers; the manifest and every ledger line parse; every
    passage the live index serves is in the ledger (it is recorded before going live)."""
    assert search_slugs(index_dir, KNOWN_WORD), "the known word is not searchable"
    revision = store.current_revision(index_dir)
    manifest = store.read_manifest(index_dir, revision)
    assert manifest.files
    for ledger in folder.glob("*.jsonl"):
        for number, line in enumerate(ledger.read_text(encoding="utf-8").splitlines(), 1):
            try:
                json.loads(line)
            except ValueError:
                pytest.fail(f"{ledger.name}:{number} is not a whole JSON line: {line!r}")
    served = Generation(index_dir / revision, IndexReport(), live=True).records()
    recorded = read_ledger(folder).entries
    unrecorded = [p.id for r in served for p in r.passages if p.id not in recorded]
    assert unrecorded == [], f"{len(unrecorded)} served passages are not in the ledger"


@pytest.mark.slow
def test_sigkill_at_random_moments_never_breaks_the_index(tmp_path):
    folder, index_dir, env = make_corpus(tmp_path, POSITIONS)
    rng = random.Random(SEED)
    durations = {"rebuild": timed_run(env)}
    write_generated(folder, 0, rng, "calibration")
    durations["update"] = timed_run(env)
    killed, finished, run = 0, 0, 0
    while killed < KILLS and run < MAX_RUNS:
        for number in rng.sample(range(POSITIONS), rng.randint(1, 8)):
            write_generated(folder, number, rng, marker(run))
        kind = "rebuild" if run % 5 == 0 else "update"
        process = start_indexer(env, *(["--rebuild"] if kind == "rebuild" else []))
        try:  # anywhere from start-up to just past the end of a typical run
            process.wait(timeout=rng.uniform(0.15, 1.2) * durations[kind])
            finished += 1
            durations[kind] *= 0.9  # the machine got faster: aim earlier next time
        except subprocess.TimeoutExpired:
            process.kill()  # SIGKILL: no cleanup, no finally blocks
            killed += 1
        process.communicate()
        assert_healthy(folder, index_dir)
        run += 1
    print(
        f"\nfull run {durations['rebuild']:.1f}s, update {durations['update']:.1f}s; "
        f"{killed} indexers killed mid-run, {finished} finished first; all left a working index"
    )
    assert killed >= KILLS
    last = start_indexer(env)
    assert last.communicate(timeout=120) and last.returncode == 0
    assert_healthy(folder, index_dir)
    newest = marker(run - 1)
    changed = {path.stem for path in folder.glob("*.md") if newest in path.read_text()}
    assert sorted(search_slugs(index_dir, newest)) == sorted(changed)
    manifest = store.read_manifest(index_dir, store.current_revision(index_dir))
    assert len(manifest.files) == POSITIONS
    leftovers = [p.name for p in index_dir.iterdir() if p.name.endswith(".tmp")]
    unfinished = [p.name for p in index_dir.glob("gen-*") if not (p / store.MANIFEST).exists()]
    assert (leftovers, unfinished) == ([], [])


@pytest.mark.slow
def test_two_indexers_started_at_once(tmp_path):
    folder, index_dir, env = make_corpus(tmp_path, 40)
    both = [start_indexer(env, "--rebuild"), start_indexer(env, "--rebuild")]
    outcomes = [(p.communicate(timeout=120)[1], p.returncode) for p in both]
    outcomes = [(code, err) for err, code in outcomes]
    codes = sorted(code for code, _ in outcomes)
    assert codes[0] == 0
    for code, err in outcomes:
        if code:
            assert "another indexer (flask kb index, or the preview) is updating" in err
    assert_healthy(folder, index_dir)
    waiting = [start_indexer(env, "--rebuild", "--wait", "120") for _ in range(2)]
    for process in waiting:
        process.communicate(timeout=240)
    assert [p.returncode for p in waiting] == [0, 0]
    assert_healthy(folder, index_dir)


def test_second_indexer_exits_with_a_clear_message(make_app, write_position, index_dir):
    write_position("europe", "Neighbours.")
    runner = make_app(index=False).test_cli_runner()
    with store.indexer_lock(index_dir):
        result = runner.invoke(args=["kb", "index"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: another indexer (flask kb index, or the preview) is updating {index_dir}; "
        "run this again when it has finished, or add --wait 60 to wait for it\n"
    )
    assert store.current_revision(index_dir) is None


def test_wait_lets_the_second_indexer_run_after_the_first(make_app, write_position, index_dir):
    write_position("europe", "Neighbours.")
    runner = make_app(index=False).test_cli_runner()
    holding, release = threading.Event(), threading.Event()

    def first_indexer() -> None:
        with store.indexer_lock(index_dir):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=first_indexer)
    thread.start()
    assert holding.wait(5)
    threading.Timer(0.5, release.set).start()
    result = runner.invoke(args=["kb", "index", "--wait", "10"])
    thread.join(10)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("index rebuilt: 1 added")
