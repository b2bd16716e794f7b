"""No URL reaches a file outside the content folder: every file the process opens or lists
while answering traversal attempts is recorded (audit hook) and checked.
"""

from __future__ import annotations

import pytest

from tests.file_audit import FileAudit, allowed_roots

SECRETS = (b"root:x:0:0", b"def create_app", b"[tool.ruff]", b"\ntitle: Europe", b"CURRENT")


def attempts(positions_dir, index_dir) -> list[str]:
    """Traversal URLs: dot-dot in every encoding, absolute paths, NUL bytes, backslashes."""
    europe = positions_dir / "europe.md"
    return [
        "/positions/../../etc/passwd",
        "/positions/..%2F..%2F..%2Fetc%2Fpasswd",
        "/positions/..%2f..%2fapp.py",
        "/positions/%2e%2e%2f%2e%2e%2fapp.py",
        "/positions/%252e%252e%252fapp.py",
        "/positions/..%5c..%5capp.py",
        "/positions/..\\..\\app.py",
        "/positions/....//....//app.py",
        "/positions/%c0%ae%c0%ae/%c0%ae%c0%ae/app.py",
        "/positions/%00",
        "/positions/europe%00.md",
        "/positions/europe.md",
        "/positions/europe/../../app.py",
        "/positions//etc/passwd",
        f"/positions/{europe}",
        f"/positions/{europe.as_posix().replace('/', '%2F')}",
        f"/api/positions/{europe}",
        "/api/positions/..%2F..%2Fpyproject.toml",
        "/api/positions/%2Fetc%2Fpasswd",
        "/static/../app.py",
        "/static/..%2fapp.py",
        "/static/..%2f..%2fapp.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%5capp.py",
        "/static/..\\app.py",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
        "/static/site.css%00.py",
        "/static/C:%5Cwindows%5Cwin.ini",
        "/static/..%2F..%2Fpositions%2Feurope.md",
        "/static/..%2F..%2Fsearch_index%2FCURRENT",
        f"/static/{index_dir}/CURRENT",
        "/topics/..%2F..%2Fetc%2Fpasswd",
        "/topics/..%2F..%2Fetc/feed.atom",
        "/cite/..%2F..%2Fetc%2Fpasswd",
        "/api/cite/..%2f..%2fapp.py?format=text",
        "/positions/europe?as_of=../../etc/passwd",
        "/quote?text=../../../../etc/passwd",
        "/search?q=../../etc/passwd&topic=..%2F..%2Fetc",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fapp.py",
        "/app.py",
        "/.git/config",
        "/positions.md",
    ]


@pytest.fixture
def warm_client(make_app, write_position, positions_dir, index_dir):
    """An app over a small folder, warmed up so one-time imports and caches are not
    mistaken for reads caused by a request."""
    write_position("europe", "Trade with our neighbours.", title="Europe", topics=["europe"])
    app = make_app()
    client = app.test_client()
    for path in ("/", "/positions/europe", "/static/site.css", "/search?q=trade", "/feed.atom"):
        client.get(path).close()
    return app, client


def test_traversal_attempts_read_nothing_outside_the_content_folder(
    warm_client, positions_dir, index_dir
):
    app, client = warm_client
    audit = FileAudit()
    answers = {}
    with audit.recording():
        for url in attempts(positions_dir, index_dir):
            response = client.get(url, follow_redirects=True)
            answers[url] = (response.status_code, response.get_data())
            for hop in response.history:  # '//' is merged by a redirect that stays here
                assert hop.status_code == 308, url
                assert hop.location.startswith(("/", "http://localhost/")), url
            response.close()
    assert audit.outside(allowed_roots(app)) == []
    for url, (status, body) in answers.items():
        assert status in (200, 400, 404), (url, status)
        assert not any(secret in body for secret in SECRETS), url
    served = {url for url, (status, _body) in answers.items() if status == 200}
    assert served <= {
        "/positions/europe?as_of=../../etc/passwd",
        "/quote?text=../../../../etc/passwd",
        "/search?q=../../etc/passwd&topic=..%2F..%2Fetc",
    }


def test_the_audit_sees_a_read_outside_the_folder(warm_client, tmp_path):
    # The check above is only as good as the recording: prove it notices a stray read.
    app, _client = warm_client
    stray = tmp_path / "elsewhere.txt"
    stray.write_text("x")
    audit = FileAudit()
    with audit.recording():
        stray.read_text()
    assert audit.outside(allowed_roots(app)) == [str(stray)]


def test_static_files_are_served_only_from_the_static_folder(warm_client):
    _app, client = warm_client
    response = client.get("/static/site.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    response.close()
    for url in ("/static/../app.py", "/static/..%2fapp.py", "/static/%2Fetc%2Fpasswd"):
        assert client.get(url, follow_redirects=True).status_code == 404
