"""Search insights in a real browser: opening a result reports the search text and nothing
else; without JavaScript nothing is sent and the link works the same."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from kb.web.insights import EXTENSION

pytestmark = pytest.mark.browser


def opened_count(app, query: str) -> int:
    counter = app.extensions[EXTENSION]
    counter.flush()
    totals = counter.store.totals(counter.today(), counter.today(), 1)
    return sum(t.opened for t in totals if t.query == query)


def counted(app, query: str, expected: int, timeout: float = 5.0) -> int:
    """The opened count once it reaches ``expected``, or as it stands after ``timeout``."""
    deadline = time.monotonic() + timeout
    while (count := opened_count(app, query)) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return count


def test_opening_a_result_sends_only_the_search_text(page, starter_app):
    page.goto("/search?q=European+Neighbours")
    before = opened_count(starter_app, "european neighbours")
    with page.expect_request(re.compile(r"/search/opened$")) as beacon:
        page.locator("a.result-link").first.click()
    expect(page).to_have_url(re.compile(r"/positions/"))
    request = beacon.value
    assert request.method == "POST"
    assert request.post_data == "q=European+Neighbours"
    assert "cookie" not in request.all_headers()
    # The request was seen leaving the browser; the server counts it when it answers,
    # which may be a moment later (a check right away failed one run in a few).
    assert counted(starter_app, "european neighbours", before + 1) == before + 1


def test_without_javascript_a_result_opens_and_nothing_is_sent(new_page):
    page = new_page(java_script_enabled=False)
    sent = []
    page.on("request", lambda request: sent.append(request.url))
    page.goto("/search?q=European+Neighbours")
    page.locator("a.result-link").first.click()
    expect(page).to_have_url(re.compile(r"/positions/"))
    assert not [url for url in sent if url.endswith("/search/opened")]
