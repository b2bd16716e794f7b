"""The same journey with JavaScript off: a form that submits, links for facets, pages and
citations. Nothing may depend on site.js."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def page(new_page):
    return new_page(java_script_enabled=False)


def test_search_form_submits_and_results_render(page):
    page.goto("/")
    box = page.get_by_role("searchbox", name="Search our positions")
    assert box.get_attribute("role") is None  # a plain search box, no combobox without JS
    box.fill("european neighbours")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=european\+neighbours$"))
    expect(page.locator(".result-count[role=status]")).to_contain_text("positions found")
    expect(page.get_by_role("listbox")).to_have_count(0)
    expect(page.get_by_role("heading", name="Europe", level=3)).to_be_visible()


def test_topic_facets_are_links(page):
    page.goto("/search?q=european+neighbours")
    facets = page.get_by_role("complementary", name="Filter by topic")
    facets.get_by_role("link", name=re.compile(r"^Democracy \(\d+\)")).click()
    expect(page).to_have_url(re.compile(r"/search\?q=european\+neighbours&topic=democracy$"))
    expect(page.locator(".result-count")).to_contain_text("in Democracy")
    active = facets.get_by_role("link", name=re.compile(r"^Democracy .*selected"))
    expect(active).to_have_attribute("aria-current", "true")
    active.click()
    expect(page).to_have_url(re.compile(r"/search\?q=european\+neighbours$"))


def test_pagination_is_links(page):
    page.goto("/search?q=labour")
    pages = page.get_by_role("navigation", name="Pages of results")
    expect(pages).to_contain_text("Page 1 of 2")
    pages.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"/search\?q=labour&page=2$"))
    expect(page.get_by_role("navigation", name="Pages of results")).to_contain_text("Page 2 of 2")
    page.get_by_role("link", name="Previous").click()
    expect(page).to_have_url(re.compile(r"/search\?q=labour$"))


def test_cite_is_a_link_to_the_citation_page(page):
    page.goto("/search?q=european+neighbours")
    expect(page.locator("button.copy-button").first).to_be_hidden()  # revealed only by JS
    cite = page.get_by_role("link", name="Cite this passage").first
    href = cite.get_attribute("href")
    assert re.fullmatch(r"/cite/[0-9a-f]+", href)
    cite.click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Citation")


def test_passage_links_highlight_without_javascript(page, first_passage):
    page.goto(f"/positions/europe#{first_passage.anchor}")
    target = page.locator(f"[id='{first_passage.anchor}']")
    expect(target).to_have_css("background-color", "rgb(255, 247, 209)")
