"""Positions nearest a query in meaning: cosine similarity of meaning vectors.

Each position document stores its vector (``kb/index/vectors.py``); they are gathered
once per open reader (a generation never changes) and scored all at once per query.
A generation built without the word table has no vectors, and simply finds nothing here.
"""

from __future__ import annotations

import heapq

from whoosh.searching import Searcher

from kb.index.run import PositionHit, _cached, _draft_docs, _meta, _position_docs, _topic_docs
from kb.index.vectors import VectorSet


def _vector_set(searcher: Searcher) -> VectorSet:
    def compute() -> VectorSet:
        vectors = {}
        for docnum in _position_docs(searcher):
            vector = searcher.stored_fields(docnum).get("meaning")
            if vector:
                vectors[docnum] = vector
        return VectorSet.of(vectors)

    return _cached(searcher, "meaning_vectors", compute)


def nearest_positions(
    searcher: Searcher, query: bytes, topics: list[str], include_drafts: bool, limit: int
) -> list[PositionHit]:
    """The ``limit`` visible positions (within any of ``topics``, when given) most similar
    to the ``query`` vector, most similar first, each scored by its cosine similarity."""
    cosines = _vector_set(searcher).cosines(query)
    if topics:
        scope = _topic_docs(searcher, tuple(topics))
        cosines = {d: c for d, c in cosines.items() if d in scope}
    if not include_drafts:
        drafts = _draft_docs(searcher)
        cosines = {d: c for d, c in cosines.items() if d not in drafts}
    best = heapq.nlargest(limit, cosines.items(), key=lambda item: item[1])
    return [PositionHit(_meta(searcher, docnum), cosine) for docnum, cosine in best]
