"""The holes a hostile review found (issue 13), each closed by a test named for its promise.

Symlinks out of the folder, merge conflict markers, huge and sparse files, YAML bombs,
file names with newlines: each is reported as one ``path:line: message`` and never
published, and nothing is read that should not be.
"""

from __future__ import annotations

import datetime
import os
import resource
import time
from pathlib import Path

import pytest

from app import create_app
from kb.content.loader import load_file

SECRET = "secret-shell-text the review copied from a dotfile"


def kb_app(positions_dir: Path, index_dir: Path):
    settings = {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
    return create_app({"TESTING": True, **settings})


def kb(app, *args: str):
    return app.test_cli_runner().invoke(args=["kb", *args])


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the content folder, like ~/.bashrc."""
    path = tmp_path / "bashrc"
    path.write_text(f"---\ntitle: Shell\n---\n{SECRET}\n", encoding="utf-8")
    return path


# 1. Content is read only from regular files inside the content folder.


def test_a_symlink_leaving_the_folder_is_reported_and_never_published(
    write_position, positions_dir, index_dir, outside
):
    write_position("europe", "Trade with our neighbours.")
    (positions_dir / "bashrc.md").symlink_to(outside)
    app = kb_app(positions_dir, index_dir)
    message = (
        f"bashrc.md:1: is a symbolic link to {outside}, outside the content folder, so it "
        "was not read; copy the file into the folder instead"
    )
    checked = kb(app, "check")
    assert message in checked.output and checked.exit_code == 1
    indexed = kb(app, "index")
    assert message in indexed.output
    client = app.test_client()
    assert client.get("/api/positions/bashrc").status_code == 404
    assert client.get("/api/search?q=secret-shell-text").get_json()["total"] == 0
    ledger = (positions_dir / "citations.ledger.jsonl").read_text(encoding="utf-8")
    assert "secret-shell-text" not in ledger and "Trade with our neighbours" in ledger


def test_a_symlink_inside_the_folder_is_read(write_position, positions_dir):
    target = write_position("_drafts-europe", "Trade with our neighbours.", title="Europe")
    (positions_dir / "europe.md").symlink_to(target.name)
    result = load_file(positions_dir / "europe.md", positions_dir)
    assert result.position is not None and result.position.title == "Europe"


NOT_READ = "is not a regular file (it is {}), so it was not read; replace it with a file"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda path: os.mkfifo(path), NOT_READ.format("a named pipe")),
        (lambda path: path.symlink_to(path.parent), NOT_READ.format("a folder")),
        (
            lambda path: path.symlink_to("/dev/zero"),
            "is a symbolic link to /dev/zero, outside the content folder, so it was not "
            "read; copy the file into the folder instead",
        ),
    ],
    ids=["fifo", "symlink-to-folder", "symlink-to-device"],
)
def test_a_non_regular_file_is_reported_and_never_read(positions_dir, make, message):
    make(positions_dir / "odd.md")
    started = time.monotonic()
    result = load_file(positions_dir / "odd.md", positions_dir)
    assert time.monotonic() - started < 2  # a pipe never blocks the open
    assert [str(p) for p in result.problems] == [f"odd.md:1: {message}"]


def test_a_file_swapped_for_a_symlink_after_the_check_is_not_read(
    positions_dir, outside, monkeypatch
):
    from kb.content import loader

    path = positions_dir / "europe.md"
    path.write_text("---\ntitle: Europe\n---\nText.\n", encoding="utf-8")
    checked = loader.safe_source

    def swap_after_check(candidate: Path, root: Path) -> Path:
        allowed = checked(candidate, root)
        candidate.unlink()
        candidate.symlink_to(outside)  # the attacker wins the race
        return allowed

    monkeypatch.setattr(loader, "safe_source", swap_after_check)
    result = load_file(path, positions_dir)
    assert result.position is None
    assert [p.message for p in result.problems] == [
        "became a symbolic link while being read; run again"
    ]


# 4. Merge conflict markers are an error with their line, and never published.

CONFLICTED = """\
---
title: Democracy
status: adopted
updated: 2026-11-01
---
Heading
=======

<<<<<<< HEAD
The democracies of Europe stand together.
=======
The democracies of Europe stand apart.
>>>>>>> other-branch

```
<<<<<<< this one is in a code sample
```
"""


def test_merge_conflict_markers_are_errors_with_their_lines_and_never_published(
    write_position, positions_dir, index_dir
):
    write_position("democracy", raw=CONFLICTED)
    app = kb_app(positions_dir, index_dir)
    fix = "keep the text you want, delete the marker lines, and save"
    expected = [
        f"democracy.md:9: unresolved merge conflict marker '<<<<<<<'; {fix}",
        f"democracy.md:11: unresolved merge conflict marker '======='; {fix}",
        f"democracy.md:13: unresolved merge conflict marker '>>>>>>>'; {fix}",
    ]
    checked = kb(app, "check")
    shown = [line for line in checked.output.splitlines() if line.startswith(str(positions_dir))]
    assert shown == [f"{positions_dir}/{line}" for line in expected]
    indexed = kb(app, "index")
    assert all(line in indexed.output for line in expected)
    assert app.test_client().get("/api/positions/democracy").status_code == 404
    ledger = positions_dir / "citations.ledger.jsonl"
    assert not ledger.exists() or "<<<<<<<" not in ledger.read_text(encoding="utf-8")


def test_a_conflict_after_publishing_keeps_the_last_good_version(
    write_position, positions_dir, index_dir
):
    write_position("democracy", "The democracies of Europe stand together.")
    app = kb_app(positions_dir, index_dir)
    assert kb(app, "index").exit_code == 0
    write_position("democracy", raw=CONFLICTED)
    kb(app, "index")
    body = app.test_client().get("/api/positions/democracy").get_json()
    assert "<<<<<<<" not in str(body) and "stand together" in str(body)


# 8. Size is checked with stat before any read; files over the limit are never read.


def test_a_huge_sparse_file_is_never_read(write_position, positions_dir, index_dir):
    write_position("europe", "Trade with our neighbours.")
    huge = positions_dir / "huge.md"
    with huge.open("wb") as handle:
        handle.truncate(3 * 1024**3)  # 3 GB, sparse: reading it would cost 3 GB of memory
    app = kb_app(positions_dir, index_dir)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    checked, indexed = kb(app, "check"), kb(app, "index")
    elapsed = time.monotonic() - started
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    message = (
        "huge.md:1: file is 3,221,225,472 bytes; the limit is 1,000,000 bytes: split it "
        "into several positions"
    )
    assert message in checked.output and message in indexed.output
    assert "Traceback" not in checked.output + indexed.output
    assert elapsed < 10 and grown_kib < 200_000  # a read would take ~3 GB and many seconds


# 15. Messages stay one line per problem.


def test_a_file_name_with_a_newline_stays_on_one_message_line(positions_dir, index_dir):
    (positions_dir / "bad\nname.md").write_text("---\ntitle: [\n---\nText.\n")
    app = kb_app(positions_dir, index_dir)
    output = kb(app, "check").output
    lines = [line for line in output.splitlines() if "name.md" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{positions_dir}/bad\\nname.md:3: ")


# 5. Every editors' file is parsed with bounds.

BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 9)}]" for n in range(8)]
    + ["europe: Europe"]
)


def test_a_billion_laughs_topic_list_is_reported_and_ignored_by_the_site(
    write_position, positions_dir, index_dir
):
    write_position("europe", "Trade with our neighbours.", topics=["europe"])
    (positions_dir / "topics.yml").write_text(BILLION_LAUGHS, encoding="utf-8")
    app = kb_app(positions_dir, index_dir)
    assert kb(app, "index").exit_code == 0
    started = time.monotonic()
    checked = kb(app, "check")
    page = app.test_client().get("/")
    assert time.monotonic() - started < 5
    assert (
        f"{positions_dir}/topics.yml:5: not valid YAML: expands to more than 10,000 values "
        "(aliases '*' repeat anchors '&'); write the values out plainly; write one "
        "'slug: Label' line per topic, like 'young-people: Young people'"
    ) in checked.output.splitlines()
    assert checked.exit_code == 1
    assert page.status_code == 200


def test_check_and_site_read_topics_through_one_bounded_reader(positions_dir):
    from kb.content import checks
    from kb.content.editors import read_topics
    from kb.service import _read_topics

    (positions_dir / "topics.yml").write_text("europe: Europe\nyoung-people:\n")
    assert read_topics(positions_dir).labels == {"europe": "Europe", "young-people": ""}
    assert checks.read_topic_list(positions_dir) == ({"europe", "young-people"}, [])
    assert _read_topics(positions_dir / "topics.yml") == {"europe": "Europe", "young-people": ""}


def test_an_oversized_topic_list_is_not_read(positions_dir):
    from kb.content.editors import read_topics

    with (positions_dir / "topics.yml").open("wb") as handle:
        handle.truncate(2 * 1024**3)
    topics = read_topics(positions_dir)
    assert topics.labels is None
    assert [str(p) for p in topics.problems] == [
        "topics.yml:1: file is 2,147,483,648 bytes; the limit is 262,144 bytes"
    ]


def test_a_billion_laughs_front_matter_is_one_problem(write_position, positions_dir):
    aliases = "\n".join(BILLION_LAUGHS.splitlines()[:9]).replace("\n", "\n  ")
    path = write_position("bomb", raw=f"---\ntitle: Bomb\nextra:\n  {aliases}\n---\nText.\n")
    result = load_file(path, positions_dir)
    assert [str(p) for p in result.problems] == [
        "bomb.md:8: front matter is not valid YAML: expands to more than 10,000 values "
        "(aliases '*' repeat anchors '&'); write the values out plainly"
    ]


def test_a_huge_synonym_line_is_bounded(positions_dir):
    from kb.search.synonyms import load_synonyms

    line = ", ".join(f"word{n}" for n in range(5000))
    (positions_dir / "synonyms.txt").write_text(line + "\n", encoding="utf-8")
    started = time.monotonic()
    synonyms = load_synonyms(positions_dir)
    assert time.monotonic() - started < 2
    assert len(synonyms.groups[("word0",)]) == 20 and ("word20",) not in synonyms.groups


# 15. YAML tag errors are one line at the real file line.


def test_a_yaml_tag_error_is_one_line_at_the_file_line(write_position, positions_dir):
    raw = "---\ntitle: Tagged\nstatus: adopted\nsummary: !!python/object:os.system ls\n---\nX.\n"
    result = load_file(write_position("tagged", raw=raw), positions_dir)
    assert [str(p) for p in result.problems] == [
        "tagged.md:4: summary: cannot be read: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object:os.system'"
    ]


# 11. ETags per resource, computed after the view decides the status.


@pytest.mark.parametrize(
    "path, status",
    [
        ("/positions/does-not-exist", 404),
        ("/api/positions/does-not-exist", 404),
        ("/api/cite/000000000000", 404),
        ("/cite/000000000000", 404),
        ("/api/quote", 400),
    ],
)
def test_errors_are_never_answered_not_modified(starter_client, path, status):
    for tag in ("*", starter_client.get("/").headers["ETag"]):
        response = starter_client.get(path, headers={"If-None-Match": tag})
        assert response.status_code == status and "ETag" not in response.headers


def test_each_resource_has_its_own_etag_and_star_matches_a_real_page(starter_client):
    home, europe = starter_client.get("/"), starter_client.get("/positions/europe")
    assert home.headers["ETag"] != europe.headers["ETag"]
    stale = starter_client.get("/positions/europe", headers={"If-None-Match": home.headers["ETag"]})
    assert stale.status_code == 200
    assert starter_client.get("/", headers={"If-None-Match": "*"}).status_code == 304


def test_pages_that_print_todays_date_change_etag_with_the_date(
    write_position, positions_dir, publish, monkeypatch
):
    import datetime

    from kb.cite.ledger import read_ledger
    from kb.web import caching

    write_position("europe", "Trade with our neighbours.")
    client = publish()
    (entry,) = read_ledger(positions_dir).entries.values()
    today = client.get(f"/cite/{entry.id}")
    same_day = client.get(f"/cite/{entry.id}", headers={"If-None-Match": today.headers["ETag"]})
    assert same_day.status_code == 304

    class Tomorrow(datetime.date):
        @classmethod
        def today(cls):
            return datetime.date.fromordinal(datetime.date.today().toordinal() + 1)

    monkeypatch.setattr(caching, "date", Tomorrow)
    next_day = client.get(f"/cite/{entry.id}", headers={"If-None-Match": today.headers["ETag"]})
    assert next_day.status_code == 200 and next_day.headers["ETag"] != today.headers["ETag"]
    page = client.get("/", headers={"If-None-Match": client.get("/").headers["ETag"]})
    assert page.status_code == 304  # pages without a date keep their tag


# 7. Recycled gunicorn workers keep serving after the index folder is deleted.


def test_recycled_workers_keep_serving_after_the_index_folder_is_deleted(
    write_position, positions_dir, index_dir, tmp_path
):
    import shutil

    from tests.live_server import raw_get, run_gunicorn

    write_position("europe", "Trade with our neighbours.")
    assert kb(kb_app(positions_dir, index_dir), "index").exit_code == 0
    env = {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
    recycle = ("--max-requests", "10", "--max-requests-jitter", "0")
    log = tmp_path / "gunicorn.log"
    with run_gunicorn(env, log, workers=1, threads=2, extra=recycle) as port:
        assert raw_get(port, "/api/search?q=trade").status == 200
        shutil.rmtree(index_dir)
        statuses = [raw_get(port, f"/positions/europe?n={n}").status for n in range(40)]
        assert statuses == [200] * 40  # four times max_requests, one worker throughout
        assert kb(kb_app(positions_dir, index_dir), "index").exit_code == 0
        after = [raw_get(port, f"/api/search?q=trade&n={n}").status for n in range(25)]
    assert after == [200] * 25
    assert log.read_text().count("Autorestarting worker") >= 1  # recycled once it was back


def test_the_503_says_what_happened_to_the_index(write_position, positions_dir, index_dir):
    from kb.index import store
    from kb.web.errors import INCOMPLETE_INDEX, MISSING_INDEX

    write_position("europe", "Trade with our neighbours.")
    never = kb_app(positions_dir, index_dir).test_client().get("/api/search?q=x")
    assert never.status_code == 503 and never.get_json()["error"] == MISSING_INDEX
    assert MISSING_INDEX == (
        "The search index has not been built yet, or its folder was deleted. "
        "Run: flask --app app kb index"
    )
    kb(kb_app(positions_dir, index_dir), "index")
    (index_dir / store.POINTER).unlink()
    broken = kb_app(positions_dir, index_dir).test_client().get("/healthz")
    assert broken.status_code == 503 and broken.get_json()["error"] == INCOMPLETE_INDEX


# 12. One JSON error shape and the security headers on every /api/ response.

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert "Content-Security-Policy" in response.headers
    assert all(response.headers[k] == v for k, v in SECURITY.items())
    body = response.get_json()
    assert body["ok"] is False and body["status"] == status
    return body


@pytest.mark.parametrize("path", ["/api/search", "/healthz", "/api/cite/000000000000"])
def test_a_wrong_method_is_405_json_with_allow(starter_client, path):
    response = starter_client.post(path)
    assert_json_error(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}


@pytest.mark.parametrize("method", ["get", "head", "post", "delete"])
def test_the_body_limit_holds_for_every_method(starter_client, method):
    response = getattr(starter_client, method)("/api/search?q=europe", data=b"x" * 200_000)
    assert response.status_code == 413
    if method != "head":
        body = assert_json_error(response, 413)
        assert body["error"] == "The request body is over the limit of 64 KiB."
    small = starter_client.get("/api/search?q=europe", data=b"x" * 1000)
    assert small.status_code == 200


def raw_request(port: int, data: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes; return the status line, headers and body gunicorn answered."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, headers, body


def test_gunicorns_own_errors_are_json_with_security_headers(starter_index, tmp_path):
    import json

    from tests.live_server import run_gunicorn

    folder, index = starter_index
    env = {"KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index)}
    requests = {
        "414": b"GET /api/search?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "431": b"GET /api/search HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
        "400": b"GET /api/search HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    }
    with run_gunicorn(env, tmp_path / "gunicorn.log", workers=1, threads=2) as port:
        answers = {name: raw_request(port, data) for name, data in requests.items()}
        chunked = raw_request(
            port,
            b"GET /api/search?q=europe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            + b"".join(b"8000\r\n" + b"c" * 0x8000 + b"\r\n" for _ in range(4))
            + b"0\r\n\r\n",
        )
    for name, (status, headers, body) in answers.items():
        assert status.split()[1] == name
        assert headers["Content-Type"] == "application/json"
        assert "Content-Security-Policy" in headers
        assert all(headers[k] == v for k, v in SECURITY.items())
        error = json.loads(body)
        assert error["ok"] is False and error["status"] == int(name)
    assert chunked[0].split()[1] == "413"


# 14. The preview has the same render limit as `kb index` and never blocks it for longer.


def test_the_preview_thread_has_the_render_limit_and_kb_index_waits_at_most_that(
    write_position, positions_dir, index_dir, monkeypatch
):
    import threading

    from kb import limits
    from kb.config import Settings
    from kb.indexing import reindex

    monkeypatch.setattr(limits, "RENDER_SECONDS", 1.0)
    write_position("europe", "Trade with our neighbours.")
    # for each heading in a block, the tables extension splits the rest of the block into
    # lines to look for a table: 20,000 headings with no blank line take 8 s unbounded
    write_position("slow", "".join(f"# {n}\n" for n in range(20_000)))
    settings = Settings.from_mapping(
        {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
    )
    preview: list = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: preview.append(reindex(settings, lock_wait=30)))
    thread.start()
    time.sleep(0.3)  # the preview thread holds the indexer lock while it renders
    waited = kb(kb_app(positions_dir, index_dir), "index", "--wait", "5")
    thread.join(timeout=30)
    assert time.monotonic() - started < 8
    assert waited.exit_code == 0, waited.output
    (report,) = preview
    assert [str(p) for p in report.problems if p.path == "slow.md"] == [
        "slow.md:1: file took longer than 1 seconds to render, so it was skipped; look for "
        "thousands of '[' or '(' characters, or of headings, with no blank line between them"
    ]
    assert kb_app(positions_dir, index_dir).test_client().get("/positions/slow").status_code == 404


# 15. Headings with inline code are plain text once, and counts read as English.


def test_a_heading_with_inline_code_is_escaped_once_everywhere(
    write_position, positions_dir, publish
):
    from kb.cite.ledger import read_ledger

    write_position("tags", "## Use `<b>` & more\n\nText under the heading.\n")
    client = publish()
    (entry,) = read_ledger(positions_dir).entries.values()
    api = client.get("/api/positions/tags").get_json()
    assert api["passages"][0]["heading"] == "Use <b> & more"
    cited = client.get(f"/api/cite/{entry.id}").get_json()
    assert "Use <b> & more" in str(cited) and "&lt;" not in str(cited)
    today = datetime.date.today().isoformat()
    page = client.get(f"/positions/tags?as_of={today}").get_data(as_text=True)
    assert "Use &lt;b&gt; &amp; more" in page and "&amp;lt;" not in page
    position = client.get("/positions/tags").get_data(as_text=True)
    assert "&amp;lt;" not in position and 'id="use-lt-b-gt-more"' in position


def test_one_passage_is_counted_in_the_singular(write_position, positions_dir, index_dir):
    write_position("europe", "Trade with our neighbours.")
    output = kb(kb_app(positions_dir, index_dir), "index").output
    assert "citation ledger: 1 passage recorded, 0 retired, 0 restored" in output


# 16. Brackets and parentheses no link can use never reach the link reader, and show as
# typed.


def test_brackets_no_link_can_use_never_reach_the_link_reader_and_show_as_typed(monkeypatch):
    """Python-Markdown's link reader reads from each "[" to the "]" that closes it, or to
    the end of the paragraph: 10 KB of "[" took 9.8 s (the render budget is 10 s). A "[" no
    "]" closes, and pairs nested deeper than any link, are hidden from it instead."""
    from markdown.inlinepatterns import LinkInlineProcessor

    from kb.content.brackets import HIDDEN_OPEN, MAX_LINK_NESTING
    from kb.content.render import render_body

    reads = []
    read = LinkInlineProcessor.getText
    monkeypatch.setattr(
        LinkInlineProcessor, "getText", lambda *args: reads.append(args[2]) or read(*args)
    )
    unclosed = "[" * 3000 + " [a" * 1000 + " ![" * 1000
    rendered = render_body("x", unclosed)
    assert reads == [] and rendered.passages[0].text == unclosed
    assert HIDDEN_OPEN not in rendered.html
    nested = "[" * 1000 + "x" + "]" * 1000
    assert render_body("x", nested).passages[0].text == nested
    assert len(reads) <= 3 * MAX_LINK_NESTING  # three link readers, the outer pairs each
    mixed = "See [1 and [[[x](https://e.org/x) and [a [b] c](https://e.org/c)."
    rendered = render_body("x", mixed)
    assert rendered.passages[0].text == "See [1 and [[x and a [b] c."
    assert '<a href="https://e.org/c" rel="noopener noreferrer">a [b] c</a>' in rendered.html


def test_which_brackets_are_hidden_from_the_link_reader():
    """Counted as the reader counts them: code and escaped brackets aside."""
    import markdown

    from kb.content.brackets import MAX_LINK_NESTING
    from kb.content.brackets import hidden_brackets as hidden_in

    escaped = markdown.Markdown().ESCAPED_CHARS

    def hidden_brackets(text: str, labels: bool) -> str:
        return hidden_in(text, labels, escaped)

    hidden = hidden_brackets("[[[x](y) see [1, `[` and \\[ [a [b] c]", labels=False)
    assert hidden == "\ue001\ue001[x](y) see \ue0011, `[` and \\[ [a [b] c]"
    deep = MAX_LINK_NESTING + 2
    hidden = hidden_brackets("[" * deep + "x" + "]" * deep, labels=False)
    assert hidden == "[" * MAX_LINK_NESTING + "\ue001\ue001x\ue002\ue002" + "]" * MAX_LINK_NESTING
    # with references defined, "[" after "]" may open a label, which is read to its "]"
    assert hidden_brackets("[t][a[b]", labels=False) == "[t]\ue001a[b]"
    assert hidden_brackets("[t][a[b]", labels=True) == "[t][a[b]"


def test_link_openers_no_parenthesis_closes_are_never_read_and_show_as_typed(monkeypatch):
    """Python-Markdown's link reader reads from each "](" to the ")" that closes the address,
    or to the end of the paragraph: 20 KB of "[a](" took 4 s, 80 KB over a minute. A "("
    after "]" that no ")" closes is hidden from it instead, so it reads no address there."""
    from markdown.inlinepatterns import LinkInlineProcessor

    from kb.content.brackets import HIDDEN_PAREN
    from kb.content.render import render_body

    reads = []  # what each address the link and image readers read starts with
    read = LinkInlineProcessor.getLink
    monkeypatch.setattr(
        LinkInlineProcessor,
        "getLink",
        lambda self, data, index: reads.append(data[index]) or read(self, data, index),
    )
    for unclosed in ["[a](" * 3000, "[a]( " * 1000, "![a](" * 1000, "[a](b" * 1000]:
        reads.clear()
        rendered = render_body("x", unclosed)
        assert set(reads) == {HIDDEN_PAREN}  # each rejected at its first character
        assert rendered.passages[0].text == unclosed.strip()
        assert HIDDEN_PAREN not in rendered.html
    reads.clear()
    rendered = render_body("x", "[a](" * 1000 + "[b](https://e.org/b)")
    assert reads.count("(") == 1 and reads.count(HIDDEN_PAREN) == 1000  # one is closed
    assert rendered.passages[0].text == "[a](" * 1000 + "b"


def test_which_parentheses_are_hidden_from_the_link_reader():
    """Counted as the reader counts them: code and escapes aside, an <address> ends at its
    ">)", and a quote that may begin a title leaves the text as typed."""
    import markdown

    from kb.content.brackets import hidden_parens

    escaped = markdown.Markdown().ESCAPED_CHARS

    def hidden(text: str, references: bool = False) -> str:
        return hidden_parens(text, references, escaped).replace("\ue003", "@")

    assert hidden("[a]([b](c) [d]( `)` \\)") == "[a]@[b](c) [d]@ `)` \\)"
    assert hidden("[a](<b(c>) [d](<e") == "[a](<b(c>) [d]@<e"
    assert hidden("[a](b 't') [c](") == "[a](b 't') [c]("  # a title is counted otherwise
    assert hidden('[a](b) "t" [c]("') == '[a](b) "t" [c]@"'  # no address is open at a quote
    # once the link reader takes out "[l](<b>)", the image reads "(<(( … >)" as an <address>
    assert hidden("![i](<(( [l](<b>) >)") == "![i](<(( [l](<b>) >)"
    # with a reference defined, "[<][r]" is taken out first: "[a](<(( … >)" is then a link,
    # taken out in turn, and the last ")" closes the image's "("
    assert hidden("![i]( [a](<(( [<][r] >) )", references=True) == "![i]( [a](<(( [<][r] >) )"


@pytest.mark.parametrize(
    ("body", "html"),
    [
        # a link, a reference, a short reference, a task box and an unclosed "[" in prose
        (
            "A [link](https://e.org/a), [text][ref], [ref], [ ] and see [1.\n\n"
            "[ref]: https://e.org/r\n",
            '<a href="https://e.org/a" rel="noopener noreferrer">link</a>, <a href="https://'
            'e.org/r" rel="noopener noreferrer">text</a>, <a href="https://e.org/r" rel="noopen'
            'er noreferrer">ref</a>, [ ] and see [1.',
        ),
        # Python-Markdown closes "``" with a shorter run when no run as long follows
        (
            "[x ``a [ `b](https://e.org/x)",
            '<a href="https://e.org/x" rel="noopener noreferrer">x <code>`a [</code>b</a>',
        ),
        # a "[" in a link's address is read with the link, before any image is
        (
            "![x [a](https://e.org/[) ](https://e.org/i.png)",
            '<img alt="x a " src="https://e.org/i.png">',
        ),
        # a label is read to its first "]": "[a[b]" is one, and "[b]" is no label
        (
            "[t][a[b][c]\n\n[c]: https://e.org/c\n",
            '[t][a[b]<a href="https://e.org/c" rel="noopener noreferrer">c</a>',
        ),
        # an e-mail address is written as character references, a hidden "[" among them
        (
            "Write to <a[b@e.org>.",
            'Write to <a href="mailto:a[b@e.org" rel="noopener noreferrer">a[b@e.org</a>.',
        ),
        # raw HTML is set aside by the inline reader, its hidden brackets with it
        ('An <abbr title="[draft">RFC</abbr> [1', '<abbr title="[draft">RFC</abbr> [1'),
        # a CDATA section is raw HTML (which the page drops), known by its brackets
        ("`[` and <![CDATA[ [ ]]>", "<code>[</code> and </p>"),
        # parentheses in an address, a title and an <address>, an unclosed "[a](" after each
        (
            "See [Foo](https://e.org/Foo_(bar)) and [a](",
            '<a href="https://e.org/Foo_(bar)" rel="noopener noreferrer">Foo</a> and [a](',
        ),
        (
            '[b](https://e.org/b "B (draft)") and [a](',
            '<a href="https://e.org/b" title="B (draft)" rel="noopener noreferrer">b</a> and [a](',
        ),
        ("![i](<https://e.org/i(.png>) ![a](", '<img alt="i" src="https://e.org/i(.png"> ![a]('),
        # a "(" no ")" closes, hidden in an e-mail address written as character references
        (
            "Write to <a](b@e.org>.",
            'Write to <a href="mailto:a](b@e.org" rel="noopener noreferrer">a](b@e.org</a>.',
        ),
    ],
)
def test_brackets_a_link_can_use_are_read_as_before(body, html):
    from kb.content.render import render_body

    assert html in render_body("x", body).html


def test_headings_and_passages_are_read_with_their_brackets_put_back():
    from kb.content.render import render_body

    rendered = render_body("x", "## Draft [2\n\nText [.")
    assert rendered.headings == ((2, "Draft [2", "draft-2"),)
    assert [(p.heading, p.text) for p in rendered.passages] == [("Draft [2", "Text [.")]
    rendered = render_body("x", "## Draft [2](\n\nText [a](.")
    assert rendered.headings == ((2, "Draft [2](", "draft-2"),)
    assert [(p.heading, p.text) for p in rendered.passages] == [("Draft [2](", "Text [a](.")]


@pytest.mark.parametrize("stand_in", ["\ue000", "\ue001", "\ue002", "\ue003"])
def test_a_body_that_holds_a_stand_in_keeps_it_and_every_bracket(stand_in):
    """A stand-in would be ambiguous: such a body is read as typed, its own character kept
    (the "<" one had been turned into "<", making a tag of "<a\ue000b>")."""
    from kb.content.render import render_body

    assert render_body("x", f"A {stand_in} and [b").passages[0].text == f"A {stand_in} and [b"
    assert "<b>" not in render_body("x", f"A <a{stand_in}b>bold?").html


def test_links_to_markdown_files_are_read_a_bounded_way_ahead():
    """kb check reads each "](" of a line for a Markdown file's name: unbounded, every one
    was read to the line's end (80 KB of "[a](" took 11 s)."""
    from kb.content.links import MAX_PART, line_links

    assert line_links("[x](../a/b.md#top) and [y]( c.markdown 't')") == [
        "../a/b.md#top",
        "c.markdown",
    ]
    assert line_links("[a](" * 20_000) == []
    assert line_links(f"[x]({'a' * (MAX_PART + 1)}.md)") == []  # no file name is this long


# 17. A block that cannot be a table or a note is not read to its end by their readers.


def test_headings_without_blank_lines_are_not_read_again_by_the_table_and_note_readers(
    monkeypatch,
):
    """A heading with no blank line after it leaves the rest of its block as a new block,
    and each reader is asked about each: the table reader split all the rest into rows,
    the note reader searched it (10,000 headings, each with a line of text: 16 s). Only
    a block whose first line holds a "|", or that holds "!!!", is read now."""
    from markdown.extensions.admonition import AdmonitionProcessor
    from markdown.extensions.tables import TableProcessor

    from kb.content.render import render_body

    read = {"table": 0, "note": 0}
    table_test, note_test = TableProcessor.test, AdmonitionProcessor.test

    def counted(kind, test):
        return lambda self, parent, block: (
            read.__setitem__(kind, read[kind] + 1) or test(self, parent, block)
        )

    monkeypatch.setattr(TableProcessor, "test", counted("table", table_test))
    monkeypatch.setattr(AdmonitionProcessor, "test", counted("note", note_test))
    body = "".join(f"# Heading {i}\nText {i}.\n" for i in range(300))
    rendered = render_body("x", body + "\n| a | b |\n|---|---|\n| 1 | 2 |\n\n!!! note\n    N.\n")
    assert read == {"table": 1, "note": 1}
    assert [p.text for p in rendered.passages][-3:] == ["Text 299.", "a; b; 1; 2", "Note N."]
    assert len(rendered.headings) == 300
