"""Old addresses answer with a permanent redirect to where the position lives now.

A folder brought from Hugo (``aliases:``) or Jekyll (``redirect_from:``) lists the
addresses its pages had on the old site; a file whose ``slug:`` replaces its name keeps
the name's address. Only a request that would otherwise be a 404 is redirected, so an
alias can never hide a real page.
"""

from __future__ import annotations

from flask import Flask, redirect, request, url_for
from werkzeug.exceptions import NotFound

from kb.index.store import IndexMissing
from kb.web.errors import handle_http
from kb.web.views import knowledge_base

MAX_PATH_CHARS = 1000  # longer request paths are never an old address


def handle_not_found(exc: NotFound):
    """301 to the position an old address names; the usual 404 for everything else."""
    if request.method in ("GET", "HEAD") and len(request.path) <= MAX_PATH_CHARS:
        try:
            slug = knowledge_base().redirect(request.path)
        except IndexMissing:
            slug = None
        if slug:
            target = url_for("pages.position", slug=slug, **request.args.to_dict(flat=False))
            return redirect(target, code=301)
    return handle_http(exc)


def init_app(app: Flask) -> None:
    app.register_error_handler(NotFound, handle_not_found)
