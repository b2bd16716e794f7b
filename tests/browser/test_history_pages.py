"""History, compare and the quote check in a real browser: axe-clean on phone and desktop,
changes marked by more than colour, and readable in print."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from app import create_app
from kb.config import Settings
from kb.indexing import reindex
from tests.browser.conftest import AXE, AXE_URL, DESKTOP, PHONE, QuietHandler, axe_violations
from tests.conftest import EUROPE, STARTER, TRADE, TRADE_EDITED, front_matter

pytestmark = pytest.mark.browser

TARIFFS = "Tariffs are a tax on working families and should be kept low."
STEPS = [
    ("2026-11-01", "Europe", EUROPE, ""),
    ("2026-11-02", "Europe", EUROPE.replace(TRADE, TRADE_EDITED) + "\nA new closing line.\n",
     "Trade paragraph made clearer; a closing line added."),
    ("2026-11-03", "Europe and trade", EUROPE.replace(TARIFFS, ""), "Tariffs paragraph removed."),
]  # fmt: skip
PAGES = [
    "/positions/europe/history",
    "/positions/europe/compare?from=2026-11-01&to=2026-11-02",
    "/positions/europe/compare?from=2026-11-02&to=2026-11-03",
    "/positions/europe?as_of=2026-11-02",
    "/positions/europe",
    "/quote?text=Open+trade+with+Europe+makes+jobs+in+every+region+of+Britain",
    "/quote?text=Open+trade+with+Europe+creates+jobs+in+every+region+of+Britain",
]


@pytest.fixture(scope="module")
def history_server(tmp_path_factory) -> Iterator[str]:
    """A site whose Europe position has three versions, served over HTTP."""
    base = tmp_path_factory.mktemp("history")
    folder, index = base / "positions", base / "search_index"
    folder.mkdir()
    shutil.copy(STARTER / "topics.yml", folder / "topics.yml")
    settings = {"KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index)}
    for updated, title, body, note in STEPS:
        fields = dict(title=title, summary="Open trade.", topics=["europe"], updated=updated)
        if note:
            fields["change_note"] = f'"{note}"'
        (folder / "europe.md").write_text(front_matter(**fields) + body, encoding="utf-8")
        reindex(Settings.from_mapping(settings))
    app = create_app({"TESTING": True, **settings})
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="history-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def history_context(browser, history_server):
    def make(viewport):
        context = browser.new_context(base_url=history_server, viewport=viewport)
        context.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE)))
        return context

    made = {"desktop": make(DESKTOP), "phone": make(PHONE)}
    yield made
    for context in made.values():
        context.close()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_history_and_compare_pages_pass_axe_and_fit(history_context, axe_installed, width):
    page = history_context[width].new_page()
    try:
        for path in PAGES:
            response = page.goto(path)
            assert response.status == 200, path
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow}px too wide on {width}"
            assert axe_violations(page) == [], (path, width)
    finally:
        page.close()


def test_changes_are_marked_by_more_than_colour_and_print(history_context):
    page = history_context["desktop"].new_page()
    try:
        page.goto("/positions/europe/compare?from=2026-11-01&to=2026-11-02")
        inserted = page.locator(".compared ins").first
        assert inserted.evaluate("e => getComputedStyle(e).textDecorationLine") == "underline"
        assert "[inserted: " in inserted.text_content()  # read out, not only seen
        page.emulate_media(media="print")
        assert page.locator(".site-header").is_hidden()
        assert page.locator(".compared").is_visible()
        assert inserted.evaluate("e => getComputedStyle(e).textDecorationLine") == "underline"
        assert page.locator("article .print-only").is_visible()
        page.goto("/positions/europe/history")
        assert page.locator(".version-list").is_visible()
        page.emulate_media(media="screen")
        page.goto("/positions/europe/compare?from=2026-11-02&to=2026-11-03")
        deleted = page.locator(".compared del").first
        assert deleted.evaluate("e => getComputedStyle(e).textDecorationLine") == "line-through"
        assert "[deleted: " in deleted.text_content()
    finally:
        page.close()
