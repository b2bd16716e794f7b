"""Compile a parsed query (kb.search.grammar) into Whoosh query objects.

Queries are built programmatically, never by Whoosh's own parser, so no input can
reach a code path that raises. Fuzzy corrections and prefix expansions are looked up
here and bounded: a prefix expands to at most MAX_EXPANSIONS words.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from functools import lru_cache

from whoosh import query as wq
from whoosh.automata.fsa import find_all_matches
from whoosh.codec.base import Automata
from whoosh.searching import Searcher

from kb.index.evaluate import AllButWeakest, holds
from kb.index.schema import plain_analyzer, stemming_analyzer
from kb.query_model import Clause, ParsedQuery, Phrase, Term

Fields = dict[str, float]  # text field → boost
# Position and passage documents use separate fields, so a query over one kind never
# walks the postings of the other (passages outnumber positions ten to one).
POSITION_FIELDS: Fields = {"title": 4.0, "summary": 2.0, "headings": 1.5, "body": 1.0}
PASSAGE_FIELDS: Fields = {"passage_heading": 1.5, "passage_text": 1.0}
MAX_EXPANSIONS = 40
MAX_SPELLING_BUCKETS = 2000  # first letters × segments kept in memory
SPLIT_RE = re.compile(r"[-'’.]")
WORD_RE = re.compile(r"\w+(?:[-'’.]\w+)*")

_stemmer = stemming_analyzer()
_plain = plain_analyzer()


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    """The indexed form of one simple word (lower-cased, accents folded, stemmed)."""
    tokens = [t.text for t in _stemmer(word)]
    return tokens[-1] if tokens else word.lower()


def as_text(term: bytes | str) -> str:
    """A term from Whoosh's lexicon as text (the forks return bytes or str)."""
    return term.decode() if isinstance(term, bytes) else term


@lru_cache(maxsize=20000)
def fold(word: str) -> str:
    """The spelling form of a word: lower-cased and accent-folded, not stemmed."""
    tokens = [t.text for t in _plain(word)]
    return tokens[-1] if tokens else word.lower()


@lru_cache(maxsize=4096)
def text_stems(text: str) -> frozenset[str]:
    """The indexed forms of every word of ``text`` (a title), hyphenated parts included."""
    stems: set[str] = set()
    for word in WORD_RE.findall(text):
        parts = [p for p in SPLIT_RE.split(word) if p]
        stems.update(stem(p) for p in parts)
        if len(parts) > 1:
            stems.add(stem("".join(parts)))
    return frozenset(stems)


def covers(clause: Clause, stems: frozenset[str], min_weight: float = 1.0) -> bool:
    """Whether any alternative of ``clause`` is among ``stems`` (all words of a phrase);
    alternatives weighing less than ``min_weight`` (related meanings) do not count."""
    for alternative in clause.alternatives:
        if alternative.weight < min_weight:
            continue
        if isinstance(alternative, Phrase):
            if all(stem(w) in stems for w in alternative.words):
                return True
        elif alternative.prefix:
            folded = fold(alternative.word)
            if any(s.startswith(folded) or folded.startswith(s) for s in stems):
                return True
        elif all(stem(p) in stems for p in SPLIT_RE.split(alternative.word) if p):
            return True
    return False


def words_within(searcher: Searcher, folded: str, distance: int) -> list[str]:
    """The indexed spellings within ``distance`` edits (Levenshtein) of ``folded`` that
    share its first letter: Whoosh's ``terms_within(..., prefix=1)``, walking the same
    automaton over the words in memory instead of binary searches on disk (≈100 ms)."""
    dfa = Automata.levenshtein_dfa(folded, distance, 1)
    found: set[str] = set()
    for sub, _offset in searcher.leaf_searchers():
        words = _words_starting(sub.reader(), folded[:1])
        if words is None:
            return sorted(
                {as_text(t) for t in searcher.reader().terms_within("words", folded, distance, 1)}
            )

        # A word whose length differs by more than ``distance`` cannot be within it:
        # leaving those out, the automaton walks a third of the words.
        words = [w for w in words if abs(len(w) - len(folded)) <= distance]

        def first_at_or_after(text: str, words: list[str] = words) -> str | None:
            i = bisect_left(words, text)
            return words[i] if i < len(words) else None

        found.update(find_all_matches(dfa, first_at_or_after))
    return sorted(found)


_WORDS_BY_LETTER: dict[tuple[str, str], list[str]] = {}  # (segment id, letter) → words


def _words_starting(reader, letter: str) -> list[str] | None:
    """A segment's spelling words that start with ``letter``, sorted; segment files never
    change, so they are kept by segment id. None for a reader that is not one segment."""
    segment_id = _segment_id(reader)
    if segment_id is None:
        return None
    key = (segment_id, letter)
    words = _WORDS_BY_LETTER.get(key)
    if words is None:
        if len(_WORDS_BY_LETTER) > MAX_SPELLING_BUCKETS:
            _WORDS_BY_LETTER.clear()
        words = _WORDS_BY_LETTER[key] = [as_text(t) for t in reader.expand_prefix("words", letter)]
    return words


def prepare_spelling(searcher: Searcher) -> None:
    """Fill every segment's first-letter buckets of spelling words in one pass over its
    word list: a server does it before it answers anything (``KnowledgeBase.warm_up``),
    where a fresh worker otherwise read a bucket at each first correction (a tenth of
    the CPU of its first 200 searches went to corrections)."""
    for sub, _offset in searcher.leaf_searchers():
        reader = sub.reader()
        segment_id = _segment_id(reader)
        if segment_id is None:
            continue
        buckets: dict[str, list[str]] = {}
        for term in reader.lexicon("words"):
            word = as_text(term)
            buckets.setdefault(word[:1], []).append(word)
        if len(_WORDS_BY_LETTER) + len(buckets) > MAX_SPELLING_BUCKETS:
            return
        for letter, words in buckets.items():
            _WORDS_BY_LETTER[segment_id, letter] = words


