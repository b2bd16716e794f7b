"""The citation ledger: written by `flask kb index`, deterministic, safe, checked."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date

import pytest

from kb.cite.ledger import (
    FIELDS,
    LEDGER_FILE,
    Entry,
    Published,
    parse_ledger,
    read_ledger,
    render_ledger,
    update_entries,
)
from kb.config import Settings
from kb.index.store import current_revision
from kb.indexing import reindex

EUROPE = """\
Britain's future is bound up with that of our European neighbours.

## Trade

Open trade with Europe creates jobs in every region of Britain.

Tariffs are a tax on working families and should be kept low.
"""


@pytest.fixture
def index(positions_dir, index_dir):
    """Run the indexer as `flask kb index` does; return what it reports."""
    settings = Settings.from_mapping(
        {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
    )

    def run(rebuild: bool = False) -> str:
        report = reindex(settings, rebuild=rebuild)
        return "\n".join([*(str(p) for p in report.problems), report.summary()])

    return run


@pytest.fixture
def check(make_app):
    def run():
        return make_app(index=False).test_cli_runner().invoke(args=["kb", "check"])

    return run


def lines(positions_dir) -> list[dict]:
    text = (positions_dir / LEDGER_FILE).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def entry_lines(positions_dir) -> list[dict]:
    """The passage lines (after the header, before the version lines)."""
    return [line for line in lines(positions_dir)[1:] if "id" in line]


def entries_by_text(positions_dir) -> dict[str, dict]:
    return {e["text"]: e for e in entry_lines(positions_dir)}


def test_index_writes_a_sorted_ledger_with_a_header(write_position, positions_dir, index):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    output = index()
    assert (
        f"citation ledger: 3 passages recorded, 0 retired, 0 restored; commit {LEDGER_FILE}"
        in output
    )
    header = lines(positions_dir)[0]
    entries = entry_lines(positions_dir)
    assert header["format"] == "positions-citation-ledger" and header["version"] == 2
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    assert all(list(e) == list(FIELDS) for e in entries)
    trade = entries_by_text(positions_dir)[
        "Open trade with Europe creates jobs in every region of Britain."
    ]
    assert trade["slug"] == "europe" and trade["heading"] == "Trade"
    assert trade["anchor"] == "trade-1" and trade["title"] == "Europe"
    assert (trade["first_seen"], trade["last_seen"], trade["revision"]) == ("2026-11-12", None, 1)


def test_unchanged_content_leaves_the_ledger_byte_for_byte(
    write_position, positions_dir, index_dir, index
):
    write_position("europe", EUROPE, title="Europe")
    write_position("climate", "Net zero by 2040.\n\n- Insulate homes\n- Build wind farms\n")
    index()
    ledger = positions_dir / LEDGER_FILE
    before = ledger.read_bytes()
    stamp = ledger.stat().st_mtime_ns
    index(rebuild=True)
    shutil.rmtree(index_dir)  # a fresh clone: no index at all
    index()
    assert ledger.read_bytes() == before
    assert ledger.stat().st_mtime_ns == stamp  # not even rewritten


def test_remembering_new_file_times_leaves_the_ledger_as_it_was(
    write_position, positions_dir, index_dir, index, check, monkeypatch
):
    """After a checkout (same bytes, new times) the indexer publishes a generation that
    only remembers the times; the ledger's words and dates stay exactly as they were."""
    from kb.index import build

    monkeypatch.setattr(build, "RELEARN_FROM", 1)
    write_position("europe", EUROPE, title="Europe")
    write_position("climate", "Net zero by 2040.\n\n- Insulate homes\n- Build wind farms\n")
    index()
    ledger = positions_dir / LEDGER_FILE
    before = ledger.read_bytes()
    for path in positions_dir.glob("*.md"):
        path.write_bytes(path.read_bytes())
        past = path.stat().st_mtime_ns - 3600 * 10**9
        os.utime(path, ns=(past, past))
    live = current_revision(index_dir)
    assert "index up to date" in index()
    assert current_revision(index_dir) != live  # a generation that remembers the times
    assert ledger.read_bytes() == before
    assert "ledger" not in check().output


def test_an_edit_retires_the_old_wording_on_the_new_updated_date(
    write_position, positions_dir, index
):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    index()
    write_position("europe", EUROPE.replace("every region", "every nation and region"),
                   title="Europe", updated="2026-11-20")  # fmt: skip
    assert "citation ledger: 1 passage recorded, 1 retired, 0 restored" in index()
    by_text = entries_by_text(positions_dir)
    old = by_text["Open trade with Europe creates jobs in every region of Britain."]
    new = by_text["Open trade with Europe creates jobs in every nation and region of Britain."]
    assert (old["first_seen"], old["last_seen"], old["revision"]) == ("2026-11-12", "2026-11-20", 1)
    assert (new["first_seen"], new["last_seen"], new["revision"]) == ("2026-11-20", None, 2)
    untouched = by_text["Tariffs are a tax on working families and should be kept low."]
    assert untouched["last_seen"] is None


