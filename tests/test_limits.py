"""Every limit on input, at its edge: visitors are answered (cut, never refused with a
500), editors are told which file is over which limit and what to do.
"""

from __future__ import annotations

import runpy

import pytest

from kb import limits
from kb.content.loader import TOO_DEEP, load_file
from kb.index import run
from tests.live_server import ROOT, raw_get, run_gunicorn, serve_in_thread

NOT_FOUND = {"ok": False, "error": "No position has that address.", "status": 404}


def test_limits_are_the_documented_values():
    assert (limits.MAX_QUERY_CHARS, limits.MAX_CLAUSES, limits.MAX_PHRASE_WORDS) == (500, 12, 8)
    assert (limits.MAX_WORD_CHARS, limits.MAX_TOPIC_FILTERS, limits.MAX_TOPIC_CHARS) == (
        40,
        10,
        100,
    )
    assert (limits.MAX_PAGE, limits.MAX_PER_PAGE) == (100, 50)
    assert limits.MAX_REQUEST_BODY_BYTES == 65_536
    assert (limits.MAX_FILE_BYTES, limits.RENDER_SECONDS) == (1_000_000, 10.0)
    assert run.TIME_LIMIT_SECONDS == 2.0


def test_a_long_query_is_cut_to_the_limit_and_still_searched(starter_client):
    q = "european neighbours " + "x" * 3000
    body = starter_client.get("/api/search", query_string={"q": q}).get_json()
    assert body["query"] == q[: limits.MAX_QUERY_CHARS]
    assert body["results"][0]["slug"] == "europe"
    page = starter_client.get("/search", query_string={"q": q})
    assert page.status_code == 200
    assert "x" * limits.MAX_QUERY_CHARS not in page.get_data(as_text=True)


def test_whitespace_in_a_query_is_collapsed_before_cutting(starter_client):
    q = " " * 5000 + "europe   trade"
    body = starter_client.get("/api/search", query_string={"q": q}).get_json()
    assert body["query"] == "europe trade" and body["total"] >= 1


def test_only_the_first_clauses_of_a_long_query_count(starter_client):
    filler = " ".join(f"zz{n}" for n in range(limits.MAX_CLAUSES))
    beyond = starter_client.get("/api/search", query_string={"q": f"{filler} europe"})
    assert beyond.get_json()["total"] == 0  # 'europe' is clause 13: ignored
    within = starter_client.get("/api/search", query_string={"q": f"europe {filler}"})
    assert within.get_json()["total"] >= 1


@pytest.mark.parametrize(
    ("args", "page", "per_page"),
    [
        ({"page": "100000", "per_page": "1000"}, limits.MAX_PAGE, limits.MAX_PER_PAGE),
        ({"page": "-5", "per_page": "0"}, 1, 1),
        ({"page": "abc", "per_page": "1e3"}, 1, 10),
        ({"page": "9" * 5000, "per_page": " 7 "}, 1, 7),
    ],
)
def test_paging_is_clamped(starter_client, args, page, per_page):
    body = starter_client.get("/api/search", query_string={"q": "europe", **args}).get_json()
    assert (body["page"], body["per_page"]) == (page, per_page)


def test_topic_filters_are_bounded(starter_client):
    many = [("topic", f"t{n}") for n in range(30)] + [("topic", "y" * 5000), ("q", "europe")]
    body = starter_client.get("/api/search", query_string=many).get_json()
    assert len(body["topics"]) == limits.MAX_TOPIC_FILTERS
    assert max(len(t) for t in body["topics"]) <= limits.MAX_TOPIC_CHARS
    assert body["total"] == 0


def test_suggestions_take_a_bounded_prefix(starter_client):
    body = starter_client.get("/api/suggest", query_string={"q": "eur" + "o" * 5000}).get_json()
    assert len(body["query"]) <= 100 and body["titles"] == []


def test_an_overlong_slug_is_a_plain_404(starter_client):
    response = starter_client.get("/api/positions/" + "a" * 5000)
    assert response.status_code == 404 and response.get_json() == NOT_FOUND
    assert starter_client.get("/positions/" + "a" * 5000).status_code == 404


def test_a_search_that_runs_out_of_time_answers_with_what_it_found(starter_client, monkeypatch):
    monkeypatch.setattr(run, "TIME_LIMIT_SECONDS", 1e-9)
    response = starter_client.get("/api/search?q=europe+OR+climate+OR+work*")
    assert response.status_code == 200
    assert response.get_json()["total"] >= 0


def test_a_huge_request_body_gets_a_clean_json_error(starter_app, starter_client):
    assert starter_app.config["MAX_CONTENT_LENGTH"] == limits.MAX_REQUEST_BODY_BYTES
    response = starter_client.post("/api/search", data=b"x" * (limits.MAX_REQUEST_BODY_BYTES * 2))
    assert response.status_code in (405, 413)
    assert response.get_json()["ok"] is False


def test_an_oversized_file_is_skipped_with_a_clear_message(write_position, positions_dir):
    path = write_position("huge", "word " * 10)
    path.write_bytes(path.read_bytes() + b"x" * (limits.MAX_FILE_BYTES + 1))
    size = path.stat().st_size
    result = load_file(path, positions_dir)
    assert result.position is None
    assert [(p.line, p.message) for p in result.problems] == [
        (
            1,
            f"file is {size:,} bytes; the limit is 1,000,000 bytes: split it into several "
            "positions",
        )
    ]


