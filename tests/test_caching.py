"""HTTP caching and compression: ETags keyed to the index revision, 304s, gzip, static files,
and the production server's headers."""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import subprocess
import sys
import time
import types
import urllib.request
from pathlib import Path

import pytest

from app import create_app
from kb.index.reader import IndexMissing
from kb.search.engine import SearchRequest
from kb.service import knowledge_base_of
from kb.web.caching import (
    MIN_GZIP_BYTES,
    PAGE_CACHE_CONTROL,
    SIDE_FILES,
    STATIC_CACHE_CONTROL,
)

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "kb" / "static"


def test_pages_carry_an_etag_keyed_to_the_index_revision(starter_app, starter_client):
    response = starter_client.get("/positions/europe")
    etag = response.headers["ETag"]
    revision = knowledge_base_of(starter_app).revision()
    assert etag.startswith(f'W/"{revision}-')
    assert response.headers["Cache-Control"] == PAGE_CACHE_CONTROL
    other = starter_client.get("/api/search?q=europe").headers["ETag"]
    assert other.startswith(f'W/"{revision}-') and other != etag  # one tag per resource


def test_if_none_match_gets_a_304_without_a_body(starter_client):
    etag = starter_client.get("/search?q=europe").headers["ETag"]
    again = starter_client.get("/search?q=europe", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == PAGE_CACHE_CONTROL
    assert "Accept-Encoding" in again.headers["Vary"]
    head = starter_client.head("/search?q=europe", headers={"If-None-Match": etag})
    assert head.status_code == 304


def test_a_stale_etag_gets_the_full_page(starter_client):
    stale = starter_client.get("/", headers={"If-None-Match": 'W/"gen-old-000000000000"'})
    assert stale.status_code == 200 and b"What we stand for" in stale.data


def test_a_new_index_revision_changes_the_etag(make_app, write_position, positions_dir, index_dir):
    from kb.index.build import update_index

    write_position("europe", "Cooperate with our neighbours.", title="Europe")
    client = make_app().test_client()
    before = client.get("/positions/europe").headers["ETag"]
    write_position("europe", "Cooperate closely with our neighbours.", title="Europe")
    update_index(positions_dir, index_dir)
    # A fresh process (another worker, or after a deploy) opens the new generation.
    fresh = make_app(index=False).test_client()
    after = fresh.get("/positions/europe", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before
    assert b"Cooperate closely" in after.data


@pytest.mark.parametrize("name", SIDE_FILES)
def test_editing_a_side_file_changes_the_etag(app, client, positions_dir, name):
    """Topic labels, synonyms and the citation ledger change pages without a new revision."""
    before = client.get("/").headers["ETag"]
    (positions_dir / name).write_text("europe: Europe and the EU\n", encoding="utf-8")
    after = client.get("/", headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"] != before


def test_preview_pages_are_never_stored_by_a_shared_cache(make_app, write_position):
    write_position("secret", "Draft words.", status="draft")
    client = make_app(KB_PREVIEW="1").test_client()
    assert client.get("/positions/secret").headers["Cache-Control"] == "private, no-cache"


def test_errors_and_health_checks_are_not_cached(starter_client, make_app):
    missing = starter_client.get("/positions/no-such-position")
    assert "ETag" not in missing.headers and missing.headers["Cache-Control"] == "no-cache"
    assert starter_client.get("/healthz").headers["Cache-Control"] == "no-store"
    no_index = make_app(index=False).test_client().get("/")
    assert no_index.status_code == 503 and "ETag" not in no_index.headers


def test_large_text_responses_are_gzipped_when_accepted(starter_client):
    plain = starter_client.get("/positions/europe")
    packed = starter_client.get("/positions/europe", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
    for response in (plain, packed):
        assert "Accept-Encoding" in response.headers["Vary"]
    assert packed.headers["ETag"] == plain.headers["ETag"]


def test_gzip_is_skipped_when_refused_or_small(starter_client):
    refused = starter_client.get("/", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers
    small = starter_client.get("/api/suggest?q=zz", headers={"Accept-Encoding": "gzip"})
    assert len(small.data) <= MIN_GZIP_BYTES
    assert "Content-Encoding" not in small.headers and small.get_json()["titles"] == []


def static_hash(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


@pytest.mark.parametrize("name", ["site.css", "site.js", "icon.svg"])
def test_pages_link_static_files_by_content_hash(starter_client, name):
    page = starter_client.get("/").get_data(as_text=True)
    assert f"/static/{name}?v={static_hash(name)}" in page


def static_cache_control(client, url: str) -> str:
    with client.get(url) as response:  # closes the file Flask opened
        return response.headers["Cache-Control"]


def test_versioned_static_files_are_cached_for_a_year(starter_client):
    url = f"/static/site.css?v={static_hash('site.css')}"
    assert static_cache_control(starter_client, url) == STATIC_CACHE_CONTROL
    stale = static_cache_control(starter_client, "/static/site.css?v=0123456789ab")
    assert stale == "public, no-cache"
    assert static_cache_control(starter_client, "/static/site.css") == "public, no-cache"


def test_static_files_are_gzipped_and_revalidate(starter_client):
    url = f"/static/site.js?v={static_hash('site.js')}"
    with starter_client.get(url, headers={"Accept-Encoding": "gzip"}) as packed:
        assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == (STATIC / "site.js").read_bytes()
    etag = packed.headers["ETag"]
    assert etag.startswith('W/"')
    headers = {"Accept-Encoding": "gzip", "If-None-Match": etag}
    with starter_client.get(url, headers=headers) as again:
        assert again.status_code == 304


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_gunicorn_serves_with_caching_and_no_version_banner(starter_index):
    """`make serve-prod`'s command: our config, cached and compressed, no version banner."""
    folder, index = starter_index
    port = free_port()
    env = {**os.environ, "KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index),
           "KB_BIND": f"127.0.0.1:{port}", "KB_WORKERS": "1"}  # fmt: skip
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "app:create_app()"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                status, headers, body = fetch(base + "/healthz")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not start within 15 s"
                time.sleep(0.1)
        assert status == 200
        assert headers["Server"] == "gunicorn"  # no version number for attackers to match
        status, headers, body = fetch(base + "/", {"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert b"What we stand for" in gzip.decompress(body)
        status, _, body = fetch(base + "/", {"If-None-Match": headers["ETag"]})
        assert status == 304 and body == b""
    finally:
        server.terminate()
        server.wait(timeout=10)
        log = server.stderr.read().decode()
        server.stderr.close()
    assert "Workers start from the app loaded once" in log  # preload_app


def test_every_thread_shares_what_is_worked_out_once_per_generation(
    write_position, positions_dir, index_dir
):
    """A new thread (the preview answers each request in one) and the first search
    after an edit reuse the topic map and scopes instead of rebuilding them."""
    import threading

    from kb.index import run
    from kb.index.build import update_index
    from kb.index.reader import IndexReader

    write_position("europe", "Trade.", topics=["europe"])
    update_index(positions_dir, index_dir)
    reader = IndexReader(index_dir)
    seen = []

    def look() -> None:
        seen.append(run._doc_topics(reader.searcher()))

    for _ in range(2):
        thread = threading.Thread(target=look)
        thread.start()
        thread.join()
    assert seen[0] is seen[1]
    write_position("climate", "Warming.", topics=["climate"])
    update_index(positions_dir, index_dir)
    look()  # a new generation: worked out afresh, with the new position's topics
    assert sorted(seen[2].values()) == [("climate",), ("europe",)]
    reader.close()


def test_warming_up_readies_the_generation_and_keeps_no_searcher_open(
    write_position, positions_dir, index_dir, make_app
):
    """What gunicorn.conf.py runs before forking the workers: the generation's tables
    are made, and no open file is left for the workers to share."""
    from kb.index import run

    write_position("europe", "Trade.", topics=["europe"])
    write_position("climate", "Warming.", topics=["climate"], status="draft")
    kb = knowledge_base_of(make_app())
    kb.warm_up()
    assert kb.reader._open_searchers == []
    searcher = kb.reader.searcher()
    ready = run._PER_GENERATION[run._generation(searcher)]
    assert {"positions", "passages", "drafts", "doc_topics", "meaning_vectors"} <= set(ready)
    assert sorted(m.slug for k, m in ready.items() if k[0] == "meta") == ["climate", "europe"]
    for table in ("passages of", "scope of"):  # what each result's passages start from
        assert sorted(k[1] for k in ready if k[0] == table) == ["climate", "europe"]
    assert [r.slug for r in kb.search(SearchRequest(q="trade")).results] == ["europe"]


def test_warming_up_reads_every_segments_spelling_words(
    write_position, positions_dir, index_dir, make_app, monkeypatch
):
    """The spelling buckets a correction reads are filled before the first search, for
    every segment, exactly as reading each bucket at its first correction fills them."""
    from kb.index import query
    from kb.index.build import update_index

    write_position("europe", "Trade and tariffs.", topics=["europe"])
    app = make_app()
    write_position("climate", "Warming and tides.", topics=["climate"])
    update_index(positions_dir, index_dir)  # a second segment
    monkeypatch.setattr(query, "_WORDS_BY_LETTER", {})
    kb = knowledge_base_of(app)
    kb.warm_up()
    searcher = kb.reader.searcher()
    segments = [sub.reader() for sub, _ in searcher.leaf_searchers()]
    assert len(segments) == 2
    prepared = dict(query._WORDS_BY_LETTER)
    monkeypatch.setattr(query, "_WORDS_BY_LETTER", {})
    for reader in segments:
        letters = {k[1] for k in prepared if k[0] == reader.segment().segment_id()}
        assert letters == {query.as_text(t)[:1] for t in reader.lexicon("words")}
        assert "t" in letters
        for letter in letters:
            lazily = query._words_starting(reader, letter)
            assert prepared[reader.segment().segment_id(), letter] == lazily
    assert kb.search(SearchRequest(q="tarifs")).corrected == "tariffs"


def test_warming_up_without_an_index_says_so(positions_dir, index_dir, make_app):
    kb = knowledge_base_of(make_app(index=False))
    with pytest.raises(IndexMissing):
        kb.warm_up()


def server_app(positions_dir, index_dir, monkeypatch):
    """create_app as a gunicorn worker (or, with preload_app, its main process) calls it."""
    monkeypatch.setitem(sys.modules, "gunicorn", types.ModuleType("gunicorn"))
    return create_app({"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)})


def test_a_server_app_is_warmed_up_before_it_answers(
    write_position, positions_dir, index_dir, monkeypatch
):
    from kb.index import run
    from kb.index.build import update_index

    write_position("europe", "Trade.", topics=["europe"])
    update_index(positions_dir, index_dir)
    kb = knowledge_base_of(server_app(positions_dir, index_dir, monkeypatch))
    assert kb.reader._open_searchers == []  # closed: a forked worker opens its own
    ready = run._PER_GENERATION[run._generation(kb.reader.searcher())]
    assert {"positions", "doc_topics", ("meta", 0)} <= set(ready)


def test_a_server_app_without_an_index_starts_and_says_so(
    positions_dir, index_dir, monkeypatch, caplog
):
    app = server_app(positions_dir, index_dir, monkeypatch)
    assert "Serving without a warmed-up index" in caplog.text
    assert app.test_client().get("/api/search?q=x").status_code == 503
