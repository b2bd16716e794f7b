"""MkDocs' notes: ``!!! warning "Title"`` and an indented body (Python-Markdown's
admonition extension), and Material for MkDocs' collapsible ``??? note`` and
``???+ note`` (pymdownx.details), which are shown open: a position is one page, with
nothing to fold away.
"""

from __future__ import annotations

import re

from markdown.preprocessors import Preprocessor

ADMONITION_CLASS = "admonition"
TITLE_CLASS = "admonition-title"
# The kinds MkDocs and Material style; another kind still reads as a note, unstyled.
KINDS = frozenset(
    """note abstract summary tldr info todo tip hint important success check done question
    help faq warning caution attention failure fail missing danger error bug example quote
    cite""".split()
)
# "??? note", "???+ tip \"Title\"", at any depth of four-space indents.
COLLAPSIBLE_RE = re.compile(
    r'^((?: {4})*)\?\?\?\+? *(?=[\w-]+(?: +[\w-]+)*(?: +"[^"\n]*")? *$)', re.MULTILINE
)


class OpenCollapsibles(Preprocessor):
    """Each collapsible note as a note: ``??? note`` → ``!!! note``. Fenced code is set
    aside before this runs."""

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if "???" not in text:
            return lines
        return COLLAPSIBLE_RE.sub(r"\1!!! ", text).split("\n")
