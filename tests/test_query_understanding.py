"""Reading a query as people mean it: spelling, question frames, titles, answers,
snippets, suggestions and related meanings."""

from __future__ import annotations

import re

import pytest

from kb.index.query import stem
from kb.search.degrees import degrees_of
from kb.search.engine import SearchRequest
from kb.search.grammar import parse
from kb.search.meaning import Related, load_related, parse_rows
from kb.search.spelling import is_english
from kb.service import knowledge_base_of


@pytest.fixture
def search(make_app, write_position):
    """Write positions, then search them: search("query", correct=False, meaning=False)."""
    apps = {}

    def run(q: str = "", correct: bool = True, meaning: bool = True):
        if meaning not in apps:
            apps[meaning] = make_app(KB_MEANING="1" if meaning else "0")
        kb = knowledge_base_of(apps[meaning])
        return kb.search(SearchRequest(q=q, correct=correct))

    return run


TAG_RE = re.compile(r"<[^>]+>")


def slugs(found) -> list[str]:
    return [r.slug for r in found.results]


def test_real_words_are_never_corrected(write_position, search):
    write_position("tax", "Tax at the same rates for everyone.", title="Tax")
    write_position("health", "Hospital waiting lists. The NHS was founding work.", title="Health")
    write_position("kids", "Every nurse matters. Every child matters.", title="Kids")
    assert search("save our local pub").corrected is None
    assert "tax" not in slugs(search("save our local pub"))
    assert search("NHS funding").corrected is None
    assert search("nursery places").corrected is None
    assert search("renewable every").corrected is None


def test_misspelt_words_are_corrected_and_said_so(write_position, search):
    write_position("climate", "Climate change is urgent.", title="Climate")
    found = search("climte chnage")
    assert (found.corrected, found.original) == ("climate change", "climte chnage")
    assert found.did_you_mean == "climate change"
    assert slugs(found) == ["climate"]
    exact = search("climte chnage", correct=False)
    assert (exact.corrected, exact.results) == (None, ())


def test_synonyms_come_before_spelling(write_position, search):
    write_position("climate", "Climate change is urgent.", title="Climate")
    write_position("health", "Hospital waiting lists are too long.", title="Health")
    found = search("global warming")
    assert found.corrected is None
    assert slugs(found)[0] == "climate"


def test_english_word_list_is_installed():
    assert is_english("pub") and is_english("warming") and is_english("Funding")
    assert not is_english("climte") and not is_english("inequalty")


def test_showing_results_for_page_line(write_position, make_app):
    write_position("climate", "Climate change is urgent.", title="Climate")
    page = make_app().test_client().get("/search?q=climte+chnage").get_data(as_text=True)
    assert "Showing results for" in page and "Search instead for" in page
    assert "spell=off" in page


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("what do you think about brexit", ["brexit"]),
        ("do you support the EU", ["eu"]),
        ("what is your position on fair pay?", ["fair", "pay"]),
        ("whats your stance on housing", ["housing"]),
        ("will you scrap tuition fees", ["scrap", "tuition", "fees"]),
        ("support for carers", ["support", "carers"]),
        ("do you", ["do", "you"]),
        ("what is the party's view on europe", ["europe"]),
        ("what does the green party think about fracking", ["fracking"]),
        ("are you for or against nuclear power", ["nuclear", "power"]),
        ("your views on europe", ["europe"]),
        ("can you explain your policy on housing", ["housing"]),
        ("how will you fix the nhs", ["nhs"]),
        ("how are you going to deal with housing", ["housing"]),
        ("do you guys care about young people", ["young", "people"]),
        ("whats ur stance on climate change", ["climate", "change"]),
        ("the view from the top", ["view", "top"]),
    ],
)
def test_question_frames_never_drive_ranking(typed, meant):
    assert [c.label for c in parse(typed).clauses] == meant


def test_do_you_support_finds_the_subject(write_position, search):
    write_position("europe", "We work with the European Union.", title="Europe")
    write_position("young", "Supporting young people. We support them.", title="Supporting youth")
    assert slugs(search("do you support the EU")) == ["europe"]


def test_titles_weigh_more_than_a_passing_mention(write_position, search):
    write_position("wages", "Workers deserve fair pay and fair pay now. Fair pay for all.",
                   title="Wages and work")  # fmt: skip
    write_position("fair-pay", "Everyone should earn enough to live on.",
                   title='"Fair pay: a living wage"')  # fmt: skip
    assert slugs(search("fair pay"))[0] == "fair-pay"


