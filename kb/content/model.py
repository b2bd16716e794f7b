"""The domain values every later stage works with."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

STATUSES = ("adopted", "draft", "archived")
PASSAGE_ID_RE = re.compile(r"^[0-9a-f]{12}$")  # the shape of every id passage_id() makes
ISO_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_passage_id(text: str) -> bool:
    """Whether ``text`` has the shape of a passage id (12 lower-case hex digits)."""
    return bool(PASSAGE_ID_RE.match(text))


def parse_day(text: object) -> date | None:
    """A real calendar day written YYYY-MM-DD, or None for anything else."""
    if not isinstance(text, str) or not ISO_DAY_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a content file, reported as ``path:line: message``."""

    path: str
    line: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{escape_name(self.path)}:{self.line}: {prefix}{self.message}"

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
    # Labels of topics taken from a folder or a tag, as written ("Civil Liberties").
    topic_labels: tuple[tuple[str, str], ...] = ()
    aliases: tuple[str, ...] = ()  # old addresses that answer with a redirect to this one
    summary_derived: bool = False  # the summary is the body's first sentence, not written

    @property
    def is_public(self) -> bool:
        return self.status != "draft"


@dataclass(frozen=True)
class TopicIntro:
    """A folder's introduction (README.md, index.md, _index.md): shown on its topic page,
    never a position. ``topic`` is empty for the content folder's own introduction."""

    topic: str
    label: str
    title: str
    html: str
    path: str


def escape_name(name: str) -> str:
    """A file name safe on one ``path:line:`` line: control characters as \\n, \\t, \\xNN."""
    if name.isprintable():
        return name
    return "".join(ch if ch.isprintable() else _escape_char(ch) for ch in name)


def _escape_char(ch: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return named.get(ch) or ch.encode("unicode_escape").decode("ascii")
