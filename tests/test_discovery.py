"""Discovery: OpenSearch, Atom feeds, sitemap, robots.txt, canonical and sharing tags,
and the health check."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest

from kb.service import knowledge_base_of

BASE = "https://positions.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"
OS = "{http://a9.com/-/spec/opensearch/1.1/}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def site(make_app, write_position):
    """Three positions on two topics, served under a public base URL."""
    write_position(
        "europe",
        "Work with [our friends](/positions/climate).",
        title="Europe",
        topics=["europe", "internationalism"],
        updated="2026-11-12",
        summary="Cooperate with our neighbours.",
        authors=["Policy team"],
    )
    write_position(
        "climate", "Act now.", title="Climate & <energy>", topics=["climate"], updated="2026-11-20"
    )
    write_position(
        "trade", "Fair trade.", title="Trade", topics=["internationalism"], updated="2026-10-01"
    )
    app = make_app(KB_BASE_URL=BASE + "/", KB_SITE_NAME="Progress positions")
    return app.test_client()


def head_links(page: str) -> dict[str, str]:
    """rel (plus type) → href of every <link> in the page."""
    found = {}
    for tag in re.findall(r"<link [^>]+>", page):
        rel = re.search(r'rel="([^"]+)"', tag).group(1)
        kind = re.search(r'type="([^"]+)"', tag)
        found[rel + (" " + kind.group(1) if kind else "")] = re.search(r'href="([^"]+)"', tag)[1]
    return found


def test_opensearch_description(site):
    response = site.get("/opensearch.xml")
    assert response.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(response.data)
    assert root.tag == OS + "OpenSearchDescription"
    assert root.findtext(OS + "ShortName") == "Progress positio"  # at most 16 characters
    templates = {u.get("type"): u.get("template") for u in root.iter(OS + "Url")}
    assert templates["text/html"] == BASE + "/search?q={searchTerms}"
    assert templates["application/x-suggestions+json"] == (
        BASE + "/opensearch/suggest?q={searchTerms}"
    )
    assert templates["application/opensearchdescription+xml"] == BASE + "/opensearch.xml"


def test_opensearch_suggestions_complete_titles_phrases_and_the_last_word(site):
    response = site.get("/opensearch/suggest?q=fair%20tra")
    assert response.mimetype == "application/x-suggestions+json"
    assert response.get_json() == ["fair tra", ["fair trade"]]
    # A title first, then a phrase the synonyms know and the index holds.
    assert site.get("/opensearch/suggest?q=eur").get_json() == ["eur", ["Europe", "european union"]]
    assert site.get("/opensearch/suggest").get_json() == ["", []]


def test_every_page_links_search_feed_and_canonical(site):
    page = site.get("/positions/europe").get_data(as_text=True)
    links = head_links(page)
    assert links["search application/opensearchdescription+xml"] == "/opensearch.xml"
    assert links["alternate application/atom+xml"] == "/feed.atom"
    assert links["canonical"] == BASE + "/positions/europe"


def test_topic_pages_link_their_own_feed(site):
    page = site.get("/topics/internationalism").get_data(as_text=True)
    assert 'href="/topics/internationalism/feed.atom"' in page
    assert f'<link rel="canonical" href="{BASE}/topics/internationalism">' in page


def test_open_graph_tags_describe_a_position(site):
    page = site.get("/positions/europe").get_data(as_text=True)
    tags = dict(re.findall(r'<meta property="og:(\w+)" content="([^"]*)">', page))
    assert tags == {
        "site_name": "Progress positions",
        "type": "article",
        "title": "Europe",
        "description": "Cooperate with our neighbours.",
        "url": BASE + "/positions/europe",
        "locale": "en_GB",
    }
    escaped = site.get("/positions/climate").get_data(as_text=True)
    assert '<meta property="og:title" content="Climate &amp; &lt;energy&gt;">' in escaped


def test_search_canonical_keeps_the_query_but_not_junk(site):
    page = site.get("/search?q=europe&page=abc&utm_source=x").get_data(as_text=True)
    assert f'<link rel="canonical" href="{BASE}/search?q=europe">' in page


def test_error_pages_are_not_indexed(site):
    page = site.get("/positions/nope").get_data(as_text=True)
    assert '<meta name="robots" content="noindex">' in page
    assert 'rel="canonical"' not in page


def feed_entries(response) -> tuple[ET.Element, list[ET.Element]]:
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    return root, root.findall(ATOM + "entry")


def test_site_feed_lists_new_and_changed_positions_newest_first(site):
    root, entries = feed_entries(site.get("/feed.atom"))
    assert root.findtext(ATOM + "id") == BASE + "/feed.atom"
    assert root.findtext(ATOM + "updated") == "2026-11-20T00:00:00Z"
    assert [e.findtext(ATOM + "title") for e in entries] == [
        "Climate & <energy>",
        "Europe",
        "Trade",
    ]
    europe = entries[1]
    assert europe.findtext(ATOM + "id") == BASE + "/positions/europe"
    assert europe.find(ATOM + "link").get("href") == BASE + "/positions/europe"
    assert europe.findtext(ATOM + "updated") == "2026-11-12T00:00:00Z"
    assert europe.findtext(ATOM + "summary") == "Cooperate with our neighbours."
    assert europe.findtext(f"{ATOM}author/{ATOM}name") == "Policy team"
    assert [c.get("term") for c in europe.findall(ATOM + "category")] == [
        "europe",
        "internationalism",
    ]
    content = europe.find(ATOM + "content")
    assert content.get("type") == "html" and 'href="/positions/climate"' in content.text
    assert content.get("{http://www.w3.org/XML/1998/namespace}base") == BASE + "/positions/europe"


def test_topic_feed_lists_only_that_topic(site):
    root, entries = feed_entries(site.get("/topics/internationalism/feed.atom"))
    assert root.findtext(ATOM + "title") == "Progress positions: Internationalism"
    assert [e.findtext(ATOM + "title") for e in entries] == ["Europe", "Trade"]
    assert site.get("/topics/nothing-here/feed.atom").status_code == 404


def test_drafts_never_reach_feeds_or_the_sitemap(make_app, write_position):
    write_position("secret-plan", "Hidden.", title="Secret plan", status="draft", topics=["x"])
    write_position("europe", "Public.", title="Europe", topics=["x"])
    client = make_app().test_client()
    for path in ("/feed.atom", "/topics/x/feed.atom", "/sitemap.xml"):
        assert b"secret-plan" not in client.get(path).data


def test_sitemap_lists_every_public_page(site):
    response = site.get("/sitemap.xml")
    root = ET.fromstring(response.data)
    urls = {u.findtext(SM + "loc"): u.findtext(SM + "lastmod") for u in root.iter(SM + "url")}
    assert urls == {
        BASE + "/": "2026-11-20",
        BASE + "/positions": "2026-11-20",
        BASE + "/topics/internationalism": "2026-11-12",
        BASE + "/topics/europe": "2026-11-12",
        BASE + "/topics/climate": "2026-11-20",
        BASE + "/positions/climate": "2026-11-20",
        BASE + "/positions/europe": "2026-11-12",
        BASE + "/positions/trade": "2026-10-01",
        BASE + "/help/search": None,
    }


def test_robots_points_to_the_sitemap_and_keeps_crawlers_out_of_search(site):
    response = site.get("/robots.txt")
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == (
        "User-agent: *\nDisallow: /search\nDisallow: /api/\nAllow: /\n"
        f"Sitemap: {BASE}/sitemap.xml\n"
    )


def test_robots_shuts_out_crawlers_in_preview(make_app):
    client = make_app(KB_PREVIEW="1").test_client()
    assert client.get("/robots.txt").get_data(as_text=True) == "User-agent: *\nDisallow: /\n"


def test_healthz_reports_revision_and_count(starter_app, starter_client):
    response = starter_client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "ok": True,
        "revision": knowledge_base_of(starter_app).revision(),
        "positions": len(knowledge_base_of(starter_app).records()),
    }


def test_healthz_is_503_json_without_an_index(make_app, write_position):
    write_position("europe")
    response = make_app(index=False).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "ok": False,
        "error": "The search index has not been built yet, or its folder was deleted. "
        "Run: flask --app app kb index",
        "status": 503,
    }
