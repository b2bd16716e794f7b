"""Synonyms and acronyms, applied when a query is read rather than when text is indexed.

Query-time expansion means editors can extend the list (``synonyms.txt`` in the
content folder) without rebuilding the index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kb.content.editors import read_editors_text
from kb.content.loader import ContentRefused
from kb.limits import MAX_SYNONYM_ENTRIES
from kb.query_model import Clause, Phrase, Term
from kb.search.grammar import STOP_WORDS

DEFAULT_FILE = Path(__file__).with_name("synonyms.txt")
EDITORS_FILE = "synonyms.txt"
MAX_RUN = 4  # longest synonym, in words
NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
TENS = {30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty",
        90: "ninety", 100: "hundred", 1000: "thousand", 1_000_000: "million"}  # fmt: skip


@dataclass(frozen=True)
class Synonyms:
    """Groups of interchangeable phrases, looked up by their words."""

    groups: dict[tuple[str, ...], tuple[tuple[str, ...], ...]]

    def expand(self, clauses: list[Clause]) -> list[Clause]:
        """Merge runs of plain words that name a synonym into one clause of alternatives."""
        result: list[Clause] = []
        index = 0
        while index < len(clauses):
            run = self._longest_match(clauses, index)
            if run:
                words = tuple(_plain(c) for c in clauses[index : index + run])
                result.append(Clause([_alternative(e) for e in self.groups[words]]))
                index += run
            else:
                result.append(clauses[index])
                index += 1
        return result

    def _longest_match(self, clauses: list[Clause], start: int) -> int:
        for run in range(min(MAX_RUN, len(clauses) - start), 0, -1):
            window = clauses[start : start + run]
            if all(_plain(c) for c in window):
                if tuple(_plain(c) for c in window) in self.groups:
                    return run
        return 0


def _plain(clause: Clause) -> str | None:
    """The word of a clause that is one plain, unquoted word; else None."""
    if clause.quoted or len(clause.alternatives) != 1:
        return None
    alternative = clause.alternatives[0]
    if isinstance(alternative, Term) and not alternative.prefix:
        return alternative.word
    return None


def _alternative(words: tuple[str, ...]) -> Term | Phrase:
    return Term(words[0]) if len(words) == 1 else Phrase(words)


def _key(entry: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in re.findall(r"\w+(?:[-'’.+]\w*)*", entry))


def parse_groups(text: str) -> list[tuple[tuple[str, ...], ...]]:
    """Read one group per line; '#' starts a comment."""
    groups = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        entries = tuple(k for k in (_key(e) for e in line.split(",")) if k)
        # Each entry maps to its whole group: a bounded group keeps that product small.
        entries = entries[:MAX_SYNONYM_ENTRIES]
        if len(entries) > 1:
            groups.append(entries)
    return groups


def number_groups() -> list[tuple[tuple[str, ...], ...]]:
    """'16' and 'sixteen' mean the same."""
    pairs = list(enumerate(NUMBER_WORDS)) + list(TENS.items())
    return [((str(n),), (word,)) for n, word in pairs]


def build_synonyms(texts: list[str]) -> Synonyms:
    """Combine groups; an entry in several groups gets the union of them."""
    groups: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    all_groups = number_groups() + [g for text in texts for g in parse_groups(text)]
    for group in all_groups:
        for entry in group:
            # Queries lose their stop words before matching, so keys do too.
            key = tuple(w for w in entry if w not in STOP_WORDS) or entry
            groups.setdefault(key, {entry}).update(group)
    return Synonyms({k: tuple(sorted(v, key=lambda e: (e != k, e))) for k, v in groups.items()})


def load_synonyms(positions_dir: Path) -> Synonyms:
    """The shipped list plus the editors' own file, if there is one."""
    texts = [DEFAULT_FILE.read_text(encoding="utf-8")]
    editors = positions_dir / EDITORS_FILE
    if editors.is_file() or editors.is_symlink():
        try:
            texts.append(read_editors_text(editors, positions_dir))
        except (OSError, ContentRefused):
            pass  # too big, not UTF-8, or outside the folder: the shipped list still works
    return build_synonyms(texts)
