"""Load position files: bytes → front matter → validated Position, or problems.

I/O stays at the edge (``load_file``/``load_folder``); ``parse_position`` is pure.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import os
import re
import signal
import stat
import threading
from collections import abc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kb import limits
from kb.content.frontmatter import FrontMatterError, parse_front_matter
from kb.content.model import Passage, Position, Problem, TopicIntro, escape_name
from kb.content.render import render_body
from kb.content.slug import (
    alias_path,
    file_slug,
    folder_topic,
    is_intro,
    page_place,
    readable_name,
)
from kb.content.validate import FieldChecker
from kb.limits import MAX_FILE_BYTES

LEAF_NAMES = frozenset({"index.md", "readme.md"})  # never _index.md: Hugo's section page
LEAF_MARK = b"\0leaf"

ATX_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_RE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[A-Z0-9\"“‘(])")
PARAGRAPH_RE = re.compile(r"<p[ >]")
STAT_TRUST_NS = 2_000_000_000  # a file changed this recently may change again unseen
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
    leaf: bool = False  # an index.md or README.md that is its folder's page (is_leaf_page)

    @property
    def publishable(self) -> bool:
        """Loaded without errors, as a position or as a folder introduction."""
        return self.position is not None or self.intro is not None


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


def parse_position(path: str, text: str, leaf: bool = False) -> LoadResult:
    """Validate one file's text into a Position (or, for a folder's README.md or
    index.md, a TopicIntro), collecting every problem. A ``leaf`` index.md or README.md
    is a position, named by its folder (``is_leaf_page``)."""
    if not text.strip():
        return LoadResult(path, None, (Problem(path, 1, EMPTY, "warning"),), leaf=leaf)
    try:
        front = parse_front_matter(text)
    except FrontMatterError as exc:
        return LoadResult(path, None, (Problem(path, exc.line, exc.message),), leaf=leaf)
    check = FieldChecker(path, front)
    written = check.display_text("title", "Fair pay")
    heading_title, body = split_title(front.body, has_title="title" in front.values)
    title = written or heading_title
    # a leaf page is named by its folder, and its topic is the folder around that
    place = page_place(path, leaf)
    name = place.name
    if not title and "title" in front.values:
        if not isinstance(front.values["title"], (list, dict)):
            check.error("title", "title: is empty; write the position's title")
    elif not title:
        title = readable_name(name)
    if is_intro(name):
        return _intro(path, title or "", body, check)
    default_slug = file_slug(name)
    slug = check.slug(default_slug)
    topics = check.topics() or _folder_topics(str(place))
    summary = check.summary()
    position_fields = dict(
        topics=tuple(topic for topic, _label in topics),
        topic_labels=tuple((topic, label) for topic, label in topics if label),
        status=check.status(),
        updated=check.updated(),
        authors=check.authors(),
        related=check.text_list("related", "[europe, climate]", slugs=True),
        aliases=_aliases(check.aliases(), slug, default_slug),
        change_note=check.text("change_note", "Added our position on trade.") or "",
    )
    check.unknown_keys()
    problems = tuple(check.problems)
    if any(p.is_error for p in problems) or not title:
        return LoadResult(path, None, problems, leaf=leaf)
    rendered = render_body(slug, body, source=path)
    position = Position(
        slug=slug, title=title, body=body, path=path, html=rendered.html,
        headings=tuple(text for _, text, _ in rendered.headings),
        passages=rendered.passages, summary=summary or derived_summary(rendered.passages),
        summary_derived=not summary and bool(rendered.passages), **position_fields,
    )  # fmt: skip
    return LoadResult(path, position, problems, leaf=leaf)


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
    the indexer's worker processes load files in one; ``parse_guarded`` sends files read
    in other threads to a worker process, whose main thread renders them.
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


@contextmanager
def _collection_paused() -> Iterator[None]:
    """No garbage collection while a file is rendered: in a file nested hundreds deep the
    collector would run the weakref callbacks of freed objects (closed index readers'
    caches) with no stack left, and they fail as unraisable errors, not as this file's."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_guarded(path: str, text: str, leaf: bool = False) -> LoadResult:
    """``parse_position``, but a file too deep or too slow to render is reported, not fatal.

    Off the main thread (the preview) the timer signal cannot reach the render, so it
    runs in a worker process that is killed when the time is up (``kb/content/deadline.py``).
    """
    if threading.current_thread() is not threading.main_thread():
        from kb.content.deadline import WORKER

        result = WORKER.parse(path, text, leaf)
        if result is not None:
            return result
        message = TOO_SLOW.format(seconds=limits.RENDER_SECONDS)
        return LoadResult(path, None, (Problem(path, 1, message),), leaf=leaf)
    try:
        with render_budget(limits.RENDER_SECONDS), _collection_paused():
            return parse_position(path, text, leaf)
    except RecursionError:
        return LoadResult(path, None, (Problem(path, 1, TOO_DEEP),), leaf=leaf)
    except RenderTooSlow:
        message = TOO_SLOW.format(seconds=limits.RENDER_SECONDS)
        return LoadResult(path, None, (Problem(path, 1, message),), leaf=leaf)


