"""Security headers on every response; no inline script or style is ever needed.

HSTS is sent only on HTTPS requests. Behind a TLS-terminating proxy the app learns the
scheme from X-Forwarded-Proto, which it believes only when KB_TRUST_PROXY=1 (gunicorn
does the same on its own for the addresses in its ``forwarded_allow_ips``).
"""

from __future__ import annotations

import io

from flask import Flask, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

from kb.limits import MAX_REQUEST_BODY_BYTES
from kb.service import knowledge_base_of

BODY_TOO_LARGE = f"The request body is over the limit of {MAX_REQUEST_BODY_BYTES // 1024} KiB."

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# Sent on every response, including the errors gunicorn answers itself (kb/web/server.py).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def add_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.update(SECURITY_HEADERS)
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def limit_body() -> None:
    """413 for a body over the limit on every method, GET included.

    Flask only enforces MAX_CONTENT_LENGTH when a view reads the body, and GET views never
    do. A declared length is refused unread; a chunked body (which gunicorn marks
    ``wsgi.input_terminated``) is read here, never past the limit, and kept for the view.
    """
    limit = MAX_REQUEST_BODY_BYTES
    if request.content_length is not None:
        if request.content_length > limit:
            abort(413, BODY_TOO_LARGE)
    elif request.environ.get("wsgi.input_terminated"):
        body = _read_at_most(request.environ["wsgi.input"], limit + 1)
        if len(body) > limit:
            abort(413, BODY_TOO_LARGE)
        request.environ["wsgi.input"] = io.BytesIO(body)  # what was read, for the view


def _read_at_most(stream, size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0 and (chunk := stream.read(size)):
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def init_app(app: Flask) -> None:
    app.before_request(limit_body)
    app.after_request(add_headers)
    if knowledge_base_of(app).settings.trust_proxy:
        # One proxy in front: its X-Forwarded-For/-Proto are the client's address and scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
