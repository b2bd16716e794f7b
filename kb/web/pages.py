"""The HTML pages. Each view fetches one value and renders it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for

from kb.search.engine import SearchRequest, SearchResults
from kb.search.topics import closest_topics
from kb.web.as_of import position_as_of
from kb.web.insights import count_search
from kb.web.views import get_position_or_404, knowledge_base, search_request

bp = Blueprint("pages", __name__)
RECENT = 6
WAY_ON_TOPICS = 6


@dataclass(frozen=True)
class TopicLink:
    slug: str
    count: int | None  # positions the words find in this topic; None for a plain topic link


@dataclass(frozen=True)
class WayOn:
    """Where a search that found nothing can go next."""

    unfiltered_total: int  # what the words find in every topic (0 when no filter was set)
    topics: tuple[TopicLink, ...]


def way_on(req: SearchRequest, found: SearchResults) -> WayOn:
    """Other topics that hold the words, then topics named like them, then the most used."""
    kb = knowledge_base()
    unfiltered = kb.search(replace(req, topics=(), page=1)).total if req.topics else 0
    with_words = [TopicLink(t, n) for t, n in found.facets.items() if n and t not in req.topics]
    named = closest_topics(req.q, kb.topics(), kb.topic_labels(), WAY_ON_TOPICS)
    taken = {link.slug for link in with_words} | set(req.topics)
    others = [TopicLink(t, None) for t in named if t not in taken]
    return WayOn(unfiltered, tuple((with_words + others)[:WAY_ON_TOPICS]))


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
    count_search(found)
    ways = way_on(req, found) if found is not None and not found.total else None
    spell = None if req.correct else "off"  # kept on every link once "Search instead" was chosen
    html = render_template("search.html", req=req, found=found, way_on=ways, spell=spell)
    return with_json_twin(html, url_for("api.search", **request.args.to_dict(flat=False)))


@bp.get("/positions/<path:slug>")
def position(slug: str):
    """One position, every passage carrying its anchor; ?as_of=YYYY-MM-DD for a past one."""
    if request.args.get("as_of", "").strip():
        return position_as_of(slug, request.args["as_of"])
    record = get_position_or_404(slug)
    related = knowledge_base().related(record.slug)
    html = render_template("position.html", position=record, related=related)
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
    kb = knowledge_base()
    records = kb.records_with_topic(topic)
    intro = kb.topic_intro(topic)
    if not records and intro is None:
        page = topic if kb.position(topic) else kb.redirect(f"/positions/{topic}")
        if page:  # a folder that is one page (its index.md), or a page of that name
            return redirect(url_for("pages.position", slug=page), 302)
        abort(404, "No positions have that topic.")
    return render_template("topic.html", topic=topic, positions=records, intro=intro)


@bp.get("/help/search")
def search_help():
    """How to search: the small query syntax."""
    return render_template("help.html")


@bp.app_context_processor
def inject_site():
    kb = knowledge_base()
    return {"site_name": kb.settings.site_name, "preview": kb.settings.preview,
            "topic_label": kb.topic_label, "current_query": request.args.get("q", "")}  # fmt: skip
