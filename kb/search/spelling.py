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
def english_words() -> frozenset[str]:
    """Every word of the list; empty if the list is not installed."""
    path = _package_file(FREQUENCY_FILE)
    if path is None:
        return frozenset()
    # "word count" lines: split whole, every other field a word (read on a process's
    # first search; keeping the counts too took twice as long, and nothing used them)
    return frozenset(path.read_text(encoding="utf-8").split()[0::2])


def is_english(word: str) -> bool:
    """True for a real English word, in any case, possessive or with a plural -s."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    words = english_words()
    return word in words or word in EXTRA_WORDS or (word.endswith("s") and word[:-1] in words)
