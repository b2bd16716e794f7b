"""The Flask application factory: ``flask --app app run`` or ``gunicorn 'app:create_app()'``."""

from __future__ import annotations

import sys
from collections.abc import Mapping

import click
from flask import Flask

from kb import service, web
from kb.config import Settings
from kb.index.reader import IndexMissing
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
    app.cli.add_command(
        _CommandsWhenRun("kb", help="Build the index, check content, scaffold positions.")
    )
    if not app.testing and "gunicorn" in sys.modules:
        _warm_up(app)
    return app


def _warm_up(app: Flask) -> None:
    """A server's app reads what its first searches would before it answers any: a
    gunicorn worker otherwise spent about half a second of CPU on it during its first
    hundred searches. With gunicorn.conf.py (``preload_app``) this runs once, in the
    main process, and the workers it forks share the result."""
    try:
        service.knowledge_base_of(app).warm_up()
    except IndexMissing as exc:
        app.logger.warning("Serving without a warmed-up index: %s", exc)


class _CommandsWhenRun(click.Group):
    """The `flask kb …` commands (kb/cli.py), imported only when one is run or listed:
    they bring the indexer, the checker and Markdown, which serving never needs (a
    fifth of a cold start)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return _commands().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return _commands().get_command(ctx, name)


def _commands() -> click.Group:
    from kb.cli import kb_cli

    return kb_cli
