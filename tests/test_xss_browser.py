"""Hostile content and queries, rendered in a real browser: no injected script ever runs.

Every vector in tests/fixtures/xss/vectors.txt is written into positions (title, summary,
authors, topic label, headings, paragraphs, link targets and titles, image sources,
list items, quotes, table cells, reference links), indexed, served over HTTP and loaded
in headless Chromium: every position page, the home page, the list, the topic page, a
search for each vector (the query is echoed), its citations, quote look-ups, past
versions, feeds and the JSON API. On each page the test asserts that no dialog opened,
the sentinel ``window.__xss`` was never set, the Content-Security-Policy reported no
violation (sanitising must catch everything first) and the DOM holds no event handler,
script URL, inline style, frame or foreign script.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from app import create_app
from kb.config import Settings
from kb.content.slug import clean_slug
from kb.indexing import reindex
from tests.live_server import serve_in_thread

pytestmark = pytest.mark.browser

VECTORS_FILE = Path(__file__).parent / "fixtures" / "xss" / "vectors.txt"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PER_POSITION = 10
MARKER = "xssmarker"  # a word in every hostile passage, so searches show their snippets

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""
AUDIT = r"""() => {
  const found = [];
  const urlAttrs = ["href", "src", "action", "formaction", "data", "background", "poster",
                    "xlink:href", "dynsrc", "lowsrc", "codebase", "cite"];
  const active = ["iframe", "frame", "frameset", "object", "embed", "applet", "base",
                  "style", "math", "portal", "link"];
  for (const el of document.querySelectorAll("*")) {
    const tag = el.localName;
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\u0000-\u0020]/g, "");
      if (name.startsWith("on") || name === "style" || name === "srcdoc") {
        found.push(`${tag}[${name}]`);
      }
      if (urlAttrs.includes(name) && /^(javascript|vbscript|data|livescript):/i.test(value)) {
        found.push(`${tag}[${name}=${value.slice(0, 40)}]`);
      }
    }
    if (active.includes(tag) && !(tag === "link" && el.closest("head"))) found.push(tag);
    if (tag === "meta" && el.httpEquiv) found.push("meta[http-equiv]");
    if (tag === "script" && el.type !== "application/ld+json") {
      const own = el.src && new URL(el.src).origin === location.origin &&
                  new URL(el.src).pathname.startsWith("/static/");
      if (!own) found.push("script " + (el.src || el.textContent.slice(0, 40)));
    }
    if (tag === "svg" && el.querySelector("script, foreignObject, animate, set, a")) {
      found.push("svg with active content");
    }
  }
  return {xss: window.__xss, csp: window.__csp || [], found: found};
}"""
XML_AUDIT = """() => ({
  xss: window.__xss, csp: window.__csp || [],
  found: Array.from(document.getElementsByTagNameNS("http://www.w3.org/1999/xhtml", "*"))
    .filter((el) => ["script", "iframe", "object", "embed"].includes(el.localName))
    .map((el) => el.localName),
})"""


RUNTIME_AUDIT = "() => ({xss: window.__xss, csp: window.__csp || [], found: []})"


def audit_for(content_type: str) -> str:
    """The DOM audit for HTML, a script check for XML (feeds), runtime checks for the rest."""
    if "html" in content_type:
        return AUDIT
    return XML_AUDIT if "xml" in content_type else RUNTIME_AUDIT


def load_vectors() -> list[str]:
    lines = VECTORS_FILE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def yaml_text(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value)


def position_text(number: int, vectors: list[str]) -> str:
    """One position carrying ``vectors`` in every place a position can carry text."""
    first, second, third = (vectors * 3)[:3]
    front = "\n".join([
        "---",
        f"title: {yaml_text(f'Hostile {number} {first}')}",
        f"summary: {yaml_text(f'{MARKER} summary {second}')}",
        "topics: [hostile]",
        f"authors: [{yaml_text(third)}, {yaml_text(first)}]",
        "status: adopted",
        f"updated: 2026-11-{number + 1:02d}",
        "---",
    ])  # fmt: skip
    blocks = [f"An introduction with the word {MARKER}."]
    for n, vector in enumerate(vectors):
        blocks.append(f"## Heading {vector}")
        blocks.append(
            f"Text {MARKER} {n} {vector} with [a link {vector}]({vector}) and "
            f'![an image {vector}]({vector}) and [a title](https://example.org "{vector}").'
        )
    blocks.append("\n".join(f"- item {MARKER} {vector}" for vector in vectors))
    blocks.append("\n".join(f"> quoted {MARKER} {vector}" for vector in vectors))
    rows = "\n".join(f"| {vector} | {MARKER} cell |" for vector in vectors)
    blocks.append(f"| Vector | Note |\n|---|---|\n{rows}")
    blocks.append(" ".join(f"[reference {n}][ref{n}]" for n in range(len(vectors))) + " " + MARKER)
    blocks.append("\n".join(f"[ref{n}]: {vector}" for n, vector in enumerate(vectors)))
    return front + "\n" + "\n\n".join(blocks) + "\n"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """A content folder of hostile positions, indexed (with its ledger) and served."""
    vectors = load_vectors()
    base = tmp_path_factory.mktemp("xss")
    folder = base / "positions"
    folder.mkdir()
    for number, start in enumerate(range(0, len(vectors), PER_POSITION)):
        text = position_text(number, vectors[start : start + PER_POSITION])
        (folder / f"hostile-{number}.md").write_text(text, encoding="utf-8")
    # The topic list allows the hostile topic below, by its cleaned slug: a topic outside
    # the list is an error, and that file would not be published at all.
    topics = f"hostile: {yaml_text(vectors[0])}\n"
    topics += f"{clean_slug(vectors[1])}: {yaml_text(vectors[1])}\n"
    (folder / "topics.yml").write_text(topics, encoding="utf-8")
    bad_topics = f"---\ntitle: Bad topics\ntopics: [{yaml_text(vectors[1])}]\n---\nBody.\n"
    (folder / "bad-topics.md").write_text(bad_topics, encoding="utf-8")
    settings = {"KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(base / "search_index")}
    report = reindex(Settings.from_mapping(settings))
    # bad-topics.md is published too: its topic is cleaned to a slug (a warning) and the
    # vector, the topic's label, is shown on its pages.
    assert len(report.added) == -(-len(vectors) // PER_POSITION) + 1, report.problems
    app = create_app({"TESTING": True, **settings})
    with serve_in_thread(app) as url:
        yield url, app, vectors


@pytest.fixture(scope="module")
def sync_api():
    """Playwright's sync API, or a skip saying what is missing (never downloads a browser)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does)")
    return pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")


