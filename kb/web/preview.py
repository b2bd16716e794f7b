"""Preview-only pages: every current content problem, and each position's own problems.

Registered only in preview mode (``KB_PREVIEW`` on, or ``flask kb serve``), so the public
site never shows editors' errors. The problems come from the live indexer's last check
(``kb.preview``); without it the pages say that live checking is off.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace

from flask import Blueprint, Flask, current_app, render_template, request

from kb.content.model import Problem
from kb.index.store import IndexMissing
from kb.insights import normalise_query
from kb.insights.report import DEFAULT_DAYS, new_position_command, read_report
from kb.preview_state import STATE_KEY, PreviewState, Snapshot
from kb.service import KnowledgeBase, knowledge_base_of
from kb.service import init_app as init_kb
from kb.web.views import knowledge_base

bp = Blueprint("preview", __name__, url_prefix="/preview")
MAX_DAYS = 3660  # ?days= of the searches report; counts are kept far less long anyway


def snapshot() -> Snapshot:
    return current_app.extensions[STATE_KEY].current


@bp.get("/problems")
def problems():
    """Every problem the last check found, grouped by file."""
    current = snapshot()
    groups: dict[str, list[Problem]] = {}
    for problem in current.problems:
        groups.setdefault(problem.path, []).append(problem)
    try:
        slugs = {r.path: r.slug for r in knowledge_base().records()}
    except IndexMissing:
        slugs = {}  # this page must work when nothing could be indexed at all
    checked = time.strftime("%H:%M:%S", time.localtime(current.checked_at or 0))
    return render_template(
        "preview_problems.html", snapshot=current, groups=groups, slugs=slugs, checked=checked
    )


@bp.get("/searches")
def searches():
    """What visitors searched for (``flask kb searches``), each row linking to its search."""
    config = knowledge_base().settings
    days = request.args.get("days", "").strip()
    days = int(days) if days.isdigit() and 0 < int(days) <= MAX_DAYS else DEFAULT_DAYS
    try:
        report, failure = read_report(config, days=days), None
    except (sqlite3.Error, OSError) as exc:
        report, failure = (
            None,
            f"Could not read the search counts in {config.insights_folder}: {exc}",
        )
    return render_template("preview_searches.html", report=report, failure=failure, days=days,
                           counting=config.insights)  # fmt: skip


@bp.get("/searches/new")
def new_position():
    """How to start a position that answers a search: the ``flask kb new`` command."""
    query = normalise_query(request.args.get("q", ""))
    return render_template(
        "preview_new_position.html", query=query, command=new_position_command(query)
    )


def problems_for(path: str) -> tuple[Problem, ...]:
    return snapshot().for_path(path)


def shows_last_good(path: str) -> bool:
    """Whether the page of ``path`` shows an older version because the file has errors."""
    return path in snapshot().kept


def status() -> str:
    """The banner's link text, e.g. 'Content problems: 2 errors, 1 warning'."""
    current = snapshot()
    if current.checked_at is None:
        return "Content problems: live checking is off"
    if not current.problems:
        return "No content problems"
    errors, warnings = current.errors, current.warnings
    return (
        f"Content problems: {errors} error{'' if errors == 1 else 's'}, "
        f"{warnings} warning{'' if warnings == 1 else 's'}"
    )


@bp.app_context_processor
def inject_preview() -> dict:
    return {
        "preview_problems": problems_for,
        "preview_shows_last_good": shows_last_good,
        "preview_status": status,
    }


class AlwaysFresh:
    """WSGI wrapper: never answer a preview request with 304 Not Modified.

    Page ETags follow the index revision, but a file that turns invalid keeps the
    revision (its last good version stays) while its page gains an error box.
    """

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ.pop("HTTP_IF_NONE_MATCH", None)
        environ.pop("HTTP_IF_MODIFIED_SINCE", None)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Add the preview pages, when the app is in preview mode (and only once)."""
    if not knowledge_base_of(app).settings.preview or bp.name in app.blueprints:
        return
    app.extensions[STATE_KEY] = PreviewState()
    app.register_blueprint(bp)
    app.wsgi_app = AlwaysFresh(app.wsgi_app)


def enable_preview(app: Flask) -> Flask:
    """Switch an app that has not served yet to preview mode: drafts and problems shown."""
    settings = knowledge_base_of(app).settings
    if not settings.preview:
        init_kb(app, KnowledgeBase(replace(settings, preview=True)))
    init_app(app)
    return app
