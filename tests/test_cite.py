"""Citation addresses never break: current, revised and withdrawn passages, past versions."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from html import unescape

import pytest

from kb.cite.ledger import LEDGER_FILE, read_ledger
from tests.conftest import EUROPE, TRADE, TRADE_EDITED

TARIFFS = "Tariffs are a tax on working families and should be kept low."
BASE = "https://positions.example.org"


@pytest.fixture
def publish(publish):
    """The shared publish fixture, with citations made for a public base URL."""
    return lambda **config: publish(KB_BASE_URL=BASE, **config)


def passage_id(positions_dir, text: str) -> str:
    (found,) = [e.id for e in read_ledger(positions_dir).entries.values() if e.text == text]
    return found


def page_text(response) -> str:
    """The visible words of a page, tags removed, whitespace collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"</?(a|time|strong|em|code|span)\b[^>]*>", "", body)  # inline: no space
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_a_current_passage_shows_quote_position_heading_date_and_link(
    write_position, positions_dir, publish
):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    client = publish()
    pid = passage_id(positions_dir, TRADE)
    response = client.get(f"/cite/{pid}")
    assert response.status_code == 200
    text = page_text(response)
    assert TRADE in text and "Europe › Trade" in text
    assert "updated 12 November 2026" in text
    assert "revised" not in text and "withdrawn" not in text
    html = response.get_data(as_text=True)
    assert 'href="/positions/europe#trade-1">Read it in context</a>' in html
    assert f"Permanent address: {BASE}/cite/{pid}" in text
    assert (
        response.headers["Link"] == f'</api/cite/{pid}>; rel="alternate"; type="application/json"'
    )


def test_an_edited_paragraph_keeps_its_old_citation_with_the_archived_text(
    write_position, positions_dir, publish
):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    publish()
    old = passage_id(positions_dir, TRADE)
    write_position("europe", EUROPE.replace(TRADE, TRADE_EDITED), title="Europe",
                   updated="2026-11-20")  # fmt: skip
    client = publish()
    new = passage_id(positions_dir, TRADE_EDITED)
    response = client.get(f"/cite/{old}")
    assert response.status_code == 200
    text = page_text(response)
    assert "This passage was revised on 20 November 2026." in text
    assert f"{TRADE} Europe › Trade · published 12 November 2026" in text  # exactly as cited
    assert f"Current wording {TRADE_EDITED}" in text
    html = response.get_data(as_text=True)
    assert 'href="/positions/europe#trade-1">Read the current wording in context</a>' in html
    assert f'href="/cite/{new}">Cite the current wording</a>' in html
    assert 'href="/positions/europe?as_of=2026-11-12#trade-1">See the position as it stood' in html
    body = client.get(f"/api/cite/{old}").get_json()
    assert (body["status"], body["text"], body["changed_on"]) == ("revised", TRADE, "2026-11-20")
    assert body["successor"]["id"] == new and body["successor"]["text"] == TRADE_EDITED
    assert body["permalink"] == f"{BASE}/cite/{old}"
    assert client.get(f"/api/cite/{new}").get_json()["status"] == "current"


def test_a_deleted_position_resolves_with_a_withdrawn_notice(
    write_position, positions_dir, publish
):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    write_position("climate", "Net zero by 2040.")
    publish()
    pid = passage_id(positions_dir, TARIFFS)
    (positions_dir / "europe.md").unlink()
    client = publish()
    assert client.get("/positions/europe").status_code == 404
    response = client.get(f"/cite/{pid}")
    assert response.status_code == 200
    text = page_text(response)
    withdrawn_on = max(date.today(), date(2026, 11, 12))
    assert f"This passage was withdrawn on {withdrawn_on.day} " in text
    assert "The position it belonged to is no longer published." in text
    assert "Below is the archived text exactly as it was cited." in text
    assert f"{TARIFFS} Europe › Trade · published 12 November 2026" in text
    body = client.get(f"/api/cite/{pid}").get_json()
    assert (body["status"], body["successor"], body["position"]["url"]) == (
        "withdrawn",
        None,
        None,
    )


def test_a_removed_paragraph_is_withdrawn_while_its_position_stays(
    write_position, positions_dir, publish
):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    publish()
    pid = passage_id(positions_dir, TARIFFS)
    write_position("europe", EUROPE.replace(TARIFFS, ""), title="Europe", updated="2026-11-25")
    client = publish()
    text = page_text(client.get(f"/cite/{pid}"))
    assert "This passage was withdrawn on 25 November 2026." in text
    assert "The position no longer includes it." in text
    assert 'href="/positions/europe">Read the current position</a>' in (
        client.get(f"/cite/{pid}").get_data(as_text=True)
    )


