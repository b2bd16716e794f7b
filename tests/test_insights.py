"""Search insights: searches counted per query and day, shown to editors only in aggregate."""

from __future__ import annotations

import errno
import json
import logging
import multiprocessing
import random
import sqlite3
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from kb.config import Settings
from kb.insights import normalise_query, oldest_kept_day
from kb.insights.counter import SearchCounter, utc_today
from kb.insights.report import new_position_command, read_report
from kb.insights.store import DB_FILE, InsightsStore, Tally
from kb.web.insights import EXTENSION
from tests.tmpfs import mounted_tmpfs

TODAY = date(2026, 11, 30)
EUROPE = "Britain's future is bound up with that of our European neighbours."
CLIMATE = "Climate change is the defining challenge; we back a green industrial strategy."
WRITE_FAILED = "search insights: could not write"


@pytest.fixture
def insights_dir(tmp_path: Path) -> Path:
    return tmp_path / "insights"


@pytest.fixture
def site(write_position, make_app, insights_dir):
    """The public site over two positions, counting into ``insights_dir``."""
    write_position("europe", EUROPE, topics=["europe"])
    write_position("climate", CLIMATE, topics=["climate"])
    return make_app(KB_INSIGHTS_DIR=str(insights_dir))


def flush(app) -> None:
    app.extensions[EXTENSION].flush()


def rows(folder: Path) -> list[tuple]:
    with sqlite3.connect(folder / DB_FILE) as conn:
        return conn.execute("SELECT * FROM search_counts ORDER BY day, query").fetchall()


def report_json(app, *options: str) -> dict:
    result = app.test_cli_runner().invoke(args=["kb", "searches", "--format", "json", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# Counting from several processes at once ------------------------------------------------

PROCESSES = 4
SEARCHES_EACH = 300
QUERIES = [f"query {n}" for n in range(7)]


def count_in_child(counter: SearchCounter, worker: int) -> None:
    """One forked worker: counts written every few milliseconds, racing the others."""
    counter.flush_seconds = 0.002
    for n in range(SEARCHES_EACH):
        counter.count_search(QUERIES[(n + worker) % len(QUERIES)], results=n % 3)
        if n % 2:
            counter.count_opened(QUERIES[(n + worker) % len(QUERIES)])
    counter.flush()


def test_several_processes_counting_at_once_lose_no_counts(insights_dir):
    # Buffered in the parent before it forks (as in a gunicorn master), written only after:
    # SQLite forbids carrying a connection in use across a fork.
    counter = SearchCounter(InsightsStore(insights_dir), keep_months=12, flush_seconds=60)
    counter.count_search("query 0", results=1)
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=count_in_child, args=(counter, worker))
        for worker in range(PROCESSES)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0] * PROCESSES
    counter.flush()
    expected = Counter(
        QUERIES[(n + worker) % len(QUERIES)]
        for worker in range(PROCESSES)
        for n in range(SEARCHES_EACH)
    )
    expected["query 0"] += 1
    totals = InsightsStore(insights_dir).totals(date(2000, 1, 1), date(2100, 1, 1), 1)
    assert {t.query: t.searches for t in totals} == dict(expected)
    assert sum(t.searches for t in totals) == PROCESSES * SEARCHES_EACH + 1


# What editors are shown ------------------------------------------------------------------


def search(client, q: str, times: int = 1) -> None:
    for _ in range(times):
        assert client.get("/search", query_string={"q": q}).status_code == 200


def test_a_query_below_the_threshold_is_never_shown(site, make_app, insights_dir):
    client = site.test_client()
    search(client, "Europe", 3)
    search(client, "zebra crossing", 2)  # a one-off, say, a person's name
    assert client.get("/api/search", query_string={"q": "Zebra  Crossing"}).status_code == 200
    search(client, "wombat", 2)
    flush(site)
    assert {row[1]: row[2] for row in rows(insights_dir)} == {
        "europe": 3, "zebra crossing": 3, "wombat": 2,
    }  # fmt: skip
    runner = site.test_cli_runner()
    table = runner.invoke(args=["kb", "searches"]).output
    csv = runner.invoke(args=["kb", "searches", "--format", "csv"]).output
    data = report_json(site)
    preview = make_app(index=False, KB_PREVIEW="1", KB_INSIGHTS_DIR=str(insights_dir))
    page = preview.test_client().get("/preview/searches").get_data(as_text=True)
    for shown in (table, csv, json.dumps(data), page):
        assert "europe" in shown
        assert "zebra crossing" in shown
        assert "wombat" not in shown
    assert [row["query"] for row in data["top"]] == ["europe", "zebra crossing"]
    assert data["min_count"] == 3


