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
    url = f"/cite/{passage_id}"
    if external:
        url = current_app.config["KB"].settings.base_url + url
    return url


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
        topic_url=topic_url,
        search_url=search_url,
    )
