"""`flask kb check`: every problem in the content folder, in plain words, with the fix.

Loading finds what is wrong inside one file's front matter (YAML, required fields, types,
dates, statuses, UTF-8). This module adds the rest: heading levels and empty bodies in
each file, then what needs the whole folder — duplicate slugs and titles, links and
``related:`` entries that lead nowhere, topics missing from the editors' topic list.

``check_folder`` accepts a cache keyed by content hash, so the live preview re-reads
only the files that changed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import click
from flask.cli import with_appcontext

from kb.cite.ledger import ledger_problems
from kb.content.editors import TOPICS_FILE, read_topics
from kb.content.frontmatter import FrontMatterError, parse_front_matter
from kb.content.links import file_link, line_links
from kb.content.loader import (
    ContentRefused,
    LoadResult,
    load_file,
    position_files,
    read_content,
)
from kb.content.model import Problem, escape_name
from kb.content.validate import TOPIC_KEYS, once_per_key
from kb.service import current_kb

LINK_RE = re.compile(r"\]\(\s*<?(/positions/[^)\s#?>]*)")
REFERENCE_RE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(/positions/[^\s#?>]*)")
HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
KEY_LINE_RE = re.compile(r"^[^\s#-][^:]*:")

# PyYAML names what confused the parser; editors need to know what to change.
YAML_HINTS = (
    ("'\\t'", "indent with spaces, not tabs"),
    (
        "mapping values are not allowed",
        "if a value contains ': ', put the whole value in quotes, like "
        'title: "Europe: our future"',
    ),
    ("expected ',' or ']'", "a list needs commas between items and a closing ']'"),
    ("found unexpected end of stream", "a quoted value is missing its closing quote"),
    ("cannot start any token", "put a value that starts with @, ` or % in quotes"),
    (
        "could not find expected ':'",
        "every line needs 'key: value'; look for a missing colon or an unclosed quote",
    ),
    ("did not find expected key", "check the indentation: each key starts its own line"),
)


def explain(problem: Problem) -> Problem:
    """The same problem, with the fix added when it is a YAML parser message."""
    if not problem.message.startswith("front matter is not valid YAML"):
        return problem
    for needle, hint in YAML_HINTS:
        if needle in problem.message:
            return replace(problem, message=f"{problem.message}; {hint}")
    return problem


@dataclass(frozen=True)
class FileFacts:
    """What one file contributes to a check; reusable while its content hash holds."""

    sha: str
    result: LoadResult
    lines: tuple[str, ...] = ()  # the file's text lines, when it is readable UTF-8
    keys: dict[str, int] = field(default_factory=dict)  # front matter key → file line
    local: tuple[Problem, ...] = ()  # problems found in this file alone
    links: tuple[tuple[int, str], ...] = ()  # (file line, "/positions/...") in the body
    body_line: int = 1  # the file line on which the body starts
    file_links: tuple[tuple[int, str], ...] = ()  # (file line, "./Other File.md")

    @property
    def path(self) -> str:
        return self.result.path

    def key_line(self, key: str) -> int:
        return self.keys.get(key, 1)

    def item_line(self, key: str, item: str) -> int:
        """The line of ``item`` in a front matter list, which may span several lines."""
        start = self.key_line(key)
        word = re.compile(rf"(?<![\w-]){re.escape(item)}(?![\w-])")
        for number in range(start, len(self.lines) + 1):
            line = self.lines[number - 1]
            if number > start and (line.strip() in ("---", "...") or KEY_LINE_RE.match(line)):
                break
            if word.search(line.split(":", 1)[-1] if number == start else line):
                return number
        return start


def inspect_file(root: Path, path: Path, data: bytes) -> FileFacts:
    """Load one file and find the problems that need no other file."""
    result = load_file(path, root)
    sha = hashlib.sha256(data).hexdigest()
    local = [explain(p) for p in result.problems]
    try:
        text = data.decode("utf-8-sig")
        front = parse_front_matter(text)
    except (UnicodeDecodeError, FrontMatterError):
        return FileFacts(sha, result, local=tuple(local))
    first = front.body_line
    body = front.body.splitlines()
    lines = tuple(text.splitlines())
    local += heading_problems(result.path, body, first)
    local += _position_problems(result, min(first, max(len(lines), 1)))
    links = body_links(body, first)
    files = body_links(body, first, line_links)
    return FileFacts(sha, result, lines, dict(front.lines), tuple(local), links, first, files)


def _position_problems(result: LoadResult, body_line: int) -> list[Problem]:
    """An empty body (an error unless drafting) and a missing summary (a warning)."""
    position, problems = result.position, []
    if position and not position.passages:
        severity = "warning" if position.status == "draft" else "error"
        message = "the body is empty; write the position below the front matter"
        problems.append(Problem(result.path, body_line, message, severity))
    if position and not position.summary:
        message = (
            "summary: missing; add one sentence stating the position, shown in results "
            "and citations"
        )
        problems.append(Problem(result.path, 1, message, "warning"))
    return problems


def heading_problems(path: str, body: list[str], first_line: int) -> list[Problem]:
    """Headings that skip a level (## then ####) confuse readers and screen readers."""
    problems, previous, fence = [], 1, ""
    for number, line in enumerate(body, start=first_line):
        fence = _fence_state(fence, line)
        match = None if fence else HEADING_RE.match(line)
        if not match:
            continue
        level = len(match.group(1))
        if level > previous + 1:
            problems.append(Problem(
                path, number,
                f"heading '{match.group(2)}' skips a level ({'#' * level} after "
                f"{'#' * previous}); make it {'#' * (previous + 1)} so no level is skipped",
                "warning",
            ))  # fmt: skip
        previous = level
    return problems


def _position_links(line: str) -> list[str]:
    return LINK_RE.findall(line) + REFERENCE_RE.findall(line)


def body_links(
    body: list[str], first_line: int, find=_position_links
) -> tuple[tuple[int, str], ...]:
    """Every link ``find`` sees in the body (by default to /positions/...), with its file
    line; code is skipped."""
    found, fence = [], ""
    for number, line in enumerate(body, start=first_line):
        fence = _fence_state(fence, line)
        if fence or FENCE_RE.match(line):
            continue
        targets = find(line)
        found += [(number, target) for target in targets]
    return tuple(found)


def _fence_state(fence: str, line: str) -> str:
    """The open code fence after ``line`` ("" when outside code)."""
    match = FENCE_RE.match(line)
    if not match:
        return fence
    marker = match.group(1)
    if not fence:
        return marker
    return "" if marker[0] == fence[0] and len(marker) >= len(fence) else fence


def read_topic_list(root: Path) -> tuple[set[str] | None, list[Problem]]:
    """The editors' topic list, or None when the folder has none or it cannot be read."""
    topics = read_topics(root)
    return (None if topics.labels is None else set(topics.labels)), list(topics.problems)


def check_folder(root: Path, cache: dict[str, FileFacts] | None = None) -> list[Problem]:
    """Every problem in the content folder, sorted by file and line.

    ``cache`` (path → FileFacts) is read and refreshed: files whose content hash is
    unchanged are not loaded again.
    """
    cache = {} if cache is None else cache
    facts = []
    for path in position_files(root):
        relative = path.relative_to(root).as_posix()
        try:
            data = read_content(path, root)[0] or b""  # stat first: a huge file is not read
        except (OSError, ContentRefused):
            data = b""  # load_file reports why it cannot be read
        known = cache.get(relative)
        if known is None or known.sha != hashlib.sha256(data).hexdigest():
            known = inspect_file(root, path, data)
        facts.append(known)
    cache.clear()
    cache.update({f.path: f for f in facts})
    topics, problems = read_topic_list(root)
    problems += ledger_problems(root, [fact.result for fact in facts])
    return once_per_key(sorted(problems + folder_problems(facts, topics), key=_order))


def _order(problem: Problem) -> tuple:
    return (problem.path, problem.line, problem.severity != "error", problem.message)


def folder_problems(facts: list[FileFacts], topics: set[str] | None) -> list[Problem]:
    """Problems of each file plus those that need the whole folder to see."""
    problems = [problem for fact in facts for problem in fact.local]
    loaded = [fact for fact in facts if fact.result.position]
    problems += duplicate_problems(loaded)
    owners: dict[str, FileFacts] = {}
    for fact in loaded:
        owners.setdefault(fact.result.position.slug, fact)
    broken = {Path(f.path).stem for f in facts if f.result.position is None}
    for fact in facts:
        problems += _reference_problems(fact, owners, broken, topics)
    problems += file_link_problems(facts)
    return problems


def file_link_problems(facts: list[FileFacts]) -> list[Problem]:
    """Relative links to Markdown files (``./Other%20File.md``) whose file is not there."""
    paths = {fact.path.lower(): fact.path for fact in facts}
    problems = []
    for fact in facts:
        for line, href in fact.file_links:
            link = file_link(fact.path, href)
            if link is None or link.path.lower() in paths:
                continue
            if link.outside:
                message = (
                    f"link to {href} leads out of the content folder; link to the page on "
                    "the web instead, or copy the file into the folder"
                )
            else:
                hint = _did_you_mean(link.path, paths.values()) or (
                    "fix the file name in the link or remove the link"
                )
                message = f"link to {href} goes nowhere: there is no file {link.path}; {hint}"
            problems.append(Problem(fact.path, line, message))
    return problems


def duplicate_problems(loaded: list[FileFacts]) -> list[Problem]:
    """Slugs two files share (an error, in each file) and repeated titles (a warning)."""
    problems = []
    by_slug: dict[str, list[FileFacts]] = {}
    for fact in loaded:
        by_slug.setdefault(fact.result.position.slug, []).append(fact)
    for slug, group in by_slug.items():
        for fact in group if len(group) > 1 else ():
            others = " and ".join(f.path for f in group if f is not fact)
            problems.append(Problem(
                fact.path, fact.key_line("slug"),
                f"slug '{slug}' is also used by {others}; each position needs its own: "
                "rename one file or give it its own 'slug: ...'",
            ))  # fmt: skip
    titles: dict[str, str] = {}
    for fact in loaded:
        title = fact.result.position.title
        key = " ".join(title.lower().split())
        if key in titles:
            problems.append(Problem(
                fact.path, _title_line(fact),
                f"title '{title}' is also used by {titles[key]}; give each position its "
                "own title", "warning",
            ))  # fmt: skip
        titles.setdefault(key, fact.path)
    return problems


def _title_line(fact: FileFacts) -> int:
    if "title" in fact.keys:
        return fact.keys["title"]
    numbered = enumerate(fact.lines[fact.body_line - 1 :], start=fact.body_line)
    return next((number for number, line in numbered if line.startswith("# ")), 1)


def _reference_problems(
    fact: FileFacts, owners: dict[str, FileFacts], broken: set[str], topics: set[str] | None
) -> list[Problem]:
    """Links, related entries and topics of one file that point at nothing."""
    problems = []
    position = fact.result.position
    public = position is None or position.is_public
    for line, target in fact.links:
        slug = target[len("/positions/") :].strip("/")
        if slug and slug not in broken:
            message = _target_problem(f"link to {target}", slug, owners, public)
            if message:
                problems.append(Problem(fact.path, line, *message))
    for slug in position.related if position else ():
        if slug not in broken:
            message = _target_problem(f"related: '{slug}'", slug, owners, public)
            if message:
                problems.append(Problem(fact.path, fact.item_line("related", slug), *message))
    for topic in position.topics if position and topics is not None else ():
        if topic not in topics:
            hint = _did_you_mean(topic, topics) or "add it there or fix the spelling"
            key = next((k for k in ("topics", *TOPIC_KEYS) if k in fact.keys), "topics")
            problems.append(Problem(
                fact.path, fact.item_line(key, topic),
                f"topics: '{topic}' is not in {TOPICS_FILE}; {hint}",
            ))  # fmt: skip
    return problems


def _target_problem(
    what: str, slug: str, owners: dict[str, FileFacts], public: bool
) -> tuple[str, str] | None:
    """(message, severity) for a reference to ``slug``, or None when it is fine."""
    target = owners.get(slug)
    if target is None:
        hint = _did_you_mean(slug, owners) or "fix the slug or remove the reference"
        return f"{what} goes nowhere: no position has the slug '{slug}'; {hint}", "error"
    if public and not target.result.position.is_public:
        return (
            f"{what} points to a draft, which the public site does not show; adopt "
            f"{target.path} first or remove the reference",
            "warning",
        )
    return None


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else ""


def shown_path(root: Path, relative: str) -> str:
    """A path an editor can click: relative to the working folder when inside it."""
    full = root / relative
    try:
        return full.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return full.as_posix()


def format_problem(problem: Problem, root: Path) -> str:
    """``path:line: message``, with ``warning:`` before warnings."""
    prefix = "warning: " if problem.severity == "warning" else ""
    where = escape_name(shown_path(root, problem.path))
    return f"{where}:{problem.line}: {prefix}{problem.message}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def summary_line(files: int, problems: list[Problem]) -> str:
    """``checked 9 files: 2 errors, 1 warning``."""
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    return (
        f"checked {_count(files, 'file')}: {_count(errors, 'error')}, {_count(warnings, 'warning')}"
    )


QUOTED_RE = re.compile(r"'[^']*'|\([^)]*\)|\d[\d,]*")


def advice(problems: list[Problem]) -> list[str]:
    """What to do next, after the list: how many files wait on their errors, and the
    problems that repeat most, so a large imported folder is fixed a kind at a time."""
    lines = []
    blocked = {p.path for p in problems if p.is_error}
    if blocked:
        lines.append(
            f"{_count(len(blocked), 'file')} with errors will not be published until they are "
            "fixed (a file already published keeps its last good version); warnings never "
            "stop publishing"
        )
    kinds: dict[str, list[Problem]] = {}
    for problem in problems:
        kinds.setdefault(QUOTED_RE.sub("…", problem.message), []).append(problem)
    common = sorted((k for k in kinds.items() if len(k[1]) > 1), key=lambda k: -len(k[1]))
    for _kind, group in common[:5]:
        first = group[0]
        lines.append(f"  {len(group)} × like {first.path}:{first.line}: {first.message}")
    if common:
        lines.insert(len(lines) - len(common[:5]), "most frequent problems:")
    return lines


def json_report(root: Path, files: int, problems: list[Problem]) -> str:
    """The same findings for tools: counts and one object per problem."""
    errors = sum(p.is_error for p in problems)
    body = {
        "ok": errors == 0,
        "files": files,
        "errors": errors,
        "warnings": len(problems) - errors,
        "problems": [
            {"path": shown_path(root, p.path), "line": p.line, "severity": p.severity,
             "message": p.message}
            for p in problems
        ],
    }  # fmt: skip
    return json.dumps(body, indent=2, ensure_ascii=False)


@click.command("check")
@with_appcontext
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text",
              help="text (path:line: message) or json for tools.")  # fmt: skip
def check_command(output: str) -> None:
    """Check every position file; exit 1 if any has an error (warnings alone pass)."""
    root = current_kb().settings.positions_dir
    if not root.is_dir():
        raise click.ClickException(f"content folder not found: {root}")
    problems = check_folder(root)
    files = len(position_files(root))
    if output == "json":
        click.echo(json_report(root, files, problems))
    else:
        for problem in problems:
            click.echo(format_problem(problem, root))
        click.echo(summary_line(files, problems))
        for line in advice(problems):
            click.echo(line)
    if any(p.is_error for p in problems):
        raise SystemExit(1)
