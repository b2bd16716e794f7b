"""Turn parsed front matter into checked field values, collecting every problem.

Messages are written for editors, not programmers: each names the field, what was
expected (with an example) and what was found.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from kb.content.frontmatter import FrontMatter
from kb.content.model import STATUSES, Problem
from kb.content.slug import SLUG_RE, clean_slug, slugify

__all__ = ["SLUG_RE", "FieldChecker", "once_per_key"]

KNOWN_KEYS = (
    "title", "slug", "summary", "topics", "status", "updated", "authors", "related",
    "change_note",
)  # fmt: skip
# Other generators' names for our fields (Jekyll, Hugo, MkDocs), ours first: the first
# one present is used, the others are accepted quietly.
SYNONYMS = {
    "updated": ("updated", "last_modified_at", "lastmod", "date"),
    "summary": ("summary", "description", "excerpt"),
    "authors": ("authors", "author"),
    "aliases": ("aliases", "redirect_from"),
}
TOPIC_KEYS = ("tags", "categories", "category")  # used when 'topics:' is not given
DRAFT_KEYS = ("draft", "published")  # draft: true and published: false mean draft
# Keys that site generators use for layout and navigation: they mean nothing here, and
# are accepted without a word.
LAYOUT_KEYS = frozenset({
    "layout", "comments", "weight", "permalink", "toc", "toc_label", "toc_sticky", "type",
    "url", "menu", "sidebar", "nav_order", "nav_exclude", "parent", "grand_parent",
    "has_children", "has_toc", "linktitle", "linkTitle", "hide", "hidden", "template",
    "share", "search", "sitemap", "outputs", "headless", "cascade", "keywords", "image",
    "images", "featured_image", "header", "author_profile", "read_time", "classes",
    "excerpt_separator", "lang", "translationKey", "publishdate", "publishDate",
    "expirydate", "expiryDate", "icon", "banner", "order", "nav_title", "redirect_to",
    "robots", "canonical_url", "markup", "render", "list", "build", "tags_label",
    "params", "resources", "menus", "isCJKLanguage",
})  # fmt: skip
UNKNOWN_KEY_RE = re.compile(r"^unknown key '(.+?)' is ignored")
DATE_TIME_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"  # the date, which is all a position keeps
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def describe(value: Any) -> str:
    """Name a YAML value's type the way an editor would."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, str):
        return f"a string ('{_clip(value)}')"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping (key: value pairs)"
    if isinstance(value, (date, datetime)):
        return f"a date ({value})"
    return type(value).__name__


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class FieldChecker:
    """Reads typed fields out of front matter, recording a Problem for each mistake."""

    def __init__(self, path: str, front: FrontMatter) -> None:
        self.path = path
        self.front = front
        self.problems: list[Problem] = []
        self.labels: dict[str, str] = {}  # cleaned slug → as the editor wrote it

    def error(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.path, self.front.line_of(key), message))

    def warn(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message, "warning"))

    def source(self, field: str) -> str:
        """The key that gives ``field``: ours, else the first other generator's name present."""
        names = SYNONYMS.get(field, (field,))
        return next((name for name in names if name in self.front.values), names[0])

    def text(self, key: str, example: str) -> str | None:
        value = self.front.values.get(key)
        if value is None:
            return None
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value).strip()
        self.error(key, f"{key}: expected text like '{key}: {example}', got {describe(value)}")
        return None

    def display_text(self, key: str, example: str) -> str | None:
        """``text``, with HTML character references read as the characters they are: site
        generators put a title or summary into their pages as written, so
        ``Center&#8217;s`` and ``&mdash;`` show as ’ and — there, and must here too."""
        value = self.text(key, example)
        return html.unescape(value) if value and "&" in value else value

    def text_list(self, key: str, example: str, slugs: bool = False) -> tuple[str, ...]:
        value = self.front.values.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error(key, f"{key}: expected a list like {example}, got {describe(value)}")
            return ()
        items: list[str] = []
        for item in value:
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                self.error(key, f"{key}: each item must be text, got {describe(item)}")
                continue
            text = str(item).strip()
            if slugs and not SLUG_RE.match(text):
                cleaned = clean_slug(text)
                self.warn(
                    self.front.line_of(key),
                    f"{key}: '{text}' is not lower-case words joined by hyphens; read as "
                    f"'{cleaned}'",
                )
                self.labels[cleaned] = text
                text = cleaned
            items.append(text)
        return tuple(items)

    def loose_list(self, key: str) -> tuple[str, ...]:
        """Another generator's list, which may also be one string (``tags: Health``)."""
        value = self.front.values.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return (str(value).strip(),) if str(value).strip() else ()
        return self.text_list(key, "[Health, Housing]")

    def authors(self) -> tuple[str, ...]:
        key = self.source("authors")
        if key == "authors":
            return self.text_list("authors", "[Policy team]")
        return self.loose_list(key)

    def summary(self) -> str:
        return self.display_text(self.source("summary"), "One sentence stating the position.") or ""

    def topics(self) -> tuple[tuple[str, str], ...]:
        """(slug, label) pairs: ``topics:`` as slugs, else tags and categories, slugged with
        the label kept as written (``Healthcare`` → ``healthcare``, "Healthcare")."""
        if "topics" in self.front.values:
            topics = self.text_list("topics", "[europe, trade]", True)
            return tuple((topic, self.labels.get(topic, "")) for topic in topics)
        pairs: dict[str, str] = {}
        for key in TOPIC_KEYS:
            for label in self.loose_list(key):
                pairs.setdefault(slugify(label, "topic"), label)
        return tuple(pairs.items())

    def aliases(self) -> tuple[str, ...]:
        """Old addresses (Hugo ``aliases``, Jekyll ``redirect_from``) that should redirect."""
        key = self.source("aliases")
        return tuple(a for a in self.loose_list(key) if a.strip("/ "))

    def status(self) -> str:
        value = self.front.values.get("status", "adopted")
        if isinstance(value, str) and value.strip().lower() in STATUSES:
            status = value.strip().lower()
            return "draft" if self._drafted() else status
        shown = f"'{value}'" if isinstance(value, str) else describe(value)
        self.error("status", f"status: unknown value {shown}; use one of {', '.join(STATUSES)}")
        return "draft"  # an unreadable status must never publish a file

    def _drafted(self) -> bool:
        """Jekyll's and Hugo's ways of keeping a page unpublished."""
        values = self.front.values
        return values.get("draft") is True or values.get("published") is False

    def updated(self) -> date | None:
        key = self.source("updated")
        value = self.front.values.get(key)
        if isinstance(value, datetime):
            value = value.date()
        elif isinstance(value, str) and (parsed := parse_date(value)):
            value = parsed
        if value is None or isinstance(value, date):
            if value is not None and value > date.today():
                self.warn(
                    self.front.line_of(key),
                    f"{key}: {value.isoformat()} is in the future; the citation ledger "
                    "records the change on the day it is indexed",
                )
            return value
        shown = f"'{value}'" if isinstance(value, str) else describe(value)
        self.error(key, f"{key}: expected a date like 2026-11-26, got {shown}")
        return None

    def slug(self, default: str) -> str:
        value = self.front.values.get("slug")
        if value is None:
            return default
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            text = str(value).strip()
            cleaned = clean_slug(text)
            if cleaned != text:
                self.warn(
                    self.front.line_of("slug"),
                    f"slug: '{text}' is not lower-case words joined by hyphens; the address "
                    f"is '{cleaned}' (write 'slug: {cleaned}' to say so)",
                )
            return cleaned
        self.error(
            "slug",
            f"slug: expected lower-case words joined by hyphens like 'fair-pay', got "
            f"{describe(value)}",
        )
        return default

    def unknown_keys(self) -> None:
        understood = {name for names in SYNONYMS.values() for name in names}
        understood |= set(KNOWN_KEYS) | set(TOPIC_KEYS) | set(DRAFT_KEYS) | LAYOUT_KEYS
        for key in self.front.values:
            if key not in understood:
                self.warn(
                    self.front.line_of(key),
                    f"unknown key '{key}' is ignored; known keys: {', '.join(KNOWN_KEYS)}",
                )


def parse_date(text: str) -> date | None:
    """The date of ``2015-01-01``, ``2015-01-01 00:00`` or ``2015-01-01T10:00:00+13:00``."""
    match = DATE_TIME_RE.match(text.strip())
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def once_per_key(problems: Iterable[Problem]) -> list[Problem]:
    """Problems with each unknown front matter key reported once per run, not per file:
    the first file that uses it is named, with how many others do too."""
    problems = list(problems)
    uses: dict[str, int] = {}
    for problem in problems:
        if match := UNKNOWN_KEY_RE.match(problem.message):
            uses[match.group(1)] = uses.get(match.group(1), 0) + 1
    kept, seen = [], set()
    for problem in problems:
        match = UNKNOWN_KEY_RE.match(problem.message)
        if match is None:
            kept.append(problem)
            continue
        key = match.group(1)
        if key in seen:
            continue
        seen.add(key)
        others = uses[key] - 1
        if others:
            also = f"(also in {others} other file{'' if others == 1 else 's'})"
            message = problem.message.replace(" is ignored;", f" is ignored {also};", 1)
            problem = Problem(problem.path, problem.line, message, problem.severity)
        kept.append(problem)
    return kept