@dataclass
class Visits:
    """What the browser saw across every page."""

    dialogs: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)


def visit_all(sync_api, base: str, paths: list[str]) -> Visits:
    """Load every page in one headless Chromium, auditing each."""
    seen = Visits()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_init_script(WATCH)
        page = context.new_page()
        page.on("dialog", lambda dialog: (seen.dialogs.append(f"{page.url}: {dialog.message}"),
                                          dialog.dismiss()))  # fmt: skip
        for path in paths:
            response = page.goto(base + path, wait_until="load")
            status = response.status if response else 0
            seen.statuses[status] += 1
            if status >= 500 or status == 0:
                seen.failures.append(f"{path}: status {status}")
                continue
            result = page.evaluate(audit_for(response.headers.get("content-type", "")))
            if result["xss"] is not None or result["csp"] or result["found"]:
                seen.failures.append(f"{path}: {result}")
        browser.close()
    return seen


def addresses(app, vectors: list[str]) -> list[str]:
    """Every page to load: positions, lists, searches, citations, quotes, feeds, API."""
    client = app.test_client()
    slugs = [p["slug"] for p in client.get("/api/positions").get_json()["positions"]]
    passages = [p for slug in slugs for p in client.get(f"/api/positions/{slug}").get_json()
                ["passages"]]  # fmt: skip
    paths = [
        "/",
        "/positions",
        "/topics/hostile",
        "/topics/script-window-xss-1-script",  # labelled with a vector, as written
        "/search?topic=hostile",
        "/feed.atom",
        "/topics/hostile/feed.atom",
        "/api/positions",
        f"/api/suggest?q={MARKER[:4]}",
    ]
    paths += [f"{route}?q={MARKER}" for route in ("/search", "/api/search")]
    paths += [f"/search?q={MARKER}&page=2", f"/search?q={MARKER}&sort=updated"]  # fmt: skip
    for slug in slugs:
        paths += [f"/positions/{slug}", f"/positions/{slug}?as_of=2099-12-31"]
        paths += [f"/api/positions/{slug}"]
    for vector in vectors:
        paths.append("/search?q=" + quote(vector, safe=""))
        paths.append("/quote?text=" + quote(f"{vector} quoted in three words", safe=""))
    for passage in passages:
        paths.append(f"/cite/{passage['id']}")
    for passage in passages[::7]:
        paths.append("/quote?text=" + quote(passage["text"][:300], safe=""))
        paths.append(f"/api/cite/{passage['id']}?format=text")  # other formats download
    paths += ["/positions/" + quote(vectors[0], safe=""), "/topics/" + quote(vectors[1], safe="")]
    return paths


def test_no_injected_script_runs_anywhere(hostile_site, sync_api):
    base, app, vectors = hostile_site
    assert len(vectors) >= 50
    paths = addresses(app, vectors)
    started = time.monotonic()
    # A thread of its own: the sync API refuses to run where another Playwright session
    # (the browser tests' session-wide one) owns the event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        seen = pool.submit(visit_all, sync_api, base, paths).result(timeout=300)
    seconds = time.monotonic() - started
    print(f"xss: {len(vectors)} vectors, {len(paths)} pages in {seconds:.0f}s, {seen.statuses}")
    assert seen.dialogs == []
    assert seen.failures == []
    assert seen.statuses[200] >= len(paths) - 2  # only the two junk addresses may be 404
