"""What a reader does with JavaScript on: type, pick a suggestion by keyboard, read the cited
paragraph, copy a citation, print a position."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TARGET_BACKGROUND = "rgb(255, 247, 209)"  # --target in site.css, light scheme


def suggestions_for(page, text: str):
    """Type like a person and wait for the suggestion list to open."""
    box = page.get_by_role("combobox", name="Search our positions")
    box.press_sequentially(text, delay=30)
    expect(box).to_have_attribute("aria-expanded", "true")
    return box, page.get_by_role("listbox", name="Suggestions")


def test_pick_a_position_suggestion_with_the_keyboard(page):
    page.goto("/")
    box, listbox = suggestions_for(page, "eur")
    expect(box).to_have_attribute("aria-controls", "search-q-listbox")
    options = listbox.get_by_role("option")
    expect(options.first).to_have_text(re.compile(r"^Europe\W+Position$"))
    count = options.count()
    assert count >= 2  # the title and at least one completed word
    live = page.locator("#search-q-status")
    expect(live).to_have_text(
        f"{count} suggestions available. Use the up and down arrow keys to choose."
    )  # noqa: E501
    expect(live).to_have_attribute("aria-live", "polite")
    box.press("ArrowDown")
    first_id = options.first.get_attribute("id")
    expect(box).to_have_attribute("aria-activedescendant", first_id)
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "false")
    box.press("ArrowUp")
    expect(box).to_have_attribute("aria-activedescendant", first_id)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/positions/europe$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Europe")


def test_a_word_suggestion_completes_the_query_and_searches(page):
    page.goto("/")
    box, listbox = suggestions_for(page, "european neighb")
    option = listbox.get_by_role("option", name=re.compile(r"^european neighbours\W+Search$"))
    expect(option).to_be_visible()
    while option.get_attribute("aria-selected") != "true":
        box.press("ArrowDown")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=european\+neighbours$"))
    expect(page.locator(".result-count[role=status]")).to_contain_text(
        "found for “european neighbours”"
    )


def test_escape_closes_suggestions_and_keeps_the_text(page):
    page.goto("/")
    box, listbox = suggestions_for(page, "clim")
    box.press("ArrowDown")
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    assert box.get_attribute("aria-activedescendant") is None
    expect(box).to_have_value("clim")


def test_search_by_typing_then_open_the_paragraph_it_found(page):
    page.goto("/")
    box = page.get_by_role("combobox", name="Search our positions")
    box.press_sequentially("european neighbours", delay=20)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=european\+neighbours$"))
    expect(page.locator(".result-count[role=status]")).to_have_text(
        re.compile(r"^\s*\d+ positions? found")
    )
    link = page.get_by_role("link", name="Go to paragraph").first
    anchor = link.get_attribute("href").split("#")[1]
    link.click()
    expect(page).to_have_url(re.compile(f"/positions/[a-z-]+#{anchor}$"))
    target = page.locator(f"[id='{anchor}']")
    expect(target).to_be_in_viewport()
    style = target.evaluate(
        "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.outlineStyle]; }"
    )
    assert style == [TARGET_BACKGROUND, "solid"]
    other = page.locator(".position .body p:not(:target)").first
    assert other.evaluate("e => getComputedStyle(e).backgroundColor") == "rgba(0, 0, 0, 0)"


def test_slash_jumps_to_the_search_box(page):
    page.goto("/positions/europe")
    page.locator("body").press("/")
    expect(page.locator("#search-q")).to_be_focused()
    expect(page.locator("#search-q")).to_have_attribute("aria-keyshortcuts", "/")


def test_copy_a_citation_to_the_clipboard(new_page, first_passage):
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto(f"/cite/{first_passage.id}")
    button = page.locator("button.copy-button").first
    expect(button).to_be_visible()  # rendered hidden; site.js shows it
    target = page.locator(f"[id='{button.get_attribute('data-copy-target')}']")
    expected = target.evaluate("e => (e.value !== undefined ? e.value : e.innerText).trim()")
    assert expected
    button.click()
    expect(button).to_have_text("Copied")
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == expected


def test_print_shows_the_position_without_the_site_chrome(page):
    page.goto("/positions/europe")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".search-form"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(".print-only")).to_have_text(
        re.compile(r"^From http\S+/positions/europe, updated \d{4}-\d\d-\d\d\.$")
    )
    page.emulate_media(media="screen")
    expect(page.locator(".print-only")).to_be_hidden()


def test_keyboard_focus_is_visible_and_the_skip_link_works(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    expect(skip).to_have_css("background-color", "rgb(255, 221, 0)")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.get_by_role("link", name="Search tips").focus()
    expect(page.get_by_role("link", name="Search tips")).to_have_css(
        "background-color", "rgb(255, 221, 0)"
    )
