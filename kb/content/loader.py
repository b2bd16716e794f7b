"""Load position files: bytes → front matter → validated Position, or problems.

I/O stays at the edge (``load_file``/``load_folder``); ``parse_position`` is pure.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from kb import limits
from kb.content.frontmatter import FrontMatterError, parse_front_matter
from kb.content.model import Passage, Position, Problem, TopicIntro
from kb.content.render import render_body
from kb.content.slug import alias_path, file_slug, folder_topic, is_intro, readable_name
from kb.content.validate import FieldChecker
from kb.limits import MAX_FILE_BYTES

ATX_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_RE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[A-Z0-9\"“‘(])")
PARAGRAPH_RE = re.compile(r"<p[ >]")
MAX_DERIVED_SUMMARY = 300  # characters of a first sentence used as the summary
EMPTY = "file is empty, so it is skipped; write the position in it or delete it"
TOO_DEEP = (
    "file is nested too deeply to read (lists, quotes or brackets inside one another "
    "hundreds of levels deep); flatten the nesting"
)
TOO_SLOW = (
    "file took longer than {seconds:g} seconds to render, so it was skipped; look for "
    "thousands of '[' or '(' characters, or of headings, with no blank line between them"
)


@dataclass(frozen=True)
class LoadResult:
    """The outcome for one file: a Position when it has no errors, and all problems."""

    path: str
    position: Position | None
    problems: tuple[Problem, ...]
    intro: TopicIntro | None = None  # a folder's README.md or index.md


@dataclass(frozen=True)
class Collection:
    """Every file of a content folder: the valid positions and every problem."""

    positions: tuple[Position, ...]
    problems: tuple[Problem, ...]
    results: tuple[LoadResult, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)


def decode(path: str, data: bytes) -> tuple[str | None, Problem | None]:
    """Decode UTF-8 (a BOM is allowed), or name the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        message = f"file is not valid UTF-8 (byte 0x{byte}); save it with UTF-8 encoding"
        return None, Problem(path, line, message)


@dataclass(frozen=True)
class Heading:
    """A heading in a body: its level, text, and the body lines it spans [start, end)."""

    level: int
    text: str
    start: int
    end: int


def _headings(lines: list[str]) -> Iterator[Heading]:
    """ATX (``# Title``) and setext (``Title`` over ``=====``) headings, outside code."""
    fence, block_start = "", 0
    for index, line in enumerate(lines):
        marker = FENCE_RE.match(line)
        if fence or marker:
            if marker and not fence:
                fence = marker.group(1)
            elif marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = ""
            block_start = index + 1
            continue
        if not line.strip():
            block_start = index + 1
            continue
        atx = ATX_RE.match(line.rstrip("\r\n"))
        if atx:
            yield Heading(len(atx.group(1)), (atx.group(2) or "").strip(), index, index + 1)
            block_start = index + 1
        elif SETEXT_RE.match(line) and block_start < index:
            text = " ".join(" ".join(lines[block_start:index]).split())
            level = 1 if line.strip()[0] == "=" else 2
            yield Heading(level, text, block_start, index + 1)
            block_start = index + 1


def _first_block(lines: list[str]) -> int:
    return next((i for i, line in enumerate(lines) if line.strip()), len(lines))


def split_title(body: str, has_title: bool) -> tuple[str | None, str]:
    """The title the body gives, and the body without that heading, so the page (which
    shows the title itself) never shows it twice.

    The title is the first level-1 heading (ATX or setext), else a heading of any level
    that opens the file. With a title in the front matter, only a level-1 heading that
    opens the file is taken out, as it repeats the title.
    """
    lines = body.splitlines(keepends=True)
    found = [h for h in _headings(lines) if h.text]
    opening = next((h for h in found if h.start == _first_block(lines)), None)
    if has_title:
        heading = opening if opening and opening.level == 1 else None
    else:
        heading = next((h for h in found if h.level == 1), opening)
    if heading is None:
        return None, body
    # A heading that opens the file leaves no gap; one further down keeps blocks apart.
    gap = [] if heading is opening else ["\n"]
    rest = "".join(lines[: heading.start] + gap + lines[heading.end :])
    return heading.text, rest


def derived_summary(passages: tuple[Passage, ...]) -> str:
    """The first sentence of the first paragraph, for a position written without a summary."""
    first = next((p for p in passages if PARAGRAPH_RE.match(p.html) and "<pre" not in p.html), None)
    if first is None or not first.text:
        return ""
    sentence = SENTENCE_END_RE.split(first.text, maxsplit=1)[0].strip()
    if len(sentence) > MAX_DERIVED_SUMMARY:
        sentence = sentence[:MAX_DERIVED_SUMMARY].rsplit(" ", 1)[0] + " …"
    return sentence


