"""How browsers, feed readers, crawlers and operators find us: OpenSearch, Atom, sitemap,
robots.txt and a health check. XML is built with ElementTree, so every value is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, abort, jsonify, request
from markupsafe import escape

from kb.cite.catalogue import ledger_of
from kb.cite.formats import human_date
from kb.cite.history import HistoryItem, full_history, history_of
from kb.index.records import PositionRecord
from kb.index.store import IndexMissing
from kb.limits import MAX_SUGGEST_CHARS
from kb.service import KnowledgeBase
from kb.web.errors import index_message
from kb.web.urls import (
    absolute_url,
    feed_url,
    opensearch_suggest_url,
    opensearch_url,
    position_url,
    positions_url,
    search_help_url,
    search_url,
    sitemap_url,
    static_url,
    topic_url,
)
from kb.web.views import knowledge_base

bp = Blueprint("discovery", __name__)

ATOM = "http://www.w3.org/2005/Atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
XML = "{http://www.w3.org/XML/1998/namespace}"
FEED_ENTRIES = 50
SHORT_NAME_MAX = 16  # the OpenSearch limit for ShortName
SUGGESTIONS = 8
FEED_CHANGES = 5  # the latest versions whose changes a feed entry lists


def xml_document(tag: str, namespace: str, **attrs: str) -> ET.Element:
    """A root element whose namespace is the default one for every element below it."""
    return ET.Element(tag, {"xmlns": namespace, **attrs})


def xml_response(root: ET.Element, mimetype: str) -> Response:
    body = ET.tostring(root, encoding="unicode")
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body, mimetype=mimetype)


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def atom_time(kb: KnowledgeBase, date: str) -> str:
    """An RFC 3339 timestamp for a position's ISO date; undated ones take the build time."""
    if date:
        return f"{date[:10]}T00:00:00Z"
    return datetime.fromtimestamp(kb.built_at(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/opensearch.xml")
def opensearch():
    """The OpenSearch description that lets a browser add us as a search engine."""
    kb = knowledge_base()
    name = kb.settings.site_name
    root = xml_document("OpenSearchDescription", OPENSEARCH)
    sub(root, "ShortName", name[:SHORT_NAME_MAX])
    sub(root, "Description", f"Search the policy positions of {name}")
    sub(root, "InputEncoding", "UTF-8")
    sub(root, "Language", "en-gb")
    sub(root, "Image", absolute_url(static_url("icon.svg")), type="image/svg+xml")
    templates = {
        "text/html": absolute_url(search_url()) + "?q={searchTerms}",
        "application/x-suggestions+json": absolute_url(opensearch_suggest_url())
        + "?q={searchTerms}",
    }
    for kind, template in templates.items():
        sub(root, "Url", type=kind, method="get", template=template)
    sub(
        root,
        "Url",
        type="application/opensearchdescription+xml",
        rel="self",
        template=absolute_url(opensearch_url()),
    )
    return xml_response(root, "application/opensearchdescription+xml")


def unique_ignoring_case(texts: list[str]) -> list[str]:
    """The texts in order, dropping any that repeat an earlier one but for case."""
    seen: set[str] = set()
    kept = []
    for text in texts:
        if text.lower() not in seen:
            seen.add(text.lower())
            kept.append(text)
    return kept


@bp.get("/opensearch/suggest")
def opensearch_suggest():
    """Search-bar suggestions in the OpenSearch format: [query, [completions]]."""
    typed = " ".join(request.args.get("q", "").split())[:MAX_SUGGEST_CHARS]
    found = knowledge_base().suggest(typed, SUGGESTIONS)
    stem = typed.rsplit(" ", 1)[0] + " " if " " in typed else ""
    # Titles, then whole phrases ("climate change"), then the last word completed.
    completions = [meta.title for meta in found.titles] + list(found.phrases)
    completions += [stem + word for word in found.words]
    response = jsonify([typed, unique_ignoring_case(completions)[:SUGGESTIONS]])
    response.mimetype = "application/x-suggestions+json"
    return response


def build_feed(
    kb: KnowledgeBase, records: Sequence[PositionRecord], title: str, self_url: str, home: str
):
    root = xml_document("feed", ATOM, **{XML + "lang": "en-GB"})
    entries = records[:FEED_ENTRIES]
    sub(root, "id", self_url)
    sub(root, "title", title)
    times = [atom_time(kb, r.updated) for r in entries]
    sub(root, "updated", max(times) if times else atom_time(kb, ""))
    sub(root, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(root, "link", rel="alternate", type="text/html", href=home)
    author = sub(root, "author")
    sub(author, "name", kb.settings.site_name)
    for record, updated in zip(entries, times, strict=True):
        url = position_url(record.slug, external=True)
        entry = sub(root, "entry")
        sub(entry, "id", url)
        sub(entry, "title", record.title)
        sub(entry, "updated", updated)
        sub(entry, "link", rel="alternate", type="text/html", href=url)
        for name in record.authors:
            sub(sub(entry, "author"), "name", name)
        for topic in record.topics:
            sub(entry, "category", term=topic, label=kb.topic_label(topic))
        if record.summary:
            sub(entry, "summary", record.summary)
        # Relative links inside the body resolve against the site, not the feed reader.
        changes = changes_html(kb, record.slug)
        content = sub(entry, "content", changes + record.html, type="html")
        content.set(XML + "base", url)
    return xml_response(root, "application/atom+xml")


def recent_changes(kb: KnowledgeBase, slug: str) -> tuple[HistoryItem, ...]:
    """The position's latest versions, newest first (cached per index and ledger)."""
    ledger = ledger_of(kb)
    if not full_history(ledger, slug):
        return ()
    key = ("cite:history", slug, ledger.digest)
    items = kb.cached(key, lambda: history_of(ledger, slug, kb.topic_labels()))
    return items[:FEED_CHANGES]


def change_line(item: HistoryItem) -> str:
    """ "Updated 8 November 2026: 1 paragraph revised. Change note." (plain text)."""
    note = f" {item.version.change_note}" if item.version.change_note else ""
    return f"Updated {human_date(item.version.date)}: {item.changes}.{note}"


def changes_html(kb: KnowledgeBase, slug: str) -> str:
    """Each recent version's date, change note and what changed, before the body, so
    people who follow a feed see what changed, not only that something did."""
    items = recent_changes(kb, slug)
    if not items:
        return ""
    lines = "".join(f"<li>{escape(change_line(item))}</li>" for item in items)
    return f'<ul class="changes">{lines}</ul>\n'


@bp.get("/feed.atom")
def feed():
    """New and changed positions, site-wide, most recently updated first."""
    kb = knowledge_base()
    title = f"{kb.settings.site_name}: new and changed positions"
    return build_feed(kb, kb.records(), title, absolute_url(feed_url()), absolute_url("/"))


@bp.get("/topics/<topic>/feed.atom")
def topic_feed(topic: str):
    """New and changed positions under one topic."""
    kb = knowledge_base()
    records = kb.records_with_topic(topic)
    if not records:
        abort(404, "No positions have that topic.")
    title = f"{kb.settings.site_name}: {kb.topic_label(topic)}"
    return build_feed(
        kb, records, title, absolute_url(feed_url(topic)), absolute_url(topic_url(topic))
    )


@bp.get("/sitemap.xml")
def sitemap():
    """Every public page a crawler should know about, with its last change."""
    kb = knowledge_base()
    records = kb.records()
    root = xml_document("urlset", SITEMAP)

    def add(path: str, lastmod: str = "") -> None:
        url = sub(root, "url")
        sub(url, "loc", absolute_url(path))
        if lastmod:
            sub(url, "lastmod", lastmod[:10])

    newest = max((r.updated for r in records), default="")
    add("/", newest)
    add(positions_url(), newest)
    for topic in kb.topics():
        add(topic_url(topic), max(r.updated for r in kb.records_with_topic(topic)))
    for record in records:
        add(position_url(record.slug), record.updated)
    add(search_help_url())
    return xml_response(root, "application/xml")


@bp.get("/robots.txt")
def robots():
    """Crawl the pages, not the infinite search space; never crawl a preview."""
    kb = knowledge_base()
    if kb.settings.preview:
        lines = ["User-agent: *", "Disallow: /"]
    else:
        lines = ["User-agent: *", "Disallow: /search", "Disallow: /api/", "Allow: /"]
        lines.append(f"Sitemap: {absolute_url(sitemap_url())}")
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.get("/healthz")
def healthz():
    """200 with the live index revision and position count, or 503 without an index."""
    kb = knowledge_base()
    try:
        body = {"ok": True, "revision": kb.revision(), "positions": len(kb.records())}
        status = 200
    except IndexMissing as exc:
        body, status = {"ok": False, "error": index_message(exc), "status": 503}, 503
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
