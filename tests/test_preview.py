"""Live preview: watched folder, debounced re-indexing, problems shown in preview only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from watchdog.events import (
    DirCreatedEvent,
    DirModifiedEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)

from kb.preview import STATE_KEY, LiveIndexer, PreviewServer, is_relevant
from kb.service import knowledge_base_of
from kb.web.preview import enable_preview

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 15.0  # seconds; every wait below is bounded by it


def wait_until(condition, timeout: float = DEADLINE) -> bool:
    """Poll ``condition`` until it is true or the time is up."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize(
    ("event", "relevant"),
    [
        (FileModifiedEvent("{root}/europe.md"), True),
        (FileCreatedEvent("{root}/sub/new.md"), True),
        (FileDeletedEvent("{root}/europe.md"), True),
        (FileClosedEvent("{root}/europe.md"), True),
        (FileMovedEvent("{root}/.europe.md.tmp123", "{root}/europe.md"), True),  # atomic save
        (FileMovedEvent("{root}/europe.md", "{root}/europe.md~"), True),  # vim's backup rename
        (FileModifiedEvent("{root}/topics.yml"), True),
        (FileOpenedEvent("{root}/europe.md"), False),  # the indexer reading the file
        (FileClosedNoWriteEvent("{root}/europe.md"), False),
        (FileModifiedEvent("{root}/.europe.md.swp"), False),
        (FileModifiedEvent("{root}/europe.md~"), False),
        (FileCreatedEvent("{root}/4913"), False),
        (FileModifiedEvent("{root}/citations.ledger.jsonl"), False),
        (
            FileMovedEvent(
                "{root}/.citations.ledger.jsonl.ab12.tmp", "{root}/citations.ledger.jsonl"
            ),
            False,
        ),  # fmt: skip
        (FileModifiedEvent("{root}/synonyms.txt"), False),
        (FileModifiedEvent("{root}/_drafts/idea.md"), False),
        (FileModifiedEvent("{root}/.git/index"), False),
        (FileModifiedEvent("/elsewhere/europe.md"), False),
        (DirModifiedEvent("{root}"), False),
        (DirCreatedEvent("{root}/policies"), True),
        (DirCreatedEvent("{root}/.git"), False),
    ],
)
def test_which_file_events_trigger_a_reindex(tmp_path, event, relevant):
    root = tmp_path / "positions"
    event.src_path = event.src_path.format(root=root)
    event.dest_path = event.dest_path.format(root=root)
    assert is_relevant(event, root) is relevant


@pytest.fixture
def preview_app(make_app, write_position):
    """An app switched to preview mode over a small content folder."""
    write_position("europe", "We work with our neighbours.", title="Europe", summary="S.")
    write_position("climate", "Cut emissions.", title="Climate", summary="S.")
    return enable_preview(make_app(index=False))


def refresh(app) -> None:
    """What the watcher does after a save, run synchronously."""
    indexer = LiveIndexer(knowledge_base_of(app).settings, app.extensions[STATE_KEY])
    indexer.refresh()


def test_a_burst_of_events_makes_one_reindex(preview_app):
    indexer = LiveIndexer(
        knowledge_base_of(preview_app).settings, preview_app.extensions[STATE_KEY], debounce=0.5
    )
    indexer.start()
    try:
        for _ in range(30):  # an editor's save: write, close, rename, attribute events...
            indexer.request()
        assert wait_until(lambda: indexer.runs >= 1)
        time.sleep(1.0)  # long enough for any second, spurious run to have happened
        assert indexer.runs == 1
    finally:
        indexer.stop()


def test_invalid_file_shows_its_errors_and_last_good_version(preview_app, write_position):
    refresh(preview_app)
    client = preview_app.test_client()
    first = client.get("/positions/europe")
    assert first.status_code == 200 and b"preview-problems" not in first.data
    write_position("europe", raw="---\ntitle: Europe\nstatus: final\n---\nChanged text.\n")
    refresh(preview_app)
    page = client.get("/positions/europe", headers={"If-None-Match": first.headers["ETag"]})
    assert page.status_code == 200  # never 304: the page gained an error box
    html = page.get_data(as_text=True)
    assert "This file has errors: you are seeing its last good version" in html
    assert (
        "on line 3: status: unknown value &#39;final&#39;; use one of adopted, draft, archived"
        in html
    )
    assert "We work with our neighbours." in html and "Changed text." not in html
    assert '<a href="/preview/problems">Content problems: 1 error, 0 warnings</a>' in html
    problems = client.get("/preview/problems").get_data(as_text=True)
    assert '<a href="/positions/europe">europe.md</a>' in problems
    assert "The site still shows this file's last good version." in problems
    write_position("europe", "Changed text.", title="Europe", summary="S.")
    refresh(preview_app)
    page = lambda: client.get("/positions/europe").get_data(as_text=True)  # noqa: E731
    assert wait_until(lambda: "Changed text." in page())  # readers look for it twice a second
    assert "preview-problems" not in page()


