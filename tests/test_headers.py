"""Security headers on every kind of response, HSTS only over HTTPS, and no version banners."""

from __future__ import annotations

import pytest

from app import create_app
from tests.live_server import raw_get, run_gunicorn, serve_in_thread

ROUTES = [
    ("/", 200),
    ("/search?q=europe", 200),
    ("/positions/europe", 200),
    ("/positions", 200),
    ("/topics/europe", 200),
    ("/help/search", 200),
    ("/api/search?q=europe", 200),
    ("/api/positions/europe", 200),
    ("/api/positions/nope", 404),
    ("/no-such-page", 404),
    ("/cite/000000000000", 404),
    ("/static/site.css", 200),
]
UNSAFE_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"}


def csp_directives(value: str) -> dict[str, list[str]]:
    parts = [d.split() for d in value.split(";") if d.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize(("path", "status"), ROUTES)
def test_every_response_carries_the_security_headers(starter_client, path, status):
    response = starter_client.get(path)
    response.close()  # static files are streamed from an open file
    assert response.status_code == status
    headers = response.headers
    csp = csp_directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert all(not set(sources) & UNSAFE_SOURCES for sources in csp.values())
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would be ignored
    assert "Server" not in headers and "X-Powered-By" not in headers


def test_only_images_may_use_data_urls(starter_client):
    csp = csp_directives(starter_client.get("/").headers["Content-Security-Policy"])
    assert [name for name, sources in csp.items() if "data:" in sources] == ["img-src"]


def test_hsts_is_sent_over_https(starter_client):
    response = starter_client.get("/", base_url="https://positions.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    api = starter_client.get("/api/positions/nope", base_url="https://positions.example")
    assert "Strict-Transport-Security" in api.headers


def test_a_forwarded_proto_header_is_ignored_unless_the_proxy_is_trusted(starter_index):
    folder, index = starter_index
    settings = {"TESTING": True, "KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index)}
    spoofed = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    direct = create_app(settings).test_client().get("/", headers=spoofed)
    assert "Strict-Transport-Security" not in direct.headers
    proxied_app = create_app({**settings, "KB_TRUST_PROXY": "1"})
    seen = {}

    @proxied_app.get("/_whoami")
    def whoami():
        from flask import request

        seen.update(addr=request.remote_addr, secure=request.is_secure)
        return "ok"

    proxied = proxied_app.test_client().get("/", headers=spoofed)
    assert proxied.headers["Strict-Transport-Security"].startswith("max-age=")
    proxied_app.test_client().get("/_whoami", headers=spoofed)
    assert seen == {"addr": "203.0.113.9", "secure": True}


def test_error_pages_name_no_software_or_version(starter_client):
    for path in ("/no-such-page", "/api/nope", "/positions/%00"):
        body = starter_client.get(path).get_data(as_text=True)
        for word in ("Werkzeug", "Flask", "Python", "Whoosh", "gunicorn", "Traceback"):
            assert word not in body, (path, word)
    assert starter_client.post("/search").status_code == 405


def test_the_in_process_server_sends_no_version_banner(starter_app):
    with serve_in_thread(starter_app) as base:
        response = raw_get(int(base.rsplit(":", 1)[1]), "/")
    assert response.status == 200
    assert response.getheader("Server") == "Positions"


def test_gunicorn_sends_no_version_banner(starter_index, tmp_path):
    folder, index = starter_index
    env = {"KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index)}
    with run_gunicorn(env, tmp_path / "gunicorn.log", workers=1, threads=2) as port:
        responses = [raw_get(port, path) for path in ("/", "/no-such-page", "/api/nope")]
    assert [r.status for r in responses] == [200, 404, 404]
    for response in responses:
        server = response.getheader("Server") or ""
        assert not any(ch.isdigit() for ch in server), server
        assert response.getheader("Content-Security-Policy")
