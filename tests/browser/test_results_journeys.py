"""The results page, on a phone and on a desktop, with axe after each journey: the first
result on the first screen, filters behind a "Filter" control on a phone, facets that add
topics as OR, filters and sort kept by a new query, no dead ends, related positions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, axe_violations

pytestmark = pytest.mark.browser

WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
NOTHING = "qqzzx"  # no position holds it, and no word is near it


@pytest.fixture(params=["phone", "desktop"])
def width(request) -> str:
    return request.param


@pytest.fixture
def page(new_page, width):
    return new_page(viewport=WIDTHS[width])


def facets(page):
    return page.get_by_role("complementary", name="Filter by topic")


def open_filters(page, width: str) -> None:
    """On a phone the filters are folded; on a desktop they are always shown."""
    summary = page.locator(".filters > summary")
    if width == "phone":
        expect(summary).to_be_visible()
        summary.click()
    else:
        expect(summary).to_be_hidden()


def test_the_first_result_is_on_the_first_screen(page, width, axe_installed):
    page.goto("/search?q=european+neighbours")
    heading = page.locator(".result h3").first
    expect(heading).to_be_in_viewport()
    box = heading.bounding_box()
    assert box["y"] + box["height"] <= WIDTHS[width]["height"] - 100  # and some of its text
    topic = facets(page).get_by_role("link", name=re.compile(r"^Europe \(\d+\)"))
    if width == "phone":
        expect(topic).to_be_hidden()  # folded behind "Filter"
    assert axe_violations(page) == []
    open_filters(page, width)
    expect(topic).to_be_visible()
    assert axe_violations(page) == []


def test_facets_add_topics_as_or_and_clear_filters_removes_them(page, width):
    page.goto("/search?q=labour&topic=climate")
    count = page.locator(".result-count")
    expect(count).to_contain_text("in Climate")
    one = int(count.inner_text().split()[0])
    open_filters(page, width)
    europe = facets(page).get_by_role("link", name=re.compile(r"^Europe \(\d+\)"))
    europe.click()
    expect(page).to_have_url(re.compile(r"/search\?q=labour&topic=climate&topic=europe$"))
    expect(count).to_contain_text("in Climate or Europe")
    assert int(count.inner_text().split()[0]) > one  # OR: Europe's positions were added
    page.get_by_role("link", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/search\?q=labour$"))
    expect(page.get_by_role("link", name="Clear filters")).to_have_count(0)


def test_a_new_query_keeps_the_filters_and_the_sort(page):
    page.goto("/search?q=labour&topic=democracy&sort=updated&page=2")
    box = page.locator("#search-q")  # a combobox with JavaScript, a searchbox without
    box.fill("people")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?topic=democracy&sort=updated&q=people$"))
    expect(page.locator(".result-count")).to_contain_text("for “people” in Democracy")
    expect(page.locator(".sort-by strong")).to_have_text("Recently updated")


def test_search_within_a_topic_keeps_the_topic(page, axe_installed):
    page.goto("/topics/climate")
    assert axe_violations(page) == []
    box = page.get_by_role("searchbox", name="Search within this topic")
    box.fill("labour")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?topic=climate&q=labour$"))
    expect(page.locator(".result-count")).to_contain_text("for “labour” in Climate")
    box = page.locator("#search-q")
    box.fill("britain")
    box.press("Enter")
    expect(page.locator(".result-count")).to_contain_text("for “britain” in Climate")


def test_no_results_is_never_a_dead_end(page, axe_installed):
    page.goto(f"/search?q={NOTHING}&topic=climate")
    expect(page.locator(".result-count")).to_have_text(
        f"No positions found for “{NOTHING}” in Climate."
    )
    expect(facets(page)).to_have_count(0)  # no empty "Filter by topic"
    expect(page.locator(".sort-by")).to_have_count(0)  # no sort links that do nothing
    expect(page.get_by_role("heading", name="Search tips")).to_be_visible()
    topics = page.get_by_role("list", name="Try a topic").get_by_role("link")
    expect(topics.first).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name=f"Search all topics for “{NOTHING}”").click()
    expect(page).to_have_url(re.compile(rf"/search\?q={NOTHING}$"))
    page.get_by_role("list", name="Try a topic").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/topics/[a-z-]+$"))


def test_words_not_found_are_named(page):
    page.goto(f"/search?q=european+{NOTHING}")
    expect(page.locator(".result-count")).to_contain_text("matching some of your words")
    expect(page.locator(".unmatched")).to_contain_text(f"Not found: {NOTHING}")


def test_related_positions_link_onwards(page, axe_installed):
    page.goto("/positions/europe")
    related = page.get_by_role("complementary", name="Related positions")
    first = related.get_by_role("link").first
    expect(first).to_be_visible()
    title = first.inner_text()
    assert axe_violations(page) == []
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_the_filter_control_works_without_javascript(new_page):
    page = new_page(viewport=PHONE, java_script_enabled=False)
    page.goto("/search?q=european+neighbours")
    topic = facets(page).get_by_role("link", name=re.compile(r"^Democracy \(\d+\)"))
    expect(topic).to_be_hidden()
    page.get_by_text("Filter", exact=True).click()
    topic.click()
    expect(page).to_have_url(re.compile(r"/search\?q=european\+neighbours&topic=democracy$"))