def test_preview_never_writes_the_citation_ledger(preview_app, write_position, positions_dir):
    refresh(preview_app)
    write_position("europe", "A wording saved while editing.", title="Europe", summary="S.")
    refresh(preview_app)
    client = preview_app.test_client()
    assert "A wording saved while editing." in client.get("/positions/europe").get_data(True)
    assert not (positions_dir / "citations.ledger.jsonl").exists()


def test_problems_page_lists_every_problem_and_escapes_them(preview_app, write_position):
    write_position("links", "See nothing yet.", title="Links", summary="S.")
    refresh(preview_app)  # published: its last good version stays on the site below
    write_position("bad", raw='---\ntitle: "<script>x</script>\n---\nText.\n')
    write_position("links", "See [x](/positions/nowhere).", title="Links", summary="S.")
    refresh(preview_app)
    html = preview_app.test_client().get("/preview/problems").get_data(as_text=True)
    assert "<script>x" not in html and "&lt;script&gt;" not in html  # the message has no value
    assert "bad.md</h2>" in html
    assert "on line 3: front matter is not valid YAML: found unexpected end of stream" in html
    assert '<a href="/positions/links">links.md</a>' in html
    assert "link to /positions/nowhere goes nowhere" in html
    assert "2 errors and 0 warnings" in html


def test_drafts_only_in_preview_and_marked(make_app, write_position):
    write_position("idea", "Half-baked.", title="Idea", summary="S.", status="draft")
    public = make_app()
    assert public.test_client().get("/positions/idea").status_code == 404
    assert public.test_client().get("/preview/problems").status_code == 404
    preview = enable_preview(make_app(index=False))
    page = preview.test_client().get("/positions/idea").get_data(as_text=True)
    assert 'Idea <span class="badge">Draft</span>' in page
    assert "Preview mode: drafts are shown and marked." in page


def test_public_site_never_shows_problems(make_app, write_position):
    write_position("europe", "Neighbours.", title="Europe", summary="S.")
    app = make_app()
    write_position("europe", raw="---\ntitle: Europe\nstatus: final\n---\nChanged.\n")
    page = app.test_client().get("/positions/europe").get_data(as_text=True)
    assert "preview-problems" not in page and "Preview mode" not in page


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def search_total(base: str, words: str) -> int:
    status, body = get(f"{base}/api/search?q={words}")
    return json.loads(body)["total"] if status == 200 else -1


