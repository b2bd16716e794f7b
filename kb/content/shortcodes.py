"""Hugo shortcodes, read as a reader of the Hugo site would see them.

A Hugo folder writes ``{{< name param="…" >}}`` (or ``{{% … %}}``) where the site's
templates put a box, an image, a button or a link to another page. This site does not
run Hugo's templates, and shown as written the tags broke the Markdown around them:
``[community of practice]({{< ref "challenges-prizes.md" >}})`` lost the text after it
into a link title. So, before Markdown reads the body:

- a link to ``{{< ref … >}}`` or ``{{< relref … >}}`` keeps its text (the page it
  names is found by Hugo's own rules, which this site does not share);
- a button (``href`` and ``text``) becomes a link, and a YouTube video a link to it;
- every other tag is dropped, and what a pair of tags wraps (a note, a box) stays.

Inline code is left as written; fenced code is set aside before this runs.
"""

from __future__ import annotations

import re

# Bounded and brace-free, so that text full of "{{<" or "[" never takes quadratic time.
_TAG = r"\{\{[<%]\s*(?P<closing>/?)\s*(?P<name>[\w-]{1,50})(?P<params>[^{}]{0,2000}?)\s*[>%]\}\}"
# A code span (kept), a link whose address is a ref shortcode, or any shortcode tag.
SHORTCODE_RE = re.compile(
    r"(?P<code>(`{1,16}).{1,4000}?\2)"
    r"|\[(?P<text>[^\[\]]{0,1000})\]\(\s*\{\{[<%]\s*(?:rel)?ref\s[^{}]{0,1000}?[>%]\}\}"
    r"\s*(?:\"[^\"\n]{0,1000}\"\s*)?\)"
    r"|(?P<tag>" + _TAG + ")",
    re.DOTALL,
)
PARAM_RE = re.compile(r"([\w-]+)\s*=\s*\"([^\"]*)\"")
WEB_ADDRESS_RE = re.compile(r"^https?://[^\s()<>]+$")
YOUTUBE_ID_RE = re.compile(r"^[\w-]{6,20}$")


def unwrap_shortcodes(text: str) -> str:
    """``text`` with its Hugo shortcodes replaced by what a reader would see; line
    breaks inside a tag are kept, so the lines after it keep their numbers."""
    if "{{" not in text:
        return text
    return SHORTCODE_RE.sub(_replacement, text)


def _replacement(match: re.Match) -> str:
    if match.group("code"):
        return match.group(0)
    breaks = "\n" * match.group(0).count("\n")
    if match.group("text") is not None:  # the text may hold a tag of its own (an image)
        return unwrap_shortcodes(match.group("text")) + breaks
    if match.group("closing"):
        return breaks
    params = dict(PARAM_RE.findall(match.group("params")))
    return _shown(match.group("name").lower(), params) + breaks


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