def test_every_old_citation_survives_a_deleted_index(
    write_position, positions_dir, index_dir, publish
):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    write_position("climate", "Net zero by 2040.\n\nInsulate every home.", updated="2026-11-01")
    publish()
    write_position("europe", EUROPE.replace(TRADE, TRADE_EDITED), title="Europe",
                   updated="2026-11-20")  # fmt: skip
    (positions_dir / "climate.md").unlink()
    before = publish()
    ledger = read_ledger(positions_dir)
    statuses = {pid: before.get(f"/api/cite/{pid}").get_json()["status"] for pid in ledger.entries}
    assert sorted(statuses.values()) == ["current", "current", "current", "revised",
                                         "withdrawn", "withdrawn"]  # fmt: skip
    shutil.rmtree(index_dir)  # rm -rf search_index && flask kb index
    after = publish()
    for pid, status in statuses.items():
        response = after.get(f"/cite/{pid}")
        assert response.status_code == 200
        assert after.get(f"/api/cite/{pid}").get_json()["status"] == status


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/cite/ABCDEF123456", 404),
        ("/cite/abc", 404),
        ("/cite/../../etc/passwd", 404),
        ("/cite/000000000000", 404),
        ("/api/cite/xyz", 404),
        ("/api/cite/000000000000", 404),
    ],
)
def test_bad_and_unknown_ids_are_404(write_position, publish, path, status):
    write_position("europe", EUROPE, title="Europe")
    assert publish().get(path).status_code == status


def test_malformed_and_unknown_ids_are_explained(write_position, publish):
    write_position("europe", EUROPE, title="Europe")
    client = publish()
    assert client.get("/api/cite/nothex").get_json() == {
        "ok": False,
        "error": "That is not a citation address: a passage id is 12 characters, 0-9 and a-f.",
        "status": 404,
    }
    assert client.get("/api/cite/000000000000").get_json()["error"] == (
        "No passage has ever been published with that id."
    )
    assert "No passage has ever been published with that id." in page_text(
        client.get("/cite/000000000000")
    )


def test_a_draft_passage_has_no_public_citation(write_position, positions_dir, publish):
    write_position("secret", "Confidential draft words.", status="draft")
    write_position("europe", EUROPE, title="Europe")
    client = publish()
    from kb.content.render import passage_id as make_id

    draft_id = make_id("secret", "Confidential draft words.")
    assert client.get(f"/cite/{draft_id}").status_code == 404
    assert publish(KB_PREVIEW="1").get(f"/cite/{draft_id}").status_code == 200


def test_position_pages_carry_a_cite_control_for_every_passage(
    write_position, positions_dir, publish
):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    html = publish().get("/positions/europe").get_data(as_text=True)
    ids = sorted(read_ledger(positions_dir).entries)
    for pid in ids:
        assert f'<a class="cite-link" href="/cite/{pid}">Cite' in html
        assert (
            f'<button type="button" class="copy-button" data-copy-target="cite-text-{pid}" hidden>'
            in html
        )
    trade = passage_id(positions_dir, TRADE)
    copied = re.search(rf'<span id="cite-text-{trade}" class="cite-source" hidden>(.*?)</span>',
                       html).group(1)  # fmt: skip
    assert unescape(copied) == (
        f"“{TRADE}” “Europe”, section “Trade”, Positions, 12 November 2026. "
        f"{BASE}/cite/{trade} (accessed {_human(date.today())})."
    )
    # each control follows its own paragraph
    assert re.search(rf'id="trade-1">{re.escape(TRADE)}</p><p class="cite-controls">'
                     rf'<a class="cite-link" href="/cite/{trade}">', html)  # fmt: skip
    assert "<script>" not in html.replace('<script type="application/ld+json">', "")


def test_search_results_carry_cite_controls(write_position, positions_dir, publish):
    write_position("europe", EUROPE, title="Europe")
    html = publish().get("/search?q=tariffs").get_data(as_text=True)
    pid = passage_id(positions_dir, TARIFFS)
    assert f'<a class="cite-link" href="/cite/{pid}">Cite' in html
    assert f'data-copy-target="cite-text-{pid}"' in html  # the result list
    assert f'data-copy-target="cite-text-answer-{pid}"' in html  # the best answer


def test_position_pages_have_highwire_tags_and_json_ld(write_position, publish):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12",
                   summary="Work closely with Europe.", authors=["Policy team"],
                   topics=["europe", "trade"])  # fmt: skip
    html = publish().get("/positions/europe").get_data(as_text=True)
    for tag in (
        '<meta name="citation_title" content="Europe">',
        '<meta name="citation_author" content="Policy team">',
        '<meta name="citation_publication_date" content="2026/11/12">',
        '<meta name="citation_publisher" content="Positions">',
        f'<meta name="citation_public_url" content="{BASE}/positions/europe">',
        '<meta name="citation_abstract" content="Work closely with Europe.">',
    ):
        assert tag in html
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    )
    assert data["@context"] == "https://schema.org" and data["@type"] == "Article"
    assert (data["headline"], data["dateModified"], data["url"]) == (
        "Europe",
        "2026-11-12",
        f"{BASE}/positions/europe",
    )
    assert data["author"] == [{"@type": "Organization", "name": "Policy team"}]


