"""Every public URL is built here, so templates and the API never paste strings."""

from __future__ import annotations

from flask import Flask, current_app, url_for


def position_url(slug: str, anchor: str | None = None, external: bool = False) -> str:
    url = url_for("pages.position", slug=slug, _external=False)
    if external:
        url = current_app.config["KB"].settings.base_url + url
    return f"{url}#{anchor}" if anchor else url


def passage_url(slug: str, anchor: str, external: bool = False) -> str:
    return position_url(slug, anchor, external)


def cite_url(passage_id: str, external: bool = False) -> str:
    url = url_for("cite.cite_page", passage_id=passage_id)
    if external:
        url = current_app.config["KB"].settings.base_url + url
    return url


def cite_api_url(passage_id: str, fmt: str | None = None) -> str:
    """The citation as JSON, or in one format (text, markdown, bibtex, csl-json, ris)."""
    return url_for("cite.cite_api", passage_id=passage_id, format=fmt)


def position_as_of_url(slug: str, as_of: str) -> str:
    """The position as it stood on ``as_of`` (YYYY-MM-DD), rebuilt from the ledger."""
    return url_for("pages.position", slug=slug, as_of=as_of)


def quote_url(text: str | None = None) -> str:
    return url_for("cite.quote_page", text=text or None)


def topic_url(topic: str) -> str:
    return url_for("pages.topic", topic=topic)


def search_url(**params) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "", [], (), 1, "relevance")}
    if params.get("page", 1) != 1:
        clean["page"] = params["page"]
    return url_for("pages.search", **clean)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        position_url=position_url,
        passage_url=passage_url,
        cite_url=cite_url,
        cite_api_url=cite_api_url,
        position_as_of_url=position_as_of_url,
        quote_url=quote_url,
        topic_url=topic_url,
        search_url=search_url,
    )
