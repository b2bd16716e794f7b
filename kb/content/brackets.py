"""Brackets that can never begin a link, hidden from Python-Markdown's link reader.

That reader reads from each "[" to the "]" that closes it, or to the end of the
paragraph when none does: 10 KB of "[" took 9.8 s to render. ``HiddenBrackets`` puts a
private-use stand-in for each such bracket before the inline reader runs, and
``ShownBrackets`` puts the bracket back after it, so the page shows it as typed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from itertools import accumulate
from xml.etree import ElementTree

from markdown.inlinepatterns import BACKTICK_RE, BacktickInlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE, AtomicString

# A bracket that can never begin a link stands in as one while Python-Markdown reads links.
HIDDEN_OPEN, HIDDEN_CLOSE = "\ue001", "\ue002"
MAX_LINK_NESTING = 8  # brackets nested deeper than this hold no link anyone writes
# What the link reader goes by: backslash escapes (passed over), brackets, and what ends a
# link's address: its ")", or a quote or "<" (a title, an <address>) that may move that end.
LINK_SYNTAX_RE = re.compile(r"\\.|[][()'\"<]", re.DOTALL)
CODE_SPANS = BacktickInlineProcessor(BACKTICK_RE)  # Python-Markdown's own code span reader
SHOWN_BRACKETS = {
    HIDDEN_OPEN: "[",
    HIDDEN_CLOSE: "]",
    # an e-mail address is written as character references, so a stand-in's is put back too
    f"{AMP_SUBSTITUTE}#{ord(HIDDEN_OPEN)};": f"{AMP_SUBSTITUTE}#{ord('[')};",
    f"{AMP_SUBSTITUTE}#{ord(HIDDEN_CLOSE)};": f"{AMP_SUBSTITUTE}#{ord(']')};",
}
STAND_IN_RE = re.compile("|".join(map(re.escape, SHOWN_BRACKETS)))


class HiddenBrackets(Treeprocessor):
    """Hides from Python-Markdown's link reader each "[" that can never begin a link, image
    or reference: one that no "]" closes (counted as that reader counts, code and escapes
    aside), and each pair nested deeper than MAX_LINK_NESTING; ``ShownBrackets`` puts them
    back after that reader, and the page shows them as typed, as it would anyway.

    The reader reads ahead from each "[" to the "]" that closes it, or to the end of the
    paragraph when none does: 10 KB of "[" took 9.8 s, and 10 KB of nested pairs 3.1 s.
    """

    def run(self, root: ElementTree.Element) -> None:
        labels = bool(self.md.references)  # then a "[" after "]" may open a reference's label
        for element in root.iter():
            if element.text and not isinstance(element.text, AtomicString):
                element.text = hidden_brackets(element.text, labels)
            if element.tail and not isinstance(element.tail, AtomicString):
                element.tail = hidden_brackets(element.tail, labels)


class ShownBrackets(Treeprocessor):
    """Puts back each bracket ``HiddenBrackets`` hid, wherever the link reader moved it: the
    page's text, attributes (a link's address) and the raw HTML Markdown set aside."""

    def run(self, root: ElementTree.Element) -> None:
        for element in root.iter():
            element.text, element.tail = _shown(element.text), _shown(element.tail)
            for name, value in element.items():
                element.set(name, _shown(value))
        blocks = self.md.htmlStash.rawHtmlBlocks
        blocks[:] = [_shown(block) if isinstance(block, str) else block for block in blocks]


def _shown(text: str | None) -> str | None:
    if not text or not STAND_IN_RE.search(text):
        return text
    return type(text)(STAND_IN_RE.sub(lambda match: SHOWN_BRACKETS[match[0]], text))


def hidden_brackets(text: str, labels: bool) -> str:
    """``text`` with a stand-in for each bracket that can never begin a link. With
    ``labels``, a "[" just after "]" stays: it may open the label of "[text][label]", which
    is read to its first "]" without counting."""
    if "[" not in text or "<![CDATA[" in text:  # a CDATA section is known by its brackets
        return text
    syntax = list(_link_syntax(text))
    addresses = _in_addresses(syntax)
    brackets = [match for match in syntax if match[0] in "[]"]

    def stays(at: int) -> bool:
        return labels and _after_close(text, at)

    hidden = [at for at in _unclosed(brackets, addresses) if not stays(at)]
    hidden += [at for pair in _deep_pairs(brackets, addresses) if not stays(pair[0]) for at in pair]
    if not hidden:
        return text
    chars = list(text)
    for at in hidden:
        chars[at] = HIDDEN_OPEN if chars[at] == "[" else HIDDEN_CLOSE
    return "".join(chars)


def _link_syntax(text: str) -> Iterator[re.Match[str]]:
    """The brackets, parentheses, quotes and "<" of ``text`` that the link reader sees:
    none inside code spans, none escaped with a backslash."""
    at = 0
    for start, end in [*_markdown_code_spans(text), (len(text), len(text))]:
        for match in LINK_SYNTAX_RE.finditer(text, at, start):
            if match[0][0] != "\\":
                yield match
        at = end


def _markdown_code_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each code span of ``text`` exactly as Python-Markdown finds them, with
    its own finder: unlike render.py's ``_code_and_comments``, a run of backticks with no
    run as long after it closes at a shorter one, and a counted bracket in code would hide
    a real link."""
    at = 0
    while match := CODE_SPANS.compiled_re.search(text, at):
        # an even run of backslashes before backticks is read first; the backticks then open
        begin = match.end() if match[1] else match.start()
        start, end = CODE_SPANS.find_code_spans(begin, text)
        at = start if end is None else end + start - begin
        if end is not None:
            yield begin, at


