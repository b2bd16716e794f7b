"""Split a Markdown file into front matter and body, keeping line numbers.

Front matter is YAML between ``---`` lines (Jekyll, Hugo, MkDocs) or TOML between
``+++`` lines (Hugo). As Hugo does, blank lines may come before the opening fence.
MkDocs also reads fence-less ``Title: Fair pay`` lines at the top of a file (its
MultiMarkdown style), up to the first blank line.
PyYAML's node marks give the line of every key, so each problem can name the exact
line in the file rather than "somewhere in the front matter".
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from kb.content.yamlbounds import BoundedYamlError, compose_bounded, one_line

FENCE = "---"
TOML_FENCE = "+++"
CLOSING = {FENCE: (FENCE, "..."), TOML_FENCE: (TOML_FENCE,)}
TOML_LOCATION_RE = re.compile(r"\s*\(at line (\d+), column \d+\)|\s*\(at end of document\)")
# A TOML key at the start of a line ("title =", "'a b' =", "params.hero =") or a table
# header ("[params]"); a dotted key belongs to its first part.
TOML_KEY_RE = re.compile(r"""^\s*(?:([A-Za-z0-9_-]+)|"([^"]+)"|'([^']+)')\s*[.=]""")
TOML_TABLE_RE = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_-]+)")
KEY_LINE_RE = re.compile(r"""^\s*(?:[\w-]+|"[^"]+"|'[^']+')\s*[:=]|^\s*\[""")  # a key or a table
# MkDocs' fence-less metadata: "Key: value" lines from the first line to a blank line,
# keys in any case; a line indented four spaces (or a tab) continues the key above.
FENCELESS_KEY_RE = re.compile(r"^ {0,3}([A-Za-z0-9_-]+):[ \t]*(.*?)[ \t]*$")
FENCELESS_MORE_RE = re.compile(r"^(?: {4}|\t)[ \t]*(.*?)[ \t]*$")
# Such lines are metadata only when every line of the first block is one and one is the
# page's title, as in MkDocs' pages: "Note: read this first." or "Date: next Tuesday"
# stays the file's first line, and a plain folder's notes are read as text.
FENCELESS_SIGN = "title"
FENCELESS_LISTS = frozenset("topics tags categories authors related aliases redirect_from".split())
FENCELESS_FLAGS = frozenset({"draft", "published"})  # "true" and "false" mean yes and no


class FrontMatterError(Exception):
    """The front matter cannot be read at all; carries the file line it concerns."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class FrontMatter:
    """Parsed front matter: values by key, and the file line each key sits on."""

    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1  # file line on which the body starts

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)


@dataclass(frozen=True)
class Block:
    """The front matter's text as written, and where it and the body start."""

    fence: str  # FENCE (YAML) or TOML_FENCE
    text: str
    first_line: int  # file line of the block's first line (after the opening fence)
    body: str
    body_line: int


