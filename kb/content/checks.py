"""Per-file facts for the content rules, and how problems are shown to editors.

Loading finds what is wrong inside one file's front matter (YAML, required fields, types,
dates, statuses, UTF-8). This module adds what else one file shows on its own — heading
levels, an empty body, a missing summary — and collects what the folder-wide rules in
``kb.content.rules`` need: the file's slug, links, ``related:`` entries and topics with
their lines. ``check_folder`` runs those rules over the whole folder.

``check_folder`` accepts a cache keyed by content hash, so the live preview re-reads
only the files that changed.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from kb.content.editors import read_topics
from kb.content.frontmatter import FENCE, TOML_FENCE, FrontMatterError, parse_front_matter
from kb.content.links import line_links
from kb.content.liquid import link_targets, unwrap_liquid
from kb.content.loader import (
    ContentRefused,
    LoadResult,
    digest,
    is_leaf_page,
    load_file,
    paths_to_look_at,
    read_content,
    settled,
    stat_facts,
)
from kb.content.model import Problem, escape_name
from kb.content.render import ALLOWED_TAGS
from kb.content.rules import Incumbents, Outcome, Summary, decide
from kb.content.shortcodes import ref_targets
from kb.content.slug import clean_slug, file_slug, page_place
from kb.content.validate import TOPIC_KEYS, once_per_key
from kb.limits import MAX_FILE_BYTES

PARALLEL_FROM = 200  # files to read; below this, starting processes costs more than it saves
T = TypeVar("T")
LINK_RE = re.compile(r"\]\(\s*<?(/positions/[^)\s#?>]*)")
# A reference definition; not a footnote ("[^1]: …"), whose text is not an address.
REFERENCE_RE = re.compile(r"^ {0,3}\[(?!\^)[^\]]+\]:\s*<?(/positions/[^\s#?>]*)")
HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# An HTML tag ("<img src=…>", "</div>", "<br/>") and its name; not an autolink ("<https://…>").
HTML_TAG_RE = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?/?>")
DATA_IMAGE_RE = re.compile(r"""\ssrc\s*=\s*["']?\s*data:""", re.IGNORECASE)
CODE_SPAN_RE = re.compile(r"(`+).+?\1")
SHOWN_TAG_CHARS = 40
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
    ref_links: tuple[tuple[int, str], ...] = ()  # (file line, "page.md") named by a Hugo
    # ref or a Jekyll link tag, which finds the file by its name
    declared_slug: str = ""  # 'slug:' when readable, else the file name: for broken files
    stat: list[int] | None = None  # ``stat_facts`` when read, while they can be trusted

    @property
    def path(self) -> str:
        return self.result.path

    @cached_property
    def summary(self) -> Summary:
        """What the folder-wide rules need of this file: worked out once, since the
        preview checks the whole folder after every save and most files are unchanged."""
        return summarize(self)

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
    sha = digest(data, result.leaf)
    local = [explain(p) for p in result.problems]
    try:
        if len(data) > MAX_FILE_BYTES:
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "too large to inspect")
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return FileFacts(sha, result, local=tuple(local), declared_slug=_claimed(result, ""))
    try:
        front = parse_front_matter(text)
    except FrontMatterError:
        declared = _claimed(result, _raw_slug(text))
        return FileFacts(sha, result, local=tuple(local), declared_slug=declared)
    first = front.body_line
    body = front.body.splitlines()
    lines = tuple(text.splitlines())
    shown = unwrap_liquid(front.body).splitlines()  # what Jekyll's tags leave; lines kept
    local += heading_problems(result.path, shown, first)
    local += raw_html_problems(result.path, shown, first)
    local += _position_problems(result, min(first, max(len(lines), 1)))
    links = body_links(body, first)
    files = body_links(body, first, line_links)
    declared = front.values.get("slug")
    declared = _claimed(result, declared if isinstance(declared, str) else "")
    return FileFacts(
        sha, result, lines, dict(front.lines), tuple(local), links, first, files,
        body_links(body, first, _named_files), declared,
    )  # fmt: skip


RAW_SLUG_RE = re.compile(r"^slug[ \t]*[:=][ \t]*['\"]?([^'\"\n#]+)", re.MULTILINE)