def test_a_file_exactly_at_the_size_limit_is_indexed(write_position, positions_dir):
    path = write_position("big", "")
    padding = limits.MAX_FILE_BYTES - path.stat().st_size
    path.write_bytes(path.read_bytes() + (b"word " * padding)[:padding])
    assert path.stat().st_size == limits.MAX_FILE_BYTES
    assert load_file(path, positions_dir).position is not None


@pytest.mark.parametrize(
    "body",
    [
        "".join("    " * depth + "- item\n" for depth in range(250)),
        "1. " * 1000,
    ],
    ids=["nested-lists", "nested-numbered-items"],
)
def test_markdown_nested_too_deeply_is_reported_not_fatal(write_position, positions_dir, body):
    result = load_file(write_position("deep", body), positions_dir)
    assert result.position is None
    assert [p.message for p in result.problems] == [TOO_DEEP]


def test_no_garbage_collection_runs_inside_a_render(write_position, positions_dir, monkeypatch):
    """Deep inside a file nested hundreds deep, a collection would run the weakref
    callbacks of freed index readers with no stack left: unraisable errors at random."""
    import gc

    from kb.content import loader

    seen = []
    parse = loader.parse_position
    monkeypatch.setattr(
        loader, "parse_position", lambda *args: seen.append(gc.isenabled()) or parse(*args)
    )
    result = load_file(write_position("deep", "1. " * 1000), positions_dir)
    assert [p.message for p in result.problems] == [TOO_DEEP]
    assert seen == [False] and gc.isenabled()  # paused for the render, and only then


def test_front_matter_nested_too_deeply_is_reported_not_fatal(write_position, positions_dir):
    raw = "---\ntitle: " + "[" * 500 + "]" * 500 + "\n---\nBody.\n"
    result = load_file(write_position("deep", raw=raw), positions_dir)
    assert [p.message for p in result.problems] == [TOO_DEEP]


def test_markdown_too_slow_to_render_is_skipped(write_position, positions_dir, monkeypatch):
    # For each heading in a block, Python-Markdown's tables extension splits the rest of
    # the block into lines to look for a table: 5,000 headings with no blank line take 0.6 s.
    monkeypatch.setattr(limits, "RENDER_SECONDS", 0.05)
    headings = "".join(f"# {n}\n" for n in range(5000))
    result = load_file(write_position("slow", headings), positions_dir)
    assert [p.message for p in result.problems] == [
        "file took longer than 0.05 seconds to render, so it was skipped; look for thousands "
        "of '[' or '(' characters, or of headings, with no blank line between them"
    ]
    assert load_file(write_position("fine", "A [link](https://example.org)."), positions_dir)


def test_index_reports_files_over_limits_and_indexes_the_rest(make_app, write_position):
    write_position("europe", "Neighbours.", title="Europe")
    write_position("deep", "1. " * 1000)
    huge = write_position("huge", "word " * 10)
    huge.write_bytes(huge.read_bytes() + b"x" * limits.MAX_FILE_BYTES)
    size = huge.stat().st_size
    result = make_app(index=False).test_cli_runner().invoke(args=["kb", "index"])
    assert result.exit_code == 0, result.output
    assert f"deep.md:1: {TOO_DEEP}" in result.output
    assert f"huge.md:1: file is {size:,} bytes; the limit is 1,000,000 bytes" in result.output
    assert "1 added" in result.output and "2 skipped with errors" in result.output
    assert "Traceback" not in result.output


def raw_status(port: int, target: str) -> int:
    return raw_get(port, target).status


def test_an_overlong_url_is_refused_with_414_by_the_werkzeug_server(starter_app):
    with serve_in_thread(starter_app) as base:
        port = int(base.rsplit(":", 1)[1])
        assert raw_status(port, "/search?q=" + "a" * 70_000) == 414
        assert raw_status(port, "/search?q=" + "%E6%97%A5" * limits.MAX_QUERY_CHARS) == 200


def test_an_overlong_url_is_refused_with_414_by_gunicorn(starter_index, tmp_path):
    folder, index = starter_index
    env = {"KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index)}
    with run_gunicorn(env, tmp_path / "gunicorn.log", workers=1, threads=2) as port:
        assert raw_status(port, "/search?q=" + "a" * 9_000) == 414
        # The longest search the app keeps, in the widest UTF-8 encoding, still fits.
        widest = "/search?q=" + "%F0%9F%98%80" * limits.MAX_QUERY_CHARS + "&topic=europe"
        assert raw_status(port, widest) == 200


def test_gunicorn_bounds_every_request(monkeypatch):
    for name in ("KB_TIMEOUT", "KB_GRACEFUL_TIMEOUT", "KB_WORKERS", "KB_THREADS", "KB_BIND"):
        monkeypatch.delenv(name, raising=False)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["timeout"] == 30  # a worker silent this long is killed and replaced
    assert config["graceful_timeout"] == 20 and config["keepalive"] == 5
    assert config["limit_request_line"] == 8190
    assert config["bind"].startswith("127.0.0.1:")
