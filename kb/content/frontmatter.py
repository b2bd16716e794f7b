"""Split a Markdown file into YAML front matter and body, keeping line numbers.

PyYAML's node marks give the line of every key, so each problem can name the exact
line in the file rather than "somewhere in the front matter".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from kb.content.yamlbounds import BoundedYamlError, compose_bounded, one_line

FENCE = "---"


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


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Return (yaml_text or None, body, first body line). Raises on an unclosed fence."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        return None, text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() in (FENCE, "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise FrontMatterError(1, "front matter starts with '---' but has no closing '---' line")


def parse_front_matter(text: str) -> FrontMatter:
    """Parse the front matter of ``text``; raise FrontMatterError with a file line.

    The last few results are kept: loading a file and checking it both parse it, and
    the YAML composer is most of a full build's reading time. Callers never change
    what they get.
    """
    return _parse_front_matter(text)


@lru_cache(maxsize=8)
def _parse_front_matter(text: str) -> FrontMatter:
    yaml_text, body, body_line = split_front_matter(text)
    if yaml_text is None or not yaml_text.strip():
        return FrontMatter(body=body, body_line=body_line)
    try:
        root = compose_bounded(yaml_text)
    except BoundedYamlError as exc:  # the YAML starts on file line 2
        message = f"front matter is not valid YAML: {exc.problem}"
        raise FrontMatterError(exc.line + 1, message) from None
    if root is None:
        return FrontMatter(body=body, body_line=body_line)
    if not isinstance(root, yaml.MappingNode):
        raise FrontMatterError(
            root.start_mark.line + 2,
            "front matter must be 'key: value' lines, like 'title: Europe'",
        )
    return _mapping(root, body, body_line)


def _mapping(root: yaml.MappingNode, body: str, body_line: int) -> FrontMatter:
    constructor = yaml.SafeLoader("")
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in root.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 2
        if key in values:
            raise FrontMatterError(line, f"'{key}' is given twice; keep one")
        try:
            values[key] = constructor.construct_object(value_node, deep=True)
        except yaml.MarkedYAMLError as exc:  # e.g. a tag like !!python/object: one line
            mark = exc.problem_mark or exc.context_mark
            where = mark.line + 2 if mark else line
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
    return FrontMatter(values=values, lines=lines, body=body, body_line=body_line)
