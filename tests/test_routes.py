"""Every route's status, the JSON contract, drafts hidden, HTML sanitised."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

STATUS_TABLE = [
    ("/", 200),
    ("/search", 200),
    ("/search?q=internationalism", 200),
    ("/search?q=topic:europe", 200),
    ("/search?q=x&page=abc&per_page=-4&sort=bogus", 200),
    ("/positions", 200),
    ("/positions/internationalism", 200),
    ("/positions/no-such-position", 404),
    ("/positions/../../etc/passwd", 404),
    ("/topics/europe", 200),
    ("/topics/no-such-topic", 404),
    ("/help/search", 200),
    ("/api/search?q=europe", 200),
    ("/api/search", 200),
    ("/api/positions", 200),
    ("/api/positions/europe", 200),
    ("/api/positions/no-such-position", 404),
    ("/api/suggest?q=eur", 200),
    ("/api/no-such-endpoint", 404),
    ("/no-such-page", 404),
]


@pytest.mark.parametrize(("path", "status"), STATUS_TABLE)
def test_status_table(starter_client, path, status):
    assert starter_client.get(path).status_code == status


def test_search_page_finds_internationalism(starter_client):
    page = starter_client.get("/search?q=internationalism").get_data(as_text=True)
    assert 'href="/positions/internationalism"' in page
    assert "<mark" in page


def test_search_json_shape(starter_client):
    body = starter_client.get("/api/search?q=european+neighbours").get_json()
    assert set(body) >= {"query", "total", "page", "per_page", "did_you_mean", "facets", "results"}
    assert set(body["facets"]) == {"topics"}
    first = body["results"][0]
    assert set(first) >= {
        "slug",
        "title",
        "url",
        "summary",
        "topics",
        "score",
        "snippet",
        "passages",
    }
    assert first["slug"] == "europe" and first["url"] == "/positions/europe"
    passage = first["passages"][0]
    assert set(passage) >= {"id", "heading", "text", "snippet", "url", "cite_url"}
    assert passage["cite_url"] == f"/cite/{passage['id']}"
    assert passage["url"].startswith("/positions/europe#")


def test_position_json_shape(starter_client):
    body = starter_client.get("/api/positions/europe").get_json()
    assert set(body) >= {
        "slug",
        "title",
        "summary",
        "topics",
        "status",
        "updated",
        "url",
        "passages",
    }
    assert body["status"] == "adopted" and body["updated"]
    assert all(set(p) >= {"id", "heading", "text", "url", "cite_url"} for p in body["passages"])


def test_error_json_shape(starter_client):
    response = starter_client.get("/api/positions/nope")
    assert response.is_json
    assert response.get_json() == {
        "ok": False,
        "error": "No position has that address.",
        "status": 404,
    }


def test_missing_index_is_a_clear_503(make_app, write_position):
    write_position("europe")
    client = make_app(index=False).test_client()
    page = client.get("/")
    assert page.status_code == 503
    assert "flask --app app kb index" in page.get_data(as_text=True)
    api = client.get("/api/search?q=x")
    assert api.status_code == 503 and api.get_json()["ok"] is False


def test_drafts_are_never_public(make_app, write_position):
    write_position("secret-plan", "Confidential draft words.", title="Secret plan", status="draft")
    write_position("europe", "Public words.", title="Europe")
    client = make_app().test_client()
    assert client.get("/positions/secret-plan").status_code == 404
    assert client.get("/api/positions/secret-plan").status_code == 404
    assert client.get("/api/search?q=confidential").get_json()["total"] == 0
    assert "Secret plan" not in client.get("/positions").get_data(as_text=True)
    assert "Secret plan" not in client.get("/").get_data(as_text=True)


def test_drafts_shown_in_preview_mode(make_app, write_position):
    write_position("secret-plan", "Confidential draft words.", title="Secret plan", status="draft")
    client = make_app(KB_PREVIEW="1").test_client()
    page = client.get("/positions/secret-plan").get_data(as_text=True)
    assert "Draft" in page
    assert client.get("/api/search?q=confidential").get_json()["total"] == 1


class _Elements(HTMLParser):
    """Every element and attribute actually present in a page (escaped text is not)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(page)
    return parser.found


def test_script_in_a_position_never_reaches_the_page(make_app, write_position):
    write_position(
        "evil",
        '<script>alert("x")</script>\n\n<img src=x onerror=alert(1)>\n\n'
        "[click](javascript:alert(1))\n\n<iframe src=https://example.org></iframe>\n\n"
        '<object data="x.swf"></object><embed src="x.swf">\n',
        title='Evil <script>alert("t")</script>',
        summary='"<b onmouseover=alert(1)>hi</b>"',
    )
    client = make_app().test_client()
    for path in ("/positions/evil", "/search?q=evil", "/", "/positions"):
        found = elements(client.get(path).get_data(as_text=True))
        scripts = [attrs for tag, attrs in found if tag == "script"]
        assert all(
            attrs.get("src", "").startswith("/static/")
            or attrs.get("type") == "application/ld+json"
            for attrs in scripts
        ), path
        assert not [tag for tag, _ in found if tag in ("iframe", "object", "embed")], path
        for _tag, attrs in found:
            assert not [name for name in attrs if name.startswith("on")], path
            for link in (attrs.get("href"), attrs.get("src")):
                assert not str(link or "").lower().startswith("javascript:"), path
        if path == "/positions/evil":  # raw HTML is kept, sanitised: the image, safely
            assert [a for tag, a in found if tag == "img"] == [{"src": "x"}]


def test_query_is_escaped_when_echoed(starter_client):
    page = starter_client.get("/search?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_security_headers(starter_client):
    headers = starter_client.get("/").headers
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]


@pytest.mark.parametrize(
    ("page", "twin"),
    [
        ("/search?q=europe&topic=europe", "/api/search?q=europe&topic=europe"),
        ("/positions/europe", "/api/positions/europe"),
        ("/positions", "/api/positions"),
    ],
)
def test_pages_link_their_json_twin(starter_client, page, twin):
    link = starter_client.get(page).headers["Link"]
    assert link == f'<{twin}>; rel="alternate"; type="application/json"'
    assert starter_client.get(twin).is_json


def test_result_links_are_built_as_url_for_builds_them(make_app, write_position):
    """Links in results come from a pattern per route; they must equal url_for's, also
    under a script root and for a value that needs quoting."""
    from flask import url_for

    from kb.web.urls import cite_url, position_url

    write_position("europe", "Neighbours.", title="Europe")
    app = make_app()
    for root in ("", "/kb"):
        with app.test_request_context("/", base_url=f"http://localhost{root}"):
            for slug in ("europe", "fair-pay_2.0", "a b/ü"):
                assert position_url(slug) == url_for("pages.position", slug=slug)
                assert (
                    position_url(slug, "part-2") == url_for("pages.position", slug=slug) + "#part-2"
                )
                assert cite_url(slug) == url_for("cite.cite_page", passage_id=slug)
