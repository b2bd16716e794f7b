"""Related meanings: "fossil fuels" also finds climate, "brexit" the EU.

A table of related words and two-word phrases (``related.txt``) was prepared once
from the all-MiniLM-L6-v2 sentence model by ``scripts/prepare_related.py`` and ships
with the app: serving it is a binary search in the file's sorted lines, mapped into
memory, with no model, no NumPy, nothing downloaded and nothing parsed at start-up.
Each typed word (or pair of words) gains the few related entries that the index
actually holds, as extra alternatives weighing less than the word itself, so exact
matches still come first. ``KB_MEANING=0`` turns the route off.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kb.search.grammar import STOP_WORDS, Clause, Phrase, Term

RELATED_FILE = Path(__file__).with_name("related.txt")
PER_CLAUSE = 5  # related entries added to one typed word or phrase
MIN_SIMILARITY = 0.5  # cosine similarity of the two entries' vectors
WEIGHT = 0.5  # a related entry's weight, times its similarity
HOPS = 2  # neighbours, and neighbours of neighbours
ONLY_UNKNOWN = True  # only words (or pairs) the index does not hold are expanded


@dataclass(frozen=True)
class Related:
    """Entry (one word or two) → its related entries, both ways, kept as the file's text
    and read only for the words a query uses (parsing all 420,000 pairs at start-up
    would cost seconds and over 100 MB per process)."""

    rows: Mapping[str, str]  # entry → "neighbours<TAB>entries listing it", each "e:0.87|…"

    def neighbours(self, entry: str) -> list[tuple[str, float]]:
        """The entries related to ``entry`` either way, each with its similarity; a plural
        the table lacks is read as its singular ("sculptors" → "sculptor"), as the meaning
        vectors read it."""
        row = self.rows.get(entry)
        if row is None and entry.endswith("s"):
            row = self.rows.get(entry[:-1])
        found = []
        for item in (row or "").replace("\t", "|").split("|"):
            other, _, similarity = item.rpartition(":")
            if other:
                found.append((other, float(similarity)))
        return found

    def expand(self, clauses: list[Clause], known: Callable[[str], bool]) -> list[Clause]:
        """Add related entries the index knows (``known``) to each plain clause; a pair of
        plain words with an entry of its own ("fossil fuels") becomes one clause."""
        result: list[Clause] = []
        index = 0
        while index < len(clauses):
            pair = _words(clauses[index : index + 2])
            if len(pair) == 2 and " ".join(pair) in self.rows:
                extra = self._related(" ".join(pair), known)
                if extra:
                    result.append(Clause([Phrase(tuple(pair)), *extra], expanded=True))
                    index += 2
                    continue
            clause = clauses[index]
            result.append(self._expanded(clause, known))
            index += 1
        return result

    def _expanded(self, clause: Clause, known: Callable[[str], bool]) -> Clause:
        if clause.quoted:
            return clause
        typed = [_entry(a) for a in clause.alternatives if a.weight == 1.0]
        if ONLY_UNKNOWN and any(e and all(known(w) for w in e.split()) for e in typed):
            return clause  # the words are there: exact matches only, so they come first
        extra: list[Term | Phrase] = []
        have = set(typed)
        for entry in typed:
            for alternative in self._related(entry, known) if entry else ():
                if _entry(alternative) not in have:
                    have.add(_entry(alternative))
                    extra.append(alternative)
        if not extra:
            return clause
        return Clause(clause.alternatives + extra[:PER_CLAUSE], expanded=True)

    def _related(self, entry: str, known: Callable[[str], bool]) -> list[Term | Phrase]:
        """The most similar entries the index knows, looked for among the entry's
        neighbours and, a step further, theirs (similarities multiplied): a small index
        rarely holds the nearest neighbours themselves ("students" → "school students")."""
        scores: dict[str, float] = {}
        for other, similarity in self.neighbours(entry):
            scores[other] = max(scores.get(other, 0.0), similarity)
            for further, onward in self.neighbours(other) if HOPS > 1 else ():
                scores[further] = max(scores.get(further, 0.0), similarity * onward)
        own = set(entry.split())
        found: list[Term | Phrase] = []
        for other, score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
            if score < MIN_SIMILARITY or len(found) >= PER_CLAUSE:
                break
            words = tuple(other.split())
            if own & set(words) or other == entry:
                continue  # a phrase holding the word itself adds nothing the word misses
            if all(w not in STOP_WORDS and known(w) for w in words):
                weight = round(WEIGHT * score, 3)
                found.append(Term(words[0], weight=weight) if len(words) == 1 else
                             Phrase(words, weight=weight))  # fmt: skip
        return found


def _entry(alternative: Term | Phrase) -> str | None:
    if isinstance(alternative, Phrase):
        return " ".join(alternative.words)
    return None if alternative.prefix else alternative.word


def _words(clauses: list[Clause]) -> list[str]:
    """The words of clauses that are each one plain, typed, unexpanded word."""
    words = []
    for clause in clauses:
        if clause.quoted or clause.expanded or len(clause.alternatives) != 1:
            return []
        word = _entry(clause.alternatives[0])
        if not word or " " in word or word in STOP_WORDS:
            return []
        words.append(word)
    return words


def parse_rows(lines) -> dict[str, str]:
    """Read ``entry<TAB>neighbours<TAB>entries listing it`` lines (the last optional)."""
    rows = {}
    for line in lines:
        entry, _, rest = line.rstrip("\n").partition("\t")
        if entry and rest.strip("\t"):
            rows[entry] = rest
    return rows


class SortedRows(Mapping[str, str]):
    """``entry<TAB>rest`` lines sorted by entry, looked up by binary search where they
    lie: nothing is read at start-up (parsing the 42,000 lines took 0.23 s of a cold
    start), and the processes of a server share the file's pages."""

    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data = data

    def __getitem__(self, entry: str) -> str:
        key, data = entry.encode("utf-8"), self.data
        low, high = 0, len(data)
        while low < high:
            start = data.rfind(b"\n", 0, (low + high) // 2) + 1  # the line around the middle
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            tab = data.find(b"\t", start, end)
            found = data[start : tab if tab >= 0 else end]
            if found == key and tab >= 0:
                return data[tab + 1 : end].decode("utf-8")
            if found < key or found == key:
                low = end + 1
            else:
                high = start
        raise KeyError(entry)

    def __iter__(self) -> Iterator[str]:
        for line in bytes(self.data).decode("utf-8").splitlines():
            yield line.partition("\t")[0]

    def __len__(self) -> int:
        return len(bytes(self.data).splitlines())


@cache
def load_related(path: Path = RELATED_FILE) -> Related:
    """The shipped table, mapped into memory once per process; empty if it is missing."""
    try:
        with open(path, "rb") as handle:
            return Related(SortedRows(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)))
    except (OSError, ValueError):  # missing, unreadable or empty
        return Related({})
