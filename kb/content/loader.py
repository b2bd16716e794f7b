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
from pathlib import Path

from kb import limits
from kb.content.frontmatter import FrontMatterError, parse_front_matter
from kb.content.model import Position, Problem
from kb.content.render import render_body
from kb.content.validate import SLUG_RE, FieldChecker
from kb.limits import MAX_FILE_BYTES

H1_RE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$")
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


def _split_title(body: str, body_line: int) -> tuple[str | None, str, int]:
    """Find a leading '# Title' line; return it and the body without it."""
    lines = body.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        match = H1_RE.match(line.rstrip("\n"))
        if match:
            return match.group(1).strip(), "".join(lines[:index] + lines[index + 1 :]), index
        break
    return None, body, -1


def parse_position(path: str, text: str) -> LoadResult:
    """Validate one file's text into a Position, collecting every problem."""
    try:
        front = parse_front_matter(text)
    except FrontMatterError as exc:
        return LoadResult(path, None, (Problem(path, exc.line, exc.message),))
    check = FieldChecker(path, front)
    heading_title, body, _ = _split_title(front.body, front.body_line)
    title = check.text("title", "Fair pay") or heading_title
    if not title and "title" not in check.front.lines:
        check.problems.append(
            Problem(path, 1, "no title: add 'title: ...' to the front matter or a '# Title' line")
        )
    elif not title and not isinstance(front.values["title"], (list, dict)):
        check.error("title", "title: is empty; write the position's title")
    default_slug = Path(path).stem
    slug = check.slug(default_slug)
    if slug == default_slug and not SLUG_RE.match(slug):
        check.problems.append(
            Problem(
                path,
                1,
                f"file name '{default_slug}' is not a valid slug; rename the file "
                "to lower-case words joined by hyphens, or add 'slug: ...'",
            )
        )
    position_fields = dict(
        summary=check.text("summary", "One sentence stating the position.") or "",
        topics=check.text_list("topics", "[europe, trade]", slugs=True),
        status=check.status(),
        updated=check.updated(),
        authors=check.text_list("authors", "[Policy team]"),
        related=check.text_list("related", "[europe, climate]", slugs=True),
        change_note=check.text("change_note", "Added our position on trade.") or "",
    )
    check.unknown_keys()
    problems = tuple(check.problems)
    if any(p.is_error for p in problems) or not title:
        return LoadResult(path, None, problems)
    rendered = render_body(slug, body)
    position = Position(
        slug=slug, title=title, body=body, path=path, html=rendered.html,
        headings=tuple(text for _, text, _ in rendered.headings),
        passages=rendered.passages, **position_fields,
    )  # fmt: skip
    return LoadResult(path, position, problems)


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
        return not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)

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
