"""Brackets and parentheses that can never make a link, hidden from Python-Markdown's
link reader.

That reader reads from each "[" to the "]" that closes it, or to the end of the
paragraph when none does: 10 KB of "[" took 9.8 s to render. It reads from each "]("
to the ")" that closes the address, or to the end: 20 KB of "[a](" took 4 s.
``HiddenBrackets`` puts a private-use stand-in for each such character before the
inline reader runs, and ``ShownBrackets`` puts it back after it, so the page shows it
as typed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator
from itertools import accumulate
from xml.etree import ElementTree

from markdown.inlinepatterns import BACKTICK_RE, BacktickInlineProcessor, LinkInlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE, AtomicString

# A bracket that can never begin a link stands in as one while Python-Markdown reads links,
# and so does a "(" after "]" that can never end one.
HIDDEN_OPEN, HIDDEN_CLOSE, HIDDEN_PAREN = "\ue001", "\ue002", "\ue003"
STAND_INS = (HIDDEN_OPEN, HIDDEN_CLOSE, HIDDEN_PAREN)
MAX_LINK_NESTING = 8  # brackets nested deeper than this hold no link anyone writes
# What the link reader goes by: brackets, and what ends a link's address: its ")", or a
# quote or "<" (a title, an <address>) that may move that end.
LINK_SYNTAX_RE = re.compile(r"[][()'\"<]")
CODE_SPANS = BacktickInlineProcessor(BACKTICK_RE)  # Python-Markdown's own code span reader
SHOWN_BRACKETS = {
    HIDDEN_OPEN: "[",
    HIDDEN_CLOSE: "]",
    HIDDEN_PAREN: "(",
    # an e-mail address is written as character references, so a stand-in's is put back too
    f"{AMP_SUBSTITUTE}#{ord(HIDDEN_OPEN)};": f"{AMP_SUBSTITUTE}#{ord('[')};",
    f"{AMP_SUBSTITUTE}#{ord(HIDDEN_CLOSE)};": f"{AMP_SUBSTITUTE}#{ord(']')};",
    f"{AMP_SUBSTITUTE}#{ord(HIDDEN_PAREN)};": f"{AMP_SUBSTITUTE}#{ord('(')};",
}
STAND_IN_RE = re.compile("|".join(map(re.escape, SHOWN_BRACKETS)))
# What the address reader goes by: brackets (a link's text), parentheses and quotes.
ADDRESS_SYNTAX_RE = re.compile(r"[][()'\"]")
LINK_OPENER_RE = re.compile(r"\](?=\()")  # its end is where a link's address may open
LABEL_RE = re.compile(r"\]\s?\[")  # "[text][label]": a reference, read before any link
ANGLE_ADDRESS_RE = re.compile(r"\(\s*<")  # "(<address>)" ends at ">)", not by counting
ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)  # as Python-Markdown's escape reader reads
READER_FILLER = "\0"  # what the link reader sees of code and escapes: none of its syntax


class HiddenBrackets(Treeprocessor):
    """Hides from Python-Markdown's link reader each "[" that can never begin a link, image
    or reference: one that no "]" closes (counted as that reader counts, code and escapes
    aside), and each pair nested deeper than MAX_LINK_NESTING; and each "(" after "]" that
    can never end a link's address (see ``hidden_parens``). ``ShownBrackets`` puts them
    back after that reader, and the page shows them as typed, as it would anyway.

    The reader reads ahead from each "[" to the "]" that closes it, or to the end of the
    paragraph when none does: 10 KB of "[" took 9.8 s, and 10 KB of nested pairs 3.1 s.
    """

    def run(self, root: ElementTree.Element) -> None:
        references = bool(self.md.references)  # then "[" after "]" may open a reference's label
        escaped = frozenset(self.md.ESCAPED_CHARS)
        for element in root.iter():
            if element.text and not isinstance(element.text, AtomicString):
                element.text = _hidden(element.text, references, escaped)
            if element.tail and not isinstance(element.tail, AtomicString):
                element.tail = _hidden(element.tail, references, escaped)


def _hidden(text: str, references: bool, escaped: frozenset[str]) -> str:
    return hidden_parens(hidden_brackets(text, references, escaped), references, escaped)


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


def hidden_brackets(text: str, labels: bool, escaped: Collection[str]) -> str:
    """``text`` with a stand-in for each bracket that can never begin a link, counted in
    what the link reader reads (``_reader_view``: code and ``escaped`` characters aside).
    With ``labels``, a "[" just after "]" stays: it may open the label of
    "[text][label]", which is read to its first "]" without counting."""
    if "[" not in text or "<![CDATA[" in text:  # a CDATA section is known by its brackets
        return text
    syntax = list(LINK_SYNTAX_RE.finditer(_reader_view(text, escaped)))
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


def hidden_parens(text: str, references: bool, escaped: Collection[str]) -> str:
    """``text`` with a stand-in for each "(" after "]" that can never end a link's address:
    no ")" closes it, counted as the link and image readers count, and so that it closes
    when in doubt (the image reader reads what is left once the link reader has taken out
    the links it makes). Hiding such a "(" changes no other address's count.

    The reader counts otherwise after a quote, which may begin a title: a quote before the
    last parenthesis, while an address may be open, leaves the text as typed. So does
    "[text][label]" when ``references`` are defined: it is taken out before any link is
    read. A "(<" with a ")" after it may be an <address>, which ends at ">)": it stays.
    """
    if "](" not in text:
        return text
    view = _reader_view(text, escaped)
    openers = {match.end() for match in LINK_OPENER_RE.finditer(view)}
    if not openers or (references and LABEL_RE.search(view)):
        return text
    syntax = [(match.start(), match[0]) for match in ADDRESS_SYNTAX_RE.finditer(view)]
    taken = _taken_with_links(view, syntax, openers)
    if _title_may_begin(syntax, openers, taken):
        return text
    last_close = view.rfind(")")
    hidden = [
        at
        for at in _never_closed(syntax, openers, taken)
        if not (at < last_close and ANGLE_ADDRESS_RE.match(view, at))
    ]
    if not hidden:
        return text
    chars = list(text)
    for at in hidden:
        chars[at] = HIDDEN_PAREN
    return "".join(chars)


def _reader_view(text: str, escaped: Collection[str]) -> str:
    """``text`` as the link reader reads it, each character in its place: code spans and
    escaped characters, which the readers before it set aside, are filler."""
    if "`" not in text and "\\" not in text:
        return text
    chars, at = list(text), 0
    for start, end in [*_markdown_code_spans(text), (len(text), len(text))]:
        for match in ESCAPE_RE.finditer(text, at, start):
            if match[1] in escaped:
                chars[match.start() : match.end()] = READER_FILLER * 2
        chars[start:end] = READER_FILLER * (end - start)
        at = end
    return "".join(chars)


def _taken_with_links(view: str, syntax: list[tuple[int, str]], openers: set[int]) -> set[int]:
    """Where each parenthesis is that a link the link reader makes may take out of what
    the image reader reads: one in brackets (a link's text) or in an <address>. The rest
    of an address is balanced, so taking it out changes no count."""
    taken, depth = set(), 0
    for at, char in syntax:
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        elif char in "()" and depth:
            taken.add(at)
    for at in openers:
        address = LinkInlineProcessor.RE_LINK.match(view, at)
        if address and address[1]:
            taken.update(i for i in range(at, address.end()) if view[i] in "()")
    return taken


def _title_may_begin(syntax: list[tuple[int, str]], openers: set[int], taken: set[int]) -> bool:
    """True when a quote comes before the last parenthesis while an address may be open
    (counted so that it stays open when in doubt: a ")" that may be taken out is not
    counted). A quote after the last parenthesis changes nothing: with no ")" after it
    no title ends, and with no parenthesis the reader counts none."""
    last_paren = max((at for at, char in syntax if char in "()"), default=-1)
    depth = 0
    for at, char in syntax:
        if at > last_paren:
            break
        if char == "(" and (depth or at in openers):
            depth += 1
        elif char == ")" and depth and at not in taken:
            depth -= 1
        elif char in "'\"" and depth:
            return True
    return False


def _never_closed(syntax: list[tuple[int, str]], openers: set[int], taken: set[int]) -> list[int]:
    """Where each opener is that no ")" closes, counted so that it closes when in doubt:
    a "(" that may be taken out is not counted, and every ")" is."""
    counts, count = [], 0
    for at, char in syntax:
        if char == ")":
            count -= 1
        elif char == "(" and at not in taken:
            count += 1
        counts.append(count)
    lowest_after = [*list(accumulate(reversed(counts), min))[::-1][1:], math.inf]
    return [
        at
        for (at, _), count, lowest in zip(syntax, counts, lowest_after, strict=True)
        if at in openers and lowest >= count  # never back below where it opened
    ]