def test_best_answer_only_when_most_words_are_answered(write_position, search):
    write_position("rail", "Rail fares should fall.\n\nWhat trains need is care.", title="Rail")
    assert search("rail fares").answer_confident
    assert search("rail fares").answer.text == "Rail fares should fall."
    vague = search("rail subsidies pensions")
    assert vague.results and not vague.answer_confident and vague.answer is None


def test_a_passage_holding_only_related_words_is_no_best_answer(write_position, search):
    """The page says "Not found: homelessness"; a passage on housing is a result, not the
    answer to it."""
    write_position("homes", "We will build social housing for every family.", title="Homes")
    found = search("homelessness")
    assert [r.slug for r in found.results] == ["homes"] and not found.answer_confident
    assert search("social housing").answer_confident


def test_a_headings_words_do_not_make_a_passage_the_best_answer(write_position, search):
    """The Best answer shows a passage's text, not the heading above it."""
    body = "## Cheaper internet\n\nSpeeds hold up on the internet at busy times.\n"
    write_position("net", body, title="Cheaper internet")
    found = search("cheap internet")
    assert found.results and not found.answer_confident


def test_the_best_answer_holds_the_words_in_its_own_text(write_position, search):
    write_position("home", "## Homes\n\nCheaper internet for every home.\n")
    found = search("cheap internet")
    assert found.answer_confident and found.answer.text == "Cheaper internet for every home."
    # "cheap" is not in the index, so it gained "cheaper" as a related word too: it is
    # still its degree, and the page does not say "cheap" was not found
    assert found.unmatched == () and found.results[0].missing == ()


def test_snippets_start_at_a_sentence_or_a_word(write_position, search):
    sentences = "".join(f"Sentence {n} is here. " for n in range(20))
    sentences += "The NHS is perhaps the best-loved achievement of all."
    write_position("nhs", sentences, title="Health")
    write_position("long", "Wordy" + " wording" * 40 + " and the hospitals.", title="Long")
    plain = TAG_RE.sub("", search("achievement").results[0].passages[0].snippet)
    assert re.match(r"… Sentence \d+ is here\. ", plain), plain
    plain = TAG_RE.sub("", search("hospitals").results[0].passages[0].snippet)
    assert plain.startswith("… wording wording")


def test_boilerplate_is_never_the_answer(write_position, search):
    body = """\
    The principles behind our approach to Europe are:

    - cooperation with our neighbours, who share our values about Europe

    ## Source

    Europe, the founding statement about Europe and Europe again.
    """
    write_position("europe", body, title="Europe")
    found = search("europe")
    assert found.answer is not None
    assert found.answer.heading != "Source"
    assert not found.answer.text.endswith(":")


def test_suggestions_complete_phrases_one_form_per_word(starter_client):
    def suggest(q):
        return starter_client.get("/api/suggest", query_string={"q": q}).get_json()

    assert suggest("clim ch")["phrases"][0] == "climate change"
    words = suggest("demo")["words"]
    assert "democracy" in words and len(words) == len({stem(w) for w in words})
    assert "brexit" in suggest("brex")["phrases"]
    assert "nhs" in suggest("nhs")["words"] + suggest("nhs")["phrases"]


def test_suggestions_leave_out_stray_codes_and_words_run_together(write_position, make_app):
    """A folder's Markdown holds things nobody types: a code pasted as text (an image's
    base64 outside its tag), the joined form the index keeps of a hyphenated pair. An
    acronym used twice stays."""
    body = """\
    The TPPA was signed in secret; the TPPA binds us.

    Cannabis-based medicines and cannabis-based products help.

    Chart: iVBORw0KGgoTpQzXkLmNvBcWq9Rt
    """
    write_position("trade", body, title="Trade")
    client = make_app().test_client()

    def words(q):
        return client.get("/api/suggest", query_string={"q": q}).get_json()["words"]

    assert "tppa" in words("tp")
    assert words("canna") == ["cannabis"]
    assert not [w for w in words("iv") if w.startswith("ivbor")]


@pytest.mark.parametrize(
    ("word", "degrees"),
    [
        ("cheap", {"cheaper", "cheapest"}),
        ("cheaper", {"cheap", "cheapest"}),
        ("poorest", {"poor", "poorer"}),
        ("big", {"bigger", "biggest"}),
        ("easier", {"easy", "easiest"}),
        ("fair", {"fairer", "fairest"}),
        # words that take -er without being adjectives gain nothing
        ("form", set()),
        ("corner", set()),
        ("better", set()),
        ("farmer", set()),
        ("tax", set()),
    ],
)
def test_an_adjective_has_its_degrees_and_other_words_none(word, degrees):
    assert degrees <= set(degrees_of(word))
    if not degrees:
        assert degrees_of(word) == ()


