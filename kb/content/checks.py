"""`flask kb check`: every problem in the content folder, in plain words, with the fix.

Beyond what loading finds (front matter, types, dates, statuses, duplicate slugs,
UTF-8), it checks links between positions, heading levels, empty bodies, duplicate
titles and topics missing from the editors' topic list.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import yaml
from flask import current_app
from flask.cli import with_appcontext

from kb.content.loader import Collection, load_folder
from kb.content.model import Position, Problem

TOPICS_FILE = "topics.yml"
LINK_RE = re.compile(r"\]\(\s*(/positions/[^)\s#?]*)")
HEADING_RE = re.compile(r"^(#{1,6})[ \t]+\S")
FENCE_RE = re.compile(r"^(```|~~~)")


def body_lines(position: Position, text: str) -> int:
    """The file line on which the body (after the title line) starts."""
    index = text.find(position.body[:80]) if position.body.strip() else -1
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def heading_problems(path: str, body: str, first_line: int) -> list[Problem]:
    """Headings that skip a level (## then ####) confuse readers and screen readers."""
    problems, previous, in_fence = [], 1, False
    for offset, line in enumerate(body.splitlines()):
        if FENCE_RE.match(line):
            in_fence = not in_fence
        match = None if in_fence else HEADING_RE.match(line)
        if not match:
            continue
        level = len(match.group(1))
        if level > previous + 1:
            problems.append(Problem(
                path, first_line + offset,
                f"heading level {level} follows level {previous}; use {'#' * (previous + 1)} "
                "so levels are not skipped",
            ))  # fmt: skip
        previous = level
    return problems


def link_problems(path: str, body: str, first_line: int, slugs: set[str]) -> list[Problem]:
    problems = []
    for offset, line in enumerate(body.splitlines()):
        for target in LINK_RE.findall(line):
            slug = target[len("/positions/") :].strip("/")
            if slug and slug not in slugs:
                problems.append(Problem(
                    path, first_line + offset,
                    f"link to {target} points to no position; check the slug",
                ))  # fmt: skip
    return problems


def read_topic_list(root: Path) -> tuple[set[str] | None, list[Problem]]:
    """The editors' topic list, or None when the folder has none."""
    path = root / TOPICS_FILE
    if not path.is_file():
        return None, []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        return None, [Problem(TOPICS_FILE, line, f"topic list cannot be read: {exc}")]
    if isinstance(data, dict):
        return {str(k) for k in data}, []
    if isinstance(data, list):
        return {str(k) for k in data}, []
    return None, [Problem(TOPICS_FILE, 1, "topic list must be 'slug: Label' lines")]


def check_folder(root: Path) -> list[Problem]:
    """Every problem in the content folder, sorted by file and line."""
    collection: Collection = load_folder(root)
    problems = list(collection.problems)
    slugs = {p.slug for p in collection.positions}
    topics, topic_problems = read_topic_list(root)
    problems += topic_problems
    titles: dict[str, str] = {}
    for position in collection.positions:
        problems += _position_problems(root, position, slugs, topics, titles)
    return sorted(problems, key=lambda p: (p.path, p.line, p.message))


def _position_problems(root, position, slugs, topics, titles) -> list[Problem]:
    path = position.path
    text = (root / path).read_text(encoding="utf-8-sig")
    first_line = body_lines(position, text)
    problems = heading_problems(path, position.body, first_line)
    problems += link_problems(path, position.body, first_line, slugs)
    if not position.passages:
        problems.append(Problem(path, first_line, "the body is empty; write the position"))
    for slug in position.related:
        if slug not in slugs:
            problems.append(Problem(path, _key_line(text, "related"),
                                    f"related: no position has the slug '{slug}'"))  # fmt: skip
    if topics is not None:
        for topic in position.topics:
            if topic not in topics:
                problems.append(Problem(
                    path, _key_line(text, "topics"),
                    f"topics: '{topic}' is not in {TOPICS_FILE}; add it there or fix the spelling",
                ))  # fmt: skip
    key = position.title.strip().lower()
    if key in titles:
        problems.append(Problem(path, _key_line(text, "title"),
                                f"title '{position.title}' is also used by {titles[key]}",
                                "warning"))  # fmt: skip
    titles.setdefault(key, path)
    return problems


def _key_line(text: str, key: str) -> int:
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


@click.command("check")
@with_appcontext
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text")
def check_command(output: str) -> None:
    """Check every position file; exit 1 if any has an error."""
    root = current_app.config["KB"].settings.positions_dir
    if not root.is_dir():
        raise click.ClickException(f"content folder not found: {root}")
    problems = check_folder(root)
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    if output == "json":
        click.echo(json.dumps({
            "ok": errors == 0, "errors": errors, "warnings": warnings,
            "problems": [{"path": p.path, "line": p.line, "severity": p.severity,
                          "message": p.message} for p in problems],
        }, indent=2))  # fmt: skip
    else:
        for problem in problems:
            click.echo(str(problem))
        files = len(list(root.rglob("*.md")))
        click.echo(f"checked {files} files: {errors} errors, {warnings} warnings")
    if errors:
        raise SystemExit(1)
