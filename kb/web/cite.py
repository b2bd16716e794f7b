"""Citations on the web: /cite/<id>, /api/cite/<id>, /quote, /api/quote, past versions.

A citation address answers for every passage id ever published: the passage as it is
now, or the archived wording with a notice saying when it was revised or withdrawn.
Each view computes one value and renders it as HTML or JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request

from kb.cite import formats
from kb.cite.blocks import Block, split_blocks
from kb.cite.catalogue import QuoteLookup, ledger_of, lookup_quote, moved_to, resolve_id
from kb.cite.formats import FORMATS, CitationRecord, human_date
from kb.cite.history import (
    Comparison,
    HistoryItem,
    Segment,
    absences,
    compare,
    full_history,
    history_of,
    last_version_with,
    version_on,
    word_diff,
)
from kb.cite.ledger import Version
from kb.cite.quote import MAX_CHARS, MIN_WORDS, word_count
from kb.cite.resolve import Resolution
from kb.content.model import is_passage_id, parse_day
from kb.index.records import PositionRecord
from kb.limits import MAX_ADDRESS_CHARS
from kb.web.urls import (
    cite_api_url,
    cite_url,
    compare_api_url,
    compare_url,
    history_api_url,
    history_url,
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
    if r.is_current and r.position:  # without it the position is off the site for now
        context = passage_url(r.slug, r.anchor)
    elif r.successor:
        context = passage_url(r.slug, r.successor.anchor)
    past = None
    if not r.is_current:
        past = past_link(r)
    return Links(context, past, position_url(r.slug) if r.position else None)


def past_link(r: Resolution) -> str | None:
    """The last version that published the cited wording, opened at its paragraph."""
    version = last_version_with(full_history(ledger_of(knowledge_base()), r.slug), r.id)
    if version is None:
        if not (r.last_seen and r.first_seen):
            return None
        day = (date.fromisoformat(r.last_seen) - timedelta(days=1)).isoformat()
        return position_as_of_url(r.slug, day) if day >= r.first_seen else None
    anchor = next(p.anchor for p in version.passages if p.id == r.id)
    return f"{position_as_of_url(r.slug, version.date)}#{anchor}"


def absent(r: Resolution) -> tuple[tuple[str, str | None], ...]:
    """When the cited wording was not published since it first was (from the versions)."""
    return absences(full_history(ledger_of(knowledge_base()), r.slug), r.id)


def segments_json(segments: tuple[Segment, ...]) -> list[dict]:
    return [{"op": s.op, "text": s.text} for s in segments]


def resolution_json(r: Resolution, citation: CitationRecord) -> dict:
    """The JSON description of a citation, shared by /api/cite and /api/quote."""
    links = links_for(r)
    successor = None
    if r.successor:
        s = r.successor
        successor = {"id": s.id, "heading": s.heading, "text": s.text,
                     "url": passage_url(r.slug, s.anchor), "cite_url": cite_url(s.id),
                     "first_seen": s.first_seen, "similarity": s.similarity,
                     "differences": segments_json(word_diff(r.text, s.text))}  # fmt: skip
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
        "absent": [{"from": start, "until": until} for start, until in absent(r)],
        "history_url": history_url(r.slug) if r.position else None,
        "moved_from": r.moved_from,
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


NOT_FOUND = "not found: we have not published these words"


def quote_json(check: QuoteCheck) -> dict:
    """The quote check's answer. A misquote is ``found: false``: the pasted words are not
    ours, so no citation of them is given; ``passage`` is what we did publish."""
    lookup = check.lookup
    if lookup is None:
        return {"query": check.text, "found": False, "status": "not_found",
                "message": NOT_FOUND}  # fmt: skip
    citation = citation_of(lookup.resolution)
    misquote = lookup.status == "misquote"
    return {
        "query": check.text,
        "found": not misquote,
        "status": lookup.status,
        "match": lookup.match,
        "similarity": lookup.similarity,
        "excerpt": lookup.excerpt,
        "changed_on": None if misquote else lookup.resolution.changed_on,
        "differences": segments_json(lookup.differences),
        "current_wording": lookup.current_text,
        "current_excerpt": lookup.current_excerpt,
        "also_found_in": lookup.others,
        "citation": None if misquote else formats.as_text(citation),
        "passage": resolution_json(lookup.resolution, citation),
    }


@bp.get("/quote")
def quote_page():
    """Check a quotation: where it came from, whether it still stands, how to cite it."""
    check = check_quote(request.args.get("text", ""))
    asked = "text" in request.args
    lookup = check.lookup
    cited = lookup and lookup.status != "misquote"
    text = formats.as_text(citation_of(lookup.resolution)) if cited else None
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


# --- history and compare ---------------------------------------------------------


def versions_or_404(slug: str) -> tuple[Version, ...]:
    """Every version of ``slug``; a renamed position's old address is sent to the new."""
    kb = knowledge_base()
    versions = full_history(ledger_of(kb), slug) if len(slug) <= MAX_ADDRESS_CHARS else ()
    target = moved_to(kb, slug) if versions else None
    if target:
        query = request.query_string.decode("latin-1")
        new = request.path.replace(f"/positions/{slug}/", f"/positions/{target}/", 1)
        abort(redirect(new + (f"?{query}" if query else ""), 301))
    if not versions:
        abort(404, "No versions of this position are recorded in the citation ledger.")
    return versions


