"""Browser fixtures: one live server over the starter index and one Chromium per session.

Tests here drive Debian's Chromium (/usr/bin/chromium) through Playwright; no browser is ever
downloaded. Without Chromium, Playwright or axe-core (`npm ci`) they skip with the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "tests" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class QuietHandler(WSGIRequestHandler):
    """The live server's request log would only bury test output."""

    def log_request(self, code="-", size="-") -> None:
        pass


@pytest.fixture(scope="session")
def live_server(starter_app) -> Iterator[str]:
    """The starter site served over real HTTP on a free local port."""
    server = make_server("127.0.0.1", 0, starter_app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """new_page(**context_options) → a page on the live server; JS errors fail the test."""
    contexts = []
    errors: list[str] = []

    def make(**options):
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=live_server, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(5000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def page(new_page):
    """A desktop page with JavaScript on."""
    return new_page()


@pytest.fixture(scope="session")
def first_passage(starter_app) -> dict:
    """The first passage of the Europe position (id, anchor, text)."""
    return starter_app.config["KB"].position("europe")["passages"][0]


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The path of axe-core's browser build, installed by `npm ci`."""
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `npm ci --no-audit --no-fund` (make test does)")
    return str(AXE)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
