"""Lines a site generator reads as instructions and never shows.

- kramdown's attribute lines (Jekyll): ``{: .no_toc }`` under a heading, as the
  just-the-docs and Minimal Mistakes themes write on most pages; a line after a heading
  joins it (``{: #id}`` still names its anchor), one standing alone is dropped, and one
  closing a paragraph is left to the attribute-list reader;
- kramdown's table of contents, ``* TOC`` (or ``1. TOC``) then ``{:toc}``;
- Python-Markdown's ``[TOC]`` marker (MkDocs).

Shown, each became a passage of its own ("{: .no_toc .text-delta }", "TOC") in results
and citations. The site shows its own headings, so no table of contents is lost. Each
line is blanked rather than removed; fenced code is set aside before this runs.
"""

from __future__ import annotations

import re

from markdown.preprocessors import Preprocessor

ATTRIBUTE_LINE_RE = re.compile(r"^ {0,3}\{:[^{}\n]*\}[ \t]*$")
HEADING_LINE_RE = re.compile(r"^ {0,3}#{1,6}[ \t]+\S")
TOC_ITEM_RE = re.compile(r"^ {0,3}(?:[*+-]|\d{1,9}[.)])[ \t]+TOC[ \t]*$")
TOC_MARKER_RE = re.compile(r"^ {0,3}\[TOC\][ \t]*$")


class HiddenMarkers(Preprocessor):
    """Blanks the generators' instruction lines; a heading takes its attribute line."""

    def run(self, lines: list[str]) -> list[str]:
        if not any("{:" in line or "[TOC]" in line for line in lines):
            return lines
        shown = list(lines)
        for number, line in enumerate(lines):
            if TOC_MARKER_RE.match(line):
                shown[number] = ""
            elif ATTRIBUTE_LINE_RE.match(line):
                before = shown[number - 1] if number else ""
                if TOC_ITEM_RE.match(before) and "toc" in line:
                    shown[number - 1] = shown[number] = ""
                elif HEADING_LINE_RE.match(before):
                    shown[number - 1], shown[number] = f"{before.rstrip()} {line.strip()}", ""
                elif not before.strip():
                    shown[number] = ""
        return shown
