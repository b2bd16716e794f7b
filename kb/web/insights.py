"""Counting searches for editors' insights (``kb.insights``), from the web side.

Search views call ``count_search(found)``: one dictionary update, never an error page.
A result opened from a results page is reported by site.js with ``navigator.sendBeacon``
to ``POST /search/opened``, whose body is the search text and nothing else. Result
links stay plain links to the position: without JavaScript they work the same and the
open is simply not counted. The preview counts nothing: its searches are editors'.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, request, url_for

from kb.insights.counter import SearchCounter
from kb.insights.store import InsightsStore
from kb.search.engine import SearchResults
from kb.service import knowledge_base_of
from kb.web.views import knowledge_base

EXTENSION = "kb_insights"
OPENED_ENDPOINT = "search_opened"

log = logging.getLogger(__name__)


def counter() -> SearchCounter | None:
    """This app's counter, or None when counting is off or this is the preview."""
    if knowledge_base().settings.preview:
        return None
    return current_app.extensions.get(EXTENSION)


def count_search(found: SearchResults | None) -> None:
    """Count the search of this request, if it is a new one; never raises or waits.

    Only a first page of results, unfiltered and by relevance, is counted: the next
    page, a topic filter or another sort order refine a search already counted.
    """
    if found is None or request.method != "GET":
        return
    req = found.request
    if req.page != 1 or req.topics or req.sort != "relevance":
        return
    try:
        active = counter()
        if active is not None:
            # Positions found only by meaning hold none of the words: for the editors'
            # report of what readers looked for and no position answers, that is none.
            active.count_search(req.q, 0 if found.matched == "meaning" else found.total)
    except Exception:  # noqa: BLE001 — counting must never turn a search into an error page
        log.exception("search insights: could not count a search")


def opened():
    """A result of a search was opened; the body is the search text (``q``) only."""
    active = counter()
    if active is not None:
        active.count_opened(request.form.get("q", ""))
    return "", 204


def opened_url() -> str:
    """Where site.js reports an opened result, or "" when nothing is counted."""
    return url_for(OPENED_ENDPOINT) if counter() is not None else ""


def init_app(app: Flask) -> None:
    """Create this process's counter (when counting is on) and the beacon endpoint.

    The endpoint is a plain app rule, not a blueprint, so the search blueprints can call
    ``count_search`` from here without one blueprint importing another.
    """
    settings = knowledge_base_of(app).settings
    if settings.insights:
        store = InsightsStore(settings.insights_folder)
        app.extensions[EXTENSION] = SearchCounter(store, settings.insights_keep_months)
    app.add_url_rule("/search/opened", OPENED_ENDPOINT, opened, methods=["POST"])
    app.add_template_global(opened_url, "insights_opened_url")
