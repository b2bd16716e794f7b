"""Position history: every version `flask kb index` publishes, what changed, compare and
exact past versions, over edit, revert, reorder, retitle, re-topic, withdraw and restore."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from kb.cite.history import Segment, compare, describe, record_publication, word_diff
from kb.cite.ledger import LEDGER_FILE, Entry, Ledger, Version, VersionPassage, parse_ledger
from kb.index.records import PassageRecord, PositionRecord
from tests.conftest import EUROPE, TRADE, TRADE_EDITED

TARIFFS = "Tariffs are a tax on working families and should be kept low."
INTRO = "Britain's future is bound up with that of our European neighbours."
REORDERED = EUROPE.replace(f"{TRADE}\n\n{TARIFFS}", f"{TARIFFS}\n\n{TRADE}")

# (updated date, front matter, body, change note) of each step
STEPS = [
    ("2026-11-01", dict(title="Europe", summary="Trade first.", topics=["trade"]), EUROPE, ""),
    ("2026-11-02", dict(title="Europe", summary="Trade first.", topics=["trade"]),
     EUROPE.replace(TRADE, TRADE_EDITED), "Trade paragraph made clearer."),
    ("2026-11-03", dict(title="Europe", summary="Trade first.", topics=["trade"]), EUROPE,
     "Reverted the trade paragraph."),
    ("2026-11-04", dict(title="Europe", summary="Trade first.", topics=["trade"]), REORDERED,
     ""),
    ("2026-11-05", dict(title="Europe and trade", summary="Open trade.", topics=["trade"]),
     REORDERED, "New title."),
    ("2026-11-06", dict(title="Europe and trade", summary="Open trade.",
                        topics=["trade", "europe"]), REORDERED, ""),
    ("2026-11-07", dict(title="Europe and trade", summary="Open trade.",
                        topics=["trade", "europe"], status="draft"), REORDERED, ""),
    ("2026-11-08", dict(title="Europe and trade", summary="Open trade.",
                        topics=["trade", "europe"]), REORDERED, "Published again."),
]  # fmt: skip

HISTORY = [  # newest first: (date, change note, what changed)
    ("2026-11-08", "Published again.", "published again"),
    ("2026-11-07", "", "withdrawn"),
    ("2026-11-06", "", "topic europe added"),
    ("2026-11-05", "New title.",
     "title changed from “Europe” to “Europe and trade”; summary changed"),
    ("2026-11-04", "", "1 paragraph moved"),
    ("2026-11-03", "Reverted the trade paragraph.", "1 paragraph revised"),
    ("2026-11-02", "Trade paragraph made clearer.", "1 paragraph revised"),
    ("2026-11-01", "", "first published"),
]  # fmt: skip


@pytest.fixture
def europe_history(write_position, publish):
    """Publish every step in turn; return a client of the final state."""
    client = None
    for updated, fields, body, note in STEPS:
        extra = {"change_note": f'"{note}"'} if note else {}
        write_position("europe", body, updated=updated, **fields, **extra)
        client = publish()
    return client


def ids_in(html: str) -> list[str]:
    """Passage ids in page order, from the Cite controls."""
    found = re.findall(r'class="cite-link" href="/cite/([0-9a-f]{12})"', html)
    return list(dict.fromkeys(found))


def by_text(positions_dir) -> dict[str, str]:
    text = (positions_dir / LEDGER_FILE).read_text(encoding="utf-8")
    return {e["text"]: e["id"] for e in map(json.loads, text.splitlines()[1:]) if "id" in e}


def expected_as_of(positions_dir) -> dict[str, tuple[str, str, list[str]]]:
    """Date → (title, summary, passage ids in order) the past-version page must show."""
    ids = by_text(positions_dir)
    first = [ids[INTRO], ids[TRADE], ids[TARIFFS]]
    edited = [ids[INTRO], ids[TRADE_EDITED], ids[TARIFFS]]
    moved = [ids[INTRO], ids[TARIFFS], ids[TRADE]]
    return {
        "2026-11-01": ("Europe", "Trade first.", first),
        "2026-11-02": ("Europe", "Trade first.", edited),
        "2026-11-03": ("Europe", "Trade first.", first),
        "2026-11-04": ("Europe", "Trade first.", moved),
        "2026-11-05": ("Europe and trade", "Open trade.", moved),
        "2026-11-06": ("Europe and trade", "Open trade.", moved),
        "2026-11-08": ("Europe and trade", "Open trade.", moved),
    }


def assert_history(client, positions_dir):
    body = client.get("/api/positions/europe/history").get_json()
    got = [(v["date"], v["change_note"], v["changes"]) for v in body["versions"]]
    assert got == HISTORY
    assert [v["topics"] for v in body["versions"][:3]] == [
        ["trade", "europe"], None, ["trade", "europe"],
    ]  # fmt: skip
    assert body["versions"][1]["url"] is None  # a withdrawn version has no page
    for day, (title, summary, ids) in expected_as_of(positions_dir).items():
        page = client.get(f"/positions/europe?as_of={day}")
        assert page.status_code == 200, day
        html = page.get_data(as_text=True)
        assert f"<h1>{title}</h1>" in html, day
        assert f'<p class="lead">{summary}</p>' in html, day
        assert ids_in(html) == ids, day
        assert ">Trade</h2>" in html, day
        assert (">Europe</a>" in html) == (day >= "2026-11-06"), day  # the topics then
    assert client.get("/positions/europe?as_of=2026-11-07").status_code == 404


def test_history_compare_and_as_of_are_exact_over_every_kind_of_change(
    europe_history, positions_dir
):
    assert_history(europe_history, positions_dir)


def test_history_survives_a_deleted_index(europe_history, positions_dir, index_dir, publish):
    ledger = (positions_dir / LEDGER_FILE).read_bytes()
    shutil.rmtree(index_dir)
    client = publish()
    assert (positions_dir / LEDGER_FILE).read_bytes() == ledger  # unchanged, byte for byte
    assert_history(client, positions_dir)


def test_the_history_page_lists_versions_newest_first(europe_history):
    page = europe_history.get("/positions/europe/history")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    dates = re.findall(r'<li class="version" id="v-([0-9-]+)">', html)
    assert dates == [day for day, _, _ in HISTORY]
    assert '<p class="change-note">Reverted the trade paragraph.</p>' in html
    assert '<span class="visually-hidden">What changed: </span>1 paragraph moved.</p>' in html
    assert 'href="/positions/europe/compare?from=2026-11-01&amp;to=2026-11-02"' in html
    assert 'href="/positions/europe?as_of=2026-11-02">View this version' in html
    assert page.headers["Link"] == (
        '</api/positions/europe/history>; rel="alternate"; type="application/json"'
    )


def test_the_position_page_says_when_it_was_updated_and_links_the_history(europe_history):
    html = europe_history.get("/positions/europe").get_data(as_text=True)
    assert (
        'Updated <time datetime="2026-11-08">8 November 2026</time> — '
        '<a href="/positions/europe/history">see all updates</a>'
    ) in html
    assert '<span class="label">Latest change:</span> Published again.</p>' in html


def test_compare_marks_the_words_that_changed(europe_history, positions_dir):
    ids = by_text(positions_dir)
    body = europe_history.get(
        "/api/positions/europe/compare?from=2026-11-01&to=2026-11-02"
    ).get_json()
    assert (body["from"]["date"], body["to"]["date"]) == ("2026-11-01", "2026-11-02")
    assert body["changes"] == "1 paragraph revised"
    changes = [(p["change"], p["new_id"]) for p in body["paragraphs"]]
    assert changes == [("same", ids[INTRO]), ("revised", ids[TRADE_EDITED]),
                       ("same", ids[TARIFFS])]  # fmt: skip
    revised = body["paragraphs"][1]
    assert revised["old_id"] == ids[TRADE] and revised["cite_url"] == f"/cite/{ids[TRADE_EDITED]}"
    assert [s for s in revised["segments"] if s["op"] != "same"] == [
        {"op": "ins", "text": "good "},
        {"op": "ins", "text": "nation and "},
    ]
    page = europe_history.get("/positions/europe/compare?from=2026-11-01&to=2026-11-02")
    html = page.get_data(as_text=True)
    assert '<ins><span class="visually-hidden">[inserted: </span>good <span' in html
    assert f'<a href="/cite/{ids[TRADE_EDITED]}">Cite this paragraph</a>' in html
    # Reorder and retitle: the moved paragraph and the title's words are named.
    moved = europe_history.get("/api/positions/europe/compare?from=2026-11-03&to=2026-11-05")
    moved = moved.get_json()
    assert moved["changes"] == (
        "1 paragraph moved; title changed from “Europe” to “Europe and trade”; summary changed"
    )
    assert [p["change"] for p in moved["paragraphs"]] == ["same", "moved", "same"]  # tariffs up
    html = europe_history.get("/positions/europe/compare?from=2026-11-03&to=2026-11-05").get_data(
        as_text=True
    )
    assert "<strong>Title:</strong> Europe <ins>" in html


def test_compare_defaults_to_the_latest_change_and_explains_bad_dates(europe_history):
    body = europe_history.get("/api/positions/europe/compare").get_json()
    assert (body["from"]["date"], body["to"]["date"]) == ("2026-11-07", "2026-11-08")
    bad = europe_history.get("/api/positions/europe/compare?from=yesterday")
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "from: “yesterday” is not a date like 2026-11-26."
    early = europe_history.get("/api/positions/europe/compare?from=2020-01-01")
    assert early.status_code == 404
    assert early.get_json()["error"] == (
        "from: this position did not exist on 1 January 2020; its first recorded version is "
        "from 1 November 2026."
    )
    assert europe_history.get("/positions/nothing/history").status_code == 404
    assert europe_history.get("/api/positions/nothing/compare").status_code == 404


def test_a_revised_citation_opens_its_version_at_the_paragraph(europe_history, positions_dir):
    edited = by_text(positions_dir)[TRADE_EDITED]
    body = europe_history.get(f"/api/cite/{edited}").get_json()
    assert body["status"] == "revised"
    assert body["as_of_url"] == "/positions/europe?as_of=2026-11-02#trade-1"
    assert [s["op"] for s in body["successor"]["differences"]].count("del") == 2
    html = europe_history.get(f"/cite/{edited}").get_data(as_text=True)
    assert '<del><span class="visually-hidden">[deleted: </span>good ' in html


def test_the_feed_carries_the_change_note_and_the_changes(europe_history):
    feed = europe_history.get("/feed.atom").get_data(as_text=True)
    assert "Updated 8 November 2026: published again. Published again." in feed


def test_same_day_changes_make_one_version_and_an_undone_change_none(write_position, publish):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-01")
    publish()
    today = date.today().isoformat()  # `updated` not moved on: changes are dated today
    write_position("europe", EUROPE.replace(TRADE, TRADE_EDITED), title="Europe",
                   updated="2026-11-01")  # fmt: skip
    publish()
    write_position("europe", EUROPE.replace(TRADE, TRADE_EDITED), title="Europe again",
                   updated="2026-11-01")  # fmt: skip
    client = publish()
    versions = client.get("/api/positions/europe/history").get_json()["versions"]
    assert [(v["date"], v["title"], v["changes"]) for v in versions] == [
        (today, "Europe again",
         "1 paragraph revised; title changed from “Europe” to “Europe again”"),
        ("2026-11-01", "Europe", "first published"),
    ]  # fmt: skip
    write_position("europe", EUROPE, title="Europe", updated="2026-11-01")
    versions = publish().get("/api/positions/europe/history").get_json()["versions"]
    assert [v["date"] for v in versions] == ["2026-11-01"]


def test_a_future_date_never_dates_a_version_and_is_a_warning(write_position, publish, make_app):
    write_position("europe", EUROPE, title="Europe", updated="2062-11-30")
    client = publish()
    today = date.today().isoformat()
    versions = client.get("/api/positions/europe/history").get_json()["versions"]
    assert [v["date"] for v in versions] == [today]
    write_position("europe", EUROPE.replace(TRADE, TRADE_EDITED), title="Europe",
                   updated="2026-11-02")  # fmt: skip
    client = publish()
    versions = client.get("/api/positions/europe/history").get_json()["versions"]
    assert [v["date"] for v in versions] == [today]  # never 2062, never before today's
    result = make_app(index=False).test_cli_runner().invoke(args=["kb", "check"])
    assert "warning: updated: 2026-11-02" not in result.output
    write_position("europe", EUROPE, title="Europe", updated="2062-11-30")
    result = make_app(index=False).test_cli_runner().invoke(args=["kb", "check"])
    assert (
        "europe.md:3: warning: updated: 2062-11-30 is in the future; the citation ledger "
        "records the change on the day it is indexed"
    ) in result.output


# --- pure functions ----------------------------------------------------------------


def _version(day: str, *ids: str, title: str = "T", topics=("a",)) -> Version:
    passages = tuple(VersionPassage(i, f"p-{n}", "") for n, i in enumerate(ids, 1))
    return Version("s", day, "adopted", title, "S", tuple(topics), ("X",), "", passages)


def test_describe_counts_paragraphs_and_names_topics():
    text = {"a" * 12: "One two three four.", "b" * 12: "One two three five.",
            "c" * 12: "Something else entirely.", "d" * 12: "A new paragraph here."}  # fmt: skip
    old = _version("2026-11-01", "a" * 12, "c" * 12)
    new = _version("2026-11-02", "b" * 12, "d" * 12, topics=("a", "europe"))
    assert describe(old, new, text, {"europe": "Europe"}) == (
        "2 paragraphs revised; topic Europe added"
    ) or describe(old, new, text, {"europe": "Europe"}) == (
        "1 paragraph revised, 1 added, 1 removed; topic Europe added"
    )
    only_added = _version("2026-11-03", "a" * 12, "c" * 12, "d" * 12)
    assert describe(old, only_added, text) == "1 paragraph added"
    result = compare(old, only_added, text)
    assert [p.change for p in result.paragraphs] == ["same", "same", "added"]


def test_word_diff_joins_back_into_both_texts():
    old, new = "Open trade creates jobs.", "Fair, open trade creates good jobs!"
    segments = word_diff(old, new)
    assert "".join(s.text for s in segments if s.op != "ins").split() == old.split()
    assert "".join(s.text for s in segments if s.op != "del") == new
    assert word_diff("Europe", "Europe and trade") == (
        Segment("same", "Europe "), Segment("ins", "and trade"),
    )  # fmt: skip


def test_record_publication_is_deterministic_and_idempotent():
    passage = PassageRecord("a" * 12, "intro-1", 1, "", "One.", "<p>One.</p>")
    record = PositionRecord(
        slug="s", title="T", summary="S", topics=("a",), status="adopted",
        updated="2026-11-01", authors=("X",), related=(), path="s.md", html="<p>One.</p>",
        headings=(), passages=(passage,),
    )  # fmt: skip
    first = record_publication(Ledger(), [record], date(2026, 11, 30))
    again = record_publication(parse_ledger(first.text()), [record], date(2026, 12, 5))
    assert again.text() == first.text()
    assert [v.date for v in first.versions] == ["2026-11-01"]


def test_a_format_1_ledger_gets_versions_rebuilt_from_its_dates():
    entries = [
        Entry("a" * 12, "s", "T", "", "intro-1", 1, "2026-11-01", "2026-11-05", 1, "One.", ""),
        Entry("b" * 12, "s", "T", "", "intro-1", 1, "2026-11-05", None, 2, "One!", ""),
    ]
    ledger = Ledger({e.id: e for e in entries})
    versions = ledger.history["s"]
    assert [(v.date, v.ids, v.summary) for v in versions] == [
        ("2026-11-01", ("a" * 12,), None), ("2026-11-05", ("b" * 12,), None),
    ]  # fmt: skip


# --- migration and renames -----------------------------------------------------------


def resolve_all(client, ids) -> dict[str, tuple]:
    found = {}
    for pid in ids:
        body = client.get(f"/api/cite/{pid}").get_json()
        found[pid] = (body["status"], body["text"], body["position"]["slug"], body["heading"],
                      body["first_seen"], body["last_seen"], body["changed_on"])  # fmt: skip
    return found


def test_migrating_the_committed_ledger_keeps_every_id_resolving_identically(tmp_path):
    from kb.config import Settings
    from kb.index.build import update_index
    from kb.indexing import reindex
    from tests.conftest import STARTER

    folder, index = tmp_path / "positions", tmp_path / "search_index"
    shutil.copytree(STARTER, folder)
    # The ledger as committed before versions existed (format 1), beside today's content.
    shutil.copy(Path(__file__).parent / "fixtures" / "ledger-format-1.jsonl", folder / LEDGER_FILE)
    committed = (folder / LEDGER_FILE).read_text(encoding="utf-8")
    assert json.loads(committed.splitlines()[0])["version"] == 1
    entry_lines = [line for line in committed.splitlines() if '"id": ' in line]
    ids = [json.loads(line)["id"] for line in entry_lines]
    update_index(folder, index)  # the index alone: the ledger is not touched
    settings = {"TESTING": True, "KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index)}
    from app import create_app

    before = resolve_all(create_app(settings).test_client(), ids)
    reindex(Settings.from_mapping(settings))  # the first run of this version migrates
    migrated = (folder / LEDGER_FILE).read_text(encoding="utf-8")
    after = resolve_all(create_app(settings).test_client(), ids)
    assert len(ids) > 100 and after == before
    assert [line for line in migrated.splitlines() if '"id": ' in line] == entry_lines
    assert json.loads(migrated.splitlines()[0])["version"] == 2
    slugs = {p.stem for p in STARTER.glob("*.md")}
    assert {json.loads(line)["slug"] for line in migrated.splitlines()[1:]
            if '"passages"' in line} == slugs  # fmt: skip
    reindex(Settings.from_mapping(settings), rebuild=True)
    assert (folder / LEDGER_FILE).read_text(encoding="utf-8") == migrated  # stable


def test_a_renamed_position_keeps_its_address_and_its_citations(
    write_position, positions_dir, publish
):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    publish()
    old_ids = by_text(positions_dir)
    (positions_dir / "europe.md").rename(positions_dir / "europe-and-the-world.md")
    client = publish()
    moved = client.get("/positions/europe?x=1")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/positions/europe-and-the-world?x=1"
    api = client.get("/api/positions/europe")
    assert (api.status_code, api.headers["Location"]) == (
        301,
        "/api/positions/europe-and-the-world",
    )
    history = client.get("/positions/europe/history")
    assert history.headers["Location"] == "/positions/europe-and-the-world/history"
    body = client.get(f"/api/cite/{old_ids[TRADE]}").get_json()
    assert (body["status"], body["text"], body["url"], body["moved_from"]) == (
        "current", TRADE, "/positions/europe-and-the-world#trade-1", "europe",
    )  # fmt: skip
    assert body["first_seen"] == "2026-11-12"
    versions = client.get("/api/positions/europe-and-the-world/history").get_json()["versions"]
    today = date.today().isoformat()
    assert [(v["date"], v["changes"]) for v in versions] == [
        (today, "address changed from /positions/europe"),
        ("2026-11-12", "first published"),
    ]  # fmt: skip
    past = client.get("/positions/europe?as_of=2026-11-12")  # the old address, as it was
    assert past.status_code == 200 and ids_in(past.get_data(as_text=True)) == [
        old_ids[INTRO], old_ids[TRADE], old_ids[TARIFFS],
    ]  # fmt: skip
    quoted = client.get("/api/quote", query_string={"text": TARIFFS}).get_json()
    assert quoted["status"] == "current"


def test_a_reverted_edit_is_remembered_by_the_restored_wording(europe_history, positions_dir):
    original = by_text(positions_dir)[TRADE]
    body = europe_history.get(f"/api/cite/{original}").get_json()
    assert body["status"] == "current" and body["first_seen"] == "2026-11-01"
    assert body["absent"] == [
        {"from": "2026-11-02", "until": "2026-11-03"},
        {"from": "2026-11-07", "until": "2026-11-08"},
    ]
    html = europe_history.get(f"/cite/{original}").get_data(as_text=True)
    assert (
        '<dt>Replaced</dt><dd>from <time datetime="2026-11-02">2 November 2026</time> until '
        '<time datetime="2026-11-03">3 November 2026</time>, when this wording was restored</dd>'
    ) in html
    # On 2 November the page showed only the edited wording, never both.
    past = europe_history.get("/positions/europe?as_of=2026-11-02").get_data(as_text=True)
    assert TRADE_EDITED in past and TRADE not in past


def test_a_changed_slug_keeps_its_address_and_its_citations(write_position, positions_dir, publish):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    publish()
    old_ids = by_text(positions_dir)
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12", slug="europa")
    client = publish()
    assert client.get("/positions/europe").headers["Location"] == "/positions/europa"
    compare = client.get("/api/positions/europe/compare")
    assert compare.headers["Location"] == "/api/positions/europa/compare"
    for text in (INTRO, TRADE, TARIFFS):
        body = client.get(f"/api/cite/{old_ids[text]}").get_json()
        assert (body["status"], body["position"]["slug"]) == ("current", "europa"), text
    assert client.get(f"/cite/{old_ids[TRADE]}").status_code == 200
