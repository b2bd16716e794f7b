"""Shared view helpers: the knowledge base of this app and request parsing."""

from __future__ import annotations

from flask import abort, redirect, request

from kb.cite.catalogue import moved_to
from kb.index.records import PositionRecord
from kb.limits import MAX_ADDRESS_CHARS
from kb.search.engine import SearchRequest
from kb.service import KnowledgeBase, current_kb


def knowledge_base() -> KnowledgeBase:
    return current_kb()


def search_request() -> SearchRequest:
    """The search the current URL describes; odd values fall back to defaults."""
    args = request.args
    topics = args.getlist("topic")
    return SearchRequest.from_args(
        args.get("q", ""), topics, args.get("page", 1), args.get("per_page", 10),
        args.get("sort", "relevance"), args.get("spell"),
    )  # fmt: skip


def get_position_or_404(slug: str) -> PositionRecord:
    """The stored record of a visible position, or a 404."""
    if len(slug) > MAX_ADDRESS_CHARS:
        abort(404, "No position has that address.")
    kb = knowledge_base()
    record = kb.position(slug)
    if record is None:
        target = moved_to(kb, slug)
        if target and request.path.endswith(slug):
            # A renamed position: the old address (page or API) leads to the new one.
            query = request.query_string.decode("latin-1")
            new = request.path[: -len(slug)] + target + (f"?{query}" if query else "")
            abort(redirect(new, 301))
        abort(404, "No position has that address.")
    return record
