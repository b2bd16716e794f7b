"""Score a compiled query a posting list at a time, instead of a document at a time.

Whoosh walks a query as a tree of matchers, advancing each leaf document by document
through Python method calls: for an OR of every word × four fields × synonyms that was
most of a search. Here each word's postings are read a block at a time and scored into
a dict, and AND, OR and AND NOT become dict operations. The scores are Whoosh's own
(its BM25F function with its statistics, boosts multiplied and sums added the same way),
so rankings do not change; only the order of floating-point additions may differ.

Query types not handled here (phrases, Every, AND NOT, …) run through Whoosh's own
matcher for that subtree, so any query Whoosh can run still runs, and runs the same.
AND NOT stays with Whoosh on purpose: its matcher never tests the first document of the
wanted side against the excluded side, and the relevance tests rely on that ("europe
-climate" finds the Europe position, which mentions climate change).
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25FScorer, bm25
from whoosh.searching import Searcher

Term = tuple[str, bytes]  # (field, indexed text), as Whoosh reports matched terms

# Field lengths per segment reader and field, filled as documents are scored.
_LENGTHS: WeakKeyDictionary = WeakKeyDictionary()


class Evaluator:
    """Scores queries against one searcher: global document number → score.

    With ``restrict`` (global document numbers), only those documents are read, by
    skipping through the postings; with ``record_terms``, the terms each document
    matched are kept in ``terms``, as Whoosh's ``terms=True`` would.
    """

    def __init__(
        self, searcher: Searcher, restrict: set[int] | None = None, record_terms: bool = False
    ) -> None:
        self.searcher = searcher
        self.schema = searcher.schema
        self.leaves = [(sub, offset, _local(restrict, sub, offset))
                       for sub, offset in searcher.leaf_searchers()]  # fmt: skip
        self.restricted = restrict is not None
        self.terms: dict[int, list[Term]] | None = {} if record_terms else None

    def scores(self, q: wq.Query) -> dict[int, float]:
        """The documents ``q`` matches, with Whoosh's score for each."""
        kind = type(q)
        if kind is wq.Term:
            return self._term(q)
        if kind is wq.Or:
            return self._scaled(self._union([self.scores(s) for s in q.subqueries]), q.boost)
        if kind is wq.And:
            return self._scaled(self._intersection([self.scores(s) for s in q.subqueries]),
                                q.boost)  # fmt: skip
        if kind is wq.ConstantScoreQuery:
            return dict.fromkeys(self.scores(q.child), q.score)
        if q is wq.NullQuery or kind is type(wq.NullQuery):
            return {}
        return self._by_matcher(q)

    @staticmethod
    def _scaled(scores: dict[int, float], boost: float) -> dict[int, float]:
        return scores if boost == 1.0 else {d: s * boost for d, s in scores.items()}

    @staticmethod
    def _union(parts: list[dict[int, float]]) -> dict[int, float]:
        parts = [p for p in parts if p]
        if not parts:
            return {}
        merged = dict(parts[0])
        for part in parts[1:]:
            get = merged.get
            for docnum, score in part.items():
                previous = get(docnum)
                merged[docnum] = score if previous is None else previous + score
        return merged

    @staticmethod
    def _intersection(parts: list[dict[int, float]]) -> dict[int, float]:
        if not parts or not all(parts):
            return {}
        smallest = min(parts, key=len)
        common = [d for d in smallest if all(d in p for p in parts)]
        return {d: sum(p[d] for p in parts) for d in common}

    def _term(self, q: wq.Term) -> dict[int, float]:
        field = self.schema[q.fieldname] if q.fieldname in self.schema else None
        if field is None:
            return {}
        try:
            btext = field.to_bytes(q.text)
        except ValueError:
            return {}
        weighting = self.searcher.weighting
        boost = q.boost
        out: dict[int, float] = {}
        found = []
        for sub, offset, local in self.leaves:
            reader = sub.reader()
            if (q.fieldname, btext) not in reader:
                continue
            scorer = weighting.scorer(sub, q.fieldname, btext)
            if type(scorer) is not BM25FScorer:
                return self._by_matcher(q)
            idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
            lengths = _lengths(reader, q.fieldname)
            for docnum, weight in _postings(reader, q.fieldname, btext, local):
                length = lengths.get(docnum)
                if length is None:
                    length = lengths[docnum] = sub.doc_field_length(docnum, q.fieldname, 1)
                score = bm25(idf, weight, length, avgfl, b, k1)
                out[offset + docnum] = score * boost if boost != 1.0 else score
                found.append(offset + docnum)
        if self.terms is not None:
            term = (q.fieldname, btext)
            for docnum in found:
                self.terms.setdefault(docnum, []).append(term)
        return out

    def _by_matcher(self, q: wq.Query) -> dict[int, float]:
        """Any other query, through Whoosh's matcher, reading only what is needed."""
        out: dict[int, float] = {}
        context = self.searcher.context()
        for sub, offset, local in self.leaves:
            if local is not None and not local:
                continue
            matcher = q.matcher(sub, context)
            for docnum in _walk(matcher, local):
                out[offset + docnum] = matcher.score()
                if self.terms is not None:
                    self.terms.setdefault(offset + docnum, []).extend(
                        matcher.matching_terms(docnum)
                    )
        return out


def _local(restrict: set[int] | None, sub: Searcher, offset: int) -> list[int] | None:
    """The restricted documents that fall in one segment, as sorted local numbers."""
    if restrict is None:
        return None
    end = offset + sub.doc_count_all()
    return sorted(d - offset for d in restrict if offset <= d < end)


def _walk(matcher, local: list[int] | None):
    """The matcher's documents (or, with ``local``, only those among them), in order."""
    if local is None:
        while matcher.is_active():
            yield matcher.id()
            matcher.next()
        return
    for docnum in local:
        if not matcher.is_active():
            return
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
            if not matcher.is_active():
                return
        if matcher.id() == docnum:
            yield docnum


def _postings(reader, fieldname: str, btext: bytes, local: list[int] | None):
    """(local document number, weight) of one term, deleted documents left out."""
    matcher = reader.postings(fieldname, btext)
    deleted = frozenset()
    if isinstance(matcher, FilterMatcher) and matcher._exclude:
        matcher, deleted = matcher.child, matcher._ids
    if local is not None or type(matcher) is not W3LeafMatcher:
        for docnum in _walk(matcher, local):
            if docnum not in deleted:
                yield docnum, matcher.weight()
        return
    # A block at a time: the block's ids and weights are arrays already decoded.
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        for docnum, weight in zip(matcher._ids, matcher._weights, strict=True):
            if docnum not in deleted:
                yield docnum, weight
        matcher._next_block()


def _lengths(reader, fieldname: str) -> dict[int, int]:
    per_reader = _LENGTHS.get(reader)
    if per_reader is None:
        per_reader = _LENGTHS[reader] = {}
    return per_reader.setdefault(fieldname, {})
