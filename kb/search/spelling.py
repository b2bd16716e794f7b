"""Which words are real English words, from a maintained word-frequency list.

A real word is never "corrected": "pub" is not a misspelling of "same", even when the
index has no pub. The list is the 82,765-word English frequency dictionary that
symspellpy ships (Google Books n-grams intersected with SCOWL); it is read from the
installed package, never downloaded. Only kb/index decides what a non-word becomes.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

FREQUENCY_FILE = "frequency_dictionary_en_82_765.txt"
# Spellings the list lacks that people type in policy questions.
EXTRA_WORDS = frozenset("brexit nhs eu uk gig covid online email lgbt lgbtq".split())


def _package_file(name: str) -> Path | None:
    """A data file of the installed symspellpy, found without importing the package."""
    spec = importlib.util.find_spec("symspellpy")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / name
    return path if path.is_file() else None


@cache
def word_counts() -> dict[str, int]:
    """English word → how often it occurs; empty if the list is not installed."""
    path = _package_file(FREQUENCY_FILE)
    if path is None:
        return {}
    # "word count" lines: split whole and paired up, four times faster than line by line
    # (this is read on the first search that meets an unknown word)
    fields = path.read_text(encoding="utf-8").split()
    return dict(zip(fields[0::2], map(int, fields[1::2]), strict=True))


def is_english(word: str) -> bool:
    """True for a real English word, in any case, possessive or with a plural -s."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    counts = word_counts()
    return word in counts or word in EXTRA_WORDS or (word.endswith("s") and word[:-1] in counts)


def english_count(word: str) -> int:
    """How common ``word`` is in English (0 when it is not a word)."""
    return word_counts().get(word.lower(), 0)
