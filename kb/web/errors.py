"""One error shape: JSON under /api/, a friendly page elsewhere; never a traceback."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from kb.index.store import IndexMissing

MISSING_INDEX = "The search index has not been built yet. Run: flask --app app kb index"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str):
    if wants_json():
        response = jsonify({"ok": False, "error": message, "status": status})
    else:
        response = render_template("error.html", status=status, message=message)
    return response, status


def handle_http(exc: HTTPException):
    return error_response(exc.code or 500, exc.description or exc.name)


def handle_missing_index(exc: IndexMissing):
    response, status = error_response(503, MISSING_INDEX)
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
