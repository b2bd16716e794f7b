"""Static files served from memory, so no request holds a file open.

Flask's own static view streams an open file. When a browser abandons a request (it
navigates away while a script is loading), Werkzeug's server can give up on the
connection before closing the response, and the file is left for the garbage collector:
a ResourceWarning, and under ``filterwarnings = error`` a test that fails at random. Our
static files are a few small assets, so each is read once (again only when it changes)
and served as bytes.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from flask import Flask, Response, abort, current_app, request
from werkzeug.security import safe_join


@dataclass(frozen=True)
class Asset:
    data: bytes
    stamp: tuple[int, int]  # (modification time in ns, size): re-read when it changes
    etag: str
    modified: float


class AssetCache:
    """The bytes of each static file, keyed by path."""

    def __init__(self) -> None:
        self.assets: dict[str, Asset] = {}
        self.lock = threading.Lock()

    def get(self, path: str) -> Asset | None:
        """The file's current contents, or None when it is not a readable regular file."""
        try:
            stat = Path(path).stat()
        except (OSError, ValueError):  # missing, a name too long, a NUL byte…
            return None
        if not S_ISREG(stat.st_mode):
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self.lock:
            known = self.assets.get(path)
        if known and known.stamp == stamp:
            return known
        try:
            data = Path(path).read_bytes()  # read whole and closed at once
        except OSError:
            return None
        asset = Asset(data, stamp, hashlib.sha256(data).hexdigest()[:32], stat.st_mtime)
        with self.lock:
            self.assets[path] = asset
        return asset


ASSETS = AssetCache()


def send_static(filename: str) -> Response:
    """One static file, with ETag and Last-Modified for conditional requests."""
    folder = current_app.static_folder or ""
    path = safe_join(folder, filename)
    asset = ASSETS.get(path) if path else None
    if asset is None:
        abort(404)
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    response = Response(asset.data, mimetype=mimetype)
    response.set_etag(asset.etag)
    response.last_modified = asset.modified
    response.cache_control.public = True
    response.cache_control.max_age = current_app.get_send_file_max_age(filename)
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Serve ``/static/<filename>`` from memory instead of from an open file."""
    app.view_functions["static"] = send_static
