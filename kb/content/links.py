"""Links between Markdown files: ``./Other%20File.md``, ``../Economy/x.md#part``.

Folders written for GitHub, Jekyll or MkDocs link files by relative path. Such a link is
resolved here, once, for the renderer (which points it at the position's page) and for
``kb check`` (which reports a link to a file that does not exist, with its line).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote

from kb.content.slug import MARKDOWN_SUFFIXES, file_slug, folder_topic, is_intro

SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# Inline links and reference definitions whose target names a Markdown file. A target
# and a title are read at most MAX_PART characters ahead: unbounded, every "](" of a line
# was read to its end, and 80 KB of "[a](" took 11 s to check.
MAX_PART = 400
MD_LINK_RE = re.compile(
    rf"\]\(\s*<?([^)\s>]{{1,{MAX_PART}}}?\.(?:md|markdown)(?:#[^)\s>]{{0,{MAX_PART}}})?)>?"
    rf"(?:\s+[\"'(][^)]{{0,{MAX_PART}}})?\)",
    re.I,
)
MD_REFERENCE_RE = re.compile(
    r"^ {0,3}\[(?!\^)[^\]]+\]:\s*<?(\S+?\.(?:md|markdown)(?:#\S*)?)>?(?:\s|$)", re.I
)


@dataclass(frozen=True)
class FileLink:
    """A relative link to a Markdown file, resolved against the linking file's folder."""

    href: str  # as written
    path: str  # the target, relative to the content folder (posix); may start with ../
    fragment: str  # the part after '#', or ""

    @property
    def outside(self) -> bool:
        """True when the link climbs out of the content folder."""
        return self.path == ".." or self.path.startswith("../")

    @property
    def address(self) -> str:
        """The site address of the target: its position page, or for a folder's
        introduction (README.md, index.md) its topic page."""
        name = posixpath.basename(self.path)
        if is_intro(name):
            topic = folder_topic(self.path)
            return f"/topics/{topic[0]}" if topic else "/"
        suffix = f"#{self.fragment}" if self.fragment else ""
        return f"/positions/{file_slug(name)}{suffix}"


def file_link(source: str, href: str) -> FileLink | None:
    """The Markdown file ``href`` links to from the file ``source``; None for any other
    link (web addresses, site paths, anchors, images, other files)."""
    href = href.strip()
    if not href or href.startswith(("/", "#")) or SCHEME_RE.match(href):
        return None
    target, _, fragment = href.partition("#")
    target = unquote(target.split("?", 1)[0])
    if not target.lower().endswith(MARKDOWN_SUFFIXES):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
    return FileLink(href, joined, fragment)


def line_links(line: str) -> list[str]:
    """The Markdown file targets linked on one line of Markdown (code not excluded)."""
    return MD_LINK_RE.findall(line) + MD_REFERENCE_RE.findall(line)
