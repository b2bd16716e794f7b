"""Highlighted snippets of a passage, from where its matched words stand.

The index stores each word's character offsets, so a snippet needs no re-analysis of
the text. Whoosh's highlighter would make a Token for every occurrence and a Fragment
for every window before keeping one; here the one window is chosen and marked
directly, by the rules of its PinpointFragmenter (autotrim) and HtmlFormatter, so the
windows are the ones it chose, at a fraction of the cost. A snippet then reaches back
to the start of its sentence, and marks every matched word it shows.
"""

from __future__ import annotations

from html import escape

SNIPPET_CHARS = 240
SURROUND = 110  # context kept either side of the matched words
CHAR_LIMIT = 20_000  # matches further into a passage are not looked at
SENTENCE_REACH = 60  # how far back a snippet may reach for the start of its sentence
MARK_CLASSES = 5  # the marks' term classes cycle through term0 … term4

# (start, end, word): one occurrence of a matched word, by character offsets
Place = tuple[int, int, str]


class Marker:
    """Makes one page's snippets. A word keeps its mark's class number across them."""

    def __init__(self) -> None:
        self._classes: dict[str, int] = {}

    def snippet(self, text: str, places: list[Place]) -> str:
        """The best window of ``text`` around the matched words, escaped, the words in
        <mark>, widened back to the start of its sentence (or at least of its first
        word), with an ellipsis wherever the text was cut."""
        distinct = _distinct(places)
        window = _best_window(text, distinct)
        if window is None:
            return crop(text)
        start, end, _ = window
        if start > 0:
            start -= _lead_in(text, start)
        # Every matched word shown is marked, in the part reached back for too.
        shown = [place for place in distinct if start <= place[0] and place[1] <= end]
        marked = self._mark(text, start, end, shown)
        plain = text[start:end]
        if not text.lstrip().startswith(plain.strip()[:20]):
            marked = "… " + marked.lstrip()
        if not text.rstrip().endswith(plain.strip()[-20:]):
            marked = marked.rstrip() + " …"
        return marked

    def _mark(self, text: str, start: int, end: int, matches: list[Place]) -> str:
        out, at = [], start
        for first, last, _ in sorted(matches, key=lambda p: (p[0], p[0] - p[1])):
            if first < at:
                continue
            out.append(escape(text[at:first], quote=False))
            word = escape(text[first:last], quote=False)
            number = self._classes.setdefault(word, len(self._classes) % MARK_CLASSES)
            out.append(f'<mark class="match term{number}">{word}</mark>')
            at = last
        out.append(escape(text[at:end], quote=False))
        return "".join(out)


def _distinct(places: list[Place]) -> list[Place]:
    """One match per starting character (the longest), in text order, none past the
    limit."""
    kept: dict[int, Place] = {}
    for place in sorted(places, key=lambda p: p[0]):
        start, end, _ = place
        if end > CHAR_LIMIT:
            continue
        if start not in kept or end - start > kept[start][1] - kept[start][0]:
            kept[start] = place
    return list(kept.values())


def _best_window(text: str, matches: list[Place]) -> tuple[int, int, list[Place]] | None:
    """The window holding the most matches of the most distinct words; on a tie, the
    later one (as Whoosh's choice of its top fragment falls)."""
    best, best_score = None, -1
    i = 0
    while i < len(matches):
        left, right = matches[i][0], matches[i][1]
        j, length = i, right - left
        while j < len(matches) - 1 and length < SNIPPET_CHARS:
            start, end, _ = matches[j + 1]
            if end - right > SURROUND or end - left > SNIPPET_CHARS:
                break
            j, right, length = j + 1, end, length + end - start
        inside = matches[i : j + 1]
        start, end = _trimmed(text, max(0, left - SURROUND), min(len(text), right + SURROUND),
                              inside)  # fmt: skip
        score = len(inside) * (len({word for _, _, word in inside}) * 100 or 1)
        if score > best_score or (score == best_score and start > best[0]):
            best, best_score = (start, end, inside), score
        i = j + 1
    return best


def _trimmed(text: str, start: int, end: int, inside: list[Place]) -> tuple[int, int]:
    """Window edges moved in to the nearest spaces, never past a match."""
    if (space := text.find(" ", start, end)) > 0:
        start = space + 1
    if (space := text.rfind(" ", start, end)) > 0:
        end = space
    return min(start, inside[0][0]), max(end, inside[-1][1])


def _lead_in(text: str, start: int) -> int:
    """How many characters before ``start`` to add so a snippet starts a sentence, or,
    when the sentence began too far back, the word cut at ``start``."""
    window = text[max(0, start - SENTENCE_REACH) : start]
    sentence = max(window.rfind(". "), window.rfind("? "), window.rfind("! "))
    if sentence >= 0:
        return len(window) - sentence - 2
    if start <= SENTENCE_REACH:
        return start
    word = len(window) - len(window.rstrip()) if window[-1:].isspace() else 0
    if not word:
        cut = max(window.rfind(" "), window.rfind("\n"))
        word = len(window) - cut - 1 if cut >= 0 else 0
    return word


def crop(text: str, width: int = SNIPPET_CHARS) -> str:
    """An escaped, word-boundary crop for when nothing was highlighted."""
    if len(text) > width:
        text = text[:width].rsplit(" ", 1)[0] + " …"
    return escape(text)
