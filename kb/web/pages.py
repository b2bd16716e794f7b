"""The HTML pages. Each view fetches one value and renders it."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, request, url_for

from kb.web.as_of import position_as_of
from kb.web.views import get_position_or_404, knowledge_base, search_request

bp = Blueprint("pages", __name__)
RECENT = 6


def with_json_twin(html: str, api_url: str):
    """The page, announcing the API URL that returns the same data as JSON."""
    response = make_response(html)
    response.headers["Link"] = f'<{api_url}>; rel="alternate"; type="application/json"'
    return response


@bp.get("/")
def home():
    """Search box, topics with counts, recently updated positions."""
    kb = knowledge_base()
    return render_template("home.html", topics=kb.topics(), recent=kb.records()[:RECENT])


@bp.get("/search")
def search():
    """Server-rendered results: works fully without JavaScript."""
    req = search_request()
    found = knowledge_base().search(req) if (req.q.strip() or req.topics) else None
    html = render_template("search.html", req=req, found=found)
    return with_json_twin(html, url_for("api.search", **request.args.to_dict(flat=False)))


@bp.get("/positions/<path:slug>")
def position(slug: str):
    """One position, every passage carrying its anchor; ?as_of=YYYY-MM-DD for a past one."""
    if request.args.get("as_of", "").strip():
        return position_as_of(slug, request.args["as_of"])
    record = get_position_or_404(slug)
    html = render_template("position.html", position=record)
    return with_json_twin(html, url_for("api.position", slug=record.slug))


@bp.get("/positions")
def positions():
    """Every position, A to Z, or most recently updated first with ?sort=updated."""
    records = knowledge_base().records()
    sort = "updated" if request.args.get("sort") == "updated" else "title"
    if sort == "title":
        records = sorted(records, key=lambda r: r.title.lower())
    html = render_template("positions.html", positions=records, sort=sort)
    return with_json_twin(html, url_for("api.positions"))


@bp.get("/topics/<topic>")
def topic(topic: str):
    """Positions under one topic, most recently updated first."""
    records = knowledge_base().records_with_topic(topic)
    if not records:
        abort(404, "No positions have that topic.")
    return render_template("topic.html", topic=topic, positions=records)


@bp.get("/help/search")
def search_help():
    """How to search: the small query syntax."""
    return render_template("help.html")


@bp.app_context_processor
def inject_site():
    kb = knowledge_base()
    return {"site_name": kb.settings.site_name, "preview": kb.settings.preview,
            "topic_label": kb.topic_label, "current_query": request.args.get("q", "")}  # fmt: skip
