"""Turn parsed front matter into checked field values, collecting every problem.

Messages are written for editors, not programmers: each names the field, what was
expected (with an example) and what was found.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from kb.content.frontmatter import FrontMatter
from kb.content.model import STATUSES, Problem

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KNOWN_KEYS = (
    "title", "slug", "summary", "topics", "status", "updated", "authors", "related",
    "change_note",
)  # fmt: skip


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

    def error(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.path, self.front.line_of(key), message))

    def warn(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message, "warning"))

    def text(self, key: str, example: str) -> str | None:
        value = self.front.values.get(key)
        if value is None:
            return None
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value).strip()
        self.error(key, f"{key}: expected text like '{key}: {example}', got {describe(value)}")
        return None

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
                self.error(key, f"{key}: '{text}' must be lower-case words joined by hyphens")
                continue
            items.append(text)
        return tuple(items)

    def status(self) -> str:
        value = self.front.values.get("status", "adopted")
        if isinstance(value, str) and value.strip().lower() in STATUSES:
            return value.strip().lower()
        shown = f"'{value}'" if isinstance(value, str) else describe(value)
        self.error("status", f"status: unknown value {shown}; use one of {', '.join(STATUSES)}")
        return "draft"  # an unreadable status must never publish a file

    def updated(self) -> date | None:
        value = self.front.values.get("updated")
        if isinstance(value, datetime):
            value = value.date()
        if value is None or isinstance(value, date):
            if value is not None and value > date.today():
                self.warn(
                    self.front.line_of("updated"),
                    f"updated: {value.isoformat()} is in the future; the citation ledger "
                    "records the change on the day it is indexed",
                )
            return value
        shown = f"'{value}'" if isinstance(value, str) else describe(value)
        self.error("updated", f"updated: expected a date like 2026-11-26, got {shown}")
        return None

    def slug(self, default: str) -> str:
        value = self.front.values.get("slug")
        if value is None:
            return default
        if isinstance(value, str) and SLUG_RE.match(value.strip()):
            return value.strip()
        self.error(
            "slug",
            f"slug: expected lower-case words joined by hyphens like 'fair-pay', got "
            f"{describe(value)}",
        )
        return default

    def unknown_keys(self) -> None:
        for key in self.front.values:
            if key not in KNOWN_KEYS:
                self.warn(
                    self.front.line_of(key),
                    f"unknown key '{key}' is ignored; known keys: {', '.join(KNOWN_KEYS)}",
                )