def test_the_threshold_applies_to_the_period_shown(insights_dir):
    store = InsightsStore(insights_dir)
    for day in ("2026-11-01", "2026-11-20", "2026-11-29"):
        store.write({(day, "rent controls"): Tally(1, 0, 2)}, {})
    settings = Settings.from_mapping({"KB_INSIGHTS_DIR": str(insights_dir)})
    assert [t.query for t in read_report(settings, days=30, today=TODAY).top] == ["rent controls"]
    assert read_report(settings, days=10, today=TODAY).top == ()


def test_the_report_lists_no_results_and_results_nobody_opened(site, insights_dir):
    client = site.test_client()
    search(client, "housing", 4)  # nothing answers it
    search(client, "climate", 3)  # answered, never opened
    search(client, "europe", 3)  # answered and opened once
    client.post("/search/opened", data={"q": "europe"})
    flush(site)
    data = report_json(site)
    assert [(r["query"], r["searches"], r["no_results"]) for r in data["no_results"]] == [
        ("housing", 4, 4)
    ]
    assert [r["query"] for r in data["not_opened"]] == ["climate"]
    assert data["top"][0] == {
        "query": "housing", "searches": 4, "no_results": 4, "opened": 0, "results": 0,
    }  # fmt: skip


def test_refinements_of_a_search_are_not_counted_again(site, insights_dir):
    client = site.test_client()
    search(client, "europe")
    for extra in ({"page": 2}, {"topic": "europe"}, {"sort": "updated"}):
        query = {"q": "europe", **extra}
        assert client.get("/search", query_string=query).status_code == 200
        assert client.get("/api/search", query_string=query).status_code == 200
    assert client.head("/search?q=europe").status_code == 200
    assert client.get("/search?q=+++").status_code == 200  # nothing typed: nothing counted
    flush(site)
    assert [(row[1], row[2]) for row in rows(insights_dir)] == [("europe", 1)]


def test_opened_results_never_exceed_searches_and_need_a_search(site, insights_dir):
    client = site.test_client()
    search(client, "europe", 2)
    for _ in range(5):
        assert client.post("/search/opened", data={"q": "EUROPE"}).status_code == 204
    assert client.post("/search/opened", data={"q": "never searched"}).status_code == 204
    flush(site)
    assert [(row[1], row[2], row[4]) for row in rows(insights_dir)] == [("europe", 2, 2)]


def test_results_page_carries_the_beacon_address_and_nothing_personal(site):
    page = site.test_client().get("/search?q=Europe").get_data(as_text=True)
    assert 'data-opened-url="/search/opened" data-query="Europe"' in page
    assert 'class="result-link" href="/positions/europe"' in page
    assert "Set-Cookie" not in site.test_client().get("/search?q=europe").headers


def test_the_preview_counts_nothing_and_links_each_row(make_app, site, insights_dir):
    client = site.test_client()
    search(client, "housing", 3)
    flush(site)
    preview = make_app(index=False, KB_PREVIEW="1", KB_INSIGHTS_DIR=str(insights_dir))
    preview_client = preview.test_client()
    search(preview_client, "editors testing", 5)
    assert "data-opened-url" not in preview_client.get("/search?q=x").get_data(as_text=True)
    page = preview_client.get("/preview/searches").get_data(as_text=True)
    assert '<a href="/search?q=housing">housing</a>' in page
    assert '<a href="/preview/searches">What visitors search for</a>' in page  # the banner
    assert '<a href="/preview/searches/new?q=housing">Write a position' in page
    preview.extensions[EXTENSION].flush()
    assert [row[1] for row in rows(insights_dir)] == ["housing"]
    answer = preview_client.get("/preview/searches/new?q=housing").get_data(as_text=True)
    assert "<code>flask --app app kb new &#34;Housing&#34;</code>" in answer


def test_the_searches_report_is_only_in_the_preview(site):
    client = site.test_client()
    assert client.get("/preview/searches").status_code == 404
    assert client.get("/preview/searches/new?q=x").status_code == 404


