"""Jekyll's Liquid tags, read as a reader of the Jekyll site sees them.

A Jekyll folder writes ``{% include _toc.html %}`` where its templates put a table of
contents, and ``{{ site.baseurl }}`` where they put the site's address. This site runs
no templates, and shown as written a tag became a passage of its own: eleven of the
Internet Party's policies opened with "{% include _toc.html %}". So, before Markdown
reads the body:

- ``{% link _posts/x.md %}`` and ``{% post_url 2016-07-26-x %}`` become that file's
  name, which the renderer points at its page (as a Hugo ``ref``: every position answers
  at its file name's address);
- ``{% raw %}…{% endraw %}`` keeps what it wraps as written, tags and all;
- ``{% comment %}…{% endcomment %}`` is dropped with what it wraps;
- ``{% highlight python %}…{% endhighlight %}`` is a block of code;
- any other tag (``include``, ``if``, ``for``, ``assign``…) is dropped and what a pair
  wraps stays, as are Jekyll's variables (``{{ site.… }}``, ``{{ page.… }}``).

Inline code is left as written; fenced code is set aside before this runs. Each tag
keeps its line breaks, so the lines after it keep their numbers. A block is read to its
own end tag whatever it holds; one that never ends leaves the rest as written.
"""

from __future__ import annotations

import html
import posixpath
import re

from kb.content.shortcodes import CODE_SPAN

# A code span (kept), a tag, or one of Jekyll's variables; bounded, and brace-free inside.
TOKEN_RE = re.compile(
    CODE_SPAN + r"|\{%-?\s*(?P<name>[a-z_]{1,30})(?P<args>[^{}%]{0,2000}?)\s*-?%\}"
    r"|\{\{-?\s*(?:site|page|layout|include|jekyll|paginator|content)\b[^{}]{0,2000}?-?\}\}",
    re.DOTALL,
)
# The file a link tag names: its first word, a path, with any quotes dropped.
TARGET_RE = re.compile(r"^\s*['\"]?([^\s'\"]{1,1000})")
LINK_TAGS = ("link", "post_url")
BLOCK_ENDS = {"raw": "endraw", "comment": "endcomment", "highlight": "endhighlight"}
BLOCK_END_RES = {name: re.compile(rf"\{{%-?\s*{end}\s*-?%\}}") for name, end in BLOCK_ENDS.items()}


def unwrap_liquid(text: str) -> str:
    """``text`` with Jekyll's Liquid tags replaced by what a reader of the site sees."""
    if "{%" not in text and "{{" not in text:
        return text
    shown: list[str] = []
    at = 0
    while match := TOKEN_RE.search(text, at):
        shown.append(text[at : match.start()])
        name = match["name"]
        if name in BLOCK_ENDS:  # raw, comment, highlight: read to its own end tag
            end = BLOCK_END_RES[name].search(text, match.end())
            if end is None:  # never closed: Jekyll would fail; show the rest as written
                at = match.start()
                break
            shown.append(_block(name, text[match.end() : end.start()], match[0], end[0]))
            at = end.end()
            continue
        at = match.end()
        if match["code"]:
            shown.append(match[0])
        elif name in LINK_TAGS:  # by the file's name, as the renderer points it at its page
            shown.append(posixpath.basename(_named(name, match["args"])))
        else:
            shown.append(_breaks(match[0]))
    shown.append(text[at:])
    return "".join(shown)


def link_targets(line: str) -> list[str]:
    """The Markdown files that the link tags of one line name, as written (a post by its
    file name), for ``kb check``."""
    tags = (match for match in TOKEN_RE.finditer(line) if match["name"] in LINK_TAGS)
    return [target for match in tags if (target := _named(match["name"], match["args"]))]


def _block(name: str, inside: str, opening: str, closing: str) -> str:
    """What a block shows, with as many line breaks as it had."""
    if name == "raw":
        return _breaks(opening) + inside + _breaks(closing)
    if name == "comment":
        return _breaks(opening + inside + closing)
    # a browser drops the first line break after <pre>, as a highlight block's first
    code = inside.strip("\n")
    lead = _breaks(opening) + "\n" * (len(inside) - len(inside.lstrip("\n")))
    trail = "\n" * (len(inside) - len(inside.rstrip("\n"))) + _breaks(closing)
    return f"<pre>{lead}<code>{html.escape(code, quote=False)}{trail}</code></pre>"


def _named(tag: str, args: str) -> str:
    """The file a link tag names, as written (``_posts/x.md``; a post by its name, so
    ``2016-07-26-x`` names ``2016-07-26-x.md``); "" when it names none."""
    target = TARGET_RE.match(args)
    if target is None:
        return ""
    return target[1] + ".md" if tag == "post_url" else target[1]


def _breaks(tag: str) -> str:
    return "\n" * tag.count("\n")