def _raw_slug(text: str) -> str:
    """A ``slug:`` (or TOML ``slug =``) line of front matter that does not parse, read
    as plain text."""
    opened = text.lstrip()
    fence = opened[:3]
    head = opened[3:].split("\n" + fence, 1)[0] if fence in (FENCE, TOML_FENCE) else ""
    match = RAW_SLUG_RE.search(head)
    return match.group(1).strip() if match else ""


def _claimed(result: LoadResult, written: str) -> str:
    """The address a file claims even when it has errors: its ``slug:`` cleaned as the
    loader cleans it, else its file name's; so a broken file keeps the address, and the
    citations, of its last good version."""
    if written.strip():
        return clean_slug(written.strip())
    return file_slug(page_place(result.path, result.leaf).name)


def read_for_check(path: Path, root: Path) -> bytes:
    """The file's bytes as the loader would take them; b"" when it cannot or must not be
    read (``load_file`` reports why). Size is checked first: a huge file is never read."""
    try:
        return read_content(path, root)[0] or b""
    except (OSError, ContentRefused):
        return b""


def inspect_path(path: Path, root: Path) -> FileFacts:
    """``inspect_file`` on a file read here."""
    return inspect_file(root, path, read_for_check(path, root))


def summarize(fact: FileFacts) -> Summary:
    """What the folder-wide rules need of one freshly read file."""
    position = fact.result.position
    if fact.result.intro is not None:
        return Summary(
            fact.path, None, local=fact.local, links=fact.links, file_links=fact.file_links,
            ref_links=fact.ref_links, intro=True,
        )  # fmt: skip
    if position is None:
        return Summary(
            fact.path, None, claimed=fact.declared_slug, local=fact.local,
            file_links=fact.file_links, ref_links=fact.ref_links, leaf=fact.result.leaf,
        )  # fmt: skip
    topic_key = next((k for k in ("topics", *TOPIC_KEYS) if k in fact.keys), "topics")
    return Summary(
        path=fact.path, slug=position.slug, public=position.is_public, title=position.title,
        title_line=_title_line(fact), slug_line=fact.key_line("slug"),
        topics=tuple((t, fact.item_line(topic_key, t)) for t in position.topics),
        related=tuple((s, fact.item_line("related", s)) for s in position.related),
        links=fact.links, file_links=fact.file_links, ref_links=fact.ref_links,
        local=fact.local, leaf=fact.result.leaf,
        passage_ids=frozenset(p.id for p in position.passages if position.is_public),
    )  # fmt: skip


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
    problems, previous = [], 1
    for number, line in _outside_fences(body, first_line):
        match = HEADING_RE.match(line)
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


def raw_html_problems(path: str, body: list[str], first_line: int) -> list[Problem]:
    """Raw HTML the page will not show: a tag outside the safe list (a script, a form
    field, an embedded frame) or an image written as data. One warning per file, at the
    first such line, with how many more there are; code is skipped."""
    found = []
    for number, line in _outside_fences(body, first_line):
        for tag in HTML_TAG_RE.finditer(CODE_SPAN_RE.sub("", line)):
            if _removed(tag):
                found.append((number, tag.group(0)))
                break
    if not found:
        return []
    number, tag = found[0]
    shown = tag if len(tag) <= SHOWN_TAG_CHARS else tag[: SHOWN_TAG_CHARS - 1] + "…"
    others = len(found) - 1
    more = f" (and {_count(others, 'more line')})" if others else ""
    return [Problem(
        path, number,
        f"raw HTML {shown!r} is removed from the page{more}: only safe HTML is kept "
        "(links, images from web addresses, tables, lists, text styles)",
        "warning",
    )]  # fmt: skip


def _removed(tag: re.Match) -> bool:
    """Whether the site drops this tag (or, for an image written as data, the image)."""
    name = tag.group(1).lower()
    return name not in ALLOWED_TAGS or (name == "img" and bool(DATA_IMAGE_RE.search(tag.group(0))))


def _named_files(line: str) -> list[str]:
    """The files a Hugo ref or a Jekyll link tag on the line names."""
    return ref_targets(line) + link_targets(line)


def _position_links(line: str) -> list[str]:
    return LINK_RE.findall(line) + REFERENCE_RE.findall(line)