def _in_addresses(syntax: list[re.Match[str]]) -> set[int]:
    """Where a "[" may lie in a link's address, after "](": up to the ")" that closes it,
    or to the end once a quote or "<" may move that end. The link reader reads such a
    link first, taking its brackets out of what the image and short reference readers
    count, so such a "[" is never counted as opening a bracket."""
    inside, depth, previous = set(), 0, None
    for match in syntax:
        char = match[0]
        if depth and char == "[":
            inside.add(match.start())
        elif depth and char in "()":
            depth += 1 if char == "(" else -1
        elif depth and char in "'\"<":
            depth = math.inf
        elif char == "(" and previous and previous[0] == "]" and previous.end() == match.start():
            depth = 1
        previous = match
    return inside


def _unclosed(brackets: list[re.Match[str]], addresses: set[int]) -> list[int]:
    """Where each "[" is that no "]" closes, counting from it as the link reader does."""
    levels, level = [], 0
    for match in brackets:
        if match[0] == "]":
            level -= 1
        elif match.start() not in addresses:
            level += 1
        levels.append(level)
    lowest_after = list(accumulate(reversed(levels), min))[::-1]
    return [
        match.start()
        for match, level, lowest in zip(brackets, levels, lowest_after, strict=True)
        if match[0] == "[" and lowest >= level  # never back below where it opened
    ]


def _deep_pairs(brackets: list[re.Match[str]], addresses: set[int]) -> list[tuple[int, int]]:
    """("[", "]") positions of each pair inside more than MAX_LINK_NESTING pairs, itself
    counted."""
    pairs, opened = [], []
    for match in brackets:
        if match[0] == "[" and match.start() not in addresses:
            opened.append(match.start())
        elif match[0] == "]" and opened:
            pairs.append((opened.pop(), match.start()))
    deep, enclosing = [], []
    for start, end in sorted(pairs):
        while enclosing and enclosing[-1] < start:
            enclosing.pop()
        enclosing.append(end)
        if len(enclosing) > MAX_LINK_NESTING:
            deep.append((start, end))
    return deep


def _after_close(text: str, at: int) -> bool:
    """True when ``text[at]`` follows a "]", or a "]" and one whitespace character."""
    before = text[max(at - 2, 0) : at]
    return before.endswith("]") or (len(before) == 2 and before[0] == "]" and before[1].isspace())
