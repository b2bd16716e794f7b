"""The results page people can trust: facets, filters kept, no dead ends, related positions."""

from __future__ import annotations

import re

import pytest

from kb.search.topics import closest_topics


@pytest.fixture
def site(write_position, positions_dir, make_app):
    """Five positions over three topics; "d" is a draft."""
    (positions_dir / "topics.yml").write_text(
        "climate: Climate\neurope: Europe\nyoung-people: Young people\n", encoding="utf-8"
    )
    write_position("a", "Green jobs and clean energy for coastal towns.", title="Green jobs",
                   topics=["climate"], related=["c"])  # fmt: skip
    write_position("b", "Clean energy and green jobs in every region.", title="Energy",
                   topics=["climate", "europe"])  # fmt: skip
    write_position("c", "Trade with our European neighbours.", title="Trade", topics=["europe"])
    write_position("d", "Green jobs and clean energy, drafted.", title="Draft", status="draft",
                   topics=["climate"])  # fmt: skip
    write_position("e", "Votes at sixteen.", title="Votes", topics=["young-people"])
    return make_app().test_client()


def links(html: str, css_class: str) -> list[str]:
    """The hrefs inside the first element with ``css_class``."""
    block = html.split(f'class="{css_class}"', 1)[1]
    return re.findall(r'href="([^"]+)"', block.split("</ul>", 1)[0])


def test_related_positions_in_the_api_come_first_from_related_then_by_content(site):
    body = site.get("/api/positions/a").get_json()
    assert body["related"][:2] == [
        {"slug": "c", "title": "Trade", "url": "/positions/c"},  # related: first
        {"slug": "b", "title": "Energy", "url": "/positions/b"},  # then the closest by content
    ]
    assert "d" not in [r["slug"] for r in body["related"]]  # drafts are never offered
    assert "a" not in [r["slug"] for r in body["related"]]


def test_related_positions_are_listed_on_the_position_page(site):
    html = site.get("/positions/a").get_data(as_text=True)
    assert '<h2 id="related-heading">Related positions</h2>' in html
    assert links(html, "related")[:2] == ["/positions/c", "/positions/b"]


def test_search_json_names_the_words_not_found(site):
    body = site.get("/api/search?q=green+zzyzx").get_json()
    assert (body["matched"], body["unmatched"]) == ("any", ["zzyzx"])
    assert site.get("/api/search?q=green+jobs").get_json()["unmatched"] == []


def test_topic_facets_combine_as_or_and_count_without_their_own_filter(site):
    body = site.get("/api/search?q=energy&topic=europe").get_json()
    assert [r["slug"] for r in body["results"]] == ["b"]
    assert body["facets"]["topics"] == {"climate": 2, "europe": 1}
    both = site.get("/api/search?q=energy&topic=europe&topic=climate").get_json()
    assert sorted(r["slug"] for r in both["results"]) == ["a", "b"]


def test_facet_links_add_or_remove_one_topic_and_keep_the_sort(site):
    html = site.get("/search?q=energy&topic=europe&sort=updated").get_data(as_text=True)
    assert links(html, "filters") == [
        "/search?q=energy&amp;topic=europe&amp;topic=climate&amp;sort=updated",
        "/search?q=energy&amp;sort=updated",  # Europe is chosen: its link removes it
    ]
    assert '<a href="/search?q=energy&amp;sort=updated">Clear filters</a>' in html


def test_the_search_form_keeps_the_filters_and_the_sort_but_not_the_page(site):
    html = site.get("/search?q=energy&topic=europe&sort=updated&page=1").get_data(as_text=True)
    form = html.split('<form class="search-form"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="topic" value="europe">' in form
    assert '<input type="hidden" name="sort" value="updated">' in form
    assert 'name="page"' not in form
    plain = site.get("/search?q=energy").get_data(as_text=True)
    assert 'type="hidden"' not in plain.split('<form class="search-form"', 1)[1].split("</form>")[0]


def test_the_topic_page_searches_within_its_topic(site):
    html = site.get("/topics/climate").get_data(as_text=True)
    form = html.split('id="topic-search-q-label"', 1)[1].split("</form>", 1)[0]
    assert ">Search within this topic</label>" in form
    assert '<input type="hidden" name="topic" value="climate">' in form
    assert 'id="topic-search-q"' in form


def test_no_results_offers_ways_on_and_no_empty_filters_or_sort(site):
    html = site.get("/search?q=qqzzx").get_data(as_text=True)
    assert "No positions found for “qqzzx”." in html
    assert "Filter by topic" not in html and "Sort by" not in html
    assert '<h2 id="search-tips-heading">Search tips</h2>' in html
    assert links(html, "topic-links") == [  # the most used first
        "/topics/climate",
        "/topics/europe",
        "/topics/young-people",
    ]


def test_no_results_in_a_topic_offers_the_search_without_it(site):
    html = site.get("/search?q=trade&topic=climate").get_data(as_text=True)
    assert "No positions found for “trade” in Climate." in html
    assert '<a href="/search?q=trade">Search all topics for “trade”</a> (1 position)' in html
    assert links(html, "topic-links")[0] == "/search?q=trade&amp;topic=europe"  # holds the word


def test_no_results_names_the_topics_near_the_words(site):
    html = site.get("/search?q=youngsters").get_data(as_text=True)
    assert links(html, "topic-links")[0] == "/topics/young-people"


def test_sort_links_only_when_there_is_something_to_sort(site):
    assert "Sort by" not in site.get("/search?q=trade").get_data(as_text=True)  # one result
    assert "Sort by" in site.get("/search?q=energy").get_data(as_text=True)


def test_did_you_mean_keeps_the_filters(site):
    html = site.get("/search?q=enrgy&topic=climate&sort=updated").get_data(as_text=True)
    assert 'href="/search?q=energy&amp;topic=climate&amp;sort=updated"><strong>energy' in html
    assert 'href="/search?q=enrgy&amp;topic=climate&amp;sort=updated&amp;spell=off"' in html
    assert "found for “energy” in Climate." in html  # the count names what was searched


def test_searching_instead_for_the_words_as_typed_counts_them(site):
    html = site.get("/search?q=enrgy&spell=off").get_data(as_text=True)
    assert "No positions found for “enrgy”." in html and "Showing results for" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("climate change", ["climate", "europe", "power"]),
        ("clim", ["climate", "europe", "power"]),
        ("democracey", ["democracy", "europe", "power"]),
        ("youngsters", ["young-people", "europe", "power"]),
        ("the and of", ["europe", "power", "climate"]),  # nothing near: the most used
    ],
)
def test_closest_topics(query, expected):
    used = {"europe": 5, "power": 3, "climate": 2, "democracy": 1, "young-people": 1}
    labels = {"young-people": "Young people"}
    assert closest_topics(query, used, labels, 3) == expected
