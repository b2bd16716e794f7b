"""Accessibility and CSP beyond the main pages: the open suggestion list and the secondary
pages pass axe, and real pages (JavaScript running) report no CSP violation."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations, page_path

pytestmark = pytest.mark.browser

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def open_suggestions(page) -> None:
    box = page.get_by_role("combobox", name="Search our positions")
    box.press_sequentially("eur", delay=30)
    box.press("ArrowDown")
    page.get_by_role("option").first.wait_for()


def test_open_suggestions_pass_axe(new_page, axe_installed):
    page = new_page()
    page.goto("/")
    open_suggestions(page)
    assert axe_violations(page) == []


SECONDARY_PAGES = [
    "/positions",
    "/positions?sort=updated",
    "/topics/democracy",
    "/help/search",
    "/quote?text=Britain%27s+future+is+bound+up",  # two search forms on one page
    "/search?q=labour&topic=democracy",
    "/no-such-page",
]


def test_secondary_pages_pass_axe(new_page, axe_installed):
    page = new_page()
    for path in SECONDARY_PAGES:
        page.goto(path)
        assert axe_violations(page) == [], path


def test_pages_break_no_csp_rule(new_page, first_passage):
    page = new_page()
    page.add_init_script(CSP_LISTENER)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    for name in ("home", "search", "position", "cite"):
        page.goto(page_path(name, first_passage))
        if name == "home":
            open_suggestions(page)
        assert page.evaluate("window.__cspViolations") == [], name
    assert [m for m in console if "Content Security Policy" in m] == []
