"""Raw HTML from a Hugo or Jekyll folder, as a reader sees it on a phone and a desktop:
the table and the link are shown as HTML (not as tags in the text), a wide table never
widens the page, the in-page anchor works, the table's Cite control follows the table,
and axe finds nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser

PAGE = """\
---
title: Content reviews
summary: How often each kind of page is reviewed.
updated: 2024-05-01
---
We review pages on a schedule; see <a href="https://example.org/policy" class="btn">the
policy</a> or [the schedule](#schedule).

<a id="schedule"></a>

<table class="usa-table usa-table--striped">
  <caption>Review schedule</caption>
  <thead><tr><th scope="col">Page</th><th scope="col">Reviewed</th></tr></thead>
  <tbody>
    <tr><th scope="row">Homepage</th><td>Every <strong>quarter</strong></td></tr>
    <tr><th scope="row">News</th><td>After five years</td></tr>
    <tr><th scope="row">Archive</th>
      <td>archive.example.org/about-us/documents/report-recommendations-and-background</td></tr>
  </tbody>
</table>

Pages past their date are archived.
"""


SITE_FILES = {"reviews.md": PAGE}


def test_raw_html_reads_as_the_site_generator_showed_it(site_page, axe_installed):
    page = site_page
    page.goto("/positions/reviews")
    body = page.locator(".position .body")
    expect(body).not_to_contain_text("<a href")
    expect(body).not_to_contain_text("<table")
    link = body.get_by_role("link", name="the policy")
    expect(link).to_have_attribute("href", "https://example.org/policy")
    table = body.get_by_role("table", name="Review schedule")
    expect(table.get_by_role("rowheader", name="Homepage")).to_be_visible()
    expect(table.get_by_role("cell", name="Every quarter")).to_be_visible()
    # The table is a passage: its Cite control comes right after it.
    expect(page.locator(".position .body div:has(> table) + .cite-controls")).to_have_count(1)
    # A long address in a cell wraps: the page never scrolls sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    body.get_by_role("link", name="the schedule").click()
    expect(page).to_have_url(re.compile(r"#schedule$"))
    assert axe_violations(page) == []
