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
    assert (wrong["status"], wrong["match"]) == ("misquote", "close")  # not a cut word


def test_an_ellipsis_marks_words_left_out(write_position, publish):
    write_position("europe", EUROPE, title="Europe")
    body = quote(publish(), "Open trade with Europe … every region of Britain")
    assert (body["status"], body["match"]) == ("current", "exact")
    assert body["excerpt"] == TRADE[:-1]


def test_words_we_revised_are_revised_with_the_date_and_the_changes_marked(write_position, publish):
    write_position("europe", EUROPE, title="Europe", updated="2026-11-12")
    publish()
    write_position("europe", EUROPE.replace(TRADE, TRADE_EDITED), title="Europe",
                   updated="2026-11-20")  # fmt: skip
    client = publish()
    body = quote(client, "creates jobs in every region of Britain")
    assert (body["found"], body["status"], body["match"]) == (True, "revised", "exact")
    assert body["changed_on"] == "2026-11-20"
    assert body["passage"]["status"] == "revised" and body["passage"]["text"] == TRADE
    assert body["current_wording"] == TRADE_EDITED
    assert body["current_excerpt"] == "creates good jobs in every nation and region of Britain"
    assert [s for s in body["differences"] if s["op"] != "same"] == [
        {"op": "ins", "text": "good "},
        {"op": "ins", "text": "nation and "},
    ]
    page = client.get("/quote", query_string={"text": "creates jobs in every region of Britain"})
    text = page.get_data(as_text=True)
    assert (
        "<strong>Revised.</strong> We published these words, then revised them on "
        '<time datetime="2026-11-20">20 November 2026</time>.'
    ) in text
    assert '<ins><span class="visually-hidden">[inserted: </span>good ' in text
    assert "creates good jobs in every nation and region of Britain" in text


def test_a_one_word_misquote_is_a_misquote_with_the_word_marked(write_position, publish):
    write_position("europe", EUROPE, title="Europe")
    client = publish()
    misquote = "Open trade with Europe makes jobs in every region of Britain"
    body = quote(client, misquote)
    assert (body["found"], body["status"], body["match"]) == (False, "misquote", "close")
    assert body["citation"] is None  # never a citation of the words pasted
    assert [s for s in body["differences"] if s["op"] != "same"] == [
        {"op": "del", "text": "makes "},
        {"op": "ins", "text": "creates "},
    ]
    assert body["passage"]["text"] == TRADE and body["passage"]["status"] == "current"
    html = client.get("/quote", query_string={"text": misquote}).get_data(as_text=True)
    assert "<strong>Misquote.</strong> We have not published these words." in html
    assert '<del><span class="visually-hidden">[not our words: </span>makes' in html
    assert '<ins><span class="visually-hidden">[our words: </span>creates' in html
    assert 'id="quote-citation"' not in html and "Copy citation" not in html


def test_an_invented_sentence_in_our_vocabulary_is_not_found(write_position, publish):
    write_position("europe", EUROPE, title="Europe")
    client = publish()
    invented = "Britain should keep tariffs on Europe high for working families."
    body = quote(client, invented)
    assert body == {"query": invented, "found": False, "status": "not_found",
                    "message": "not found: we have not published these words"}  # fmt: skip
    page = client.get("/quote", query_string={"text": invented}).get_data(as_text=True)
    assert "<strong>Not found.</strong> We have not published these words" in page


def test_an_ellipsis_with_a_clipped_first_word_is_current(write_position, publish):
    write_position("europe", EUROPE, title="Europe")
    body = quote(publish(), "pen trade with Europe … in every region of Britain")
    assert (body["found"], body["status"], body["match"]) == (True, "current", "exact")
    assert body["passage"]["text"] == TRADE


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
        "message": "not found: we have not published these words",
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


def test_the_starter_misquote_marks_only_the_word_that_differs(starter_client):
    said = (
        "It gave low-paid workers protection against unfair pay and showed that tackling low "
        "pay and poverty is a core Labour aim."
    )
    body = quote(starter_client, said)
    assert (body["status"], body["citation"]) == ("misquote", None)
    assert [s for s in body["differences"] if s["op"] != "same"] == [
        {"op": "del", "text": "unfair "},
        {"op": "ins", "text": "exploitative "},
    ]
    invented = "Progress believes the minimum wage should be abolished."
    assert quote(starter_client, invented)["status"] == "not_found"


def test_the_quote_check_is_linked_from_navigation_home_and_search_help(starter_client):
    for path in ("/", "/help/search", "/positions/europe"):
        html = starter_client.get(path).get_data(as_text=True)
        assert '<li><a href="/quote">Check a quotation</a></li>' in html, path  # navigation
    home = starter_client.get("/").get_data(as_text=True)
    assert 'Quoting us? <a href="/quote">Check a quotation</a>' in home
    help_page = starter_client.get("/help/search").get_data(as_text=True)
    assert 'paste it into <a href="/quote">Check a quotation</a>' in help_page
    current = starter_client.get("/quote").get_data(as_text=True)
    assert '<a href="/quote" aria-current="page">Check a quotation</a>' in current
