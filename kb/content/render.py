"""Render a Markdown body to sanitised HTML and split it into citable passages.

One Python-Markdown tree gives both the page and the passages, so an anchor in the
index always exists on the page. Raw HTML in Markdown is kept as the site generators
keep it (Jekyll, Hugo and MkDocs sites use it for links, tables and anchors), and the
whole output is sanitised with nh3: only the tags and attributes below survive, scripts
and styles lose their content, and URLs keep only the http, https and mailto schemes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from xml.etree import ElementTree

import markdown
import nh3
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from kb.content.admonitions import ADMONITION_CLASS, KINDS, TITLE_CLASS, OpenCollapsibles
from kb.content.brackets import STAND_INS, HiddenBrackets, ShownBrackets
from kb.content.footnotes import (
    BACK_CLASS,
    NOTES_CLASS,
    REFERENCE_CLASS,
    Footnotes,
    without_note_marks,
)
from kb.content.links import file_link
from kb.content.liquid import unwrap_liquid
from kb.content.markers import HiddenMarkers
from kb.content.model import Passage
from kb.content.quick_blocks import quicken
from kb.content.shortcodes import unwrap_shortcodes
from kb.content.slug import anchor_slug

PASSAGE_TAGS = {"p", "ul", "ol", "table", "blockquote", "pre", "dl"}
# Footnotes (kb/content/footnotes.py) are Jekyll's, Hugo's and MkDocs' alike; notes
# ("!!! note", kb/content/admonitions.py) are MkDocs'. Both are Python-Markdown's own.
# A heading's own id, "## Personas {#personas}" (Hugo, MkDocs' attr_list, kramdown), is
# its anchor, so the folder's own links to it ("#personas") land; its passages' anchors
# still come from its text ("toc0" says nothing).
EXTENSIONS = ["tables", "sane_lists", "fenced_code", "def_list", "admonition", "attr_list"]
WRITTEN_ID_RE = re.compile(r"[A-Za-z][\w-]{0,99}")
NOTES_SECTION = "notes"  # the footnotes' anchors: notes-1
NOTES_HEADING = "Notes"
HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
TRAIL_SEPARATOR = " › "
# The placeholder Python-Markdown leaves where a block of raw HTML goes (its key).
RAW_BLOCK_RE = re.compile(re.escape(markdown.util.HTML_PLACEHOLDER).replace("%s", r"(\d+)"))
# Where an inline code span (kept as it is) or an HTML comment (dropped) may start.
CODE_OR_COMMENT_START_RE = re.compile(r"`+|<!--")
BACKTICKS_RE = re.compile(r"`+")
# A "<" that starts a tag but has no ">" before the next "<": never a tag.
INCOMPLETE_TAG_RE = re.compile(r"<(?=[A-Za-z/!?])(?![^<>]*>)")
HIDDEN_LT = "\ue000"  # a private-use character stands in for it meanwhile

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li",
    "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
# Classes kept for styling only, on the elements the two extensions make.
ALLOWED_CLASSES = {
    "div": {ADMONITION_CLASS, NOTES_CLASS, *KINDS},
    "p": {TITLE_CLASS},
    "a": {REFERENCE_CLASS, BACK_CLASS},
}
ALLOWED_ATTRIBUTES = {
    "*": {"id"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "abbr": {"title"},
}
# An image whose address was removed (a data: URL, a script): nothing left to show.
# Read from nh3's output, where every attribute value is double-quoted and escaped.
EMPTY_IMAGE_RE = re.compile(r'<img(?:\s+(?!src=)[\w-]+="[^"]*")*\s*/?>')
# What nh3 leaves of a class none of whose names is allowed, inside a tag.
EMPTY_CLASS_RE = re.compile(r'(<[a-z][a-z0-9]*\b[^<>]*?)\s+class=""')


@dataclass(frozen=True)
class Rendered:
    """A rendered body: page HTML, headings (level, text, anchor) and passages."""

    html: str
    headings: tuple[tuple[int, str, str], ...]
    passages: tuple[Passage, ...]


def sanitise(html: str) -> str:
    """Keep only safe tags, attributes and URL schemes."""
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    if 'class=""' in clean:
        clean = EMPTY_CLASS_RE.sub(r"\1", clean)
    return EMPTY_IMAGE_RE.sub("", clean) if "<img" in clean else clean


def normalise_text(text: str) -> str:
    """Collapse whitespace and Unicode forms, so cosmetic edits keep the same id."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def passage_id(slug: str, text: str, occurrence: int = 0) -> str:
    """A stable id: the same slug and normalised text always give the same id."""
    seed = f"{slug}\n{normalise_text(text)}"
    if occurrence:
        seed += f"\n{occurrence}"
    return hashlib.sha256(seed.encode()).hexdigest()[:12]


