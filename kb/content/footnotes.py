"""Footnotes ("a right.[^1]" and "[^1]: the source"), as Jekyll, Hugo and MkDocs write
them: Python-Markdown's extension, made linear, and the marks a passage leaves out.

The extension numbers each further reference to one note ("fnref2:1", "fnref3:1") by
trying every number from 2 until one is free, so 20,000 references to one note took
165 s; here each note counts its references, with the same ids.
"""

from __future__ import annotations

import copy
from xml.etree import ElementTree

from markdown.extensions.footnotes import FootnoteExtension

NOTES_CLASS = "footnote"  # the extension's <div> of notes, put last in the page
REFERENCE_CLASS = "footnote-ref"  # a note's number in the text, inside <sup id="fnref…">
BACK_CLASS = "footnote-backref"  # the "↩" from a note back to where it is referenced


class Footnotes(FootnoteExtension):
    """Python-Markdown's footnotes, each repeated reference numbered at once."""

    def unique_ref(self, reference: str, found: bool = False) -> str:
        if not found:
            return reference
        count = self.found_refs.get(reference, 0) + 1
        self.found_refs[reference] = count
        if count > 1:  # "fnref:1" the first time, then "fnref2:1", "fnref3:1", …
            prefix, rest = reference.split(self.get_separator(), 1)
            reference = f"{prefix}{count}{self.get_separator()}{rest}"
        self.used_refs.add(reference)
        return reference


def without_note_marks(element: ElementTree.Element) -> ElementTree.Element:
    """A copy of a passage without its footnote marks (the "1" after a word, the "↩"
    back to it): they lead around the page, and a quotation has no use for them."""
    plain = copy.deepcopy(element)
    marked = [parent for parent in plain.iter() if any(map(_is_note_mark, parent))]
    for parent in marked:
        kept: list[ElementTree.Element] = []
        for child in parent:
            if not _is_note_mark(child):
                kept.append(child)
            elif kept:
                kept[-1].tail = (kept[-1].tail or "") + (child.tail or "")
            else:
                parent.text = (parent.text or "") + (child.tail or "")
        parent[:] = kept  # one pass: removing each mark alone searched the whole list
    return plain


def _is_note_mark(element: ElementTree.Element) -> bool:
    if element.tag == "sup":
        return (element.get("id") or "").startswith("fnref")
    return element.tag == "a" and BACK_CLASS in (element.get("class") or "").split()
