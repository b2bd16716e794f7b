"""The degrees of an adjective: "cheap internet" also finds "Cheaper, Universal Internet".

The stemmer joins the forms of a noun or a verb (wages → wage) but keeps an adjective's
comparative and superlative apart from it (cheaper, cheapest are not cheap). A typed word
gains its other degrees when the English word list holds both the comparative and the
superlative, which tells a gradable adjective (poor, poorer, poorest) from a word that
merely takes -er (form, former; corn, corner; bet, better). The forms join the word's
clause weighing a little less than the word, so the forms typed come first, and the
meaning route reads only what was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kb.query_model import Alternative, Clause, Term
from kb.search.spelling import english_words

WEIGHT = 0.95  # a degree not typed, against 1.0 for the word as typed
VOWELS = frozenset("aeiou")


def with_degrees(clauses: list[Clause], known: Callable[[str], bool]) -> list[Clause]:
    """Each unquoted clause with the other degrees of its words (as typed, or a synonym
    of them) that the index holds (``known``) as extra alternatives."""
    return [_with_degrees(clause, known) for clause in clauses]


def _with_degrees(clause: Clause, known: Callable[[str], bool]) -> Clause:
    """The clause with the degrees of its typed words; one it already holds as a related
    word ("cheap" gains "cheaper" from the related words when the index lacks "cheap")
    weighs as a degree: the page must not say "cheap" was not found."""
    if clause.quoted:
        return clause
    forms = {
        form: None
        for alternative in clause.alternatives
        if isinstance(alternative, Term) and not alternative.prefix and alternative.weight == 1.0
        for form in degrees_of(alternative.word.lower())
        if known(form)
    }
    kept = [a for a in clause.alternatives if not _lighter_form(a, forms)]
    have = {a.word for a in kept if isinstance(a, Term)}
    extra = [Term(form, weight=WEIGHT) for form in forms if form not in have]
    if not extra:
        return clause
    return Clause([*kept, *extra], clause.quoted, clause.expanded)


def _lighter_form(alternative: Alternative, forms: dict[str, None]) -> bool:
    """Whether ``alternative`` is one of ``forms`` weighing less than a degree."""
    is_form = isinstance(alternative, Term) and alternative.word in forms
    return is_form and alternative.weight < WEIGHT


def degrees_of(word: str) -> tuple[str, ...]:
    """The other degrees of ``word`` when it is a degree of a gradable adjective
    (cheap → cheaper, cheapest; poorest → poor, poorer), else nothing."""
    words = english_words()
    if len(word) < 3 or not word.isalpha() or word not in words:
        return ()
    found: dict[str, None] = {}  # in order, once each
    for base in _bases(word):
        if base not in words:
            continue
        for comparative, superlative in _endings(base):
            if word in (base, comparative, superlative) and {comparative, superlative} <= words:
                found.update(dict.fromkeys((base, comparative, superlative)))
    # Spelling alone cannot always tell the base: "lower" may be low's or lowe's.
    return tuple(w for w in found if w != word)


def _bases(word: str) -> Iterator[str]:
    """The word itself, and the bases it may be the comparative or superlative of."""
    yield word
    for ending in ("er", "est"):
        if not word.endswith(ending) or len(word) < len(ending) + 3:
            continue
        stem = word[: -len(ending)]
        yield stem + "e"  # finer → fine, not fin
        yield stem  # cheaper → cheap
        if stem.endswith("i"):
            yield stem[:-1] + "y"  # easier → easy
        if len(stem) > 2 and stem[-1] == stem[-2]:
            yield stem[:-1]  # bigger → big


def _endings(base: str) -> Iterator[tuple[str, str]]:
    """(comparative, superlative) as English spells them from ``base``."""
    if base.endswith("e"):
        yield base + "r", base + "st"
    elif base.endswith("y") and base[-2] not in VOWELS:
        yield base[:-1] + "ier", base[:-1] + "iest"
    else:
        yield base + "er", base + "est"
        if _doubles(base):
            yield base + base[-1] + "er", base + base[-1] + "est"


def _doubles(base: str) -> bool:
    """A short word ending consonant-vowel-consonant doubles its last letter (big, bigger)."""
    return (
        len(base) >= 3
        and base[-1] not in VOWELS | {"w", "x", "y"}
        and base[-2] in VOWELS
        and base[-3] not in VOWELS
    )
