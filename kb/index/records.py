"""The records the index stores and every later layer reads: typed, frozen, one shape each.

A position is stored once as a ``PositionRecord`` (what its page, the API, the feeds and the
citation ledger need) and once as a ``PositionMeta`` (the little a search result needs, so
ranking never parses whole records). A passage is a ``PassageRecord`` wherever it goes.
``to_json``/``from_json`` are the only places that know the stored key names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from kb.content.model import Passage, Position, TopicIntro


def shallow_fields(value: Any, kind: type | None = None) -> dict[str, Any]:
    """The values of ``value``'s dataclass fields (those of ``kind`` only, if given),
    for building a richer record from a plainer one without copying nested values."""
    return {name: getattr(value, name) for name in _field_names(kind or type(value))}


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    # dataclasses.fields() builds its tuple on every call: a search asks some thirty times.
    return tuple(f.name for f in fields(kind))


@dataclass(frozen=True)
class PassageRecord:
    """One citable passage as stored: where it sits in its position and what it says.

    Passage documents in the index store no text or HTML of their own (the text has its
    own field), so a record read from a search hit has them empty.
    """

    id: str
    anchor: str
    ordinal: int
    heading: str
    text: str = ""
    html: str = ""

    @classmethod
    def of(cls, passage: Passage) -> PassageRecord:
        return cls(passage.id, passage.anchor, passage.ordinal, passage.heading,
                   passage.text, passage.html)  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "anchor": self.anchor, "ordinal": self.ordinal,
                "heading": self.heading, "text": self.text, "html": self.html}  # fmt: skip

    def to_ref_json(self) -> dict[str, Any]:
        """Without text and HTML: what a passage document stores."""
        return {"id": self.id, "anchor": self.anchor, "ordinal": self.ordinal,
                "heading": self.heading}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PassageRecord:
        return cls(str(data["id"]), str(data["anchor"]), int(data["ordinal"]),
                   str(data["heading"]), str(data.get("text", "")),
                   str(data.get("html", "")))  # fmt: skip


@dataclass(frozen=True)
class PositionMeta:
    """What a search result shows of a position."""

    slug: str
    title: str
    summary: str
    topics: tuple[str, ...]
    status: str
    updated: str  # ISO date, or "" when the position has none

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    def to_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "title": self.title, "summary": self.summary,
                "topics": list(self.topics), "status": self.status,
                "updated": self.updated}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PositionMeta:
        return cls(str(data["slug"]), str(data["title"]), str(data["summary"]),
                   tuple(data["topics"]), str(data["status"]),
                   str(data["updated"]))  # fmt: skip


@dataclass(frozen=True)
class PositionRecord(PositionMeta):
    """A published position as stored in the index: its page and its passages."""

    authors: tuple[str, ...]
    related: tuple[str, ...]
    path: str  # relative to the content folder
    html: str
    headings: tuple[str, ...]
    passages: tuple[PassageRecord, ...]
    # From folders written for other tools: topic labels as written (folder names, tags),
    # old addresses (paths) that redirect here, and whether the summary was derived.
    topic_labels: tuple[tuple[str, str], ...] = ()
    aliases: tuple[str, ...] = ()
    summary_derived: bool = False
    change_note: str = ""  # the editors' note on what this version changed

    @property
    def meta(self) -> PositionMeta:
        """Only the fields a search result needs."""
        return PositionMeta(**shallow_fields(self, PositionMeta))

    @classmethod
    def of(cls, position: Position) -> PositionRecord:
        """The record of a validated position."""
        return cls(
            slug=position.slug, title=position.title, summary=position.summary,
            topics=tuple(position.topics), status=position.status,
            updated=position.updated.isoformat() if position.updated else "",
            authors=tuple(position.authors), related=tuple(position.related),
            path=position.path, html=position.html, headings=tuple(position.headings),
            passages=tuple(PassageRecord.of(p) for p in position.passages),
            topic_labels=tuple(position.topic_labels), aliases=tuple(position.aliases),
            summary_derived=position.summary_derived,
            change_note=position.change_note,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "authors": list(self.authors), "related": list(self.related),
            "path": self.path, "html": self.html, "headings": list(self.headings),
            "passages": [p.to_json() for p in self.passages],
            "topic_labels": dict(self.topic_labels), "aliases": list(self.aliases),
            "summary_derived": self.summary_derived,
            "change_note": self.change_note,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PositionRecord:
        meta = PositionMeta.from_json(data)
        return cls(
            slug=meta.slug, title=meta.title, summary=meta.summary, topics=meta.topics,
            status=meta.status, updated=meta.updated, authors=tuple(data["authors"]),
            related=tuple(data.get("related", ())), path=str(data["path"]),
            html=str(data["html"]), headings=tuple(data.get("headings", ())),
            passages=tuple(PassageRecord.from_json(p) for p in data["passages"]),
            topic_labels=tuple((str(t), str(label)) for t, label
                               in dict(data.get("topic_labels", {})).items()),
            aliases=tuple(str(a) for a in data.get("aliases", ())),
            summary_derived=bool(data.get("summary_derived", False)),
            change_note=str(data.get("change_note", "")),
        )  # fmt: skip


@dataclass(frozen=True)
class IntroRecord:
    """A folder's introduction as stored: shown on its topic's page."""

    topic: str  # "" for the content folder's own README.md or index.md
    label: str  # the folder's name as written
    title: str
    html: str
    path: str

    @classmethod
    def of(cls, intro: TopicIntro) -> IntroRecord:
        return cls(intro.topic, intro.label, intro.title, intro.html, intro.path)

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "label": self.label, "title": self.title,
                "html": self.html, "path": self.path}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IntroRecord:
        return cls(str(data["topic"]), str(data["label"]), str(data["title"]),
                   str(data["html"]), str(data["path"]))  # fmt: skip


def count_topics(topic_lists: Iterable[Iterable[str]]) -> dict[str, int]:
    """Topic → how many of the lists carry it, most common first, then A to Z."""
    counts: dict[str, int] = {}
    for topics in topic_lists:
        for topic in topics:
            counts[topic] = counts.get(topic, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