def test_edits_become_searchable_while_requests_keep_succeeding(preview_app, positions_dir):
    """A real server; a reader hammers it while files are edited, renamed, broken, fixed."""
    failures: list[str] = []
    served = [0]
    stop = threading.Event()
    with PreviewServer(preview_app, "127.0.0.1", 0, quiet=True) as preview:
        base = preview.url

        def reader() -> None:
            while not stop.is_set():
                for path in ("/api/search?q=neighbours", "/positions/europe"):
                    status, body = get(base + path)
                    served[0] += 1
                    if status != 200:
                        failures.append(f"{path}: {status} {body[:200]!r}")

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            europe = positions_dir / "europe.md"
            text = europe.read_text()
            timings = {}

            started = time.monotonic()
            europe.write_text(text + "\nA plain save adds zanzibar.\n")
            assert wait_until(lambda: search_total(base, "zanzibar") == 1)
            timings["plain save"] = time.monotonic() - started

            started = time.monotonic()
            temporary = positions_dir / ".europe.md.swp"
            temporary.write_text(text + "\nAn atomic save adds quokka.\n")
            os.replace(temporary, europe)
            assert wait_until(lambda: search_total(base, "quokka") == 1)
            timings["atomic rename"] = time.monotonic() - started
            assert search_total(base, "zanzibar") == 0

            europe.write_text(text.replace("title: Europe", "title: [Europe") + "wombat\n")
            assert wait_until(lambda: b"last good version" in get(base + "/positions/europe")[1])
            assert b"europe.md" in get(base + "/preview/problems")[1]
            assert search_total(base, "wombat") == 0 and search_total(base, "quokka") == 1

            started = time.monotonic()
            (positions_dir / "climate.md").unlink()
            assert wait_until(lambda: get(base + "/positions/climate")[0] == 404)
            timings["delete"] = time.monotonic() - started

            europe.write_text(text + "\nFixed, with platypus.\n")
            assert wait_until(lambda: search_total(base, "platypus") == 1)
            # the check runs just after the new index goes live, so wait for it too
            assert wait_until(lambda: b"No content problems" in get(base + "/positions/europe")[1])
            runs = preview.indexer.runs
            time.sleep(1.0)  # the ledger and our own reads must not start a loop
            assert preview.indexer.runs == runs
        finally:
            stop.set()
            thread.join(DEADLINE)
    assert failures == []
    assert served[0] > 20
    print("\nsave → searchable: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    print(f"{served[0]} requests served during the edits, none failed")


def test_flask_kb_serve_runs_and_stops_on_ctrl_c(write_position, positions_dir, index_dir):
    write_position("europe", "Neighbours.", title="Europe", summary="S.")
    env = {**os.environ, "KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
    command = [sys.executable, "-m", "flask", "--app", "app", "kb", "serve", "--port", "0"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        lines = [process.stdout.readline()]
        while lines[-1] and not lines[-1].startswith("Preview on"):
            lines.append(process.stdout.readline())
        assert lines[0].startswith("index rebuilt: 1 added")
        assert lines[-1].startswith("Preview on http://127.0.0.1:")
        url = lines[-1].split()[2].rstrip("/")
        status, body = get(url + "/positions/europe")
        assert status == 200 and b"Preview mode" in body
    finally:
        process.send_signal(signal.SIGINT)
        try:  # stopping joins the watcher and indexer threads, each bounded (≤ 20 s)
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()  # never leave a server (and its pipes) behind for later tests
            process.communicate()
            raise
    assert process.returncode == 0, err
    assert out.endswith("preview stopped\n")


def test_preview_server_sends_no_version_banner(preview_app):
    with PreviewServer(preview_app, "127.0.0.1", 0) as preview:
        with urllib.request.urlopen(preview.url + "/", timeout=DEADLINE) as response:
            server = response.headers["Server"]
    assert server == "Positions"


def test_segments_left_by_saves_are_folded_once_the_editor_pauses(
    preview_app, write_position, index_dir, monkeypatch
):
    from whoosh import index as whoosh_index

    from kb import preview
    from kb.index import merging, store

    monkeypatch.setattr(preview, "COMPACT_AFTER", 0.3)

    def segments() -> int:
        ix = whoosh_index.open_dir(str(index_dir / store.current_revision(index_dir)))
        try:
            return len(ix._segments())
        finally:
            ix.close()

    indexer = LiveIndexer(
        knowledge_base_of(preview_app).settings, preview_app.extensions[STATE_KEY], debounce=0.05
    )
    indexer.refresh()  # the first build
    for round in range(merging.FOLD_AT + 1):
        write_position(f"note{round}", f"Saved {round}.", title=f"Note {round}")
        indexer.refresh()  # what a save does: the new file is live, nothing is folded
    assert segments() == 2 + merging.FOLD_AT
    indexer.start()
    try:
        indexer.request()  # one more save, then a pause
        assert wait_until(lambda: segments() <= 3)
    finally:
        indexer.stop()
    app = preview_app.test_client()
    assert app.get("/api/search?q=saved").get_json()["total"] == merging.FOLD_AT + 1


@pytest.mark.parametrize(
    ("event", "files"),
    [
        (FileModifiedEvent("{root}/news/a.md"), ["news/a.md"]),
        (FileMovedEvent("{root}/.a.md.swp", "{root}/a.md"), ["a.md"]),
        (FileMovedEvent("{root}/a.md", "{root}/b.md"), ["a.md", "b.md"]),
        (FileDeletedEvent("{root}/a.md"), ["a.md"]),
        (FileCreatedEvent("{root}/topics.yml"), None),
        (DirCreatedEvent("{root}/news"), None),
    ],
)
def test_events_name_the_files_they_changed(tmp_path, event, files):
    from kb.preview import changed_files

    event.src_path = event.src_path.format(root=tmp_path)
    if getattr(event, "dest_path", ""):
        event.dest_path = event.dest_path.format(root=tmp_path)
    assert changed_files(event, tmp_path) == files


def test_a_change_the_watcher_missed_is_found_when_the_editor_pauses(
    preview_app, write_position, monkeypatch
):
    from kb import preview

    monkeypatch.setattr(preview, "COMPACT_AFTER", 0.3)
    indexer = LiveIndexer(
        knowledge_base_of(preview_app).settings, preview_app.extensions[STATE_KEY], debounce=0.05
    )
    indexer.refresh()
    client = preview_app.test_client()
    indexer.start()
    try:
        write_position("missed", "Unnoticed words.", title="Missed")  # no event for this one
        write_position("europe", "We trade with our neighbours.", title="Europe", summary="S.")
        indexer.request(["europe.md"])
        assert wait_until(lambda: client.get("/api/search?q=trade").get_json()["total"] == 1)
        assert wait_until(lambda: client.get("/api/search?q=unnoticed").get_json()["total"] == 1)
    finally:
        indexer.stop()


def test_a_server_that_never_previews_does_not_load_the_watcher():
    """The preview's watcher and indexer thread are imported only by the preview, so a
    fresh worker's start does not pay for them."""
    import subprocess
    import sys

    code = "import app, sys; print(sorted({'kb.preview', 'watchdog'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