class ContentRefused(Exception):
    """A path under the content folder that must not be read; carries the message why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


OUTSIDE = (
    "is a symbolic link to {target}, outside the content folder, so it was not read; "
    "copy the file into the folder instead"
)
NOT_REGULAR = "is not a regular file (it is {kind}), so it was not read; replace it with a file"
TOO_BIG = "file is {size:,} bytes; the limit is {limit:,} bytes: split it into several positions"
CONFLICT = (
    "unresolved merge conflict marker '{marker}'; keep the text you want, delete the "
    "marker lines, and save"
)
CONFLICT_RE = re.compile(r"^(<{7}|>{7}|\|{7})(?:[ \t].*)?$|^(={7})[ \t]*$")
CODE_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a named pipe", stat.S_ISSOCK: "a socket",
        stat.S_ISCHR: "a device", stat.S_ISBLK: "a device", stat.S_ISLNK: "a symbolic link",
    }  # fmt: skip
    return next((name for test, name in kinds.items() if test(mode)), "not a file")


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def safe_source(path: Path, root: Path) -> Path:
    """The path to open for ``path``: itself, or a symlink's target inside ``root``.

    Checked with ``lstat`` and ``realpath`` before anything is opened; raises
    ContentRefused for a symlink that leaves the folder (or points at no regular file)
    and for anything that is not a regular file.
    """
    mode = os.lstat(path).st_mode
    if not stat.S_ISLNK(mode):
        if not stat.S_ISREG(mode):
            raise ContentRefused(NOT_REGULAR.format(kind=_kind(mode)))
        return path
    real = os.path.realpath(path)
    if not _inside(real, os.path.realpath(root)):
        raise ContentRefused(OUTSIDE.format(target=escape_name(os.readlink(path))))
    try:
        target_mode = os.stat(real).st_mode
    except OSError as exc:
        raise ContentRefused(f"is a symbolic link that leads nowhere ({exc.strerror})") from exc
    if not stat.S_ISREG(target_mode):
        raise ContentRefused(NOT_REGULAR.format(kind=_kind(target_mode)))
    return Path(real)


def read_bounded(path: Path, root: Path | None = None) -> tuple[bytes | None, int]:
    """The file's bytes and size; None instead of bytes when it is over MAX_FILE_BYTES.

    The size comes from ``fstat`` before any read, so a huge (or sparse) file costs
    nothing. ``O_NOFOLLOW`` refuses a symlink swapped in after ``safe_source`` looked,
    ``O_NONBLOCK`` keeps a named pipe from hanging the open, and with ``root`` the opened
    file's real path is checked to be inside it (Linux), closing the check-then-open gap.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ContentRefused("became a symbolic link while being read; run again") from exc
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ContentRefused(NOT_REGULAR.format(kind=_kind(info.st_mode)))
        opened = Path(f"/proc/self/fd/{fd}")
        if root is not None and opened.is_symlink():
            real = os.readlink(opened)
            if not _inside(real, os.path.realpath(root)):
                raise ContentRefused(OUTSIDE.format(target=escape_name(real)))
        if info.st_size > MAX_FILE_BYTES:
            return None, info.st_size
        data = handle.read(MAX_FILE_BYTES + 1)  # the file may grow between fstat and read
        return (None if len(data) > MAX_FILE_BYTES else data), max(info.st_size, len(data))