def test_json_ld_cannot_be_broken_out_of(write_position, publish):
    title = "Evil </script><script>alert(1)</script> & <!-- more"
    write_position("evil", "Words.", title=json.dumps(title), summary='"</SCRIPT >x"')
    html = publish().get("/positions/evil").get_data(as_text=True)
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block and ">" not in block
    data = json.loads(block)
    assert data["headline"] == title and data["description"] == "</SCRIPT >x"
    assert "<script>alert(1)" not in html


def test_a_past_version_is_rebuilt_from_the_ledger(write_position, positions_dir, publish):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    publish()
    write_position("europe", EUROPE.replace(TRADE, TRADE_EDITED), title="Europe",
                   updated="2026-11-20")  # fmt: skip
    client = publish()
    past = client.get("/positions/europe?as_of=2026-11-15")
    assert past.status_code == 200
    text = page_text(past)
    assert "This is the position as it stood on 15 November 2026, rebuilt from the citation " in (
        text
    )
    assert TRADE in text and TRADE_EDITED not in text and TARIFFS in text
    assert text.index("Trade") < text.index(TRADE)  # the heading is rebuilt too
    html = past.get_data(as_text=True)
    assert '<a href="/positions/europe">Read the current version</a>' in html
    assert '<meta name="robots" content="noindex">' in html
    now = page_text(client.get("/positions/europe?as_of=2026-11-20"))
    assert TRADE_EDITED in now and TRADE not in now


def test_as_of_handles_bad_dates_early_dates_and_deleted_positions(
    write_position, positions_dir, publish
):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    write_position("climate", "Net zero by 2040.")
    publish()
    (positions_dir / "europe.md").unlink()
    client = publish()
    bad = client.get("/positions/climate?as_of=<b>yesterday</b>")
    assert bad.status_code == 200
    assert "“<b>yesterday</b>” is not a date like 2026-11-26, so this is the current version." in (
        page_text(bad)
    )
    assert "<b>yesterday</b>" not in bad.get_data(as_text=True)
    assert client.get("/positions/climate?as_of=2026-02-30").status_code == 200
    early = client.get("/positions/europe?as_of=2026-01-01")
    assert early.status_code == 404
    assert (
        "This position did not exist on 1 January 2026; its first recorded version is from "
        "12 November 2026." in page_text(early)
    )
    gone = client.get("/positions/europe?as_of=2026-11-12")
    assert gone.status_code == 200
    assert "it has since been withdrawn" in page_text(gone) and TRADE in page_text(gone)
    assert client.get("/positions/never?as_of=2026-11-12").status_code == 404


def _human(day: date) -> str:
    from kb.cite.formats import human_date

    return human_date(day.isoformat())


def test_the_ledger_lives_in_the_content_folder(write_position, positions_dir, publish):
    write_position("europe", EUROPE, title="Europe")
    publish()
    assert (positions_dir / LEDGER_FILE).is_file()


def test_every_citation_in_the_committed_ledger_answers(starter_index, starter_client):
    folder, _ = starter_index  # a fresh clone: the committed ledger, a newly built index
    ledger = read_ledger(folder)
    assert ledger.problems == () and len(ledger.entries) >= 100
    for pid in ledger.entries:
        response = starter_client.get(f"/cite/{pid}")
        assert response.status_code == 200, pid


def test_the_committed_ledger_is_up_to_date():
    from kb.cite.ledger import ledger_problems
    from kb.content.loader import load_file, position_files
    from tests.conftest import STARTER

    results = [load_file(path, STARTER) for path in position_files(STARTER)]
    assert ledger_problems(STARTER, results) == []  # else: flask kb index, commit the ledger


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/quote", 200),
        ("/quote?text=", 200),
        ("/quote?text=internationalist+movement+Britain", 200),
        ("/api/quote?text=an+internationalist+movement", 200),
        ("/api/quote?text=", 400),
        ("/positions/europe?as_of=2026-11-30", 200),
        ("/positions/europe?as_of=1999-01-01", 404),
        ("/positions/europe?as_of=tomorrow", 200),
        ("/positions/no-such-position?as_of=2026-11-30", 404),
        ("/positions/no-such-position?as_of=tomorrow", 404),
    ],
)
def test_cite_status_table(starter_client, path, status):
    assert starter_client.get(path).status_code == status
