"""The gunicorn worker production runs (``worker_class`` in ``gunicorn.conf.py``).

gunicorn's threaded worker, with two changes:

- Errors gunicorn answers itself, before the app sees the request (a malformed request
  line, 414 URI too long, 431 headers too large), come in the app's JSON error shape with
  its security headers. gunicorn has not read the address yet for most of them, so every
  path gets JSON; a browser never sends such requests.
- A worker is not recycled (``max_requests``) while the index folder has no live index:
  it still serves the generation it holds open, and a new worker would have none. It is
  recycled as usual once an index is back.
"""

from __future__ import annotations

import json
import sys

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from kb.index import store
from kb.service import EXTENSION
from kb.web.security import CSP, SECURITY_HEADERS

MAX_DETAIL_CHARS = 200  # gunicorn's message may quote the request: keep it short


def write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error``, answering JSON with the security headers."""
    detail = f"{reason}: {mesg}" if mesg else reason
    body = json.dumps(
        {"ok": False, "error": detail[:MAX_DETAIL_CHARS], "status": status_int}
    ).encode()
    headers = {
        "Connection": "close",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Cache-Control": "no-cache",
        "Content-Security-Policy": CSP,
        **SECURITY_HEADERS,
    }
    head = f"HTTP/1.1 {status_int} {reason}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    util.write_nonblock(sock, head.encode("latin-1") + b"\r\n" + body)


class Worker(ThreadWorker):
    """gunicorn's gthread worker with JSON errors and index-aware recycling."""

    def init_process(self) -> None:
        util.write_error = write_error  # this worker process only; base.py calls it here
        self.recycle_after = self.max_requests
        super().init_process()

    def handle_request(self, req, conn):
        # gunicorn counts the request and compares the count with max_requests inside
        # handle_request; the index is looked for only when this request would recycle.
        if self.nr + 1 >= self.recycle_after:
            self.max_requests = self.recycle_after if self._index_on_disk() else sys.maxsize
        return super().handle_request(req, conn)

    def _index_on_disk(self) -> bool:
        kb = getattr(self.wsgi, "extensions", {}).get(EXTENSION)
        return kb is None or store.current_revision(kb.settings.index_dir) is not None
