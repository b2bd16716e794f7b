"""Reverse quote lookup: which passage did a pasted quotation come from?

Text is compared as words (case, accents, punctuation and quotation marks ignored),
so a quote pasted with curly quotes or a trailing full stop still matches exactly. An
ellipsis ("...", "…", "[…]") marks words left out: each part must appear, in order.
Exact matches against current passages are tried first, then the ledger's archived
wordings, then the closest passage whose words cover most of the quote, in order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

WORD_RE = re.compile(r"\w+")
ELLIPSIS_RE = re.compile(r"\[?\s*(?:\.\s*\.\s*\.|…)\s*\]?")
MIN_WORDS = 3
MAX_CHARS = 5000
CLOSE_THRESHOLD = 0.6  # share of the quote's words found in order in the passage
FUZZY_CANDIDATES = 40


@dataclass(frozen=True)
class Source:
    """One text a quote may come from: a current passage or an archived wording."""

    id: str
    text: str
    current: bool


@dataclass(frozen=True)
class Words:
    """A text's folded words and where each stands in the text."""

    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    text: str


def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def split_words(text: str) -> Words:
    """Folded words with their character spans in the NFC form of ``text``."""
    text = unicodedata.normalize("NFC", text)
    words, spans = [], []
    for match in WORD_RE.finditer(text):
        for piece in WORD_RE.findall(fold(match.group())):
            words.append(piece)
            spans.append(match.span())
    return Words(tuple(words), tuple(spans), text)


def fragments(quote: str) -> list[tuple[str, ...]]:
    """The quote's word runs between ellipses, empty runs dropped."""
    return [w for part in ELLIPSIS_RE.split(quote) if (w := split_words(part).words)]


def word_count(text: str) -> int:
    """How many words a pasted quote has (ellipses do not count)."""
    return sum(len(run) for run in fragments(text[:MAX_CHARS]))


@dataclass(frozen=True)
class QuoteMatch:
    """Where a quote was found, and how closely."""

    source: Source
    match: str  # "exact" or "close"
    similarity: float  # share of the quote's words found, in order
    excerpt: str  # the matched stretch, in the source's own wording
    others: int  # further sources of the same kind (current or archived) that match too


