"""The Flask application factory: ``flask --app app run`` or ``gunicorn 'app:create_app()'``."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from kb import cli, service, web
from kb.config import Settings
from kb.limits import MAX_REQUEST_BODY_BYTES


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    """Build the app. It only opens the index; `flask kb index` builds it."""
    app = Flask(__name__, template_folder="kb/templates", static_folder="kb/static")
    settings = Settings.from_mapping(test_config)
    service.init_app(app, service.KnowledgeBase(settings))
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_REQUEST_BODY_BYTES,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if not k.startswith("KB_")})
    app.json.sort_keys = False  # keep the documented field order in API responses
    web.init_app(app)
    cli.init_app(app)
    return app
