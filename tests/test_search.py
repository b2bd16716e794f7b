"""Search behaviour people rely on: forgiving matching, answers, facets, never an error."""

from __future__ import annotations

import pytest

from kb.search.engine import SearchRequest
from kb.service import knowledge_base_of


@pytest.fixture
def search(make_app, write_position):
    """Write positions, then search them: search("query", topics=..., sort=...)."""
    state = {}

    def run(q: str = "", **options):
        if "app" not in state:
            state["app"] = make_app()
        kb = knowledge_base_of(state["app"])
        return kb.search(SearchRequest.from_args(
            q, options.get("topics", ()), options.get("page", 1),
            options.get("per_page", 10), options.get("sort", "relevance"),
        ))  # fmt: skip

    return run


def slugs(found) -> list[str]:
    return [r.slug for r in found.results]


def test_accents_are_folded(write_position, search):
    write_position("cafes", "Community cafés and a naïve coöperative.", title="Local life")
    assert slugs(search("cafes")) == ["cafes"]
    assert slugs(search("naive")) == ["cafes"]
    assert slugs(search("cafés")) == ["cafes"]


def test_numbers_match_their_words(write_position, search):
    write_position("votes", "Votes at sixteen for every citizen.", title="Voting age")
    write_position("terms", "Parliaments of 5 years.", title="Terms")
    assert slugs(search("votes at 16")) == ["votes"]
    assert slugs(search("five years")) == ["terms"]


def test_hyphenation_variants(write_position, search):
    write_position("coops", "We back co-operative ownership.", title="Ownership")
    write_position("work", "End zero-hours contracts.", title="Work")
    assert slugs(search("cooperative")) == ["coops"]
    assert slugs(search("co-operative")) == ["coops"]
    assert slugs(search("zero hours")) == ["work"]
    assert slugs(search("zerohours")) == ["work"]


def test_stemming_and_plurals(write_position, search):
    write_position("rail", "The railways should be run for passengers.", title="Transport")
    assert slugs(search("railway")) == ["rail"]
    assert slugs(search("passenger")) == ["rail"]


def test_all_terms_preferred_then_any(write_position, search):
    write_position("both", "Housing and transport together.", title="Both")
    write_position("one", "Housing alone, housing again.", title="One")
    found = search("housing transport")
    assert slugs(found) == ["both"] and found.matched == "all"
    fallback = search("housing spaceships")
    assert fallback.matched == "any"
    assert set(slugs(fallback)) == {"both", "one"}


def test_more_terms_and_closer_terms_rank_higher(write_position, search):
    write_position("near", "Fair wages for care workers.\n\nOther text.", title="Near")
    write_position(
        "far",
        "Fair treatment matters.\n\n" + "Filler sentence. " * 30 + "\n\nWages rise for workers.",
        title="Far",
    )
    write_position("partial", "Care homes and wages.", title="Partial")
    assert slugs(search("fair wages workers"))[:2] == ["near", "far"]
    assert slugs(search("fair wages care workers spaceships"))[0] == "near"


def test_question_words_carry_no_weight(write_position, search):
    write_position("rail", "Our railways plan: public ownership of the railways.", title="Railways")
    write_position("plan", "What is the plan? What will you do for us? Your plan.", title="Plans")
    assert slugs(search("what is your plan for the railways?"))[0] == "rail"


def test_synonyms_from_the_editors_file(write_position, positions_dir, search):
    write_position("hospitals", "Waiting lists at hospitals.", title="Hospitals")
    (positions_dir / "synonyms.txt").write_text("A&E, hospitals, emergency care\n", "utf-8")
    assert slugs(search("emergency care")) == ["hospitals"]


def test_default_acronyms(write_position, search):
    write_position("health", "The National Health Service must be protected.", title="Health")
    write_position("tax", "HMRC should close loopholes.", title="Tax")
    assert slugs(search("NHS")) == ["health"]
    assert slugs(search("revenue and customs")) == ["tax"]


def test_did_you_mean_and_fuzzy_results(write_position, search):
    write_position("climate", "Climate change is urgent.", title="Climate")
    found = search("climte chnage")
    assert found.did_you_mean == "climate change"
    assert slugs(found) == ["climate"]
    assert search("climate change").did_you_mean is None


def test_highlights_show_words_as_written(write_position, search):
    write_position("rail", "The Railways were nationalised.", title="Transport")
    snippet = search("railway").results[0].passages[0].snippet
    assert "<mark" in snippet and ">Railways</mark>" in snippet
    assert "railwai" not in snippet