def parse_position(path: str, text: str) -> LoadResult:
    """Validate one file's text into a Position (or, for a folder's README.md or
    index.md, a TopicIntro), collecting every problem."""
    if not text.strip():
        return LoadResult(path, None, (Problem(path, 1, EMPTY, "warning"),))
    try:
        front = parse_front_matter(text)
    except FrontMatterError as exc:
        return LoadResult(path, None, (Problem(path, exc.line, exc.message),))
    check = FieldChecker(path, front)
    written = check.text("title", "Fair pay")
    heading_title, body = split_title(front.body, has_title="title" in front.values)
    title = written or heading_title
    name = PurePosixPath(path).name
    if not title and "title" in front.values:
        if not isinstance(front.values["title"], (list, dict)):
            check.error("title", "title: is empty; write the position's title")
    elif not title:
        title = readable_name(name)
    if is_intro(name):
        return _intro(path, title or "", body, check)
    default_slug = file_slug(name)
    slug = check.slug(default_slug)
    topics = check.topics() or _folder_topics(path)
    summary = check.summary()
    position_fields = dict(
        topics=tuple(topic for topic, _label in topics),
        topic_labels=tuple((topic, label) for topic, label in topics if label),
        status=check.status(),
        updated=check.updated(),
        authors=check.authors(),
        related=check.text_list("related", "[europe, climate]", slugs=True),
        aliases=_aliases(check.aliases(), slug, default_slug),
    )
    check.unknown_keys()
    problems = tuple(check.problems)
    if any(p.is_error for p in problems) or not title:
        return LoadResult(path, None, problems)
    rendered = render_body(slug, body, source=path)
    position = Position(
        slug=slug, title=title, body=body, path=path, html=rendered.html,
        headings=tuple(text for _, text, _ in rendered.headings),
        passages=rendered.passages, summary=summary or derived_summary(rendered.passages),
        summary_derived=not summary and bool(rendered.passages), **position_fields,
    )  # fmt: skip
    return LoadResult(path, position, problems)


def _folder_topics(path: str) -> tuple[tuple[str, str], ...]:
    topic = folder_topic(path)
    return (topic,) if topic else ()


def _aliases(written: tuple[str, ...], slug: str, default_slug: str) -> tuple[str, ...]:
    """Old addresses as paths; the file name's address too when ``slug:`` replaces it, so
    links by file name (``./Other File.md``) still arrive."""
    paths = [alias_path(alias) for alias in written]
    if slug != default_slug:
        paths.append(alias_path(default_slug))
    own = alias_path(slug)
    return tuple(dict.fromkeys(p for p in paths if p != own))


def _intro(path: str, title: str, body: str, check: FieldChecker) -> LoadResult:
    """A folder's introduction: rendered for its topic page, never a position."""
    topic = folder_topic(path) or ("", "")
    problems = tuple(check.problems)
    if any(p.is_error for p in problems):
        return LoadResult(path, None, problems)
    html = render_body(f"intro-{topic[0]}", body, source=path).html
    intro = TopicIntro(topic=topic[0], label=topic[1], title=title, html=html, path=path)
    return LoadResult(path, None, problems, intro=intro)


class RenderTooSlow(BaseException):
    """Rendering one file ran out of time (a BaseException, so no library swallows it)."""


@contextmanager
def render_budget(seconds: float) -> Iterator[None]:
    """Raise RenderTooSlow inside the block once ``seconds`` have passed.

    Only a main thread can take the timer signal: `flask kb index`, `flask kb check` and
    the indexer's worker processes load files in one; elsewhere the block runs unbounded.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum, _frame) -> None:
        raise RenderTooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


def parse_guarded(path: str, text: str) -> LoadResult:
    """``parse_position``, but a file too deep or too slow to render is reported, not fatal."""
    try:
        with render_budget(limits.RENDER_SECONDS):
            return parse_position(path, text)
    except RecursionError:
        return LoadResult(path, None, (Problem(path, 1, TOO_DEEP),))
    except RenderTooSlow:
        message = TOO_SLOW.format(seconds=limits.RENDER_SECONDS)
        return LoadResult(path, None, (Problem(path, 1, message),))


def read_bounded(path: Path) -> tuple[bytes, int]:
    """At most MAX_FILE_BYTES + 1 bytes of the file, and its size: a huge file is not read."""
    with path.open("rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1), os.fstat(handle.fileno()).st_size


def load_file(path: Path, root: Path) -> LoadResult:
    """Read and validate one file under ``root``; never raises for bad content."""
    relative = path.relative_to(root).as_posix()
    try:
        data, size = read_bounded(path)
    except OSError as exc:
        message = f"cannot read file: {exc.strerror or exc}"
        return LoadResult(relative, None, (Problem(relative, 1, message),))
    if len(data) > MAX_FILE_BYTES:
        message = (
            f"file is {max(size, len(data)):,} bytes; the limit is {MAX_FILE_BYTES:,} bytes: "
            "split it into several positions"
        )
        return LoadResult(relative, None, (Problem(relative, 1, message),))
    text, problem = decode(relative, data)
    if problem:
        return LoadResult(relative, None, (problem,))
    return parse_guarded(relative, text)


def position_files(root: Path) -> list[Path]:
    """Every position file under ``root``: ``*.md``, excluding hidden and ``_`` files."""

    def visible(path: Path) -> bool:
        *folders, name = path.relative_to(root).parts
        hidden = any(part.startswith((".", "_")) for part in folders)
        return not hidden and (not name.startswith((".", "_")) or is_intro(name))  # _index.md

    return sorted(p for p in root.rglob("*.md") if p.is_file() and visible(p))


def load_folder(root: Path) -> Collection:
    """Load every position file; files with errors are skipped, duplicates named."""
    results = [load_file(path, root) for path in position_files(root)]
    return collect(results)


def collect(results: list[LoadResult]) -> Collection:
    """Combine per-file results, rejecting the later file of any duplicate slug."""
    owners: dict[str, str] = {}
    final: list[LoadResult] = []
    for result in results:
        position = result.position
        if position and position.slug in owners:
            message = f"slug '{position.slug}' is already used by {owners[position.slug]}"
            problem = Problem(result.path, 1, message)
            result = replace(result, position=None, problems=result.problems + (problem,))
        elif position:
            owners[position.slug] = result.path
        final.append(result)
    positions = tuple(r.position for r in final if r.position)
    problems = tuple(p for r in final for p in r.problems)
    return Collection(positions=positions, problems=problems, results=tuple(final))