@pytest.mark.parametrize(
    ("query", "command"),
    [
        ("jobs", 'flask --app app kb new "Jobs"'),
        ('"zero hours" contracts', 'flask --app app kb new "Zero hours contracts"'),
        ("tax $(rm -rf ~)", "flask --app app kb new 'Tax $(rm -rf ~)'"),
        ("don't `x`", "flask --app app kb new 'Don'\"'\"'t `x`'"),
        ("", 'flask --app app kb new "New position"'),
    ],
)
def test_the_new_position_command_is_safe_to_paste(query, command):
    assert new_position_command(query) == command


def test_queries_are_counted_as_the_search_cleans_them():
    assert normalise_query("  Votes\tat\x00 16 ") == "votes at 16"
    assert normalise_query("Tax OR Housing") == "tax OR housing"
    assert normalise_query("x" * 600) == "x" * 500


def test_csv_keeps_spreadsheets_from_running_formulas(site, insights_dir):
    InsightsStore(insights_dir).write({(utc_today().isoformat(), "=cmd()"): Tally(3, 3, 0)}, {})
    output = site.test_cli_runner().invoke(args=["kb", "searches", "--format", "csv"]).output
    assert output.splitlines() == [
        "list,query,searches,no_results,opened,results",
        "top,'=cmd(),3,3,0,0",
        "no_results,'=cmd(),3,3,0,0",
    ]