def test_snippets_are_escaped(write_position, search):
    write_position("x", "Use `<b>` tags & <i>entities</i> carefully.", title="Markup")
    snippet = search("carefully").results[0].passages[0].snippet
    assert "<b>" not in snippet and "<i>" not in snippet
    assert "&lt;" in snippet


def test_passages_point_at_the_paragraph_that_answers(write_position, search):
    write_position(
        "europe",
        "Intro about many things.\n\n## Trade\n\nWe want frictionless trade with Europe.\n",
        title="Europe",
    )
    found = search("frictionless trade")
    passage = found.results[0].passages[0]
    assert (passage.anchor, passage.heading) == ("trade-1", "Trade")
    assert found.answer == passage


def test_topic_facets_filters_and_sorting(write_position, search):
    write_position("a", "Common word.", title="A", topics=["europe"], updated="2026-01-01")
    write_position("b", "Common word.", title="B", topics=["europe", "trade"], updated="2026-03-01")
    write_position("c", "Common word.", title="C", topics=["climate"], updated="2026-02-01")
    found = search("common")
    assert found.facets == {"europe": 2, "climate": 1, "trade": 1}
    assert set(slugs(search("common", topics=["europe"]))) == {"a", "b"}
    assert set(slugs(search("common", topics=["trade", "climate"]))) == {"b", "c"}  # OR
    assert search("common", topics=["europe"]).facets == found.facets  # counts for the query
    assert slugs(search("common", sort="updated")) == ["b", "c", "a"]
    assert slugs(search("topic:climate")) == ["c"]


def test_pagination(write_position, search):
    for n in range(7):
        write_position(f"p{n}", "Shared text here.", title=f"P{n}")
    first, second = search("shared", per_page=5), search("shared", per_page=5, page=2)
    assert (first.total, first.pages, len(first.results), len(second.results)) == (7, 2, 5, 2)
    assert not set(slugs(first)) & set(slugs(second))


def test_exclusion_and_or(write_position, search):
    write_position("a", "Trains and buses.", title="A")
    write_position("b", "Trains and trams.", title="B")
    assert slugs(search("trains -buses")) == ["b"]
    assert set(slugs(search("buses OR trams"))) == {"a", "b"}


