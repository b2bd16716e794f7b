"""Recording only the positions a run changed writes the ledger a full recording writes.

An incremental `flask kb index` splices the changed positions' lines into the ledger
(``kb.cite.ledger_lines``) instead of parsing and rendering all of it. Every case here
runs the same edit on two copies of one site, one recorded in full (no stamp, as after
a `git pull`), one by splicing, and asserts the two ledgers are byte for byte the same.
"""

from __future__ import annotations

from datetime import date

import pytest

from kb.cite import publish
from kb.cite.ledger import LEDGER_FILE, read_ledger
from kb.cite.ledger_lines import LedgerText
from kb.cite.publish import STAMP_FILE, current_ids, recorded_ids
from kb.config import Settings
from kb.indexing import reindex
from tests.conftest import front_matter

TODAY = date(2026, 11, 20)


def write(folder, name: str, body: str, **fields) -> None:
    fields = {"title": name.title(), "status": "adopted", "updated": "2026-11-01", **fields}
    (folder / f"{name}.md").write_text(front_matter(**fields) + body, encoding="utf-8")


def start(folder) -> None:
    write(folder, "europe", "Trade with our neighbours.\n\n## Jobs\n\nWork in every region.\n")
    write(folder, "climate", "Cut carbon by half.\n\nInsulate every home.\n", topics=["climate"])
    write(folder, "housing", "Build council homes.\n\nRent caps for tenants.\n")
    write(folder, "draft", "Not yet agreed.\n", status="draft")


EDITS = {
    "reword": lambda f: write(f, "europe", "Trade freely with our neighbours.\n"),
    "add": lambda f: write(f, "water", "Clean rivers for all.\n"),
    "remove": lambda f: (f / "housing.md").unlink(),
    "rename": lambda f: (
        (f / "housing.md").unlink(),
        write(f, "homes", "Build council homes.\n\nRent caps for tenants.\n"),
    ),
    "to draft": lambda f: write(f, "climate", "Cut carbon by half.\n", status="draft"),
    "publish a draft": lambda f: write(f, "draft", "Now agreed.\n"),
    "new date": lambda f: write(f, "housing", "Build homes.\n", updated="2026-11-15"),
}


def settings_for(root) -> Settings:
    return Settings.from_mapping(
        {"KB_POSITIONS_DIR": str(root / "positions"), "KB_INDEX_DIR": str(root / "index")}
    )


def indexed_site(tmp_path):
    """A folder of the starting positions, indexed."""
    site = tmp_path / "site"
    (site / "positions").mkdir(parents=True)
    start(site / "positions")
    reindex(settings_for(site))
    return site


@pytest.fixture
def today(monkeypatch):
    """Record every change under one date, so the two copies' ledgers can be compared."""

    class Today(date):
        @classmethod
        def today(cls):
            return TODAY

    monkeypatch.setattr(publish, "date", Today)


@pytest.fixture
def spliced(monkeypatch):
    """Count the runs recorded by splicing (the fast path actually taken)."""
    calls = []
    original = publish.record_changes

    def spy(*args, **kwargs):
        outcome = original(*args, **kwargs)
        calls.append(outcome is not None)
        return outcome

    monkeypatch.setattr(publish, "record_changes", spy)
    return calls


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_splicing_writes_the_ledger_a_full_recording_writes(tmp_path, today, spliced, edit):
    sites = [tmp_path / "full", tmp_path / "splice"]
    for site in sites:
        (site / "positions").mkdir(parents=True)
        (site / "positions" / "topics.yml").write_text("climate: Climate\n", encoding="utf-8")
        start(site / "positions")
        reindex(settings_for(site))
        EDITS[edit](site / "positions")
    (sites[0] / "index" / STAMP_FILE).unlink()  # the ledger's match with the index unknown
    reports = [reindex(settings_for(site)) for site in sites]
    assert spliced == [True]  # only the second site, whose stamp matched
    assert [(r.added, r.updated, r.removed, r.notes) for r in reports[:1]] == [
        (r.added, r.updated, r.removed, r.notes) for r in reports[1:]
    ]
    ledgers = [(site / "positions" / LEDGER_FILE).read_bytes() for site in sites]
    assert ledgers[0] == ledgers[1]
    # and recording the whole generation again finds nothing to change
    (sites[1] / "index" / STAMP_FILE).unlink()
    reindex(settings_for(sites[1]))
    assert (sites[1] / "positions" / LEDGER_FILE).read_bytes() == ledgers[1]


def test_a_stamp_from_another_ledger_means_a_full_recording(tmp_path, today, spliced):
    site = indexed_site(tmp_path)
    ledger = site / "positions" / LEDGER_FILE
    ledger.write_bytes(ledger.read_bytes())  # a pull rewrote it: new mtime, same content
    EDITS["reword"](site / "positions")
    reindex(settings_for(site))
    assert spliced == []  # the stamp did not match: never spliced
    assert "Trade freely" in ledger.read_text(encoding="utf-8")


def test_lines_list_the_current_passages_as_parsing_does(tmp_path, today):
    site = indexed_site(tmp_path)
    EDITS["reword"](site / "positions")
    reindex(settings_for(site))  # retires a passage: current and retired lines both
    folder = site / "positions"
    text = LedgerText.of((folder / LEDGER_FILE).read_bytes())
    assert text is not None
    assert text.current_ids() == current_ids(read_ledger(folder))
    assert any(not e.is_current for e in read_ledger(folder).entries.values())


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text.replace('{"id": "', '{"id":"', 1),  # respaced by hand
        lambda text: "\n".join(reversed(text.rstrip("\n").split("\n")[1:])) + "\n",
        lambda text: text + "<<<<<<< HEAD\n",
        lambda text: text.rstrip("\n"),  # no final newline
        lambda text: text.replace('"slug": "europe"', '"slug": "eur\\u006fpe"', 1),
    ],
    ids=["respaced", "reordered", "conflict", "unterminated", "escaped"],
)
def test_lines_not_as_the_indexer_writes_them_are_read_whole(tmp_path, today, damage):
    site = indexed_site(tmp_path)
    ledger = site / "positions" / LEDGER_FILE
    before = current_ids(read_ledger(site / "positions"))
    ledger.write_text(damage(ledger.read_text(encoding="utf-8")), encoding="utf-8")
    assert LedgerText.of(ledger.read_bytes()) is None
    assert before  # a real ledger was damaged, not an empty one
    assert recorded_ids(site / "positions") == current_ids(read_ledger(site / "positions"))
