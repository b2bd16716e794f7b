"""Meaning vectors: "homelessness" finds housing although the two share no word.

``vectors.bin`` ships a small static vector for each of 50,000 common English words,
prepared once from the all-MiniLM-L6-v2 sentence model by ``scripts/prepare_vectors.py``
(model2vec-style: each word embedded alone, PCA-reduced, stored as signed bytes, with a
SIF weight that makes common words count little). A text's vector is the weighted sum
of its words' vectors: each position gets one at index time (a stored field, so it
lives and dies with its generation), each query at search time, and positions are
ranked by cosine similarity.

Serving needs no NumPy (it would more than double the install). Vectors are kept as
Python integers holding one number per fixed-width "lane", so that adding scaled
vectors, or taking one query's dot product with every position at once, is a few
big-integer operations done in C rather than a Python loop per number.
"""

from __future__ import annotations

import math
import re
import struct
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from kb.content.model import Position

VECTORS_FILE = Path(__file__).with_name("vectors.bin")
MAGIC = b"KBVEC1"
# Words, and the marks that end a sentence or a clause (a phrase never spans them).
TOKEN_RE = re.compile(r"[a-z]+|[.,;:!?()\[\]{}\"“”…–—|/]")
SUM_LANE = 6  # bytes per number while summing word vectors: no sum of a text overflows
DOT_LANE = 4  # bytes per position while scoring: dims × 255 × 255 < 2**32


@dataclass(frozen=True)
class WordVectors:
    """The shipped table: word → row; a weight byte and ``dims`` signed bytes per row."""

    rows: dict[str, int]
    weights: bytes
    matrix: bytes
    dims: int
    _packed: dict[int, int] = field(default_factory=dict, compare=False, repr=False)

    def row(self, word: str) -> int | None:
        """The word's (or phrase's) row, or its singular's ("pensions" → "pension",
        "fossil fuels" → "fossil fuel")."""
        found = self.rows.get(word)
        if found is None and word.endswith("s"):
            found = self.rows.get(word[:-1])
        return found

    def bag(self, words: Iterable[str | None]) -> Counter:
        """The bag of ``words`` (in the order written; None where a sentence or clause
        breaks), two neighbours that form a phrase of the table ("fossil fuels") counted
        as that phrase: its meaning is not the sum of its words'."""
        counts: Counter = Counter()
        previous: str | None = None
        for word in words:
            if previous is not None and word is not None:
                phrase = f"{previous} {word}"
                if self.row(phrase) is not None:
                    counts[phrase] += 1
                    counts[previous] -= 1
                    previous = None
                    continue
            if word is not None:
                counts[word] += 1
            previous = word
        return +counts

    def embed(self, counts: Counter) -> bytes | None:
        """The unit vector of a bag of words (word → how often), as signed bytes; None
        when no word is known. Repeats count with diminishing returns (1 + log n)."""
        total, weight_sum = 0, 0
        for word, count in counts.items():
            row = self.row(word)
            if row is None:
                continue
            weight = round(self.weights[row] * (1 + math.log(count)) * 16)
            total += weight * self._lanes(row)
            weight_sum += weight
        if not weight_sum:
            return None
        raw = total.to_bytes(SUM_LANE * self.dims, "little")
        offset = 128 * weight_sum  # every number was stored plus 128, to stay positive
        values = [int.from_bytes(raw[i : i + SUM_LANE], "little") - offset
                  for i in range(0, len(raw), SUM_LANE)]  # fmt: skip
        return quantise(values)

    def _lanes(self, row: int) -> int:
        """Row ``row`` plus 128 (so every number is positive), one number per lane."""
        packed = self._packed.get(row)
        if packed is None:
            start = row * self.dims
            shifted = bytes((b + 128) & 0xFF for b in self.matrix[start : start + self.dims])
            lanes = bytearray(SUM_LANE * self.dims)
            lanes[::SUM_LANE] = shifted
            packed = self._packed[row] = int.from_bytes(lanes, "little")
        return packed


def quantise(values: list[float]) -> bytes | None:
    """A vector scaled so its largest number is ±127, as signed bytes (cosine ignores
    the scale); None for the zero vector."""
    largest = max((abs(v) for v in values), default=0)
    if not largest:
        return None
    return array("b", [round(v * 127 / largest) for v in values]).tobytes()


def tokens_of(text: str) -> list[str | None]:
    """The lower-cased words of ``text`` in order, None where a sentence or clause ends."""
    return [t if t[0].isalpha() else None for t in TOKEN_RE.findall(text.lower())]