def read_content(path: Path, root: Path) -> tuple[bytes | None, int]:
    """``read_bounded`` of a position file after ``safe_source`` allowed it."""
    return read_bounded(safe_source(path, root), root)


def stat_facts(path: Path | str, root: Path | None = None) -> list[int] | None:
    """Size, modification and change times, and inode of a regular file: while they
    hold, its content has not changed (git trusts the same). None for anything else: a
    symbolic link's target can change without its own times. With the content ``root``,
    an index.md or README.md adds whether it is its folder's page (``is_leaf_page``),
    which a file added beside it changes while its own times hold."""
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        return None
    facts = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
    if root is not None and Path(path).name.lower() in LEAF_NAMES:
        facts.append(int(is_leaf_page(Path(path), root)))
    return facts


def settled(facts: list[int] | None, read_at_ns: int) -> list[int] | None:
    """``facts`` worth remembering for a file read at ``read_at_ns``: None when it was
    changed so shortly before that a second edit within the clock's resolution could
    keep its times (it is then read every time until it is older)."""
    if facts is None or facts[1] >= read_at_ns - STAT_TRUST_NS:
        return None
    return facts


def content_digest(path: Path, root: Path) -> str:
    """SHA-256 of a position file's bytes; for a file that is refused or over the limit,
    of what ``lstat`` says about it (never its bytes), so changes are still noticed."""
    try:
        data, size = read_content(path, root)
    except ContentRefused as exc:
        info = os.lstat(path)
        data, size = f"refused:{info.st_mtime_ns}:{exc.message}".encode(), info.st_size
    if data is None:
        data = f"too-big:{size}:{os.stat(path).st_mtime_ns}".encode()
    return digest(data, is_leaf_page(path, root))


def digest(data: bytes, leaf: bool) -> str:
    """A file's content hash, which also says whether it is its folder's page: the same
    bytes read as a topic's introduction and as a position are two versions."""
    return hashlib.sha256(data + LEAF_MARK if leaf else data).hexdigest()


def is_leaf_page(path: Path, root: Path) -> bool:
    """Whether an index.md or README.md is a page of its own, named by its folder: when
    its folder holds no other position file, at any depth, as a Hugo page bundle
    (``policies/fair-pay/index.md`` beside its images) or a folder written as one page.
    Beside other files it introduces their topic; at the top of the folder, always."""
    if path.name.lower() not in LEAF_NAMES or path.parent == root:
        return False
    for folder, dirs, names in os.walk(path.parent):
        dirs[:] = [name for name in dirs if not name.startswith((".", "_"))]
        others = (n for n in names if _is_position_name(n))
        if any(os.path.join(folder, n) != os.fspath(path) for n in others):
            return False
    return True


def conflict_problems(path: str, text: str) -> tuple[Problem, ...]:
    """Git merge conflict markers at the start of a line, outside code fences.

    ``=======`` alone is also a heading underline, so it counts only between a
    ``<<<<<<<`` and its ``>>>>>>>``.
    """
    problems, fence, open_block = [], "", False
    for number, line in enumerate(text.splitlines(), start=1):
        fence_match = CODE_FENCE_RE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if not fence:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = ""
            continue
        match = None if fence else CONFLICT_RE.match(line)
        if not match:
            continue
        marker = match.group(1) or match.group(2)
        if marker.startswith("=") and not open_block:
            continue
        open_block = not marker.startswith(">")
        problems.append(Problem(path, number, CONFLICT.format(marker=marker)))
    return tuple(problems)


