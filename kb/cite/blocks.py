"""Cut a position's HTML after each passage, so a page can put a Cite control there.

The HTML is the sanitised, well-formed output of the renderer, whose top-level blocks
carry the passages' anchors as ids; anything unexpected simply yields one block with
no passage, so the page still shows everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
             "source", "track", "wbr"}  # fmt: skip


@dataclass(frozen=True)
class Block:
    """A stretch of page HTML, ending with the passage ``passage_id`` when it has one."""

    html: str
    passage_id: str | None = None


class _TopLevel(HTMLParser):
    """Records where each top-level element ends, and its id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.depth = 0
        self.current_id: str | None = None
        self.ends: list[tuple[tuple[int, int], str | None]] = []  # ((line, col) of "</", id)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in VOID_TAGS:
            return
        if self.depth == 0:
            self.current_id = dict(attrs).get("id")
        self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0:
            self.ends.append((self.getpos(), self.current_id))


def split_blocks(html: str, anchors: dict[str, str]) -> list[Block]:
    """Split ``html`` after each top-level element whose id is in ``anchors`` (id → passage).

    Joining the blocks' HTML gives back ``html`` exactly.
    """
    parser = _TopLevel()
    parser.feed(html)
    parser.close()
    starts = _line_starts(html)
    blocks, cut = [], 0
    for (line, col), element_id in parser.ends:
        if element_id not in anchors:
            continue
        end = html.find(">", starts[line - 1] + col) + 1
        if end > cut:
            blocks.append(Block(html[cut:end], anchors[element_id]))
            cut = end
    if cut < len(html) or not blocks:
        blocks.append(Block(html[cut:]))
    return blocks


def _line_starts(text: str) -> list[int]:
    starts, at = [0], text.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts
