"""Positions nearest a query in meaning: cosine similarity of meaning vectors.

Each position document keeps its vector and its passages' in a column (made by
``kb/index/vectors.py``); they are gathered once per generation. A query is scored
against every position's vector at once; the nearest few are then scored again by their
nearest passage, since one paragraph about a thing says more than a whole position that
mentions it in passing. A generation built without the word table has no vectors, and
simply finds nothing here.
"""

from __future__ import annotations

import heapq
import math
from array import array
from dataclasses import dataclass
from operator import mul

from whoosh.searching import Searcher

from kb.index.columns import MEANING, column, decode_meaning
from kb.index.run import PositionHit, _cached, _draft_docs, _meta, _position_docs, _topic_docs
from kb.index.vectors import VectorSet

SHORTLIST = 10  # positions (nearest by their whole vector) whose passages are scored
PASSAGE_SHARE = 0.3  # of a position's score that is its nearest passage's cosine
LANE = 4  # bytes per passage while scoring: dims × 255 × 255 < 2**32
PLUS_128 = bytes((b + 128) & 0xFF for b in range(256))  # signed byte → byte + 128


@dataclass(frozen=True)
class Passages:
    """One position's passage vectors end to end, with each one's sum and length."""

    vectors: bytes
    sums: list[int]
    norms: list[float]

    @classmethod
    def of(cls, vectors: bytes, dims: int) -> Passages:
        numbers = memoryview(vectors).cast("b")
        rows = [numbers[i : i + dims] for i in range(0, len(numbers), dims)]
        norms = [math.sqrt(sum(map(mul, row, row))) for row in rows]
        return cls(vectors, [sum(row) for row in rows], norms)


def best_passage_cosines(query: bytes, positions: list[Passages]) -> list[float]:
    """For each position, the largest cosine similarity of ``query`` with one of its
    passages (0 for a position without any).

    All the passages are scored at once, as ``VectorSet`` scores positions: for each
    dimension, one integer holds every passage's number (plus 128) in its own lane, so
    the dot products are ``dims`` big-integer multiply-adds; the lanes are cut from the
    passages end to end by a strided slice, in C."""
    dims = len(query)
    joined = b"".join(p.vectors for p in positions)
    count = len(joined) // dims
    if not count:
        return [0.0] * len(positions)
    numbers = array("b", query)
    total = 0
    lanes = bytearray(LANE * count)
    for dim, value in enumerate(numbers):
        lanes[::LANE] = joined[dim::dims].translate(PLUS_128)
        total += (value + 128) * int.from_bytes(lanes, "little")
    products = array("I")
    products.frombytes(total.to_bytes(LANE * count, "little"))
    constant = 128 * sum(numbers) + dims * 128 * 128
    query_norm = math.sqrt(sum(v * v for v in numbers)) or 1.0
    best, start = [], 0
    for position in positions:
        end = start + len(position.sums)
        cosines = [
            (lane - 128 * passage_sum - constant) / (norm * query_norm) if norm else 0.0
            for lane, passage_sum, norm in zip(
                products[start:end], position.sums, position.norms, strict=True
            )
        ]
        best.append(max(cosines, default=0.0))
        start = end
    return best


def _vector_set(searcher: Searcher) -> VectorSet:
    """Every position's own vector (its passages' are read only when it is shortlisted:
    on a large corpus they would hold ten times the memory)."""

    def compute() -> VectorSet:
        vectors = {}
        values = column(searcher, MEANING)
        for docnum in _position_docs(searcher):
            meaning = decode_meaning(values.get(docnum))
            if meaning:
                vectors[docnum] = meaning[0]
        return VectorSet.of(vectors)

    return _cached(searcher, "meaning_vectors", compute)


def prepare_meaning(searcher: Searcher) -> None:
    """Make ready every position's vector, as ``prepare_generation`` does the rest."""
    _vector_set(searcher)


def _passages(searcher: Searcher, docnum: int) -> Passages:
    """A position's passages, made ready once per generation, when first shortlisted
    (the shared dict only gains entries, each never changed once made)."""
    ready = _cached(searcher, "meaning_passages", dict)
    found = ready.get(docnum)
    if found is None:
        whole, vectors = decode_meaning(column(searcher, MEANING).get(docnum))
        found = ready[docnum] = Passages.of(vectors, len(whole))
    return found


def nearest_positions(
    searcher: Searcher, query: bytes, topics: list[str], include_drafts: bool, limit: int
) -> list[PositionHit]:
    """The ``limit`` visible positions (within any of ``topics``, when given) most similar
    to the ``query`` vector, most similar first, each scored by its cosine similarity
    blended with its nearest passage's."""
    cosines = _vector_set(searcher).cosines(query)
    if topics:
        scope = _topic_docs(searcher, tuple(topics))
        cosines = {d: c for d, c in cosines.items() if d in scope}
    if not include_drafts:
        drafts = _draft_docs(searcher)
        cosines = {d: c for d, c in cosines.items() if d not in drafts}
    shortlist = heapq.nlargest(SHORTLIST, cosines.items(), key=lambda item: item[1])
    passages = best_passage_cosines(query, [_passages(searcher, d) for d, _ in shortlist])
    scored = [
        (docnum, (1 - PASSAGE_SHARE) * cosine + PASSAGE_SHARE * passage)
        for (docnum, cosine), passage in zip(shortlist, passages, strict=True)
    ]
    best = heapq.nlargest(limit, scored, key=lambda item: item[1])
    return [PositionHit(_meta(searcher, docnum), score, docnum) for docnum, score in best]
