"""Reverse quote lookup: where a quotation came from and whether it still stands."""

from __future__ import annotations

from kb.cite.quote import QuoteIndex, Source, word_count
from tests.conftest import EUROPE, TRADE, TRADE_EDITED


def quote(client, text: str) -> dict:
    response = client.get("/api/quote", query_string={"text": text})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_an_exact_quote_is_found_and_current(write_position, publish):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    body = quote(publish(), "“open trade with Europe creates jobs in every region”.")
    assert (body["found"], body["status"], body["match"]) == (True, "current", "exact")
    assert body["excerpt"] == "Open trade with Europe creates jobs in every region"
    assert body["passage"]["text"] == TRADE and body["passage"]["heading"] == "Trade"
    assert body["passage"]["url"] == "/positions/europe#trade-1"
    assert body["citation"].startswith(f"“{TRADE}” “Europe”, section “Trade”, Positions")


def test_a_quote_cut_mid_word_is_still_exact_and_current(write_position, publish):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    client = publish()
    for text in (
        "Open trade with Europe creates jobs in every reg",
        "ade with Europe creates jobs",
    ):
        found = quote(client, text)
        assert (found["status"], found["match"]) == ("current", "exact"), text
    wrong = quote(client, "Open trade with Europe creates jobs in every regime")
    assert wrong["match"] == "close"  # a different word is not a cut one


def test_an_ellipsis_marks_words_left_out(write_position, publish):
    write_position("europe", EUROPE, title="Europe")
    body = quote(publish(), "Open trade with Europe … every region of Britain")
    assert (body["status"], body["match"]) == ("current", "exact")
    assert body["excerpt"] == TRADE[:-1]


def test_a_changed_quote_is_reported_with_the_current_wording(write_position, publish):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    publish()
    write_position("europe", EUROPE.replace(TRADE, TRADE_EDITED), title="Europe",
                   updated="2026-11-20")  # fmt: skip
    client = publish()
    body = quote(client, "creates jobs in every region of Britain")
    assert (body["status"], body["match"]) == ("changed", "exact")
    assert body["passage"]["status"] == "revised" and body["passage"]["text"] == TRADE
    assert body["passage"]["changed_on"] == "2026-11-20"
    assert body["current_wording"] == TRADE_EDITED
    assert body["current_excerpt"] == "creates good jobs in every nation and region of Britain"
    page = client.get("/quote", query_string={"text": "creates jobs in every region of Britain"})
    text = page.get_data(as_text=True)
    assert "<strong>Changed.</strong> This quotation comes from wording that was revised on " in (
        text
    )
    assert "creates good jobs in every nation and region of Britain" in text


def test_a_misquote_is_matched_closely_and_reported_as_changed(write_position, publish):
    write_position("europe", EUROPE, title="Europe")
    body = quote(publish(), "Open trade with Europe makes jobs in every region of Britain")
    assert (body["status"], body["match"]) == ("changed", "close")
    assert 0.8 < body["similarity"] < 1
    assert body["current_wording"] == TRADE


def test_a_withdrawn_quote(write_position, positions_dir, publish):
    write_position("europe", EUROPE, title="Europe")
    write_position("climate", "Net zero by 2040.")
    publish()
    (positions_dir / "europe.md").unlink()
    body = quote(publish(), "Tariffs are a tax on working families")
    assert (body["status"], body["match"]) == ("withdrawn", "exact")
    assert body["current_wording"] is None and body["passage"]["status"] == "withdrawn"


def test_nothing_found_and_too_little_to_look_up(write_position, publish):
    write_position("europe", EUROPE, title="Europe")
    client = publish()
    assert quote(client, "the moon is made of green cheese") == {
        "query": "the moon is made of green cheese",
        "found": False,
        "status": "not_found",
    }
    short = client.get("/api/quote?text=Open+trade")
    assert short.status_code == 400
    assert short.get_json()["error"] == "Paste at least 3 words of the quotation."
    assert client.get("/api/quote").get_json()["error"] == "Paste the quotation you want to check."
    assert client.get("/api/quote", query_string={"text": "word " * 1001}).status_code == 400
    page = client.get("/quote?text=Open+trade").get_data(as_text=True)
    assert "Paste at least 3 words of the quotation." in page
    assert client.get("/quote").status_code == 200


def test_the_quote_page_escapes_what_it_echoes(write_position, publish):
    write_position("europe", EUROPE, title="Europe")
    page = publish().get("/quote?text=<script>alert(1)</script> trade with Europe")
    html = page.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; trade with Europe</textarea>" in html


def test_the_index_prefers_current_wording_and_the_shortest_passage():
    index = QuoteIndex([
        Source("aaaaaaaaaaaa", "We will build homes for every family that needs one.", False),
        Source("bbbbbbbbbbbb", "We will build homes for every family that needs one, fast.", True),
        Source("cccccccccccc", "We will build homes for every family.", True),
    ])  # fmt: skip
    found = index.find("build homes for every family")
    assert found.source.id == "cccccccccccc" and found.others == 1
    assert index.find("homes for every family that needs one").source.id == "bbbbbbbbbbbb"
    assert index.find("completely unrelated words here") is None
    assert word_count("one … two [...] three") == 3


def test_accents_case_and_quotation_marks_do_not_matter():
    index = QuoteIndex([Source("aaaaaaaaaaaa", "Café culture is part of Europe’s charm.", True)])
    found = index.find('"cafe CULTURE is part of Europe\'s charm"')
    assert (found.match, found.excerpt) == ("exact", "Café culture is part of Europe’s charm")
