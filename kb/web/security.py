"""Security headers on every response; no inline script or style is ever needed.

HSTS is sent only on HTTPS requests. Behind a TLS-terminating proxy the app learns the
scheme from X-Forwarded-Proto, which it believes only when KB_TRUST_PROXY=1 (gunicorn
does the same on its own for the addresses in its ``forwarded_allow_ips``).
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from kb.service import knowledge_base_of

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def add_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
    if knowledge_base_of(app).settings.trust_proxy:
        # One proxy in front: its X-Forwarded-For/-Proto are the client's address and scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