def body_links(
    body: list[str], first_line: int, find=_position_links
) -> tuple[tuple[int, str], ...]:
    """Every link ``find`` sees in the body (by default to /positions/...), with its file
    line; code is skipped."""
    return tuple((number, target) for number, line in _outside_fences(body, first_line)
                 for target in find(line))  # fmt: skip


def _outside_fences(body: list[str], first_line: int) -> Iterator[tuple[int, str]]:
    """The body's lines outside fenced code, with their file line numbers."""
    fence = ""
    for number, line in enumerate(body, start=first_line):
        fence = _fence_state(fence, line)
        if not fence and not FENCE_RE.match(line):
            yield number, line


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


def check_folder(
    root: Path,
    cache: dict[str, FileFacts] | None = None,
    incumbents: Incumbents | None = None,
) -> list[Problem]:
    """Every content problem in the folder, sorted by file and line (see ``check``)."""
    return list(check(root, cache, incumbents).problems)


def workers_for(jobs: int) -> int:
    """How many processes a job of this many files deserves: one unless it is large."""
    return min(os.cpu_count() or 1, 4) if jobs >= PARALLEL_FROM else 1


def inspect_many(function: Callable[[T], FileFacts], jobs: list[T]) -> Iterator[FileFacts]:
    """``function`` over ``jobs``, in order; a large folder's files are read and rendered
    by several processes (a render is pure Python: threads would take turns)."""
    workers = workers_for(len(jobs))
    if workers == 1:
        yield from map(function, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(function, jobs, chunksize=8)


def check(
    root: Path,
    cache: dict[str, FileFacts] | None = None,
    incumbents: Incumbents | None = None,
    changed: Collection[str] | None = None,
) -> Outcome:
    """The content rules applied to the whole folder: problems and what may go live.

    ``cache`` (path → FileFacts) is read and refreshed: files whose content hash is
    unchanged are not loaded again. ``incumbents`` says who publishes what now (see
    ``kb.content.rules.Incumbents``); without it a duplicate slug goes by name and path.
    With ``changed`` (the files a watcher saw change), the folder is not walked: the
    cached files and those are looked at, and the others are taken as cached.
    """
    cache = {} if cache is None else cache
    started = time.time_ns()
    paths, trusted = paths_to_look_at(root, cache, changed)
    facts: list[FileFacts | None] = []
    stale: list[tuple[Path, Path, FileFacts | None, list[int] | None]] = []
    places: list[int] = []  # where each stale file's facts go in ``facts``
    for relative in paths:
        known = cache.get(relative)
        if relative in trusted and known is not None and known.stat is not None:
            facts.append(known)
            continue
        path = root / relative
        now = _stat_or_none(path, root)
        if known is None or now is None or known.stat != now:
            places.append(len(facts))
            stale.append((root, path, known, settled(now, started)))
        facts.append(known)
    for place, fact in zip(places, inspect_many(_reread_job, stale), strict=True):
        facts[place] = fact
    cache.clear()
    cache.update({f.path: f for f in facts})
    topics, topic_problems = read_topic_list(root)
    outcome = decide([f.summary for f in facts], topics, topic_problems, incumbents)
    return replace(outcome, problems=tuple(once_per_key(outcome.problems)))


def _stat_or_none(path: Path, root: Path) -> list[int] | None:
    try:
        return stat_facts(path, root)
    except OSError:
        return None  # gone or unreadable: reading it says why


def _reread_job(job: tuple[Path, Path, FileFacts | None, list[int] | None]) -> FileFacts:
    return _reread(*job)


def _reread(root: Path, path: Path, known: FileFacts | None, stat: list[int] | None) -> FileFacts:
    """The file's facts from its bytes: ``known`` again when its content hash holds."""
    data = read_for_check(path, root)
    if known is None or known.sha != digest(data, is_leaf_page(path, root)):
        known = inspect_file(root, path, data)
    return replace(known, stat=stat)


def _title_line(fact: FileFacts) -> int:
    if "title" in fact.keys:
        return fact.keys["title"]
    numbered = enumerate(fact.lines[fact.body_line - 1 :], start=fact.body_line)
    return next((number for number, line in numbered if line.startswith("# ")), 1)


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
