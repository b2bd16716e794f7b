"""Python-Markdown's table and note readers, asked first whether a block can be theirs.

Each reader is asked about every block, and a heading with no blank line after it
leaves the rest of its block as a new block: the table reader split the whole rest into
rows each time, and the note reader searched all of it, so 10,000 headings written
"# h" then a line of text took 16 s. A table's first line holds a "|", and a note
opens with "!!!": without one, each now answers no at once, as it did after reading.
"""

from __future__ import annotations

from xml.etree import ElementTree

import markdown
from markdown.extensions.admonition import AdmonitionProcessor
from markdown.extensions.tables import TableProcessor


class QuickTables(TableProcessor):
    def test(self, parent: ElementTree.Element, block: str) -> bool:
        return "|" in block.partition("\n")[0] and super().test(parent, block)


class QuickNotes(AdmonitionProcessor):
    def test(self, parent: ElementTree.Element, block: str) -> bool:
        if "!!!" in block:
            return super().test(parent, block)
        return self.parse_content(parent, block)[0] is not None  # an indented note's body


def quicken(md: markdown.Markdown) -> None:
    """Put the quick readers in place of the tables and admonition extensions' own."""
    blocks = md.parser.blockprocessors
    blocks.register(QuickTables(md.parser, blocks["table"].config), "table", 75)
    blocks.register(QuickNotes(md.parser), "admonition", 105)