def _segment_id(reader) -> str | None:
    """The id of the one segment ``reader`` reads; None for any other reader."""
    segment = reader.segment() if hasattr(reader, "segment") else None
    return None if segment is None else segment.segment_id()


def stem_query(stems: list[str], fields: Fields) -> wq.Query:
    """Match stems as one word or, for several, as a phrase, in any of ``fields``."""
    if len(stems) == 1:
        return wq.Or([wq.Term(f, stems[0], boost=b) for f, b in fields.items()])
    return wq.Or([wq.Phrase(f, stems, boost=b) for f, b in fields.items()])


class QueryCompiler:
    """Builds Whoosh queries against one searcher, noting spelling corrections."""

    def __init__(self, searcher: Searcher, is_word: Callable[[str], bool] = lambda _w: False):
        """``is_word`` says which words are real words, never to be corrected."""
        self.searcher = searcher
        self.is_word = is_word
        self.reader = searcher.reader()
        self.corrections: dict[str, str] = {}

    def known(self, word: str) -> bool:
        """In the index as another form of the same word (wages → wage), or as typed.
        The forms come from the postings the search reads next anyway."""
        return any(holds(self.searcher, field, stem(word)) for field in ("body", "title")) or (
            self.reader.doc_frequency("words", fold(word)) > 0
        )

    def correct(self, word: str) -> str | None:
        """The closest indexed spelling of a non-word: fewest edits, then most common."""
        folded = fold(word)
        if len(folded) < 4 or folded.isdigit():
            return None
        for distance in range(1, 2 if len(folded) < 6 else 3):
            candidates = words_within(self.searcher, folded, distance)
            if candidates:
                return max(candidates, key=lambda w: (self.reader.doc_frequency("words", w), w))
        return None

    def correct_clauses(self, clauses: list[Clause]) -> list[Clause]:
        """Replace each typed word that is neither a real English word nor in the index by
        its closest indexed spelling. Quoted words and synonym expansions are left alone."""
        corrected = []
        for clause in clauses:
            if clause.quoted or clause.expanded:
                corrected.append(clause)
                continue
            alternatives = [self._corrected(a) for a in clause.alternatives]
            corrected.append(Clause(alternatives))
        return corrected

    def _corrected(self, alternative: Term | Phrase) -> Term | Phrase:
        if not isinstance(alternative, Term) or alternative.prefix:
            return alternative
        word = alternative.word
        if SPLIT_RE.search(word) or self.is_word(word) or self.known(word):
            return alternative
        correction = self.correct(word)
        if not correction:
            return alternative
        self.corrections[word] = correction
        return Term(correction)

    def word_query(self, word: str, fields: Fields) -> wq.Query:
        """One word: its stem, or for 'co-operate' the joined form or the parts in order."""
        parts = [p for p in SPLIT_RE.split(word) if p]
        if len(parts) > 1:
            joined = stem_query([stem("".join(parts))], fields)
            return wq.Or([joined, stem_query([stem(p) for p in parts], fields)])
        return stem_query([stem(word)], fields)

    def prefix_query(self, prefix: str, fields: Fields) -> wq.Query:
        folded = fold(prefix)
        words = []
        for term in self.reader.expand_prefix("words", folded):
            words.append(as_text(term))
            if len(words) >= MAX_EXPANSIONS:
                break
        if not words:
            return wq.NullQuery
        return wq.Or([stem_query([stem(w)], fields) for w in words])

    def alternative_query(self, alternative: Term | Phrase, fields: Fields) -> wq.Query:
        if alternative.weight != 1.0:
            fields = {f: b * alternative.weight for f, b in fields.items()}
        if isinstance(alternative, Phrase):
            return stem_query([stem(w) for w in alternative.words], fields)
        if alternative.prefix:
            return self.prefix_query(alternative.word, fields)
        return self.word_query(alternative.word, fields)

    def clause_query(self, clause: Clause, fields: Fields) -> wq.Query:
        queries = [self.alternative_query(a, fields) for a in clause.alternatives]
        return queries[0] if len(queries) == 1 else wq.Or(queries)

    def compile(
        self,
        parsed: ParsedQuery,
        require_all: bool = True,
        fields: Fields = POSITION_FIELDS,
        optional: int | None = None,
    ) -> wq.Query:
        """All clauses (or any, when ``require_all`` is false), minus excluded ones. With
        ``optional``, all but that clause, which then only adds to the score.

        Nearness is rewarded later, by passage scores: words in one paragraph are close,
        and scoring paragraphs is far cheaper than Whoosh's sloppy phrase spans.
        """
        clauses = [self.clause_query(c, fields) for c in parsed.clauses]
        if not clauses:
            return wq.NullQuery
        if require_all and optional is not None and len(clauses) > 2:
            weakest = clauses.pop(optional)
            main = AllButWeakest(wq.And(clauses), weakest)
        else:
            main = wq.And(clauses) if require_all else wq.Or(clauses)
        if parsed.excluded:
            excluded = wq.Or([self.clause_query(c, fields) for c in parsed.excluded])
            main = wq.AndNot(main, excluded)
        return main


EVERYTHING = wq.Every()
