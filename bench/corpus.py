"""Read a folder of Markdown policy files the way the benchmarks need them.

Shared by the FTS5 baseline and the benchmark drivers, so both sides see the
same documents, titles, summaries, topics and paragraphs.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

_FRONT_MATTER_DELIM = "---"
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_RULE = re.compile(r"^\s{0,3}([-=*_])(\s*\1){2,}\s*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>|<!--.*?-->")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_UNDERSCORE_EMPHASIS = re.compile(r"(?<!\w)_+|_+(?!\w)")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE_MARKER = re.compile(r"^\s*(?:>\s*)+")
_SPACES = re.compile(r"\s+")
_INLINE_SHORTCODE = re.compile(r"\{\{[<%].*?[%>]\}\}")
_HEADING_ATTRS = re.compile(r"\s*\{[#.][^}]*\}\s*$")
# libyaml parses front matter ~10x faster than the pure-Python loader; same results.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def iter_markdown_files(root: Path) -> list[Path]:
    """Return every ``*.md`` file under ``root`` (recursively), sorted by path."""
    return sorted(p for p in Path(root).rglob("*.md") if p.is_file())


def _split_front_matter(text: str) -> tuple[str, str]:
    """Return (front_matter_yaml, body); front matter is '' when absent or unterminated."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != _FRONT_MATTER_DELIM:
        return "", text
    for i in range(1, len(lines)):
        if lines[i].strip() == _FRONT_MATTER_DELIM:
            return "".join(lines[1:i]), "".join(lines[i + 1 :])
    return "", text


def _parse_front_matter(raw: str) -> dict[str, Any]:
    """Parse YAML front matter; anything that is not a valid YAML mapping becomes {}."""
    if not raw.strip():
        return {}
    try:
        data = yaml.load(raw, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _as_str_list(value: Any) -> list[str]:
    """Coerce a front-matter value to a list of non-empty strings."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple, set)) else [value]
    return [str(item) for item in items if item is not None and str(item).strip()]


def _first_h1(body: str) -> str | None:
    """Return the text of the first ``# `` heading outside code fences, if any."""
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and line.startswith("# "):
            match = _HEADING.match(line)
            if match and match.group(2).strip():
                return match.group(2).strip()
    return None


def read_document(path: Path, root: Path) -> dict[str, Any] | None:
    """Read one Markdown file into a document dict, or None if it is unreadable as UTF-8.

    Keys: slug (posix path relative to root, without .md), title (front matter
    ``title``, else first ``# `` heading, else slug), summary (front matter
    ``summary`` or ''), topics (front matter ``topics`` as list[str]), body
    (Markdown after the front matter) and bytes (file size).
    """
    path, root = Path(path), Path(root)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    text = text.removeprefix("\ufeff")
    front_raw, body = _split_front_matter(text)
    meta = _parse_front_matter(front_raw)
    slug = path.relative_to(root).with_suffix("").as_posix()
    title = meta.get("title")
    title = str(title).strip() if title is not None else ""
    summary = meta.get("summary")
    return {
        "slug": slug,
        "title": title or _first_h1(body) or slug,
        "summary": str(summary).strip() if summary is not None else "",
        "topics": _as_str_list(meta.get("topics")),
        "body": body,
        "bytes": len(raw),
    }


def _plain(line: str) -> str:
    """Strip inline Markdown/HTML syntax from one line, roughly."""
    if "{{" in line:
        line = _INLINE_SHORTCODE.sub(" ", line)
    line = _QUOTE_MARKER.sub("", line)
    line = _LIST_MARKER.sub("", line)
    line = _IMAGE.sub(r"\1", line)
    line = _LINK.sub(r"\1", line)
    line = _AUTOLINK.sub(r"\1", line)
    line = _HTML_TAG.sub(" ", line)
    line = line.replace("*", "").replace("`", "").replace("~~", "")
    if "_" in line:  # the regex is slow; most lines have no underscores
        line = _UNDERSCORE_EMPHASIS.sub("", line)
    if "&" in line:
        line = html.unescape(line)
    return line.replace("|", " ")


def _is_noise(line: str) -> bool:
    """True for lines that carry no prose: shortcodes, rules, table separators."""
    stripped = line.strip()
    return stripped.startswith("{{") or bool(_RULE.match(line)) or bool(_TABLE_SEP.match(line))


def split_paragraphs(body: str) -> list[tuple[str, str]]:
    """Split a Markdown body into (heading, plain_text) paragraphs in document order.

    Blocks are separated by blank lines. Heading lines are not paragraphs; they
    set the heading for the blocks after them ('' before the first heading).
    Shortcode lines (starting with ``{{``) are dropped, inline syntax is
    stripped roughly, and blocks left empty are omitted.
    """
    paragraphs: list[tuple[str, str]] = []
    heading = ""
    block: list[str] = []
    in_fence = False

    def flush() -> None:
        text = _SPACES.sub(" ", " ".join(block)).strip()
        if text:
            paragraphs.append((heading, text))
        block.clear()

    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            # Code inside fences is kept verbatim: '#' there is a comment, not a heading.
            block.append(line)
            continue
        if not line.strip():
            flush()
            continue
        match = _HEADING.match(line)
        if match:
            flush()
            text = _HEADING_ATTRS.sub("", match.group(2))
            heading = _SPACES.sub(" ", _plain(text)).strip()
            continue
        if not _is_noise(line):
            block.append(_plain(line))
    flush()
    return paragraphs


def _count_files(root: Path) -> int:
    """Count regular files under root (0 if root does not exist)."""
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def multiply_corpus(src: Path, dest: Path, times: int) -> Path:
    """Copy the tree ``src`` into ``dest/copy-1`` … ``dest/copy-{times}`` and return dest.

    Does nothing when dest already holds exactly ``times`` × the files of src;
    otherwise stale ``copy-*`` folders in dest are removed and rebuilt.
    """
    src, dest = Path(src), Path(dest)
    if times < 1:
        raise ValueError("times must be >= 1")
    if _count_files(dest) == _count_files(src) * times:
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    for stale in dest.glob("copy-*"):
        if stale.is_dir():
            shutil.rmtree(stale)
    for n in range(1, times + 1):
        shutil.copytree(src, dest / f"copy-{n}")
    return dest


_SLUG_LINE = re.compile(r"^(slug:[ \t]*)(['\"]?)([^'\"\n]*?)\2[ \t]*$", re.MULTILINE)


def _rename_slug(text: str, suffix: str) -> str:
    """Append suffix to a front-matter ``slug:`` value (only inside the front matter)."""
    front, body = _split_front_matter(text)
    if not front or "slug:" not in front:
        return text
    renamed = _SLUG_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{suffix}{m.group(2)}",
                             front)  # fmt: skip
    return f"{_FRONT_MATTER_DELIM}\n{renamed}{_FRONT_MATTER_DELIM}\n{body}"