class QuoteIndex:
    """Every source's words, and which sources hold each word."""

    def __init__(self, sources: Iterable[Source]) -> None:
        self.sources = list(sources)
        self.words = [split_words(s.text) for s in self.sources]
        self.joined = [" " + " ".join(w.words) + " " for w in self.words]
        self.postings: dict[str, set[int]] = {}
        for number, words in enumerate(self.words):
            for word in set(words.words):
                self.postings.setdefault(word, set()).add(number)

    def find(self, quote: str) -> QuoteMatch | None:
        """The best source for ``quote``: exact (current first), else the closest."""
        runs = fragments(quote[:MAX_CHARS])
        if sum(len(r) for r in runs) < MIN_WORDS:
            return None
        exact = self._exact(runs) or self._exact_with_cut_edges(runs)
        if exact:
            exact.sort(key=lambda hit: (not self.sources[hit[0]].current, hit[1], hit[0]))
            number, _, span = exact[0]
            source = self.sources[number]
            others = sum(self.sources[n].current == source.current for n, _, _ in exact[1:])
            return QuoteMatch(source, "exact", 1.0, self._excerpt(number, span), others)
        return self._closest([w for run in runs for w in run])

    def _exact(self, runs: list[tuple[str, ...]]) -> list[tuple[int, int, tuple[int, int]]]:
        """(source, length, word span) for every source holding each run, in order."""
        candidates = self._holding_all({w for run in runs for w in run})
        hits = []
        for number in candidates:
            span = self._runs_in_order(number, runs)
            if span:
                hits.append((number, len(self.words[number].words), span))
        return hits

    def _exact_with_cut_edges(
        self, runs: list[tuple[str, ...]]
    ) -> list[tuple[int, int, tuple[int, int]]]:
        """Exact hits for a quote whose first or last word was cut when it was selected.

        "…not only in geog" still matches "…not only in geography", but only where the
        cut word really begins (or ends) the word beside the match in the source.
        """
        head, tail = runs[0][0], runs[-1][-1]
        for cut_head, cut_tail in ((False, True), (True, False), (True, True)):
            trimmed = [list(run) for run in runs]
            if cut_head:
                trimmed[0] = trimmed[0][1:]
            if cut_tail:
                trimmed[-1] = trimmed[-1][:-1]
            trimmed = [tuple(run) for run in trimmed if run]
            if sum(len(run) for run in trimmed) < MIN_WORDS:
                continue
            hits = [
                (number, length, (first - cut_head, last + cut_tail))
                for number, length, (first, last) in self._exact(trimmed)
                if self._edges_fit(number, first, last, head if cut_head else None,
                                   tail if cut_tail else None)
            ]  # fmt: skip
            if hits:
                return hits
        return []

    def _edges_fit(self, number: int, first: int, last: int, head, tail) -> bool:
        words = self.words[number].words
        if head is not None and (first == 0 or not words[first - 1].endswith(head)):
            return False
        return tail is None or (last + 1 < len(words) and words[last + 1].startswith(tail))

    def _holding_all(self, words: set[str]) -> set[int]:
        found: set[int] | None = None
        for word in sorted(words, key=lambda w: len(self.postings.get(w, ()))):
            posting = self.postings.get(word, set())
            found = set(posting) if found is None else found & posting
            if not found:
                return set()
        return found or set()

    def _runs_in_order(self, number: int, runs: list[tuple[str, ...]]) -> tuple[int, int] | None:
        joined, start, first = self.joined[number], 0, None
        for run in runs:
            at = joined.find(" " + " ".join(run) + " ", start)
            if at < 0:
                return None
            word_at = joined.count(" ", 0, at)  # words before the match
            first = word_at if first is None else first
            start = at + len(" ".join(run)) + 1
            last = word_at + len(run) - 1
        return (first, last) if first is not None else None

    def _closest(self, quote: list[str]) -> QuoteMatch | None:
        shared: dict[int, int] = {}
        for word in set(quote):
            for number in self.postings.get(word, ()):
                shared[number] = shared.get(number, 0) + 1
        ranked = sorted(shared, key=lambda n: (-shared[n], n))[:FUZZY_CANDIDATES]
        best: tuple[float, bool, int, tuple[int, int]] | None = None
        for number in ranked:
            if shared[number] / len(set(quote)) < CLOSE_THRESHOLD:
                continue
            score, span = align(quote, self.words[number].words)
            rank = (score, self.sources[number].current)
            if score >= CLOSE_THRESHOLD and (best is None or rank > best[:2]):
                best = (score, self.sources[number].current, number, span)
        if best is None:
            return None
        score, _, number, span = best
        return QuoteMatch(self.sources[number], "close", round(score, 3),
                          self._excerpt(number, span), 0)  # fmt: skip

    def _excerpt(self, number: int, span: tuple[int, int]) -> str:
        words = self.words[number]
        return words.text[words.spans[span[0]][0] : words.spans[span[1]][1]]


def align(quote: list[str], words: tuple[str, ...]) -> tuple[float, tuple[int, int]]:
    """Share of ``quote`` found in order in ``words``, and the word span it covers.

    The span reaches as many words beyond the first and last matching word as the quote
    has unmatched words before and after them, so a wrong first or last word is shown
    beside the word it replaced.
    """
    matcher = SequenceMatcher(None, quote, list(words), autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    if not blocks:
        return 0.0, (0, 0)
    matched = sum(b.size for b in blocks)
    head = blocks[0].a  # quote words before the first match
    tail = len(quote) - (blocks[-1].a + blocks[-1].size)
    first = max(0, blocks[0].b - head)
    last = min(len(words) - 1, blocks[-1].b + blocks[-1].size - 1 + tail)
    return matched / len(quote), (first, last)


def misquote_ratio(quote: str, excerpt: str) -> float:
    """How alike a quote and the stretch of our wording it resembles are, word for word
    (0 to 1): a misquote differs by a word or two, not by most of a sentence."""
    quoted = [w for run in fragments(quote[:MAX_CHARS]) for w in run]
    ours = list(split_words(excerpt).words)
    return SequenceMatcher(None, quoted, ours, autojunk=False).ratio()


def excerpt_in(text: str, quote: str) -> str | None:
    """The stretch of ``text`` a quote corresponds to, if most of it is there."""
    runs = fragments(quote[:MAX_CHARS])
    quote_words = [w for run in runs for w in run]
    if not quote_words:
        return None
    words = split_words(text)
    score, span = align(quote_words, words.words)
    if score < CLOSE_THRESHOLD:
        return None
    return words.text[words.spans[span[0]][0] : words.spans[span[1]][1]]
