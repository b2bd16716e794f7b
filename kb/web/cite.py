"""Citations on the web: /cite/<id>, /api/cite/<id>, /quote, /api/quote, past versions.

A citation address answers for every passage id ever published: the passage as it is
now, or the archived wording with a notice saying when it was revised or withdrawn.
Each view computes one value and renders it as HTML or JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, Response, abort, jsonify, render_template, request

from kb.cite import formats
from kb.cite.blocks import Block, split_blocks
from kb.cite.catalogue import QuoteLookup, lookup_quote, resolve_id
from kb.cite.formats import FORMATS, CitationRecord, human_date
from kb.cite.quote import MAX_CHARS, MIN_WORDS, word_count
from kb.cite.resolve import Resolution
from kb.content.model import is_passage_id
from kb.index.records import PositionRecord
from kb.web.urls import (
    cite_api_url,
    cite_url,
    passage_url,
    position_as_of_url,
    position_url,
)
from kb.web.views import knowledge_base

bp = Blueprint("cite", __name__)
MALFORMED = "That is not a citation address: a passage id is 12 characters, 0-9 and a-f."
UNKNOWN = "No passage has ever been published with that id."
FORMAT_CHOICES = ", ".join(FORMATS)


def today() -> str:
    return date.today().isoformat()


def get_resolution_or_404(passage_id: str) -> Resolution:
    """What a citation id points to now, or a 404 (malformed or never published)."""
    if not is_passage_id(passage_id):
        abort(404, MALFORMED)
    found = resolve_id(knowledge_base(), passage_id)
    if found is None:
        abort(404, UNKNOWN)
    return found


def citation_of(resolution: Resolution) -> CitationRecord:
    """The metadata record of one citation, with its permanent absolute address."""
    site = knowledge_base().settings.site_name
    return resolution.citation(cite_url(resolution.id, external=True), site, today())


@dataclass(frozen=True)
class Links:
    """Where a citation leads on the live site."""

    context: str | None  # the passage, or the wording that replaced it
    past: str | None  # the position as it last stood with this wording
    position: str | None  # the current position, when there is one


def links_for(r: Resolution) -> Links:
    context = None
    if r.is_current:
        context = passage_url(r.slug, r.anchor)
    elif r.successor:
        context = passage_url(r.slug, r.successor.anchor)
    past = None
    if not r.is_current and r.last_seen and r.first_seen:
        day = (date.fromisoformat(r.last_seen) - timedelta(days=1)).isoformat()
        past = position_as_of_url(r.slug, day) if day >= r.first_seen else None
    return Links(context, past, position_url(r.slug) if r.position else None)


def resolution_json(r: Resolution, citation: CitationRecord) -> dict:
    """The JSON description of a citation, shared by /api/cite and /api/quote."""
    links = links_for(r)
    successor = None
    if r.successor:
        s = r.successor
        successor = {"id": s.id, "heading": s.heading, "text": s.text,
                     "url": passage_url(r.slug, s.anchor), "cite_url": cite_url(s.id),
                     "first_seen": s.first_seen, "similarity": s.similarity}  # fmt: skip
    return {
        "id": r.id,
        "status": r.status,
        "permalink": citation.url,
        "cite_url": cite_url(r.id),
        "url": links.context,
        "position": {"slug": r.slug, "title": r.title, "url": links.position},
        "heading": r.heading,
        "text": r.text,
        "date": citation.date,
        "first_seen": r.first_seen,
        "last_seen": r.last_seen,
        "revision": r.revision,
        "changed_on": r.changed_on,
        "as_of_url": links.past,
        "successor": successor,
        "formats": {fmt: formats.render(citation, fmt) for fmt in FORMATS},
    }


@bp.get("/cite/<passage_id>")
def cite_page(passage_id: str):
    """A citation: the passage now, or its archived wording with a clear notice."""
    r = get_resolution_or_404(passage_id)
    citation = citation_of(r)
    rendered = [(fmt, formats.LABELS[fmt], formats.render(citation, fmt),
                 f"{citation.key}.{formats.EXTENSIONS[fmt]}") for fmt in FORMATS]  # fmt: skip
    page = render_template("cite.html", r=r, citation=citation, links=links_for(r),
                           rendered=rendered)  # fmt: skip
    response = Response(page, content_type="text/html; charset=utf-8")
    response.headers["Link"] = f'<{cite_api_url(r.id)}>; rel="alternate"; type="application/json"'
    return response


@bp.get("/api/cite/<passage_id>")
def cite_api(passage_id: str):
    """The citation as JSON, or in one format with ?format=text|markdown|bibtex|csl-json|ris."""
    r = get_resolution_or_404(passage_id)
    citation = citation_of(r)
    fmt = request.args.get("format", "")
    if not fmt:
        return jsonify(resolution_json(r, citation))
    if fmt not in FORMATS:
        abort(400, f"format must be one of {FORMAT_CHOICES}")
    response = Response(formats.render(citation, fmt), content_type=formats.MEDIA_TYPES[fmt])
    filename = f"{citation.key}.{formats.EXTENSIONS[fmt]}"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@dataclass(frozen=True)
class QuoteCheck:
    """A pasted quotation and what became of it."""

    text: str
    problem: str | None  # why it was not looked up
    lookup: QuoteLookup | None


def check_quote(text: str) -> QuoteCheck:
    """Look a pasted quotation up, or say why it cannot be."""
    if not text.strip():
        return QuoteCheck(text, "Paste the quotation you want to check.", None)
    if len(text) > MAX_CHARS:
        message = f"That is longer than {MAX_CHARS:,} characters; paste only what you quote."
        return QuoteCheck(text[:MAX_CHARS], message, None)
    if word_count(text) < MIN_WORDS:
        return QuoteCheck(text, f"Paste at least {MIN_WORDS} words of the quotation.", None)
    return QuoteCheck(text, None, lookup_quote(knowledge_base(), text))


def quote_json(check: QuoteCheck) -> dict:
    lookup = check.lookup
    if lookup is None:
        return {"query": check.text, "found": False, "status": "not_found"}
    citation = citation_of(lookup.resolution)
    return {
        "query": check.text,
        "found": True,
        "status": lookup.status,
        "match": lookup.match,
        "similarity": lookup.similarity,
        "excerpt": lookup.excerpt,
        "current_wording": lookup.current_text,
        "current_excerpt": lookup.current_excerpt,
        "also_found_in": lookup.others,
        "citation": formats.as_text(citation),
        "passage": resolution_json(lookup.resolution, citation),
    }


@bp.get("/quote")
def quote_page():
    """Check a quotation: where it came from, whether it still stands, how to cite it."""
    check = check_quote(request.args.get("text", ""))
    asked = "text" in request.args
    lookup = check.lookup
    text = formats.as_text(citation_of(lookup.resolution)) if lookup else None
    links = links_for(lookup.resolution) if lookup else None
    return render_template("quote.html", check=check, asked=asked, citation_text=text,
                           links=links)  # fmt: skip


@bp.get("/api/quote")
def quote_api():
    """The quote check as JSON; 400 when there is nothing to look up."""
    check = check_quote(request.args.get("text", ""))
    if check.problem:
        abort(400, check.problem)
    return jsonify(quote_json(check))


@dataclass(frozen=True)
class Controls:
    """What a passage's Cite control shows and copies."""

    id: str
    url: str
    text: str
    markdown: str


