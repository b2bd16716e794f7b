"""Hugo shortcodes, read as a reader of the Hugo site would see them.

A Hugo folder writes ``{{< name param="…" >}}`` (or ``{{% … %}}``) where the site's
templates put a box, an image, a button or a link to another page. This site does not
run Hugo's templates, and shown as written the tags broke the Markdown around them:
``[community of practice]({{< ref "challenges-prizes.md" >}})`` lost the text after it
into a link title. So, before Markdown reads the body:

- a link to ``{{< ref "page.md" >}}`` or ``{{< relref … >}}`` becomes a link to the
  Markdown file of that name, which the renderer points at its position page: Hugo finds
  a page by its file name when the name is unique, and this site gives every position
  the address of its file name (its slug, or an alias). A ref to a section's
  ``_index.md`` or a page bundle's ``index.md``, or by path alone (``"/topics/mobile"``),
  links to the topic of its folder's name (which leads on to a page of that name when
  there is no such topic); a ref to a web address keeps only its text;
- a button (``href`` and ``text``) becomes a link, and a YouTube video a link to it;
- every other tag is dropped, and what a pair of tags wraps (a note, a box) stays.

Inline code is left as written; fenced code is set aside before this runs.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote

from kb.content.slug import is_intro, slugify

# Bounded and brace-free, so that text full of "{{<" or "[" never takes quadratic time.
_TAG = r"\{\{[<%]\s*(?P<closing>/?)\s*(?P<name>[\w-]{1,50})(?P<params>[^{}]{0,2000}?)\s*[>%]\}\}"
# A code span, bounded: the generators' tags are left as written inside one.
CODE_SPAN = r"(?P<code>(?P<ticks>`{1,16}).{1,4000}?(?P=ticks))"
# A code span (kept), a link whose address is a ref shortcode, or any shortcode tag.
SHORTCODE_RE = re.compile(
    CODE_SPAN
    + r"|\[(?P<text>[^\[\]]{0,1000})\]\(\s*\{\{[<%]\s*(?:rel)?ref\s(?P<ref>[^{}]{0,1000}?)[>%]\}\}"
    r"\s*(?:\"[^\"\n]{0,1000}\"\s*)?\)"
    r"|(?P<tag>" + _TAG + ")",
    re.DOTALL,
)
PARAM_RE = re.compile(r"([\w-]+)\s*=\s*\"([^\"]*)\"")
WEB_ADDRESS_RE = re.compile(r"^https?://[^\s()<>]+$")
YOUTUBE_ID_RE = re.compile(r"^[\w-]{6,20}$")
# The page a ref names: its first quoted value, a Markdown file's path with an optional "#part".
REF_TARGET_RE = re.compile(r"\"(?P<path>[^\"#]*\.(?:md|markdown))(?P<fragment>#[^\"]*)?\"", re.I)
# A ref to a section or a page by its path alone ("/topics/mobile", "/communities").
REF_PATH_RE = re.compile(r"^\s*\"(?P<path>/?[\w./-]{0,500})(?:#[^\"]*)?\"")


def unwrap_shortcodes(text: str) -> str:
    """``text`` with its Hugo shortcodes replaced by what a reader would see; line
    breaks inside a tag are kept, so the lines after it keep their numbers."""
    if "{{" not in text:
        return text
    return SHORTCODE_RE.sub(_replacement, text)


def ref_targets(line: str) -> list[str]:
    """The Markdown files that the ``ref`` and ``relref`` shortcodes of one line name
    (``news/page.md``), for ``kb check``; a shortcode shown in a code span is not one."""
    targets = []
    for match in SHORTCODE_RE.finditer(line):
        ref = match.group("ref")
        if ref is None and (match.group("name") or "").lower() in ("ref", "relref"):
            ref = match.group("params")
        target = REF_TARGET_RE.search(ref) if ref else None
        if target:
            targets.append(target["path"])
    return targets


def _replacement(match: re.Match) -> str:
    if match.group("code"):
        return match.group(0)
    breaks = "\n" * match.group(0).count("\n")
    if match.group("text") is not None:  # the text may hold a tag of its own (an image)
        return _ref_link(unwrap_shortcodes(match.group("text")), match.group("ref")) + breaks
    if match.group("closing"):
        return breaks
    params = dict(PARAM_RE.findall(match.group("params")))
    return _shown(match.group("name").lower(), params) + breaks


def _ref_link(text: str, ref: str) -> str:
    """A link's text, linked to the Markdown file its ref names by file name (the folder
    part is Hugo's to resolve; the site addresses a position by its file name alone)."""
    target = REF_TARGET_RE.search(ref)
    if target is None:
        by_path = REF_PATH_RE.match(ref)
        return _topic_link(text, by_path["path"].rstrip("/")) if by_path else text
    if is_intro(posixpath.basename(target["path"])):  # a section's, or a page bundle's
        return _topic_link(text, posixpath.dirname(target["path"]))
    name = quote(posixpath.basename(target["path"]))
    return f"[{text}]({name}{quote(target['fragment'] or '', safe='#')})"


def _topic_link(text: str, folder: str) -> str:
    """A link to the topic of a folder's name ("/topics/mobile"), which leads on to the
    page when the folder is one page, or to a page of that name; the top folder's is
    the home page."""
    name = posixpath.basename(folder)
    return f"[{text}](/topics/{slugify(name, 'topic')})" if name else f"[{text}](/)"


def _shown(name: str, params: dict[str, str]) -> str:
    """What an opening tag shows: a button's text (a link to a web address), a link to
    a YouTube video, else nothing."""
    href, label = params.get("href", ""), params.get("text", "").strip()
    if label:
        return f"[{_escaped(label)}]({href})" if WEB_ADDRESS_RE.match(href) else _escaped(label)
    video = params.get("id", "")
    if name == "youtube" and YOUTUBE_ID_RE.match(video):
        title = _escaped(params.get("title", "").strip() or "Watch the video on YouTube")
        return f"[{title}](https://www.youtube.com/watch?v={video})"
    return ""


def _escaped(label: str) -> str:
    """A label as Markdown link text: brackets would end it early."""
    return label.replace("[", "\\[").replace("]", "\\]")
