"""Every public URL is built here, so templates and the API never paste strings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask, current_app, request, url_for

from kb.service import current_kb
from kb.web.caching import static_version


def position_url(slug: str, anchor: str | None = None, external: bool = False) -> str:
    url = links().position(slug, anchor)
    return current_kb().settings.base_url + url if external else url


def passage_url(slug: str, anchor: str, external: bool = False) -> str:
    return position_url(slug, anchor, external)


def cite_url(passage_id: str, external: bool = False) -> str:
    url = links().cite(passage_id)
    return current_kb().settings.base_url + url if external else url


_PLAIN = re.compile(r"[A-Za-z0-9_.~-]+")  # what a URL path carries as it is
_PLACEHOLDER = "KBPLACEHOLDER0"


@dataclass(frozen=True)
class Links:
    """The addresses of positions, passages and citations under one app and script root,
    from each route's URL worked out once: a results page builds some forty of them (10
    positions, 30 passages), and url_for cost about 25 µs each. A caller building many
    takes one ``links()`` and keeps it for the request. A value that would need quoting
    goes through url_for itself."""

    position_pattern: str
    cite_pattern: str

    def position(self, slug: str, anchor: str | None = None) -> str:
        url = _filled(self.position_pattern, "pages.position", "slug", slug)
        return f"{url}#{anchor}" if anchor else url

    def cite(self, passage_id: str) -> str:
        return _filled(self.cite_pattern, "cite.cite_page", "passage_id", passage_id)


def links() -> Links:
    """This request's ``Links`` (kept per app and script root)."""
    kept = current_app.extensions.setdefault("kb.links", {})
    found = kept.get(request.script_root)
    if found is None:
        found = kept[request.script_root] = Links(
            url_for("pages.position", slug=_PLACEHOLDER),
            url_for("cite.cite_page", passage_id=_PLACEHOLDER),
        )
    return found


def _filled(pattern: str, endpoint: str, name: str, value: str) -> str:
    if not _PLAIN.fullmatch(value):
        return url_for(endpoint, **{name: value})
    return pattern.replace(_PLACEHOLDER, value)


def cite_api_url(passage_id: str, fmt: str | None = None) -> str:
    """The citation as JSON, or in one format (text, markdown, bibtex, csl-json, ris)."""
    return url_for("cite.cite_api", passage_id=passage_id, format=fmt)


def position_as_of_url(slug: str, as_of: str) -> str:
    """The position as it stood on ``as_of`` (YYYY-MM-DD), rebuilt from the ledger."""
    return url_for("pages.position", slug=slug, as_of=as_of)


def history_url(slug: str) -> str:
    """Every recorded version of a position, newest first."""
    return url_for("cite.history_page", slug=slug)


def history_api_url(slug: str) -> str:
    return url_for("cite.history_api", slug=slug)


def compare_url(slug: str, old: str | None = None, new: str | None = None) -> str:
    """Two versions of a position compared word by word (dates YYYY-MM-DD)."""
    return url_for("cite.compare_page", slug=slug, **{"from": old, "to": new})


def compare_api_url(slug: str, old: str | None = None, new: str | None = None) -> str:
    return url_for("cite.compare_api", slug=slug, **{"from": old, "to": new})


def quote_url(text: str | None = None) -> str:
    return url_for("cite.quote_page", text=text or None)


def topic_url(topic: str) -> str:
    return url_for("pages.topic", topic=topic)


def search_url(**params) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "", [], (), 1, "relevance")}
    if params.get("page", 1) != 1:
        clean["page"] = params["page"]
    return url_for("pages.search", **clean)


def positions_url(sort: str | None = None) -> str:
    return url_for("pages.positions", sort=sort)


def search_help_url() -> str:
    return url_for("pages.search_help")


def absolute_url(path: str) -> str:
    """A site path made absolute with KB_BASE_URL (for canonical links, feeds, sitemaps)."""
    return current_kb().settings.base_url + path


def canonical_url() -> str:
    """This page's address under KB_BASE_URL, without the query string."""
    return absolute_url(request.path)


def static_url(filename: str) -> str:
    """A static file's URL with ?v=<content hash>, so browsers may keep it for a year."""
    return url_for("static", filename=filename, v=static_version(filename))


def feed_url(topic: str | None = None) -> str:
    """The Atom feed of new and changed positions, site-wide or for one topic."""
    if topic:
        return url_for("discovery.topic_feed", topic=topic)
    return url_for("discovery.feed")


def opensearch_url() -> str:
    return url_for("discovery.opensearch")


def opensearch_suggest_url() -> str:
    return url_for("discovery.opensearch_suggest")


def sitemap_url() -> str:
    return url_for("discovery.sitemap")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        position_url=position_url,
        passage_url=passage_url,
        cite_url=cite_url,
        cite_api_url=cite_api_url,
        position_as_of_url=position_as_of_url,
        quote_url=quote_url,
        history_url=history_url,
        compare_url=compare_url,
        topic_url=topic_url,
        search_url=search_url,
        positions_url=positions_url,
        search_help_url=search_help_url,
        absolute_url=absolute_url,
        canonical_url=canonical_url,
        static_url=static_url,
        feed_url=feed_url,
        opensearch_url=opensearch_url,
    )
