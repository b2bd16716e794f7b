"""Positions nearest a query in meaning: cosine similarity of meaning vectors.

Each position document stores its vector and its passages' (``kb/index/vectors.py``);
they are gathered once per open reader (a generation never changes). A query is scored
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

from whoosh.searching import Searcher

from kb.index.run import PositionHit, _cached, _draft_docs, _meta, _position_docs, _topic_docs
from kb.index.vectors import VectorSet

SHORTLIST = 30  # positions (nearest by their whole vector) whose passages are scored
PASSAGE_SHARE = 0.3  # of a position's score that is its nearest passage's cosine
LANE = 4  # bytes per number in a product: dims × 255 × 255 < 2**32
PLUS_128 = bytes((b + 128) & 0xFF for b in range(256))  # signed byte → byte + 128


@dataclass(frozen=True)
class Passages:
    """One position's passage vectors end to end, with each one's sum and length."""

    vectors: bytes
    sums: list[int]
    norms: list[float]

    @classmethod
    def of(cls, vectors: bytes, dims: int) -> Passages:
        rows = [array("b", vectors[i : i + dims]) for i in range(0, len(vectors), dims)]
        norms = [math.sqrt(sum(v * v for v in row)) for row in rows]
        return cls(vectors, [sum(row) for row in rows], norms)

    def best_cosine(self, query: bytes) -> float:
        """The largest cosine similarity of ``query`` with one of the passages.

        One multiplication of two big integers gives every dot product: with the query's
        numbers in reverse order, lane ``i·dims + dims − 1`` of the product sums the
        products of the query with passage ``i``, number by number (a convolution)."""
        dims = len(query)
        if not self.sums or len(self.vectors) != dims * len(self.sums):
            return 0.0
        product = _spread(query[::-1]) * _spread(self.vectors)
        lanes = array("I")
        lanes.frombytes(product.to_bytes(LANE * (len(self.vectors) + dims), "little"))
        numbers = array("b", query)
        constant = 128 * sum(numbers) + dims * 128 * 128
        query_norm = math.sqrt(sum(v * v for v in numbers)) or 1.0
        return max(
            (lane - 128 * total - constant) / (norm * query_norm) if norm else 0.0
            for lane, total, norm in zip(
                lanes[dims - 1 : len(self.vectors) : dims], self.sums, self.norms, strict=True
            )
        )


def _spread(vector: bytes) -> int:
    """Signed bytes, each plus 128, one per lane of an integer (lowest lane first)."""
    lanes = bytearray(LANE * len(vector))
    lanes[::LANE] = vector.translate(PLUS_128)
    return int.from_bytes(lanes, "little")


def _meanings(searcher: Searcher) -> dict[int, tuple[bytes, bytes]]:
    def compute() -> dict[int, tuple[bytes, bytes]]:
        found = {}
        for docnum in _position_docs(searcher):
            meaning = searcher.stored_fields(docnum).get("meaning")
            if meaning:
                found[docnum] = meaning
        return found

    return _cached(searcher, "meanings", compute)


def _vector_set(searcher: Searcher) -> VectorSet:
    return _cached(
        searcher,
        "meaning_vectors",
        lambda: VectorSet.of({docnum: m[0] for docnum, m in _meanings(searcher).items()}),
    )


def _passages(searcher: Searcher, docnum: int) -> Passages:
    """A position's passages, made ready once per generation, when first shortlisted
    (the shared dict only gains entries, each never changed once made)."""
    ready = _cached(searcher, "meaning_passages", dict)
    found = ready.get(docnum)
    if found is None:
        whole, vectors = _meanings(searcher)[docnum]
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
    scored = [
        (docnum, (1 - PASSAGE_SHARE) * cosine
         + PASSAGE_SHARE * _passages(searcher, docnum).best_cosine(query))
        for docnum, cosine in shortlist
    ]  # fmt: skip
    best = heapq.nlargest(limit, scored, key=lambda item: item[1])
    return [PositionHit(_meta(searcher, docnum), score) for docnum, score in best]
