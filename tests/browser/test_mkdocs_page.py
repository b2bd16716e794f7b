"""An MkDocs page as a reader sees it on a phone and a desktop: fence-less metadata read,
notes boxed with their titles, footnotes that lead to their notes and back, a heading's
own id that the page's links reach, the notes' Cite control after them, and axe finds
nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser

PAGE = """\
Title: Fair pay
Summary: Work should pay enough to live on.
Date: 2026-10-01

Low pay traps millions in poverty.[^ons] See [the commission](#commission).

!!! warning "Rents are rising faster than pay"
    Wages have not kept pace with housing costs.[^ons]

??? note "How the commission works"
    Members come from unions, employers and economists.

## The commission {#commission}

It reports every year.

[^ons]: Office for National Statistics, Annual Survey of Hours and Earnings.
"""


SITE_FILES = {"fair-pay.md": PAGE}


def test_an_mkdocs_page_reads_as_its_site_showed_it(site_page, axe_installed):
    page = site_page
    page.goto("/positions/fair-pay")
    expect(page.locator("h1")).to_have_text("Fair pay")
    body = page.locator(".position .body")
    expect(body).not_to_contain_text("Title:")
    expect(body).not_to_contain_text("!!!")
    expect(body).not_to_contain_text("[^ons]")
    warning = body.locator(".admonition.warning")
    expect(warning.locator(".admonition-title")).to_have_text("Rents are rising faster than pay")
    assert warning.evaluate("e => getComputedStyle(e).borderLeftStyle") == "solid"
    expect(body.locator(".admonition.note")).to_contain_text("Members come from unions")
    # the notes are a passage: their Cite control comes right after them
    expect(page.locator(".position .body div.footnote + .cite-controls")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert axe_violations(page) == []
    body.locator("a.footnote-ref").first.click()
    expect(page).to_have_url(re.compile(r"#fn:ons$"))
    expect(page.locator("li[id='fn:ons']")).to_be_in_viewport()
    page.locator("li[id='fn:ons'] a.footnote-backref").first.click()
    expect(page).to_have_url(re.compile(r"#fnref:ons$"))
    body.get_by_role("link", name="the commission").click()
    expect(page).to_have_url(re.compile(r"#commission$"))
    expect(page.get_by_role("heading", name="The commission")).to_be_in_viewport()