class _TextExtractor(HTMLParser):
    """Plain text of an HTML fragment, with spaces where blocks meet."""

    BREAKS = {"li", "p", "br", "td", "th", "tr", "dd", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("li", "td", "th") and self._ends_clause():
            # list items and cells must read apart when the passage is quoted
            self.parts = ["".join(self.parts).rstrip(), ";"]
        if tag in self.BREAKS:
            self.parts.append(" ")

    def _ends_clause(self) -> bool:
        """True when text so far ends mid-sentence (so a separator is needed)."""
        text = "".join(self.parts).rstrip()
        return bool(text) and text[-1] not in ".;:!?,"

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of sanitised HTML, whitespace collapsed."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return " ".join("".join(extractor.parts).split())


class _Collector(Treeprocessor):
    """Assigns anchors to headings and passage blocks and remembers them in order."""

    def run(self, root: ElementTree.Element) -> None:
        self.blocks: list[tuple[ElementTree.Element, str, str]] = []
        self.headings: list[tuple[int, str, ElementTree.Element]] = []
        used: set[str] = set()
        trail: list[tuple[int, str]] = []
        section, counts = "intro", {}
        for element in list(root):
            if element.tag in HEADING_TAGS:
                level = int(element.tag[1])
                # Inline code keeps its text pre-escaped ("&lt;b&gt;"), so the plain text
                # comes from the serialised heading; anchors keep their old spelling.
                text = html_to_text(self.md.serializer(element))
                trail = [(lvl, t) for lvl, t in trail if lvl < level] + [(level, text)]
                section = anchor_slug(" ".join("".join(element.itertext()).split()))
                written = element.get("id") or ""  # "{#personas}": the folder links to it
                own = written if WRITTEN_ID_RE.fullmatch(written) else section
                element.set("id", _unique(own, used))
                self.headings.append((level, text, element))
            elif element.tag in PASSAGE_TAGS or _has_class(element, ADMONITION_CLASS):
                counts[section] = counts.get(section, 0) + 1
                anchor = _unique(f"{section}-{counts[section]}", used)
                self._anchor(element, anchor)
                heading = TRAIL_SEPARATOR.join(t for lvl, t in trail if lvl > 1)
                self.blocks.append((element, anchor, heading))
            elif _has_class(element, NOTES_CLASS):  # the footnotes, last: one passage
                anchor = _unique(f"{NOTES_SECTION}-1", used)
                element.set("id", anchor)
                self.blocks.append((element, anchor, NOTES_HEADING))

    def _anchor(self, element: ElementTree.Element, anchor: str) -> None:
        """Give a block its anchor. A block of raw HTML is a paragraph holding only the
        placeholder Markdown swaps for the HTML at the end; the anchor goes on a div
        around that HTML, so the page's element carries it, not an emptied paragraph."""
        stashed = RAW_BLOCK_RE.fullmatch(element.text or "") if element.tag == "p" else None
        blocks = self.md.htmlStash.rawHtmlBlocks
        if stashed and not len(element) and isinstance(blocks[int(stashed[1])], str):
            key = int(stashed[1])
            blocks[key] = f'<div id="{anchor}">\n{blocks[key]}\n</div>'
        else:
            element.set("id", anchor)


def _has_class(element: ElementTree.Element, name: str) -> bool:
    return element.tag == "div" and name in (element.get("class") or "").split()


class _FileLinks(Treeprocessor):
    """Points relative links to Markdown files (``./Other%20File.md``) at their pages."""

    def __init__(self, md: markdown.Markdown, source: str) -> None:
        super().__init__(md)
        self.source = source

    def run(self, root: ElementTree.Element) -> None:
        for element in root.iter("a"):
            link = file_link(self.source, element.get("href", ""))
            if link is not None and not link.outside:
                element.set("href", link.address)


def _unique(anchor: str, used: set[str]) -> str:
    candidate, n = anchor, 1
    while candidate in used:
        n += 1
        candidate = f"{anchor}-{n}"
    used.add(candidate)
    return candidate


class _HiddenComments(Preprocessor):
    """Drops HTML comments, which every site generator hides, before Markdown reads the
    raw HTML (a comment is no passage, and its text must never reach the index). A
    comment in code stays: fenced blocks are set aside before this runs, and inline code
    is skipped."""

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        return _without_comments(text).split("\n") if "<!--" in text else lines


def _without_comments(text: str) -> str:
    """``text`` without its HTML comments, code spans kept: an unclosed ``<!--`` stays as
    typed, and a line break inside a comment stays, so the lines after it keep their
    numbers."""
    kept, at = [], 0
    for start, end, is_comment in _code_and_comments(text, comments=True):
        if is_comment:
            kept += [text[at:start], "\n" * text.count("\n", start, end)]
            at = end
    kept.append(text[at:])
    return "".join(kept)


def _code_and_comments(text: str, comments: bool) -> Iterator[tuple[int, int, bool]]:
    """(start, end, is a comment) of each inline code span of ``text`` and, with
    ``comments``, each closed HTML comment, in order, in one pass. Each closing mark is
    looked for once at most (a backtick run that never closes is remembered, and no
    comment closes after an unclosed one), so no text takes quadratic time."""
    starts = CODE_OR_COMMENT_START_RE if comments else BACKTICKS_RE
    at, unclosed = 0, set()
    while match := starts.search(text, at):
        mark = match.group(0)
        closing = "-->" if mark == "<!--" else mark
        close = -1 if mark in unclosed else text.find(closing, match.end())
        if close < 0 and mark == "<!--":
            return
        if close < 0:
            unclosed.add(mark)
            at = match.end()
            continue
        at = close + len(closing)
        yield match.start(), at, mark == "<!--"


class _IncompleteTags(Preprocessor):
    """Hides from the raw HTML reader a "<" that starts a tag but never ends it ("<a <a
    <a …"), outside code; ``_ShownTags`` puts it back after that reader, and Markdown
    then shows it as typed, as it would anyway.

    Python-Markdown reads raw HTML with the standard library's HTML parser, which reads
    ahead from each such "<" to the end of the text: a 60 KB file of them took 25 s.
    """

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if "<" not in text:
            return lines
        return _outside_code(text, lambda part: INCOMPLETE_TAG_RE.sub(HIDDEN_LT, part)).split("\n")


class _ShownTags(Preprocessor):
    """Puts back each "<" that ``_IncompleteTags`` hid."""

    def run(self, lines: list[str]) -> list[str]:
        return [line.replace(HIDDEN_LT, "<") for line in lines]


def _outside_code(text: str, change: Callable[[str], str]) -> str:
    """``text`` with ``change`` applied to everything outside its code spans."""
    kept, at = [], 0
    for start, end, _ in _code_and_comments(text, comments=False):
        kept += [change(text[at:start]), text[start:end]]
        at = end
    kept.append(change(text[at:]))
    return "".join(kept)


class _JekyllLiquid(Preprocessor):
    """Jekyll's ``{% … %}`` tags as a reader of the Jekyll site sees them
    (kb/content/liquid.py); fenced code is set aside before this runs."""

    def run(self, lines: list[str]) -> list[str]:
        return unwrap_liquid("\n".join(lines)).split("\n")


class _HugoShortcodes(Preprocessor):
    """Hugo's ``{{< … >}}`` tags as a reader of the Hugo site sees them
    (kb/content/shortcodes.py); fenced code is set aside before this runs."""

    def run(self, lines: list[str]) -> list[str]:
        return unwrap_shortcodes("\n".join(lines)).split("\n")


def _new_markdown(
    source: str | None = None, stand_ins: bool = True
) -> tuple[markdown.Markdown, _Collector]:
    """A Markdown reader; with ``stand_ins``, hostile "<", "[" and "(" are hidden from the
    readers they slow down, each by a private-use character put back afterwards."""
    md = markdown.Markdown(extensions=[*EXTENSIONS, Footnotes()])
    quicken(md)
    md.preprocessors.register(_HiddenComments(md), "kb_hidden_comments", 25)  # before html_block
    md.preprocessors.register(_HugoShortcodes(md), "kb_hugo_shortcodes", 24)
    md.preprocessors.register(_JekyllLiquid(md), "kb_jekyll_liquid", 24)
    md.preprocessors.register(OpenCollapsibles(md), "kb_open_collapsibles", 24)
    md.preprocessors.register(HiddenMarkers(md), "kb_hidden_markers", 24)
    if stand_ins:
        md.preprocessors.register(_IncompleteTags(md), "kb_incomplete_tags", 23)
        md.preprocessors.register(_ShownTags(md), "kb_shown_tags", 19)  # after html_block (20)
        md.treeprocessors.register(HiddenBrackets(md), "kb_hidden_brackets", 25)  # before inline
        md.treeprocessors.register(ShownBrackets(md), "kb_shown_brackets", 19)  # after inline (20)
    collector = _Collector(md)
    md.treeprocessors.register(collector, "kb_collector", -1)  # after inline and unescape (0)
    if source is not None:
        md.treeprocessors.register(_FileLinks(md, source), "kb_file_links", 2)
    return md, collector


def _fragment_html(md: markdown.Markdown, element: ElementTree.Element) -> str:
    output = md.serializer(without_note_marks(element))
    for processor in md.postprocessors:
        output = processor.run(output)
    return sanitise(output)


def render_body(slug: str, body: str, source: str | None = None) -> Rendered:
    """Render ``body`` and split it into passages with stable ids and readable anchors.

    ``source`` is the file's path in the content folder: relative links to other
    Markdown files are then resolved from its folder and point at their pages.
    """
    if not body.strip():  # Markdown skips its tree processors for blank input
        return Rendered(html="", headings=(), passages=())
    # a body that already holds a stand-in is read as typed: none is put back by mistake
    stand_ins = all(char not in body for char in (HIDDEN_LT, *STAND_INS))
    md, collector = _new_markdown(source, stand_ins)
    page_html = sanitise(md.convert(body))
    seen: dict[str, int] = {}
    passages = []
    for element, anchor, heading in collector.blocks:
        html = _fragment_html(md, element)
        text = html_to_text(html)
        if not text:
            continue  # a block of raw HTML with nothing to read (an anchor, a script)
        key = normalise_text(text)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        passages.append(
            Passage(
                id=passage_id(slug, text, occurrence),
                slug=slug,
                anchor=anchor,
                ordinal=len(passages) + 1,
                heading=heading,
                text=text,
                html=html,
            )
        )
    headings = tuple((lvl, text, el.get("id", "")) for lvl, text, el in collector.headings)
    return Rendered(html=page_html, headings=headings, passages=tuple(passages))
