"""Hybrid ranking: the words' ranking blended with nearness in meaning.

The words' ranking (BM25, titles, closeness) finds what holds the words; the meaning
vectors (``kb/index/vectors.py``) find what is about the same thing in other words
("gig economy" → zero-hours contracts). Both lists are blended on their relative
scores, as Meilisearch and Typesense blend their keyword and vector searches, with
one rule above the blend: when some position holds every word typed (or a synonym),
the words alone decide, so exact matches come first and nothing merely near is added.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kb.index.run import PositionHit
from kb.index.vectors import WordVectors
from kb.query_model import Clause, Phrase, Term
from kb.search.grammar import STOP_WORDS

CANDIDATES = 10  # positions the meaning route proposes
MIN_COSINE = 0.2  # below this, nearness in meaning adds nothing to a position's score
MIN_COSINE_ALONE = 0.3  # a position holding none of the words must be this near to be offered
MEANING_WEIGHT = 3.0  # the best cosine counts three times the best words' score
# ... or, being the nearest, stand this far ahead of the next (among at least
# STANDOUT_AMONG candidates: on a tiny site, being ahead says nothing).
STANDOUT_GAP = 0.08
STANDOUT_AMONG = 5


@dataclass(frozen=True)
class Ranked:
    """A position the words found, and its words' score."""

    hit: PositionHit
    score: float


def query_vector(clauses: list[Clause], table: WordVectors) -> bytes | None:
    """The meaning of the query: the words typed, with their synonyms, but not the
    related words the query gained (they would pull it towards their own meanings)."""
    counts: Counter = Counter()
    run: list[str | None] = []  # typed single words in order: neighbours may form a phrase
    for clause in clauses:
        typed = [a for a in clause.alternatives if a.weight >= 1.0]
        if len(typed) == 1 and isinstance(typed[0], Term):
            run.append(_word(typed[0].word))
            continue
        run.append(None)
        for alternative in typed:
            words = alternative.words if isinstance(alternative, Phrase) else (alternative.word,)
            counts.update(table.bag(_word(w) for w in words))
    counts.update(table.bag(run))
    return table.embed(counts) if counts else None


def _word(word: str) -> str | None:
    """A typed word as the table knows it; None for a stop word."""
    word = word.lower().rstrip("*")
    return None if word in STOP_WORDS else word


def blend(
    ranked: list[Ranked], near: list[PositionHit], words_weight: float = 1.0
) -> list[PositionHit]:
    """One ranking from the words' (``ranked``, best first; their share ``words_weight``)
    and the meaning route's (``near``, each scored by cosine), by blended score. The
    caller passes no ``near`` when some position holds every word typed: then the words'
    ranking stands."""
    cosines = {h.meta.slug: h.score for h in near if h.score >= MIN_COSINE}
    if not cosines:
        return [entry.hit for entry in ranked]
    top_words = max((r.score for r in ranked), default=0.0) or 1.0
    top_cosine = max(cosines.values(), default=0.0) or 1.0
    blended: dict[str, tuple[float, PositionHit]] = {}
    for entry in ranked:
        meaning = cosines.get(entry.hit.meta.slug, 0.0) / top_cosine
        blended[entry.hit.meta.slug] = (
            words_weight * entry.score / top_words + MEANING_WEIGHT * meaning,
            entry.hit,
        )
    for hit in near:
        if hit.meta.slug not in blended and _offered_alone(hit, near):
            blended[hit.meta.slug] = (MEANING_WEIGHT * hit.score / top_cosine, hit)
    return [hit for _, hit in sorted(blended.values(), key=lambda item: -item[0])]


def _offered_alone(hit: PositionHit, near: list[PositionHit]) -> bool:
    """Whether a position holding none of the words is near enough to be offered: near
    in itself, or clearly the nearest of many ("fossil fuels" → climate change at 0.28,
    the next position at 0.17). Static word vectors put unrelated short texts at up to
    about 0.3, so a lone middling cosine is not enough."""
    if hit.score >= MIN_COSINE_ALONE:
        return True
    standout = len(near) >= STANDOUT_AMONG and near[0].score - near[1].score >= STANDOUT_GAP
    return hit is near[0] and standout and hit.score >= MIN_COSINE
