"""Hybrid ranking: the words' ranking blended with nearness in meaning.

The words' ranking (BM25, titles, closeness) finds what holds the words; the meaning
vectors (``kb/index/vectors.py``) find what is about the same thing in other words
("gig economy" → zero-hours contracts). Both lists are blended on their relative
scores, as Meilisearch and Typesense blend their keyword and vector searches, with
one rule above the blend: a position holding every word typed stays above those that
do not, so exact matches still come first whenever the words are there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kb.index.run import PositionHit
from kb.index.vectors import WordVectors
from kb.query_model import Clause, Phrase
from kb.search.grammar import STOP_WORDS

CANDIDATES = 10  # positions the meaning route proposes
MIN_COSINE = 0.2  # below this, a position is not near enough in meaning to be offered
MEANING_WEIGHT = 3.0  # the best cosine counts three times the best words' score


@dataclass(frozen=True)
class Ranked:
    """A position the words found: its hit, its words' score, and its tier: 2 when its
    title holds every word typed, 1 when it holds them all, 0 when only some."""

    hit: PositionHit
    score: float
    tier: int


def query_vector(clauses: list[Clause], table: WordVectors) -> bytes | None:
    """The meaning of the query: the words typed, with their synonyms, but not the
    related words the query gained (they would pull it towards their own meanings)."""
    counts: Counter = Counter()
    for clause in clauses:
        for alternative in clause.alternatives:
            if alternative.weight < 1.0:
                continue
            words = alternative.words if isinstance(alternative, Phrase) else (alternative.word,)
            counts.update(w.lower().rstrip("*") for w in words if w.lower() not in STOP_WORDS)
    return table.embed(counts) if counts else None


def blend(ranked: list[Ranked], near: list[PositionHit]) -> list[PositionHit]:
    """One ranking from the words' (``ranked``, best first) and the meaning route's
    (``near``, each scored by cosine): by tier (exact matches first), then by the
    blended score."""
    cosines = {h.meta.slug: h.score for h in near if h.score >= MIN_COSINE}
    if not cosines or any(entry.tier for entry in ranked):
        return [entry.hit for entry in ranked]  # the words are there: they decide
    top_words = max((r.score for r in ranked), default=0.0) or 1.0
    top_cosine = max(cosines.values(), default=0.0) or 1.0
    blended: dict[str, tuple[int, float, PositionHit]] = {}
    for entry in ranked:
        meaning = cosines.get(entry.hit.meta.slug, 0.0) / top_cosine
        score = entry.score / top_words + MEANING_WEIGHT * meaning
        blended[entry.hit.meta.slug] = (entry.tier, score, entry.hit)
    for hit in near:
        if hit.meta.slug not in blended and hit.meta.slug in cosines:
            blended[hit.meta.slug] = (0, MEANING_WEIGHT * hit.score / top_cosine, hit)
    order = sorted(blended.values(), key=lambda item: (item[0], item[1]), reverse=True)
    return [hit for _, _, hit in order]