def cite_controls(passage_id: str) -> Controls | None:
    """The Cite control of one passage; None for an id that resolves to nothing."""
    r = resolve_id(knowledge_base(), passage_id)
    if r is None:
        return None
    citation = citation_of(r)
    return Controls(r.id, cite_url(r.id), formats.as_text(citation), formats.as_markdown(citation))


def passage_blocks(position: PositionRecord) -> list[Block]:
    """The position's HTML cut after each passage, for placing Cite controls."""
    anchors = {p.anchor: p.id for p in position.passages}
    return split_blocks(position.html, anchors)


@dataclass(frozen=True)
class PageMetadata:
    """Highwire Press tags and JSON-LD (already escaped for a script element)."""

    tags: list[tuple[str, str]]
    json_ld: str


def position_metadata(position: PositionRecord) -> PageMetadata:
    """Machine-readable metadata of a position page, for reference managers."""
    kb = knowledge_base()
    record = CitationRecord(
        id="", slug=position.slug, title=position.title, section="", quote="",
        date=position.updated, url=position_url(position.slug, external=True),
        site=kb.settings.site_name, authors=position.authors, accessed=today(),
        summary=position.summary, keywords=tuple(kb.topic_label(t) for t in position.topics),
    )  # fmt: skip
    return PageMetadata(formats.highwire_tags(record), formats.script_json(formats.json_ld(record)))


@bp.app_context_processor
def cite_helpers() -> dict:
    return {"cite_controls": cite_controls, "passage_blocks": passage_blocks,
            "position_metadata": position_metadata, "human_date": human_date}  # fmt: skip
