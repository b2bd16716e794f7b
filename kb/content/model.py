"""The domain values every later stage works with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

STATUSES = ("adopted", "draft", "archived")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a content file, reported as ``path:line: message``."""

    path: str
    line: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {prefix}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class Passage:
    """One citable block of a position: a paragraph, list, table or blockquote."""

    id: str  # stable, derived from the slug and the normalised text
    slug: str
    anchor: str  # readable, e.g. "housing-2"
    ordinal: int  # 1-based order within the position
    heading: str  # heading trail, e.g. "Europe › Trade"
    text: str  # plain text
    html: str  # sanitised HTML of the block


@dataclass(frozen=True)
class Position:
    """A validated policy position."""

    slug: str
    title: str
    summary: str
    topics: tuple[str, ...]
    status: str
    updated: date | None
    authors: tuple[str, ...]
    body: str
    path: str  # relative to the content folder, posix style
    related: tuple[str, ...] = ()
    change_note: str = ""  # what this version changed, in the editors' words
    html: str = ""
    headings: tuple[str, ...] = ()
    passages: tuple[Passage, ...] = field(default=())

    @property
    def is_public(self) -> bool:
        return self.status != "draft"
