"""One error shape: JSON under /api/, a friendly page elsewhere; never a traceback."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from kb.index.reader import IndexUnreadable, NoCompleteIndex
from kb.index.store import IndexMissing

MISSING_INDEX = (
    "The search index has not been built yet, or its folder was deleted. "
    "Run: flask --app app kb index"
)
INCOMPLETE_INDEX = (
    "The search index folder has no complete index (a build was interrupted, or its files "
    "were removed). Run: flask --app app kb index"
)
UNREADABLE_INDEX = (
    "The search index cannot be opened (its files are damaged, or another version built "
    "it). Run: flask --app app kb index --rebuild"
)


def index_message(exc: IndexMissing) -> str:
    """What really happened to the index, in words an operator can act on."""
    if isinstance(exc, NoCompleteIndex):
        return INCOMPLETE_INDEX
    if isinstance(exc, IndexUnreadable):
        return UNREADABLE_INDEX
    return MISSING_INDEX


JSON_PATHS = ("/api/", "/healthz")  # for programs: errors in the one JSON shape


def wants_json() -> bool:
    return request.path.startswith(JSON_PATHS)


def error_response(status: int, message: str):
    if wants_json():
        response = jsonify({"ok": False, "error": message, "status": status})
    else:
        response = render_template("error.html", status=status, message=message)
    return response, status


def handle_http(exc: HTTPException):
    """Any HTTP error in the site's shape, keeping its own headers (a 405's ``Allow``)."""
    response, status = error_response(exc.code or 500, exc.description or exc.name)
    kept = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return response, status, kept


def handle_missing_index(exc: IndexMissing):
    response, status = error_response(503, index_message(exc))
    return response, status, {"Retry-After": "30"}


def handle_unexpected(exc: Exception):
    # Logged with its traceback for the operator; the visitor sees a plain message.
    from flask import current_app

    current_app.logger.exception("unhandled error on %s", request.path)
    return error_response(500, InternalServerError.description)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(IndexMissing, handle_missing_index)
    app.register_error_handler(Exception, handle_unexpected)
    app.jinja_env.globals["ServiceUnavailable"] = ServiceUnavailable
