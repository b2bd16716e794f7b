"""HTTP caching and compression, so a CDN (or the browser) can absorb traffic spikes.

Pages and API responses carry a weak ETag built from the index revision, the code that
renders them and the editors' side files (topics, synonyms). A matching If-None-Match gets
a 304 before any rendering. Static files are addressed as ``/static/x?v=<content hash>``
and cached for a year. Text responses over 500 bytes are gzipped when the client accepts it.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from pathlib import Path

from flask import Flask, Response, current_app, g, request

from kb.cite.ledger import LEDGER_FILE
from kb.index.store import IndexMissing
from kb.search.synonyms import EDITORS_FILE
from kb.service import TOPICS_FILE, KnowledgeBase, current_kb

CACHED_BLUEPRINTS = frozenset({"pages", "api", "discovery", "cite"})
UNCACHED_ENDPOINTS = frozenset({"discovery.healthz"})
# Files in the content folder that change what pages say without a new index revision:
# topic labels, synonyms, and the citation ledger (which /cite pages read as it changes).
SIDE_FILES = (TOPICS_FILE, EDITORS_FILE, LEDGER_FILE)
PAGE_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=60"
PREVIEW_CACHE_CONTROL = "private, no-cache"
STATIC_CACHE_CONTROL = "public, max-age=31536000, immutable"
UNVERSIONED_STATIC_CACHE_CONTROL = "public, no-cache"
MIN_GZIP_BYTES = 500
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/plain",
        "text/xml",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/xml",
        "application/atom+xml",
        "application/opensearchdescription+xml",
        "application/x-suggestions+json",
        "image/svg+xml",
    }
)
CODE_SUFFIXES = (".py", ".html", ".css", ".js", ".txt", ".svg")


class DigestCache:
    """SHA-256 of files, recomputed only when a file's size or modification time changes."""

    def __init__(self) -> None:
        self.entries: dict[Path, tuple[tuple[int, int], str]] = {}
        self.lock = threading.Lock()

    def digest(self, path: Path) -> str:
        """The file's hex digest, or "-" when it does not exist."""
        try:
            stat = path.stat()
        except OSError:
            return "-"
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self.lock:
            cached = self.entries.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            value = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return "-"
        with self.lock:
            self.entries[path] = (stamp, value)
        return value


DIGESTS = DigestCache()


def code_fingerprint(package_dir: Path) -> str:
    """A digest of every source, template and static file: changes with each deploy."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*")):
        if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package_dir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def static_version(filename: str) -> str:
    """A short content hash of one static file, for cache-busting URLs."""
    folder = Path(current_app.static_folder or "")
    return DIGESTS.digest(folder / filename)[:12]


def page_etag(kb: KnowledgeBase, fingerprint: str) -> str:
    """The opaque (unquoted) ETag of every page under the live index revision."""
    digest = hashlib.sha256(fingerprint.encode())
    for name in SIDE_FILES:
        digest.update(DIGESTS.digest(kb.settings.positions_dir / name).encode())
    return f"{kb.revision()}-{digest.hexdigest()[:12]}"


def is_cacheable_request() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and request.blueprint in CACHED_BLUEPRINTS
        and request.endpoint not in UNCACHED_ENDPOINTS
    )


def cache_control(kb: KnowledgeBase) -> str:
    # Drafts are visible in preview mode: never let a shared cache keep them.
    return PREVIEW_CACHE_CONTROL if kb.settings.preview else PAGE_CACHE_CONTROL


def answer_conditional_get() -> Response | None:
    """Before the view runs: a 304 when the client's copy is still current.

    The ETag is taken before rendering, so if a new revision lands mid-request the page
    carries the older tag and is simply fetched again next time, never wrongly kept.
    """
    if not is_cacheable_request():
        return None
    kb: KnowledgeBase = current_kb()
    try:
        etag = page_etag(kb, current_app.extensions["kb_fingerprint"])
    except IndexMissing:
        return None  # the view raises it again and the error handler answers 503
    g.kb_etag = etag
    if not request.if_none_match.contains_weak(etag):
        return None
    response = Response(status=304)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = cache_control(kb)
    response.vary.add("Accept-Encoding")
    return response


def add_cache_headers(response: Response) -> None:
    """ETag and Cache-Control for pages; a year for versioned static files."""
    if request.endpoint == "static":
        if response.status_code in (200, 304):
            wanted = request.args.get("v")
            current = static_version((request.view_args or {}).get("filename", ""))
            fresh = wanted is not None and wanted == current
            response.headers["Cache-Control"] = (
                STATIC_CACHE_CONTROL if fresh else UNVERSIONED_STATIC_CACHE_CONTROL
            )
        return
    etag = g.get("kb_etag")
    if etag and response.status_code == 200 and request.method in ("GET", "HEAD"):
        response.set_etag(etag, weak=True)
        response.headers["Cache-Control"] = cache_control(current_kb())
    elif response.status_code != 304 and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-cache"


def accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def compress(response: Response) -> None:
    """Gzip a text response over MIN_GZIP_BYTES when the client accepts it."""
    if response.mimetype not in COMPRESSIBLE:
        return
    response.vary.add("Accept-Encoding")
    if (
        response.status_code < 200
        or response.status_code in (204, 206, 304)
        or "Content-Encoding" in response.headers
        or not accepts_gzip()
    ):
        return
    if response.direct_passthrough:
        if request.endpoint != "static":
            return
        response.direct_passthrough = False  # a small static file: read it to compress it
    elif response.is_streamed:
        return
    data = response.get_data()
    if len(data) <= MIN_GZIP_BYTES:
        return
    packed = gzip.compress(data, compresslevel=6, mtime=0)
    if len(packed) >= len(data):
        return
    response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)  # the bytes changed, the meaning did not


def finish_response(response: Response) -> Response:
    add_cache_headers(response)
    compress(response)
    return response


def init_app(app: Flask) -> None:
    """Compute the code fingerprint once and install the request hooks."""
    app.extensions["kb_fingerprint"] = code_fingerprint(Path(__file__).resolve().parents[1])
    app.before_request(answer_conditional_get)
    app.after_request(finish_response)