HOSTILE = [
    "",
    " ",
    "*",
    "**",
    "?",
    '"',
    '""',
    "'",
    "(",
    ")",
    "((((((((((a",
    "[z TO a]",
    "word^abc",
    "word~99",
    "NOT NOT x",
    "AND",
    "OR",
    "NOT",
    "a AND OR NOT b",
    "title:",
    "topic:",
    "topic:../../etc",
    "-",
    "--",
    "-*",
    "a*a*a*a*a*a*a*a*a*a",
    "\x00\x01\x02",
    "\u202e\u200b",
    "😀🏳️‍🌈",
    "x" * 5000,
    "word " * 2000,
    "<script>alert(1)</script>",
    "%00",
    "\\",
    "a:b:c:d",
    '"unclosed phrase',
    '-""',
    "OR OR OR",
    "топик:привет",
    "中文 搜索",
    "١٢٣",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(starter_app, query):
    with starter_app.app_context():
        found = knowledge_base_of(starter_app).search(SearchRequest(q=query))
    assert found.total >= 0
    client = starter_app.test_client()
    assert client.get("/api/search", query_string={"q": query}).status_code == 200
    assert client.get("/search", query_string={"q": query}).status_code == 200


def test_suggest_titles_and_words(starter_client):
    body = starter_client.get("/api/suggest?q=intern").get_json()
    assert body["titles"][0] == {
        "slug": "internationalism",
        "title": "Internationalism",
        "url": "/positions/internationalism",
    }
    assert any(w.startswith("internation") for w in body["words"])
    assert starter_client.get("/api/suggest?q=").get_json()["titles"] == []


def test_total_and_facets_count_every_match(write_position, search):
    # Strong title matches fill the top ten first; matches found only in a weaker field
    # (here a heading) must still be counted, though they cannot reach the first page.
    for n in range(15):
        write_position(f"strong{n}", "Housing housing.", title=f"Housing plan {n}", topics=["a"])
    for n in range(12):
        body = "## Housing\n\n" + "Long text. " * 40
        write_position(f"weak{n}", body, title=f"Other {n}", topics=["b"])
    found = search("housing")
    assert found.total == 27
    assert found.facets == {"a": 15, "b": 12}


def test_a_topic_nobody_uses_finds_nothing(write_position, search):
    write_position("a", "Common word.", title="A", topics=["europe"])
    assert search("common", topics=["no-such-topic"]).total == 0
    assert search("topic:no-such-topic").results == ()
    assert search("", topics=["no-such-topic"]).results == ()


def test_topic_counts_respect_the_query_and_offer_the_other_topics(write_position, search):
    write_position("a", "Climate and jobs.", title="A", topics=["climate"])
    write_position("b", "Europe and jobs.", title="B", topics=["europe"])
    write_position("c", "Europe and trade.", title="C", topics=["europe"])
    found = search("jobs", topics=["climate"])
    assert slugs(found) == ["a"]
    # Europe's count is what adding it would bring: the one Europe position about jobs.
    assert found.facets == {"climate": 1, "europe": 1}
    both = search("jobs", topics=["climate", "europe"])
    assert set(slugs(both)) == {"a", "b"}
    assert both.total == 2


def test_a_chosen_topic_is_counted_even_when_nothing_in_it_matches(write_position, search):
    write_position("a", "Climate and jobs.", title="A", topics=["climate"])
    write_position("b", "Europe and trade.", title="B", topics=["europe"])
    found = search("jobs", topics=["europe"])
    assert (found.total, found.matched) == (0, "none")
    assert found.facets == {"climate": 1, "europe": 0}


def test_words_that_matched_nothing_are_named(write_position, search):
    write_position("a", "Climate and jobs.", title="A", topics=["climate"])
    write_position("b", "Europe and trade.", title="B", topics=["europe"])
    found = search("jobs trade zebra")
    assert found.matched == "any"
    assert found.unmatched == ("zebra",)
    assert search("jobs trade", topics=["climate"]).unmatched == ("trade",)  # within the filter
    assert search("climate jobs").unmatched == ()  # every word matched


@pytest.fixture
def justice_positions(write_position):
    """A position about prisons that never says "reform", a passing mention that holds
    all three words, and two that hold only "reform" (the commonest word)."""
    write_position("justice", (
        "Prison should be a place of rehabilitation. Prisons that rehabilitate cut crime; "
        "every prison needs rehabilitation programmes, and leaving prison needs support."
    ), title="Criminal justice")  # fmt: skip
    write_position("drugs", (
        "Drug law reform is overdue. Possession once meant prison time, not rehabilitation. "
        "Regulated sales fund health services, and Harding's review set out the evidence."
    ), title="Drug policy")  # fmt: skip
    write_position("tax", "Tax reform so that wealth pays its share.", title="Tax")
    write_position("schools", "School reform led by teachers.", title="Schools")


def test_a_position_may_lack_the_commonest_of_three_words(justice_positions, search):
    found = search("prison reform and rehabilitation")
    assert slugs(found) == ["justice", "drugs"]
    assert found.matched == "all" and found.total == 2
    assert found.results[0].missing == ("reform",)  # said on the page: "Missing: reform"
    assert found.results[1].missing == ()


def test_a_rare_word_or_a_quoted_one_is_never_dropped(justice_positions, search):
    assert slugs(search("prison rehabilitation harding")) == ["drugs"]
    assert slugs(search('prison rehabilitation "reform"')) == ["drugs"]


def test_two_words_are_both_needed(justice_positions, search):
    found = search("prison reform")
    assert slugs(found) == ["drugs"]
    assert found.results[0].missing == ()


def test_the_page_and_the_api_say_which_word_a_result_lacks(justice_positions, client):
    api = client.get("/api/search?q=prison+reform+and+rehabilitation").get_json()
    assert [(r["slug"], r["missing"]) for r in api["results"]] == [
        ("justice", ["reform"]), ("drugs", []),
    ]  # fmt: skip
    page = client.get("/search?q=prison+reform+and+rehabilitation").get_data(as_text=True)
    assert page.count('class="missing"') == 1 and "Missing: <s>reform</s>" in page


def test_when_no_position_holds_every_word_each_result_says_what_it_lacks(write_position, search):
    write_position("roads", "Safer crossings on every high street.", title="Roads")
    write_position("rail", "Trains that carry cyclists and their bikes.", title="Rail")
    found = search("crossings cyclists zeppelin")
    assert found.matched == "any" and found.unmatched == ("zeppelin",)
    missing = {r.slug: r.missing for r in found.results}
    # a word no position holds is said once ("Not found"), not on every result
    assert missing == {"roads": ("cyclists",), "rail": ("crossings",)}


def test_a_word_found_only_through_related_words_is_named_as_not_found(write_position, search):
    write_position("housing", "Build council housing so that no one sleeps rough.", title="Housing")
    found = search("homelessness")
    assert slugs(found) == ["housing"]  # found through a related word ...
    assert found.unmatched == ("homelessness",)  # ... and the page says the word is not there
    assert found.results[0].missing == ()  # said once, not on every result
