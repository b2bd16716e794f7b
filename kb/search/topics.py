"""Topics near what someone typed, for a search that found nothing.

A topic is near when one of its names (slug or label) shares a word with the query:
the same word, one starting with the other (``clim``, ``climates``), or a close
spelling (``democracey``). When nothing is near, the most used topics are offered.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from kb.search.grammar import STOP_WORDS

WORD_RE = re.compile(r"[^\W_]+")
MIN_PREFIX = 4  # "clim" names climate; "eu" alone names nothing
CLOSE_SPELLING = 0.8


def _words(text: str) -> set[str]:
    return {w for w in WORD_RE.findall(text.lower()) if w not in STOP_WORDS and len(w) > 2}


def _near(typed: str, name: str) -> bool:
    if typed == name:
        return True
    short, long = sorted((typed, name), key=len)
    if len(short) >= MIN_PREFIX and long.startswith(short):
        return True
    return SequenceMatcher(None, typed, name).ratio() >= CLOSE_SPELLING


def closest_topics(
    query: str, topics: dict[str, int], labels: dict[str, str], limit: int
) -> list[str]:
    """Up to ``limit`` topic slugs: those near a word of ``query`` first (most used first
    among them), then the most used. ``topics`` maps slug → use count, most used first."""
    typed = _words(query)
    near = [
        slug
        for slug in topics
        if any(_near(t, n) for t in typed for n in _words(f"{slug} {labels.get(slug, '')}"))
    ]
    rest = [slug for slug in topics if slug not in near]
    return (near + rest)[:limit]