def load_file(path: Path, root: Path) -> LoadResult:
    """Read and validate one file under ``root``; never raises for bad content.

    Only regular files inside ``root`` are read, and only when ``stat`` says they are
    within MAX_FILE_BYTES; a file with merge conflict markers is never parsed.
    """
    relative = path.relative_to(root).as_posix()
    leaf = is_leaf_page(path, root)
    try:
        data, size = read_content(path, root)
    except ContentRefused as exc:
        return LoadResult(relative, None, (Problem(relative, 1, exc.message),), leaf=leaf)
    except OSError as exc:
        message = f"cannot read file: {exc.strerror or exc}"
        return LoadResult(relative, None, (Problem(relative, 1, message),), leaf=leaf)
    if data is None:
        message = TOO_BIG.format(size=size, limit=MAX_FILE_BYTES)
        return LoadResult(relative, None, (Problem(relative, 1, message),), leaf=leaf)
    text, problem = decode(relative, data)
    if problem:
        return LoadResult(relative, None, (problem,), leaf=leaf)
    conflicts = conflict_problems(relative, text)
    if conflicts:
        return LoadResult(relative, None, conflicts, leaf=leaf)
    return parse_guarded(relative, text, leaf)


def position_files(root: Path) -> list[Path]:
    """Every position file under ``root``: ``*.md``, excluding hidden and ``_`` files.

    Symlinks and other non-regular entries are listed too (never followed into folders),
    so that loading can report why they are not read rather than skip them in silence.
    """
    return [root / relative for relative in position_paths(root)]


def position_paths(root: Path) -> list[str]:
    """``position_files`` as paths relative to ``root`` ("news/a.md"), in the same order,
    without building a Path for each (a large folder's scan is mostly that otherwise).
    Hidden and ``_`` folders are not walked at all (a ``.git`` folder holds thousands).
    """
    found = []
    top = os.fspath(root)
    for folder, dirs, names in os.walk(top):
        dirs[:] = [name for name in dirs if not name.startswith((".", "_"))]
        linked = [n for n in dirs if n.endswith(".md") and os.path.islink(os.path.join(folder, n))]
        prefix = os.path.relpath(folder, top).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        found.extend(prefix + name for name in names + linked if _is_position_name(name))
    return in_walk_order(found)


def paths_to_look_at(
    root: Path, known: abc.Collection[str], changed: abc.Collection[str] | None
) -> tuple[list[str], frozenset[str]]:
    """The position files to look at, and those among them to take as already ``known``.

    With ``changed`` (the files a watcher saw change) and something known, the folder is
    not walked: the known files and the changed ones are looked at, and the known files
    that did not change are trusted. Otherwise every file of a walk, trusting none.
    """
    if changed is None or not known:
        return position_paths(root), frozenset()
    changed = {*changed, *_pages_around(changed, known)}
    paths = in_walk_order({*known, *(p for p in changed if is_position_path(p))})
    return paths, frozenset(known).difference(changed)


def _pages_around(changed: abc.Collection[str], known: abc.Collection[str]) -> set[str]:
    """The index.md and README.md files of the folders around changed files: a file added
    or removed beside or below one can make it its folder's page, or no longer."""
    pages: dict[str, list[str]] = {}
    for relative in known:
        folder, _, name = relative.rpartition("/")
        if folder and name.lower() in LEAF_NAMES:
            pages.setdefault(folder, []).append(relative)
    around = set()
    for relative in changed:
        parts = relative.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            around.update(pages.get("/".join(parts[:depth]), ()))
    return around


def is_position_path(relative: str) -> bool:
    """Whether ``position_paths`` would list ``relative`` ("news/a.md") if it existed."""
    *folders, name = relative.split("/")
    return not any(f.startswith((".", "_")) for f in folders) and _is_position_name(name)


def in_walk_order(relatives) -> list[str]:
    """Relative paths in the order ``position_paths`` lists them."""
    return sorted(relatives, key=lambda relative: relative.split("/"))


def _is_position_name(name: str) -> bool:
    """``*.md``, neither hidden nor ``_``-prefixed, except a folder's ``_index.md``."""
    return name.endswith(".md") and (not name.startswith((".", "_")) or is_intro(name))


def load_folder(root: Path) -> Collection:
    """Load every position file; files with errors are skipped.

    Each file on its own: what needs the whole folder (duplicate slugs, links, topics)
    is decided by ``kb.content.rules``, the one place for those rules.
    """
    results = [load_file(path, root) for path in position_files(root)]
    return collect(results)


def collect(results: list[LoadResult]) -> Collection:
    """Combine per-file results."""
    positions = tuple(r.position for r in results if r.position)
    problems = tuple(p for r in results for p in r.problems)
    return Collection(positions=positions, problems=problems, results=tuple(results))