def test_an_unreadable_counts_file_is_a_clear_cli_error(site, insights_dir):
    insights_dir.mkdir()
    (insights_dir / DB_FILE).write_bytes(b"not a database" * 100)
    result = site.test_cli_runner().invoke(args=["kb", "searches"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: could not read the search counts in {insights_dir}: file is not a database\n"
    )


# Retention --------------------------------------------------------------------------------


def test_counts_older_than_the_period_are_deleted(insights_dir):
    store = InsightsStore(insights_dir)
    store.write({("2025-11-29", "old"): Tally(9, 0, 1), ("2025-11-30", "kept"): Tally(4, 0, 1)}, {})
    counter = SearchCounter(store, keep_months=12, today=lambda: TODAY)
    counter.count_search("new", 1)
    counter.flush()
    assert [row[:2] for row in rows(insights_dir)] == [
        ("2025-11-30", "kept"), ("2026-11-30", "new"),
    ]  # fmt: skip


def test_reading_the_report_deletes_old_counts_even_with_no_searches(site, insights_dir):
    InsightsStore(insights_dir).write({("2020-01-01", "ancient"): Tally(50, 0, 1)}, {})
    data = report_json(site, "--days", "5000")
    assert data["top"] == []
    assert rows(insights_dir) == []
    assert data["since"] == oldest_kept_day(date.fromisoformat(data["until"]), 12).isoformat()


@pytest.mark.parametrize(
    ("today", "months", "oldest"),
    [
        (date(2026, 11, 30), 12, date(2025, 11, 30)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
        (date(2026, 1, 15), 2, date(2025, 11, 15)),
    ],
)
def test_the_oldest_kept_day(today, months, oldest):
    assert oldest_kept_day(today, months) == oldest


# Counting off, and failures ----------------------------------------------------------------


def test_counting_off_stores_nothing(write_position, make_app, insights_dir):
    write_position("europe", EUROPE)
    app = make_app(KB_INSIGHTS="off", KB_INSIGHTS_DIR=str(insights_dir))
    client = app.test_client()
    page = client.get("/search?q=europe").get_data(as_text=True)
    assert 'href="/positions/europe"' in page and "data-opened-url" not in page
    assert client.get("/api/search?q=europe").json["total"] == 1
    assert client.post("/search/opened", data={"q": "europe"}).status_code == 204
    assert EXTENSION not in app.extensions
    assert not insights_dir.exists()


def assert_searches_still_work(app) -> None:
    client = app.test_client()
    for _ in range(3):
        page = client.get("/search?q=europe")
        assert page.status_code == 200
        assert 'href="/positions/europe"' in page.get_data(as_text=True)
        assert client.get("/api/search?q=europe").json["total"] == 1
        assert client.post("/search/opened", data={"q": "europe"}).status_code == 204


def test_a_folder_that_cannot_be_created_never_breaks_a_search(site, tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = site
    app.extensions[EXTENSION].store = InsightsStore(blocker / "insights")
    assert_searches_still_work(app)
    with caplog.at_level(logging.WARNING):
        flush(app)
    assert f"{WRITE_FAILED} 2 counts to {blocker}/insights/{DB_FILE}: [Errno 20]" in caplog.text


def test_a_database_error_never_breaks_a_search(site, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(sqlite3, "connect", broken)
    assert_searches_still_work(site)
    with caplog.at_level(logging.WARNING):
        flush(site)
    assert f"{WRITE_FAILED} 2 counts" in caplog.text
    assert caplog.text.rstrip().endswith("database or disk is full")
    with caplog.at_level(logging.WARNING):
        assert_searches_still_work(site)
        flush(site)  # still failing a moment later: not logged again as a warning
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


@pytest.fixture(params=["full", "read-only"])
def tiny_disk(request, tmp_path):
    """A real 64 KB tmpfs (root only), full or mounted read-only; skipped where mounting
    is refused. Its ``insights`` folder exists; the counts file cannot be written."""
    with mounted_tmpfs(tmp_path / "tiny_disk", "64k", covered_by="the simulated errors") as folder:
        (folder / "insights").mkdir()
        if request.param == "read-only":
            remount = ["mount", "-o", "remount,ro", str(folder)]
            subprocess.run(remount, check=True, capture_output=True, timeout=10)
        else:
            fill(folder / "filler")
        yield folder, request.param


def fill(path: Path) -> None:
    try:
        with open(path, "wb") as filler:
            while True:
                filler.write(b"x" * 4096)
                filler.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC


def test_a_real_full_or_read_only_disk_never_breaks_a_search(site, tiny_disk, caplog):
    folder, kind = tiny_disk
    site.extensions[EXTENSION].store = InsightsStore(folder / "insights")
    assert_searches_still_work(site)
    with caplog.at_level(logging.WARNING):
        flush(site)
    assert f"{WRITE_FAILED} 2 counts to {folder}/insights/{DB_FILE}" in caplog.text
    reason = "unable to open database file" if kind == "read-only" else "disk is full"
    assert caplog.text.rstrip().endswith(reason)


# A replay -----------------------------------------------------------------------------------

POOL = {
    "europe": 60, "Europe": 25, "EUROPEAN  neighbours": 20, "climate": 50, "green industry": 15,
    "housing": 45, "jobs": 30, "Tax OR housing": 10, "immigration": 8, "zebra": 2,
    "a person's name": 1, "trade": 12, "neighbours": 3, "employment": 9,
}  # fmt: skip
REFINEMENTS = ({"page": 2}, {"topic": "europe"}, {"sort": "updated"})


def test_a_replay_of_searches_gives_exactly_the_expected_report(site):
    """Several hundred searches in random order through the page and the API, some
    refined, some opened: the report equals what a plain tally of them predicts."""
    rng = random.Random(17)
    plan = [q for q, times in POOL.items() for _ in range(times)]
    rng.shuffle(plan)
    client = site.test_client()
    searches, empty, opened, results = Counter(), Counter(), Counter(), {}
    for n, typed in enumerate(plan):
        path = "/api/search" if n % 2 else "/search"
        total = client.get("/api/search", query_string={"q": typed, "page": 2}).json["total"]
        assert client.get(path, query_string={"q": typed}).status_code == 200
        query = " ".join(w if w == "OR" else w.lower() for w in typed.split())
        searches[query] += 1
        empty[query] += total == 0
        results[query] = total
        if rng.random() < 0.3:
            client.get(path, query_string={"q": typed, **rng.choice(REFINEMENTS)})
        if total and rng.random() < 0.4:
            client.post("/search/opened", data={"q": typed})
            opened[query] += 1
    flush(site)

    def row(q: str) -> dict:
        return {"query": q, "searches": searches[q], "no_results": empty[q],
                "opened": opened[q], "results": results[q]}  # fmt: skip

    shown = [q for q in searches if searches[q] >= 3]
    top = sorted(shown, key=lambda q: (-searches[q], q))
    nothing = sorted([q for q in shown if empty[q]], key=lambda q: (-empty[q], -searches[q], q))
    unopened = sorted(
        [q for q in shown if not opened[q] and searches[q] > empty[q]],
        key=lambda q: (-(searches[q] - empty[q]), q),
    )
    data = report_json(site, "--limit", "100")
    assert sum(searches.values()) == len(plan) == 290
    assert data["top"] == [row(q) for q in top]
    assert data["no_results"] == [row(q) for q in nothing]
    assert data["not_opened"] == [row(q) for q in unopened]
    assert {"zebra", "a person's name"}.isdisjoint(q["query"] for q in data["top"])
