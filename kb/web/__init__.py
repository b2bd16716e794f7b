"""The Flask surfaces: pages, JSON API, errors and headers."""

from __future__ import annotations

from flask import Flask

from kb.web import (
    api,
    caching,
    cite,
    discovery,
    errors,
    pages,
    preview,
    redirects,
    security,
    static_files,
    urls,
)


def init_app(app: Flask) -> None:
    """Register every blueprint, handler and template helper."""
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(cite.bp)
    app.register_blueprint(discovery.bp)
    errors.init_app(app)
    redirects.init_app(app)  # after errors: its 404 handler is the more specific
    security.init_app(app)
    caching.init_app(app)
    urls.init_app(app)
    static_files.init_app(app)
    preview.init_app(app)  # preview mode only