def text_vector(parts: Iterable[tuple[str, int]], table: WordVectors | None = None) -> bytes | None:
    """The vector of several texts, each (text, how many times it counts): a title
    says more about a position than a paragraph does."""
    table = table or load_vectors()
    if table is None:
        return None
    counts: Counter = Counter()
    for text, times in parts:
        for word, count in table.bag(tokens_of(text)).items():
            counts[word] += count * times
    return table.embed(counts)


@dataclass(frozen=True)
class VectorSet:
    """The vectors of many positions, arranged to score a query against all at once."""

    docnums: list[int]
    columns: list[int]  # per dimension: each position's number plus 128, one per lane
    sums: list[int]  # per position: the sum of its numbers (to undo the +128)
    norms: list[float]

    @classmethod
    def of(cls, vectors: dict[int, bytes]) -> VectorSet:
        docnums = sorted(vectors)
        if not docnums:
            return cls([], [], [], [])
        dims = len(vectors[docnums[0]])
        rows = [array("b", vectors[d]) for d in docnums]
        columns = []
        for dim in range(dims):
            lanes = bytearray(DOT_LANE * len(rows))
            lanes[::DOT_LANE] = bytes(row[dim] + 128 for row in rows)
            columns.append(int.from_bytes(lanes, "little"))
        sums = [sum(row) for row in rows]
        norms = [math.sqrt(sum(v * v for v in row)) or 1.0 for row in rows]
        return cls(docnums, columns, sums, norms)

    def cosines(self, query: bytes) -> dict[int, float]:
        """Each position's cosine similarity with ``query`` (a vector from ``embed``)."""
        if not self.docnums or len(query) != len(self.columns):
            return {}
        numbers = array("b", query)
        total = 0
        for value, column in zip(numbers, self.columns, strict=True):
            total += (value + 128) * column
        lanes = array("I")
        lanes.frombytes(total.to_bytes(DOT_LANE * len(self.docnums), "little"))
        if lanes.itemsize != DOT_LANE:  # pragma: no cover - every platform we run on
            raise RuntimeError("unsigned int is not four bytes here")
        # Σ(q+128)(p+128) = q·p + 128Σp + 128Σq + dims·128²
        constant = 128 * sum(numbers) + len(numbers) * 128 * 128
        query_norm = math.sqrt(sum(v * v for v in numbers)) or 1.0
        return {
            docnum: (lane - 128 * total_p - constant) / (norm * query_norm)
            for docnum, lane, total_p, norm in zip(
                self.docnums, lanes, self.sums, self.norms, strict=True
            )
        }


def read_table(data: bytes) -> WordVectors:
    """Parse the file written by ``scripts/prepare_vectors.py``."""
    if not data.startswith(MAGIC):
        raise ValueError("not a word vectors file")
    count, dims, names_size = struct.unpack_from("<III", data, len(MAGIC))
    start = len(MAGIC) + 12
    names = data[start : start + names_size].decode("utf-8").split("\n")
    weights = data[start + names_size : start + names_size + count]
    matrix = data[start + names_size + count :]
    if len(names) != count or len(matrix) != count * dims:
        raise ValueError("word vectors file is truncated")
    return WordVectors({w: i for i, w in enumerate(names)}, weights, matrix, dims)


@cache
def load_vectors(path: Path = VECTORS_FILE) -> WordVectors | None:
    """The shipped table, read once per process; None when the file is missing."""
    if not path.is_file():
        return None
    return read_table(path.read_bytes())


def position_vector(position: Position) -> bytes | None:
    """A position's meaning vector: what its title and summary say it is about, and
    what its headings and paragraphs say, each made unit length and weighed alike (else
    a long body drowns the title, which says best what the position is about)."""
    head = text_vector([(position.title, 1), (position.summary, 1)])
    body = text_vector([
        ("\n".join(position.headings), 1),
        ("\n".join(p.text for p in position.passages), 1),
    ])  # fmt: skip
    if head is None or body is None:
        return head or body
    return quantise([x + y for x, y in zip(unit(head), unit(body), strict=True)])


def unit(vector: bytes) -> list[float]:
    """``vector`` (signed bytes) scaled to length one."""
    numbers = array("b", vector)
    length = math.sqrt(sum(v * v for v in numbers)) or 1.0
    return [v / length for v in numbers]


def position_meaning(position: Position) -> tuple[bytes, bytes] | None:
    """What the index stores of a position's meaning: its vector, then its passages'
    vectors end to end (a passage of no known word gets zeros)."""
    whole = position_vector(position)
    if whole is None:
        return None
    empty = bytes(len(whole))
    passages = b"".join(
        text_vector([(p.heading, 1), (p.text, 1)]) or empty for p in position.passages
    )
    return whole, passages