def test_an_adjective_finds_its_comparative_in_a_title(write_position, search):
    """The stemmer keeps "cheaper" apart from "cheap": without its degrees, "cheap
    internet" found only the passing mention."""
    write_position(
        "internet",
        "Broadband for every home, at a fair price.",
        title="Cheaper, universal internet",
    )
    write_position("roads", "A cheap fix will not do. Roads matter more than the internet.")
    assert slugs(search("cheap internet"))[:2] == ["internet", "roads"]
    assert slugs(search("cheapest internet"))[:2] == ["internet", "roads"]


def test_the_degree_typed_comes_first(write_position, search):
    write_position("energy-a", "Cheaper energy for every home.", title="Energy A")
    write_position("energy-b", "Cheap energy for every home.", title="Energy B")
    assert slugs(search("cheaper energy")) == ["energy-a", "energy-b"]
    assert slugs(search("cheap energy")) == ["energy-b", "energy-a"]


def test_related_meanings_weigh_less_than_the_words():
    table = Related(parse_rows(["homelessness\thousing:0.6|shelter:0.55|noise:0.3"]))
    index = {"housing", "noise"}  # the index holds neither "homelessness" nor "shelter"
    clause = table.expand(parse("homelessness").clauses, known=index.__contains__)[0]
    weights = {a.word: a.weight for a in clause.alternatives}
    assert weights["homelessness"] == 1.0 and 0 < weights["housing"] < 1.0
    assert "shelter" not in weights and "noise" not in weights
    quoted = table.expand(parse('"homelessness"').clauses, known=index.__contains__)[0]
    assert len(quoted.alternatives) == 1
    held = table.expand(parse("homelessness").clauses, known=lambda w: True)[0]
    assert len(held.alternatives) == 1  # a word the index holds is matched exactly


def test_a_plural_the_table_lacks_is_read_as_its_singular():
    """ "sculptors" found nothing: the table holds "sculptor" only."""
    table = Related(parse_rows(["sculptor\tartist:0.6", "news\tpress:0.7"]))
    assert table.neighbours("sculptors") == [("artist", 0.6)]
    assert table.neighbours("new") == []  # only a plural is read as its singular
    clause = table.expand(parse("sculptors").clauses, known={"artist"}.__contains__)[0]
    assert [a.word for a in clause.alternatives] == ["sculptors", "artist"]


def test_the_shipped_table_is_there():
    related = load_related()
    assert len(related.rows) > 10_000
    assert ("housing", 0.56) in related.neighbours("homelessness")


def test_meaning_finds_words_not_typed_and_can_be_turned_off(write_position, search):
    write_position("homes", "We will build social housing for every family.", title="Homes")
    write_position("other", "Other matters entirely, such as railways.", title="Other")
    assert slugs(search("homelessness")) == ["homes"]
    assert slugs(search("homelessness", meaning=False)) == []


def test_exact_words_still_come_first(write_position, search):
    write_position("homes", "We will build social housing for every family.", title="Homes")
    write_position("streets", "No one should face homelessness on our streets.", title="Streets")
    assert slugs(search("homelessness"))[0] == "streets"


def test_the_table_is_looked_up_in_its_sorted_lines_as_a_dictionary_would_be():
    from kb.search.meaning import RELATED_FILE, SortedRows

    text = RELATED_FILE.read_text(encoding="utf-8")
    rows = parse_rows(text.splitlines())
    lines = SortedRows(text.encode("utf-8"))
    entries = sorted(rows)
    sample = entries[:3] + entries[-3:] + entries[:: len(entries) // 200]
    sample += ["fossil", "fossil fuels", "fossil fuel"]  # one entry the start of another
    for entry in sample:
        assert lines.get(entry) == rows.get(entry)
    for missing in ("", "a", "zzzz", "aardvarks", "fossil fu", "climate\t"):
        assert missing not in lines and missing not in rows
    small = SortedRows(b"b\tx:0.5\nbc\ty:0.6\nc\tz:0.7")  # no newline at the end
    assert [small.get(k) for k in ("a", "b", "bc", "c", "d")] == [
        None,
        "x:0.5",
        "y:0.6",
        "z:0.7",
        None,
    ]
    assert list(small) == ["b", "bc", "c"] and len(small) == 3