def history_items(slug: str) -> tuple[HistoryItem, ...]:
    kb = knowledge_base()
    ledger = ledger_of(kb)
    return kb.cached(("cite:history", slug, ledger.digest),
                     lambda: history_of(ledger, slug, kb.topic_labels()))  # fmt: skip


def version_url(slug: str, version: Version) -> str | None:
    return position_as_of_url(slug, version.date) if version.is_published else None


def history_json(slug: str, items: tuple[HistoryItem, ...]) -> dict:
    latest = items[0].version
    return {
        "slug": slug,
        "title": latest.title,
        "url": position_url(slug) if latest.is_published else None,
        "history_url": history_url(slug),
        "versions": [
            {
                "number": item.number,
                "date": item.version.date,
                "status": item.version.status,
                "title": item.version.title,
                "summary": item.version.summary,
                "topics": list(item.version.topics) if item.version.topics is not None else None,
                "authors": (
                    list(item.version.authors) if item.version.authors is not None else None
                ),
                "change_note": item.version.change_note,
                "changes": item.changes,
                "passages": list(item.version.ids),
                "moved_to": item.version.moved_to,
                "url": version_url(slug, item.version),
                "compare_url": (
                    compare_url(slug, item.previous.date, item.version.date)
                    if item.previous
                    else None
                ),
            }  # fmt: skip
            for item in items
        ],
    }


@bp.get("/positions/<path:slug>/history")
def history_page(slug: str):
    """Every version of a position, newest first, with what each changed."""
    versions_or_404(slug)
    items = history_items(slug)
    page = render_template("history.html", slug=slug, items=items,
                           current=knowledge_base().position(slug))  # fmt: skip
    response = Response(page, content_type="text/html; charset=utf-8")
    response.headers["Link"] = (
        f'<{history_api_url(slug)}>; rel="alternate"; type="application/json"'
    )
    return response


@bp.get("/api/positions/<path:slug>/history")
def history_api(slug: str):
    versions_or_404(slug)
    return jsonify(history_json(slug, history_items(slug)))


def pick_versions(slug: str) -> tuple[Version, Version]:
    """The two versions ?from= and ?to= name (dates); by default the latest change."""
    versions = versions_or_404(slug)
    chosen = []
    for name in ("from", "to"):
        raw = request.args.get(name, "").strip()
        if not raw:
            chosen.append(None)
            continue
        day = parse_day(raw)
        if day is None:
            abort(400, f"{name}: “{raw[:40]}” is not a date like 2026-11-26.")
        version = version_on(versions, day.isoformat())
        if version is None:
            first = human_date(versions[0].date)
            abort(404, f"{name}: this position did not exist on {human_date(day.isoformat())}; "
                       f"its first recorded version is from {first}.")  # fmt: skip
        chosen.append(version)
    old, new = chosen
    new = new or versions[-1]
    if old is None:
        earlier = [v for v in versions if v.date < new.date]
        old = earlier[-1] if earlier else new
    if old.date > new.date:
        old, new = new, old
    return old, new


def comparison(slug: str) -> Comparison:
    old, new = pick_versions(slug)
    ledger = ledger_of(knowledge_base())
    return compare(old, new, TextOf(ledger))


class TextOf:
    """Passage id → its wording, read from the ledger only when asked."""

    def __init__(self, ledger) -> None:
        self.ledger = ledger

    def __getitem__(self, passage_id: str) -> str:
        entry = self.ledger.get(passage_id)
        return entry.text if entry else ""


def comparison_json(slug: str, c: Comparison) -> dict:
    def side(v: Version) -> dict:
        return {"date": v.date, "status": v.status, "title": v.title, "summary": v.summary,
                "topics": list(v.topics) if v.topics is not None else None,
                "url": version_url(slug, v)}  # fmt: skip

    return {
        "slug": slug,
        "from": side(c.old),
        "to": side(c.new),
        "changes": c.summary,
        "history_url": history_url(slug),
        "paragraphs": [
            {
                "change": p.change,
                "old_id": p.old_id,
                "new_id": p.new_id,
                "heading": p.heading,
                "anchor": p.anchor,
                "cite_url": cite_url(p.new_id or p.old_id or ""),
                "segments": segments_json(p.segments),
            }  # fmt: skip
            for p in c.paragraphs
        ],
    }


@bp.get("/positions/<path:slug>/compare")
def compare_page(slug: str):
    """Two versions of a position, with inserted and deleted words marked."""
    c = comparison(slug)
    page = render_template("compare.html", slug=slug, c=c,
                           current=knowledge_base().position(slug))  # fmt: skip
    response = Response(page, content_type="text/html; charset=utf-8")
    api = compare_api_url(slug, c.old.date, c.new.date)
    response.headers["Link"] = f'<{api}>; rel="alternate"; type="application/json"'
    return response


@bp.get("/api/positions/<path:slug>/compare")
def compare_api(slug: str):
    return jsonify(comparison_json(slug, comparison(slug)))


def latest_update(slug: str) -> HistoryItem | None:
    """The position's latest version, for "Updated DATE — see all updates"."""
    kb = knowledge_base()
    if not full_history(ledger_of(kb), slug):
        return None
    items = history_items(slug)
    return items[0] if items else None


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
            "position_metadata": position_metadata, "human_date": human_date,
            "latest_update": latest_update, "word_diff": word_diff,
            "absent": absent}  # fmt: skip
