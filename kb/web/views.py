"""Shared view helpers: the knowledge base of this app and request parsing."""

from __future__ import annotations

from flask import abort, request

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
    record = knowledge_base().position(slug)
    if record is None:
        abort(404, "No position has that address.")
    return record