def multiply_unique(src: Path, dest: Path, times: int) -> Path:
    """Like multiply_corpus, but copies 2…times get unique slugs, so none is a duplicate.

    Positions takes a slug from front matter ``slug:`` or else the file name, and
    rejects a second file with the same slug; a verbatim copy would index nothing new.
    In copy n ≥ 2 each file is renamed ``<stem>-x<n>.md`` and its ``slug:`` value gets
    the same ``-x<n>`` suffix. dest is always rebuilt from scratch.
    """
    src, dest = Path(src), Path(dest)
    if times < 1:
        raise ValueError("times must be >= 1")
    shutil.rmtree(dest, ignore_errors=True)
    for n in range(1, times + 1):
        target = dest / f"copy-{n}"
        if n == 1:
            shutil.copytree(src, target)
            continue
        suffix = f"-x{n}"
        for path in iter_markdown_files(src):
            out = target / path.relative_to(src)
            out = out.with_name(f"{out.stem}{suffix}.md")
            out.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            try:
                out.write_text(_rename_slug(data.decode("utf-8"), suffix), encoding="utf-8")
            except UnicodeDecodeError:
                out.write_bytes(data)
    return dest


def fresh_copy(src: Path, dest: Path) -> Path:
    """Replace dest with a verbatim copy of src (benchmarks edit files in the copy)."""
    src, dest = Path(src), Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest)
    return dest


def sampled_copy(src: Path, dest: Path, every: int) -> Path:
    """Replace dest with one Markdown file in ``every`` of src (in path order, so the
    same files each time), keeping their folders; a smaller corpus of the same kind."""
    src, dest = Path(src), Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    for path in iter_markdown_files(src)[::every]:
        out = dest / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, out)
    return dest


SECTION_MIN_WORDS = 40  # a shorter section is a stub, not a section a manifesto would have


def sections_copy(src: Path, dest: Path, count: int) -> Path:
    """Replace dest with ``count`` files, each one ``## `` section of src's pages (in path
    order) with its page's title and the section's heading as its title: many short
    documents, the shape of a manifesto's sections rather than of whole pages."""
    src, dest = Path(src), Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    written = 0
    for path in iter_markdown_files(src):
        document = read_document(path, src)
        if document is None:
            continue
        for number, (heading, text) in enumerate(_sections(document["body"])):
            if written >= count:
                return dest
            if len(text.split()) < SECTION_MIN_WORDS:
                continue
            title = f"{document['title']}: {heading}" if heading else document["title"]
            name = document["slug"].replace("/", "-").strip("-_") or "index"
            front = f"---\ntitle: {json.dumps(title)}\n---\n"
            (dest / f"{name}-s{number}.md").write_text(front + text, encoding="utf-8")
            written += 1
    return dest


def _sections(body: str) -> list[tuple[str, str]]:
    """(heading, Markdown) of the part before the first ``## `` heading and of each
    ``## `` section, code fences respected."""
    sections, heading, lines, in_fence = [], "", [], False
    for line in body.splitlines(keepends=True):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and line.startswith("## "):
            sections.append((heading, "".join(lines)))
            heading, lines = line[3:].strip().strip("#").strip(), []
            continue
        lines.append(line)
    sections.append((heading, "".join(lines)))
    return sections