def test_an_incremental_run_keeps_other_positions_current(write_position, positions_dir, index):
    write_position("europe", EUROPE, title="Europe")
    write_position("climate", "Net zero by 2040.")
    index()
    write_position("climate", "Net zero by 2035.", updated="2026-11-05")
    output = index()
    assert "1 updated" in output and "1 unchanged" in output
    by_text = entries_by_text(positions_dir)
    assert by_text["Net zero by 2040."]["last_seen"] == "2026-11-05"
    assert all(by_text[t]["last_seen"] is None for t in by_text if "2040" not in t)


def test_drafts_never_enter_the_ledger_and_unpublishing_retires(
    write_position, positions_dir, index
):
    write_position("secret", "Confidential draft words.", status="draft")
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    index()
    assert "Confidential draft words." not in entries_by_text(positions_dir)
    write_position("europe", EUROPE, title="Europe", status="draft", updated="2026-11-14")
    index()
    assert {e["last_seen"] for e in entries_by_text(positions_dir).values()} == {"2026-11-14"}


def test_a_deleted_position_is_retired_on_the_indexing_date(write_position, positions_dir, index):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    write_position("climate", "Net zero by 2040.")
    index()
    (positions_dir / "europe.md").unlink()
    index()
    retired = [e for e in entry_lines(positions_dir) if e["slug"] == "europe"]
    expected = max(date.today().isoformat(), "2026-11-12")
    assert len(retired) == 3 and {e["last_seen"] for e in retired} == {expected}


def test_a_corrupt_line_is_named_and_nothing_is_lost(write_position, positions_dir, index):
    write_position("europe", EUROPE, title="Europe")
    index()
    ledger = positions_dir / LEDGER_FILE
    text_lines = ledger.read_text(encoding="utf-8").splitlines()
    text_lines[2] = text_lines[2][:40]  # a truncated line, as a bad hand edit leaves it
    damaged = "\n".join(text_lines) + "\n"
    ledger.write_text(damaged, encoding="utf-8")
    write_position("europe", EUROPE + "\nA new closing paragraph.\n", title="Europe")
    output = index()
    assert (
        f"{LEDGER_FILE}:3: line is not valid JSON (Expecting property name enclosed in "
        "double quotes at column 41); restore the line from version control"
    ) in output
    assert "citation ledger not updated: fix the problem above, then run flask kb index" in output
    assert ledger.read_text(encoding="utf-8") == damaged  # never rewritten over a bad line
    ledger_read = read_ledger(positions_dir)
    assert len(ledger_read.entries) == 2 and not ledger_read.writable


def test_check_names_a_corrupt_line(write_position, positions_dir, index, check):
    write_position("europe", EUROPE, title="Europe")
    index()
    ledger = positions_dir / LEDGER_FILE
    text = ledger.read_text(encoding="utf-8")
    ledger.write_text(text + '{"id": "nothex"}\n', encoding="utf-8")
    bad_line = len(text.splitlines()) + 1
    result = check()
    assert result.exit_code == 1
    assert (
        f"{LEDGER_FILE}:{bad_line}: not a ledger entry: missing field 'slug'; "
        "restore the line from version control"
    ) in result.output


def test_check_reports_an_out_of_date_ledger(write_position, positions_dir, index, check):
    write_position("europe", EUROPE, title="Europe")
    index()
    assert check().exit_code == 0
    write_position("europe", EUROPE + "\nA new closing paragraph.\n", title="Europe")
    result = check()
    assert result.exit_code == 1
    assert (
        f"{LEDGER_FILE}:1: ledger out of date: 1 published passage not recorded (europe.md); "
        f"run flask kb index and commit {LEDGER_FILE}"
    ) in result.output
    (positions_dir / "europe.md").unlink()
    write_position("climate", "Net zero by 2040.")
    result = check()
    assert (
        f"{LEDGER_FILE}:1: ledger out of date: 1 published passage not recorded (climate.md) "
        f"and 3 passages recorded as current are no longer published; "
        f"run flask kb index and commit {LEDGER_FILE}"
    ) in result.output


def test_check_is_silent_before_the_first_index(write_position, check):
    write_position("europe", EUROPE, title="Europe")
    result = check()
    assert result.exit_code == 0 and LEDGER_FILE not in result.output


