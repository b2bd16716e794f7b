"""Reading the results, on a phone and on a desktop, with axe: a corrected spelling said
the way people know, a "Best answer" only when it answers, snippets that start at a word
with every word of the query marked, titles first, and suggestions that complete the
phrase and know the acronyms."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, axe_violations
from tests.browser.test_journeys import suggestions_for

pytestmark = pytest.mark.browser

WIDTHS = {"phone": PHONE, "desktop": DESKTOP}


@pytest.fixture(params=["phone", "desktop"])
def page(new_page, request):
    return new_page(viewport=WIDTHS[request.param])


def test_a_corrected_spelling_is_said_and_the_words_as_typed_are_one_click_away(
    page, axe_installed
):
    page.goto("/search?q=climte")
    expect(page.locator(".did-you-mean")).to_have_text(
        "Showing results for climate. Search instead for climte."
    )
    expect(page.locator(".result-count")).to_contain_text("found for “climate”")
    expect(page.locator(".result h3").first).to_have_text("Climate change")
    assert axe_violations(page) == []
    page.get_by_role("link", name="climte", exact=True).click()
    expect(page).to_have_url(re.compile(r"/search\?q=climte&spell=off$"))
    expect(page.locator(".result-count")).to_have_text("No positions found for “climte”.")
    expect(page.locator(".did-you-mean")).to_have_count(0)


def test_the_best_answer_only_when_it_answers_the_words(page):
    page.goto("/search?q=european+neighbours")
    answer = page.get_by_role("region", name="Best answer")
    expect(answer).to_be_visible()
    expect(answer.locator("mark")).to_have_count(2)
    page.goto("/search?q=european+pensions")  # one word of two: no passage answers it
    expect(page.locator(".result").first).to_be_visible()
    expect(page.get_by_role("region", name="Best answer")).to_have_count(0)


def test_snippets_start_at_a_word_and_mark_every_word_they_show(page):
    page.goto("/search?q=labour")
    snippets = page.locator(".result .snippet")
    expect(snippets.first).to_be_visible()
    for snippet in snippets.all():
        text = snippet.inner_text()
        # a snippet starts its passage, a sentence, or a whole word after an ellipsis
        assert re.match(r"(… )?[\w“‘\"'(]", text), text
        shown = re.findall(r"\blabour\w*", text, flags=re.I)
        expect(snippet.locator("mark")).to_have_count(len(shown))


def test_a_position_titled_with_the_words_comes_first(page):
    page.goto("/search?q=labour+tradition")
    expect(page.locator(".result h3").first).to_have_text("Rooted in Labour tradition")


def test_suggestions_complete_the_phrase_and_know_the_acronyms(page, axe_installed):
    page.goto("/")
    box, listbox = suggestions_for(page, "clim ch")
    expect(listbox.get_by_role("option", name=re.compile(r"^climate change\W"))).to_be_visible()
    assert axe_violations(page) == []
    box.fill("")
    box, listbox = suggestions_for(page, "brex")
    expect(listbox.get_by_role("option", name=re.compile(r"^brexit\W"))).to_be_visible()


def test_a_result_lacking_the_commonest_word_says_so(page, axe_installed):
    page.goto("/search?q=climate+europe+power")
    europe = page.locator(".result:has(h3 a:text-is('Europe'))")
    expect(europe.locator(".missing")).to_have_text(
        "Missing: power (this position does not contain this word)"
    )
    expect(europe.locator(".missing s")).to_have_text("power")
    internationalism = page.locator(".result:has(h3 a:text-is('Internationalism'))")
    expect(internationalism).to_be_visible()
    expect(internationalism.locator(".missing")).to_have_count(0)  # it holds all three
    assert axe_violations(page) == []