def split_front_matter(text: str) -> Block | None:
    """The front matter block of ``text``, or None when it has none. Raises on a fence
    on the first line that is never closed. After blank lines, a block is front matter
    only when it opens with a key (after any comments): else those are Markdown rules
    around a paragraph."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or lines[start].strip() not in CLOSING:
        return None
    fence = lines[start].strip()
    for index in range(start + 1, len(lines)):
        if lines[index].strip() in CLOSING[fence]:
            block = lines[start + 1 : index]
            if start > 0 and not KEY_LINE_RE.match(_first_statement(block)):
                return None
            body = "".join(lines[index + 1 :])
            return Block(fence, "".join(block), start + 2, body, index + 2)
    if start > 0:
        return None
    raise FrontMatterError(
        1, f"front matter starts with '{fence}' but has no closing '{fence}' line"
    )


def _first_statement(lines: list[str]) -> str:
    """The first line that is neither blank nor a comment (YAML and TOML both use #)."""
    return next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")


def parse_front_matter(text: str) -> FrontMatter:
    """Parse the front matter of ``text``; raise FrontMatterError with a file line.

    The last few results are kept: loading a file and checking it both parse it, and
    the YAML composer is most of a full build's reading time. Callers never change
    what they get.
    """
    return _parse_front_matter(text)


@lru_cache(maxsize=8)
def _parse_front_matter(text: str) -> FrontMatter:
    block = split_front_matter(text)
    if block is None:
        return _fenceless(text) or FrontMatter(body=text, body_line=1)
    if not block.text.strip():
        return FrontMatter(body=block.body, body_line=block.body_line)
    if block.fence == TOML_FENCE:
        return _toml(block)
    try:
        root = compose_bounded(block.text)
    except BoundedYamlError as exc:
        message = f"front matter is not valid YAML: {exc.problem}"
        raise FrontMatterError(block.first_line + exc.line - 1, message) from None
    if root is None:
        return FrontMatter(body=block.body, body_line=block.body_line)
    if not isinstance(root, yaml.MappingNode):
        raise FrontMatterError(
            block.first_line + root.start_mark.line,
            "front matter must be 'key: value' lines, like 'title: Europe'",
        )
    return _mapping(root, block)


def _fenceless(text: str) -> FrontMatter | None:
    """MkDocs' fence-less metadata at the top of ``text``; None when it has none.

    Values are text (a continued one joined with spaces); a list field's items are
    split at commas and continuation lines; ``draft: true`` is a yes."""
    lines = text.splitlines(keepends=True)
    entries: dict[str, list[str]] = {}
    where: dict[str, int] = {}
    key, end = "", len(lines)
    for index, line in enumerate(lines):
        if not line.strip():
            end = index
            break
        if match := FENCELESS_KEY_RE.match(line):
            key = match[1].lower()
            entries.setdefault(key, []).append(match[2])
            where.setdefault(key, index + 1)
        elif key and (match := FENCELESS_MORE_RE.match(line)):
            entries[key].append(match[1])
        else:
            return None
    if FENCELESS_SIGN not in entries:
        return None
    values = {key: _fenceless_value(key, parts) for key, parts in entries.items()}
    return FrontMatter(values, where, "".join(lines[end + 1 :]), end + 2)


def _fenceless_value(key: str, parts: list[str]) -> Any:
    if key in FENCELESS_LISTS:
        return [item.strip() for part in parts for item in part.split(",") if item.strip()]
    text = " ".join(part for part in parts if part)
    if key in FENCELESS_FLAGS and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _toml(block: Block) -> FrontMatter:
    """Hugo's TOML front matter (``title = "Europe"``), each key with its file line."""
    try:
        values = tomllib.loads(block.text)
    except tomllib.TOMLDecodeError as exc:
        found = TOML_LOCATION_RE.search(str(exc))
        line = block.first_line + int(found.group(1)) - 1 if found and found.group(1) else 0
        problem = one_line(TOML_LOCATION_RE.sub("", str(exc)))
        message = f"front matter is not valid TOML: {problem}"
        raise FrontMatterError(line or block.first_line, message) from None
    lines: dict[str, int] = {}
    table = False  # keys after a [table] header belong to that table
    for offset, line in enumerate(block.text.splitlines()):
        header = TOML_TABLE_RE.match(line)
        if header:
            table = True
            lines.setdefault(header.group(1), block.first_line + offset)
        elif not table and (key := TOML_KEY_RE.match(line)):
            name = next(group for group in key.groups() if group)
            lines.setdefault(name, block.first_line + offset)
    return FrontMatter(values=values, lines=lines, body=block.body, body_line=block.body_line)


def _mapping(root: yaml.MappingNode, block: Block) -> FrontMatter:
    constructor = yaml.SafeLoader("")
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in root.value:
        key = str(key_node.value)
        line = block.first_line + key_node.start_mark.line
        if key in values:
            raise FrontMatterError(line, f"'{key}' is given twice; keep one")
        try:
            values[key] = constructor.construct_object(value_node, deep=True)
        except yaml.MarkedYAMLError as exc:  # e.g. a tag like !!python/object: one line
            mark = exc.problem_mark or exc.context_mark
            where = block.first_line + mark.line if mark else line
            raise FrontMatterError(
                where, f"{key}: cannot be read: {one_line(exc.problem)}"
            ) from None
        except yaml.YAMLError as exc:
            raise FrontMatterError(line, f"{key}: cannot be read: {one_line(str(exc))}") from None
        except ValueError as exc:  # a date-shaped value that is no date, like 2026-13-01
            if not isinstance(value_node, yaml.ScalarNode):
                raise FrontMatterError(line, f"{key}: cannot be read: {exc}") from exc
            values[key] = value_node.value  # the field check then explains it
        lines[key] = line
    return FrontMatter(values=values, lines=lines, body=block.body, body_line=block.body_line)
