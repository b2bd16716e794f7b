"""Browser fixtures: one live server over the starter index and one Chromium per session.

Tests here drive Debian's Chromium (/usr/bin/chromium) through Playwright; no browser is ever
downloaded. Without Chromium, Playwright or axe-core (`npm ci`) they skip with the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from kb.index.records import PassageRecord
from kb.service import knowledge_base_of

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__tests__/axe.min.js"  # answered by the test router, never by the app
SCREENSHOTS = ROOT / "tests" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Every WCAG 2.0, 2.1 and 2.2 A and AA rule plus axe's best practices, all impact levels.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""


@contextmanager
def site_of(base: Path, files: dict[str, str]) -> Iterator[str]:
    """A live server's address, over a content folder of ``files`` indexed as `kb index`
    indexes it."""
    from app import create_app
    from kb.config import Settings
    from kb.indexing import reindex
    from tests.live_server import serve_in_thread

    folder = base / "content"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    settings = {"KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(base / "index")}
    report = reindex(Settings.from_mapping(settings))
    assert report.added == sorted(files), report.problems
    with serve_in_thread(create_app({"TESTING": True, **settings})) as url:
        yield url


@contextmanager
def page_at(browser, url: str, size: str) -> Iterator:
    """A page of a fresh context at phone or desktop size, axe at hand; it must raise no
    script error."""
    context = browser.new_context(base_url=url, viewport=PHONE if size == "phone" else DESKTOP)
    context.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE)))
    page = context.new_page()
    page.set_default_timeout(5000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


@pytest.fixture(scope="module")
def site(tmp_path_factory, request) -> Iterator[str]:
    """A live server over the test module's own ``SITE_FILES`` (name → Markdown)."""
    with site_of(tmp_path_factory.mktemp("site"), request.module.SITE_FILES) as url:
        yield url


@pytest.fixture(params=["phone", "desktop"])
def site_page(browser, site, request):
    """A page at phone, then desktop size, over the module's ``site``."""
    with page_at(browser, site, request.param) as page:
        yield page


def page_path(name: str, first_passage: PassageRecord) -> str:
    """The address of one of the pages every browser check visits."""
    return {
        "home": "/",
        "search": "/search?q=european+neighbours",
        "position": "/positions/europe",
        "cite": f"/cite/{first_passage.id}",
    }[name]


def axe_violations(page) -> list[dict]:
    """Every axe violation on the page as loaded, all impact levels."""
    page.add_script_tag(url=AXE_URL)
    return page.evaluate(RUN_AXE, AXE_TAGS)


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


@pytest.fixture(scope="session")
def contexts(browser, live_server):
    """Browser contexts shared by every test asking for the same options (creating one is
    the slowest step of a page test). Each serves axe-core at AXE_URL, from node_modules,
    through Playwright's router: same-origin, so the page's real CSP allows it."""
    made: dict[str, object] = {}

    def get(**options):
        key = repr(sorted(options.items()))
        if key not in made:
            options.setdefault("viewport", DESKTOP)
            context = browser.new_context(base_url=live_server, **options)
            context.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE)))
            made[key] = context
        return made[key]

    yield get
    for context in made.values():
        context.close()


@pytest.fixture
def new_page(contexts):
    """new_page(**context_options) → a page on the live server. A JavaScript error or a
    Content-Security-Policy violation on any page it loads fails the test."""
    pages = []
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            errors.append(message.text)

    def make(**options):
        page = contexts(**options).new_page()
        pages.append(page)
        page.set_default_timeout(5000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", on_console)
        return page

    yield make
    for page in pages:
        page.close()
    assert errors == [], f"JavaScript errors or CSP violations: {errors}"


@pytest.fixture
def page(new_page):
    """A desktop page with JavaScript on."""
    return new_page()


@pytest.fixture(scope="session")
def first_passage(starter_app) -> PassageRecord:
    """The first passage of the Europe position (id, anchor, text)."""
    return knowledge_base_of(starter_app).position("europe").passages[0]


@pytest.fixture(scope="session")
def axe_installed() -> None:
    """Skips the test unless axe-core's browser build was installed by `npm ci`."""
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `npm ci --no-audit --no-fund` (make test does)")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
