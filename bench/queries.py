"""Deterministic query sets made from the words of a corpus, for both engines alike.

Queries look like what people type: one to three words taken from a document's
title and its most frequent body words, so most of them match something. A seeded
RNG makes every run ask the same questions; sets are distinct by construction,
so a result cache never answers a "distinct" measurement.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from bench.corpus import read_document, split_paragraphs
from bench.fts5_baseline import STOP_WORDS

_WORD = re.compile(r"[a-z]{3,}")
BODY_WORDS_PER_DOC = 20
ZIPF_EXPONENT = 1.1
LATENCY_QUERIES = 300
HTTP_DISTINCT_QUERIES = 30_000
ZIPF_BASE = 100
ZIPF_LENGTH = 50_000
MAX_FRUITLESS = 2000


def _content_words(text: str) -> list[str]:
    """Lower-case alphabetic words of 3+ letters that are not stop words."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


def candidate_words(files: Iterable[Path], root: Path) -> list[tuple[list[str], list[str]]]:
    """Per document: (distinct title words, its most frequent body words)."""
    documents = []
    for path in files:
        doc = read_document(path, root)
        if doc is None:
            continue
        title = list(dict.fromkeys(_content_words(doc["title"])))
        body = Counter(w for _, text in split_paragraphs(doc["body"]) for w in _content_words(text))
        common = [w for w, _ in body.most_common(BODY_WORDS_PER_DOC)]
        if title or common:
            documents.append((title, common))
    return documents


def make_queries(documents: list[tuple[list[str], list[str]]], count: int, seed: int) -> list[str]:
    """Return up to ``count`` distinct queries of 1–3 words, the same for the same seed.

    Each query starts from one document: a title word (when it has one) plus, for
    longer queries, words from its title or frequent body words.
    """
    rng = random.Random(seed)
    queries: dict[str, None] = {}
    fruitless = 0  # a small corpus runs out of new combinations: stop, don't spin
    while len(queries) < count and documents and fruitless < MAX_FRUITLESS:
        title, common = rng.choice(documents)
        size = rng.choice((1, 2, 2, 2, 3, 3))
        pool = list(dict.fromkeys(title + common))
        if not pool:
            continue
        first = rng.choice(title) if title else rng.choice(pool)
        rest = [w for w in pool if w != first]
        words = [first] + rng.sample(rest, min(size - 1, len(rest)))
        query = " ".join(words)
        fruitless = fruitless + 1 if query in queries else 0
        queries.setdefault(query, None)
    return list(queries)


def zipf_sequence(queries: list[str], length: int, seed: int) -> list[str]:
    """``length`` draws from ``queries`` where rank r has weight 1 / r**ZIPF_EXPONENT."""
    rng = random.Random(seed)
    weights = [1.0 / (rank**ZIPF_EXPONENT) for rank in range(1, len(queries) + 1)]
    return rng.choices(queries, weights=weights, k=length)


def query_sets(root: Path, indexed: list[str]) -> dict[str, list[str]]:
    """Seeded query lists from the words of the files Positions indexed."""
    words = candidate_words((root / p for p in indexed), root)
    latency = make_queries(words, LATENCY_QUERIES, seed=1)
    taken = set(latency)
    warm = [q for q in make_queries(words, 40, seed=2) if q not in taken][:10]
    return {
        "latency": latency,
        "warm": warm,
        "distinct": make_queries(words, HTTP_DISTINCT_QUERIES, seed=3),
        "zipf": zipf_sequence(make_queries(words, ZIPF_BASE, seed=4), ZIPF_LENGTH, seed=5),
    }
