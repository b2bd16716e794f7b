"""A client that goes away mid-response leaves no file open behind it.

Browsers abandon requests all the time (a page navigates while its script loads). If a
response holds an open file, Werkzeug's server can drop the connection before closing it,
and the file is closed only by the garbage collector, with a ResourceWarning that
``filterwarnings = error`` turns into a failure at random.
"""

from __future__ import annotations

import gc
import socket
import struct
import time
import warnings

from tests.live_server import HOST, serve_in_thread

STATIC_FILES = ("site.js", "site.css", "icon.svg")


def abandon(port: int, target: str, after: float) -> None:
    """Send a GET, wait ``after`` seconds, then reset the connection (RST, not a close)."""
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        time.sleep(after)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_abandoned_static_requests_leave_no_open_file(starter_app):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with serve_in_thread(starter_app) as base:
            port = int(base.rsplit(":", 1)[1])
            # Resets at moments spread over the server's work: before, while and after it
            # writes the response, and while it drains the connection.
            for round_ in range(40):
                for name in STATIC_FILES:
                    abandon(port, f"/static/{name}?v={round_}", after=round_ * 0.0005)
            gc.collect()
        gc.collect()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaked == []


def test_static_files_answer_conditional_requests(starter_client):
    first = starter_client.get("/static/site.js")
    assert first.status_code == 200 and first.data and first.headers["ETag"]
    again = starter_client.get("/static/site.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert starter_client.get("/static/../app.py").status_code == 404
    assert starter_client.get("/static/nothing-here.js").status_code == 404
