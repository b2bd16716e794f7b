"""The meaning of a search as values: what kb.search parses and kb.index compiles.

It sits below both, so the parser and the Whoosh compiler share one definition without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    """One word; ``prefix`` when typed as ``word*``."""

    word: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    """Words that must appear together, in order."""

    words: tuple[str, ...]


Alternative = Term | Phrase


@dataclass
class Clause:
    """A unit of meaning; any one of its alternatives satisfies it."""

    alternatives: list[Alternative]
    quoted: bool = False

    @property
    def label(self) -> str:
        first = self.alternatives[0]
        if isinstance(first, Phrase):
            return " ".join(first.words)
        return first.word + ("*" if first.prefix else "")


@dataclass
class ParsedQuery:
    """The meaning of a query: clauses to match, clauses to exclude, topic filters."""

    clauses: list[Clause] = field(default_factory=list)
    excluded: list[Clause] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.clauses
