"""The JSON API: the contract other tools and the tests rely on."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from kb.index.records import PositionMeta, PositionRecord
from kb.search.engine import SearchResults
from kb.web.insights import count_search
from kb.web.urls import cite_url, links, passage_url, position_url
from kb.web.views import get_position_or_404, knowledge_base, search_request

bp = Blueprint("api", __name__, url_prefix="/api")


def search_json(found: SearchResults) -> dict:
    """The /api/search body for one SearchResults value."""
    req, link = found.request, links()
    return {
        "query": req.q,
        "total": found.total,
        "page": req.page,
        "per_page": req.per_page,
        "sort": req.sort,
        "topics": list(req.topics),
        "matched": found.matched,
        "did_you_mean": found.did_you_mean,
        "unmatched": list(found.unmatched),
        "corrected": found.corrected,
        "original": found.original,
        "answer_confident": found.answer_confident,
        "facets": {"topics": found.facets},
        "results": [
            {
                "slug": r.slug,
                "title": r.title,
                "url": link.position(r.slug),
                "summary": r.summary,
                "topics": list(r.topics),
                "updated": r.updated,
                "score": round(r.score, 4),
                "snippet": r.snippet,
                "missing": list(r.missing),
                "passages": [
                    {
                        "id": p.id,
                        "heading": p.heading,
                        "text": p.text,
                        "snippet": p.snippet,
                        "url": link.position(p.slug, p.anchor),
                        "cite_url": link.cite(p.id),
                    }
                    for p in r.passages
                ],
            }
            for r in found.results
        ],
    }


def position_json(record: PositionRecord, related: list[PositionRecord]) -> dict:
    """The /api/positions/<slug> body: the position, its passages and related positions."""
    return {
        "slug": record.slug,
        "title": record.title,
        "summary": record.summary,
        "topics": list(record.topics),
        "status": record.status,
        "updated": record.updated,
        "authors": list(record.authors),
        "url": position_url(record.slug),
        "passages": [
            {
                "id": p.id,
                "heading": p.heading,
                "text": p.text,
                "url": passage_url(record.slug, p.anchor),
                "cite_url": cite_url(p.id),
            }
            for p in record.passages
        ],
        "related": [
            {"slug": r.slug, "title": r.title, "url": position_url(r.slug)} for r in related
        ],
    }


def listing_json(meta: PositionMeta) -> dict:
    """A position as the list of positions shows it."""
    return {"slug": meta.slug, "title": meta.title, "summary": meta.summary,
            "topics": list(meta.topics), "updated": meta.updated,
            "url": position_url(meta.slug)}  # fmt: skip


@bp.get("/search")
def search():
    """Ranked positions with their best passages."""
    found = knowledge_base().search(search_request())
    count_search(found)
    return jsonify(search_json(found))


@bp.get("/positions/<path:slug>")
def position(slug: str):
    """One position with its passages."""
    record = get_position_or_404(slug)
    return jsonify(position_json(record, knowledge_base().related(record.slug)))


@bp.get("/positions")
def positions():
    """Every visible position, most recently updated first."""
    records = knowledge_base().records()
    return jsonify(
        {
            "total": len(records),
            "positions": [listing_json(record.meta) for record in records],
        }
    )


@bp.get("/suggest")
def suggest():
    """Title, phrase and word completions for as-you-type search."""
    found = knowledge_base().suggest(request.args.get("q", ""))
    titles = [{"slug": m.slug, "title": m.title, "url": position_url(m.slug)} for m in found.titles]
    return jsonify({"query": found.query, "titles": titles, "phrases": list(found.phrases),
                    "words": list(found.words)})  # fmt: skip