def test_merge_conflict_markers_are_resolved_by_indexing(
    write_position, positions_dir, index, check
):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    index()
    ledger = positions_dir / LEDGER_FILE
    header, first, *rest = ledger.read_text(encoding="utf-8").splitlines()
    ours = json.loads(first)
    theirs = {**ours, "last_seen": "2026-11-15"}
    conflicted = [header, "<<<<<<< HEAD", first, "=======", json.dumps(theirs),
                  ">>>>>>> other-branch", *rest]  # fmt: skip
    ledger.write_text("\n".join(conflicted) + "\n", encoding="utf-8")
    result = check()
    assert result.exit_code == 1
    assert f"{LEDGER_FILE}:1: the ledger has merge-conflict markers; run flask kb index" in (
        result.output
    )
    assert f"citation ledger: merged both sides of the conflict in {LEDGER_FILE}" in index()
    text = ledger.read_text(encoding="utf-8")
    assert "<<<<<<<" not in text and len(text.splitlines()) == 5  # header, 3 ids, 1 version
    # the passage is still published, so the merge leaves it current
    assert json.loads(text.splitlines()[1])["last_seen"] is None
    assert check().exit_code == 0


def test_writing_leaves_no_temporary_files(write_position, positions_dir, index):
    write_position("europe", EUROPE, title="Europe")
    index()
    assert sorted(p.name for p in positions_dir.iterdir()) == [LEDGER_FILE, "europe.md"]


def _published(pid: str, text: str, updated: str = "", ordinal: int = 1) -> Published:
    return Published(pid, "europe", "Europe", "", f"intro-{ordinal}", ordinal, text,
                     f"<p>{text}</p>", updated)  # fmt: skip


def test_change_dates_follow_updated_else_the_indexing_day():
    first = update_entries({}, [_published("aaaaaaaaaaaa", "One.", "2026-11-12")],
                           date(2026, 11, 28)).entries  # fmt: skip
    assert first["aaaaaaaaaaaa"].first_seen == "2026-11-12"
    # the editor forgot to move `updated`: the change is dated the day it was indexed
    second = update_entries(first, [_published("bbbbbbbbbbbb", "Two.", "2026-11-12")],
                            date(2026, 11, 28)).entries  # fmt: skip
    assert second["aaaaaaaaaaaa"].last_seen == "2026-11-28"
    assert (second["bbbbbbbbbbbb"].first_seen, second["bbbbbbbbbbbb"].revision) == (
        "2026-11-28",
        2,
    )


def test_restored_wording_is_current_again_with_its_first_date():
    one = [_published("aaaaaaaaaaaa", "One.", "2026-11-12")]
    two = [_published("bbbbbbbbbbbb", "Two.", "2026-11-20")]
    entries = update_entries({}, one, date(2026, 11, 28)).entries
    entries = update_entries(entries, two, date(2026, 11, 28)).entries
    update = update_entries(entries, one, date(2026, 11, 29))
    assert update.restored == ("aaaaaaaaaaaa",) and update.retired == ("bbbbbbbbbbbb",)
    assert update.entries["aaaaaaaaaaaa"].first_seen == "2026-11-12"
    assert update.entries["aaaaaaaaaaaa"].last_seen is None


def test_render_and_parse_round_trip_with_awkward_text():
    entry = Entry("0123456789ab", "europe", "Europe", "Trade › Tariffs", "tariffs-1", 3,
                  "2026-11-12", None, 1, "Line\u2028separator, “quotes” and </script>",
                  "<p>x</p>\n")  # fmt: skip
    text = render_ledger([entry])
    assert len(text.split("\n")) == 3  # header, entry, final newline
    parsed = parse_ledger(text)
    assert parsed.problems == () and parsed.entries == {entry.id: entry}
    assert render_ledger(parsed.entries.values()) == text


def test_flask_kb_index_writes_the_ledger(make_app, write_position, positions_dir):
    write_position("europe", EUROPE, title="Europe")
    result = make_app(index=False).test_cli_runner().invoke(args=["kb", "index"])
    assert result.exit_code == 0, result.output
    assert f"citation ledger: 3 passages recorded, 0 retired, 0 restored; commit {LEDGER_FILE}" in (
        result.output
    )
    assert len(read_ledger(positions_dir).entries) == 3


def test_a_deleted_ledger_is_written_again_while_the_index_is_current(
    write_position, positions_dir, index
):
    write_position("europe", EUROPE, title="Europe")
    index()
    ledger = positions_dir / LEDGER_FILE
    before = ledger.read_bytes()
    assert "citation ledger" not in index()  # nothing to do, nothing said
    ledger.unlink()
    assert "index up to date" in (output := index()) and "3 passages recorded" in output
    assert ledger.read_bytes() == before
