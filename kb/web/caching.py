"""HTTP caching and compression, so a CDN (or the browser) can absorb traffic spikes.

Pages and API responses carry a weak ETag per resource: the index revision, the code that
renders them, the editors' side files (topics, synonyms, ledger), the address with its
query, and today's date on the pages that print it (citations say "accessed <today>").
The ETag is computed after the view has decided the status, so only a 200 ever carries
one and only a 200 can become a 304: a 404, 400 or 503 is never answered "not modified",
whatever ``If-None-Match`` says. Static files are addressed as ``/static/x?v=<content hash>``
and cached for a year. Text responses over 500 bytes are gzipped when the client accepts it.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from datetime import date
from pathlib import Path

from flask import Flask, Response, current_app, request

from kb.cite.ledger import LEDGER_FILE
from kb.index.store import IndexMissing
from kb.search.synonyms import EDITORS_FILE
from kb.service import TOPICS_FILE, KnowledgeBase, current_kb

CACHED_BLUEPRINTS = frozenset({"pages", "api", "discovery", "cite"})
DATED_BLUEPRINTS = frozenset({"cite"})  # citation pages and formats print "accessed <today>"
UNCACHED_ENDPOINTS = frozenset({"discovery.healthz"})
# Files in the content folder that change what pages say without a new index revision:
# topic labels, synonyms, and the citation ledger (which /cite pages read as it changes).
SIDE_FILES = (TOPICS_FILE, EDITORS_FILE, LEDGER_FILE)
PAGE_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=60"
PREVIEW_CACHE_CONTROL = "private, no-cache"
STATIC_CACHE_CONTROL = "public, max-age=31536000, immutable"
UNVERSIONED_STATIC_CACHE_CONTROL = "public, no-cache"
MIN_GZIP_BYTES = 500
# zlib's fastest level: a 24 KB search answer packs in 0.22 ms to 29 % of its size, against
# 0.59 ms and 26 % at the default level 6, paid on every dynamic response.
GZIP_LEVEL = 1
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
    """The opaque (unquoted) ETag prefix shared by every page under the live revision."""
    digest = hashlib.sha256(fingerprint.encode())
    for name in SIDE_FILES:
        digest.update(DIGESTS.digest(kb.settings.positions_dir / name).encode())
    return f"{kb.revision()}-{digest.hexdigest()[:12]}"


def resource_etag(kb: KnowledgeBase, fingerprint: str) -> str:
    """The ETag of this request's resource: the page tag, the address, and the date on
    pages that print it, so yesterday's "accessed" date is never kept."""
    digest = hashlib.sha256(page_etag(kb, fingerprint).encode())
    digest.update(request.full_path.encode())
    if request.blueprint in DATED_BLUEPRINTS:
        digest.update(date.today().isoformat().encode())
    return f"{kb.revision()}-{digest.hexdigest()[:16]}"


def is_cacheable_request() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and request.blueprint in CACHED_BLUEPRINTS
        and request.endpoint not in UNCACHED_ENDPOINTS
    )


def cache_control(kb: KnowledgeBase) -> str:
    # Drafts are visible in preview mode: never let a shared cache keep them.
    return PREVIEW_CACHE_CONTROL if kb.settings.preview else PAGE_CACHE_CONTROL


def add_cache_headers(response: Response) -> Response:
    """ETag and Cache-Control for pages (a 304 when the client's copy is current); a
    year for versioned static files. Runs after the view, so only a 200 gets an ETag."""
    if request.endpoint == "static":
        if response.status_code in (200, 304):
            wanted = request.args.get("v")
            current = static_version((request.view_args or {}).get("filename", ""))
            fresh = wanted is not None and wanted == current
            response.headers["Cache-Control"] = (
                STATIC_CACHE_CONTROL if fresh else UNVERSIONED_STATIC_CACHE_CONTROL
            )
        return response
    etag = _etag_for(response)
    if etag is None:
        if response.status_code != 304 and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-cache"
        return response
    kb: KnowledgeBase = current_kb()
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = cache_control(kb)
    return response


def _etag_for(response: Response) -> str | None:
    """The resource's ETag when this response may be cached, else None."""
    if response.status_code != 200 or not is_cacheable_request():
        return None
    try:
        return resource_etag(current_kb(), current_app.extensions["kb_fingerprint"])
    except IndexMissing:
        return None  # served from a pinned generation the disk no longer has: no tag


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
    packed = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    if len(packed) >= len(data):
        return
    response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)  # the bytes changed, the meaning did not


def finish_response(response: Response) -> Response:
    response = add_cache_headers(response)
    compress(response)
    return response


def init_app(app: Flask) -> None:
    """Compute the code fingerprint once and install the request hooks."""
    app.extensions["kb_fingerprint"] = code_fingerprint(Path(__file__).resolve().parents[1])
    app.after_request(finish_response)
