"""Score a compiled query a posting list at a time, instead of a document at a time.

Whoosh walks a query as a tree of matchers, advancing each leaf document by document
through Python method calls: for an OR of every word × four fields × synonyms that was
most of a search. Here each word's postings are read a block at a time and scored into
a dict, and AND and OR become dict operations. The scores are Whoosh's own
(its BM25F function with its statistics, boosts multiplied and sums added the same way),
so rankings do not change; only the order of floating-point additions may differ.

A phrase is matched here too, reading word positions only for the documents that
hold every word; Whoosh's span matchers cost a phrase search several times a plain one.
Query types not handled here (Every, AND NOT, …) run through Whoosh's own
matcher for that subtree, so any query Whoosh can run still runs, and runs the same.
AND NOT stays with Whoosh on purpose: its matcher never tests the first document of the
wanted side against the excluded side, and the relevance tests rely on that ("europe
-climate" finds the Europe position, which mentions climate change).
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator
from math import log

from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F, bm25
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from kb.index.posting_file import read_postings

Term = tuple[str, bytes]  # (field, indexed text), as Whoosh reports matched terms


class AllButWeakest(wq.AndMaybe):
    """Every clause of ``a`` (an AND), and ``b``, the weakest clause, only if present.

    Whoosh runs it as AND MAYBE. Scored here, a document lacking ``b`` also counts only
    ``share`` of its clauses' sum (n − 1 of n, as Lucene's coordination factor had it),
    so a document holding every word stays ahead unless the other is clearly stronger.
    """

    @property
    def share(self) -> float:
        required = len(self.a.subqueries) if isinstance(self.a, wq.And) else 1
        return required / (required + 1)


class Evaluator:
    """Scores queries against one searcher: global document number → score.

    With ``restrict`` (global document numbers), only those documents are read, by
    skipping through the postings; with ``record_terms``, the terms each document
    matched are kept in ``terms``, as Whoosh's ``terms=True`` would. With ``memo``, the
    results of whole queries and their parts are remembered there.
    """

    def __init__(
        self,
        searcher: Searcher,
        restrict: set[int] | None = None,
        record_terms: bool = False,
        memo: Memo | None = None,
    ) -> None:
        self.searcher = searcher
        self.schema = searcher.schema
        self.leaves = [(sub, offset, _local(restrict, sub, offset))
                       for sub, offset in searcher.leaf_searchers()]  # fmt: skip
        self.runs = [_runs(local) if local is not None else None for _, _, local in self.leaves]
        self.restricted = restrict is not None
        self.terms: dict[int, list[Term]] | None = {} if record_terms else None
        self.memo = memo

    def scores(self, q: wq.Query) -> dict[int, float]:
        """The documents ``q`` matches, with Whoosh's score for each."""
        if self.memo is None or self.restricted:
            return self._scores(q)
        return self.memo.get(q, self._scores)

    def _scores(self, q: wq.Query) -> dict[int, float]:
        kind = type(q)
        if kind is wq.Term:
            return self._term(q)
        if kind is wq.Or:
            return self._scaled(self._union([self.scores(s) for s in q.subqueries]), q.boost)
        if kind is wq.And:
            return self._scaled(self._intersection([self.scores(s) for s in q.subqueries]),
                                q.boost)  # fmt: skip
        if kind is AllButWeakest:
            return self._scaled(self._all_but_weakest(q), q.boost)
        if kind is wq.ConstantScoreQuery:
            # Scored as its child, as Whoosh does whenever the matcher must be current
            # (matched terms asked for, as the passage search does); elsewhere Whoosh
            # would give a constant, or 1.0 when the constant is 0.0.
            return self.scores(q.child)
        if kind is wq.Phrase:
            return self._phrase(q)
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
            sums = {d: merged[d] + part[d] for d in merged.keys() & part.keys()}
            merged.update(part)
            merged.update(sums)
        return merged

    def _all_but_weakest(self, q: AllButWeakest) -> dict[int, float]:
        weakest, share = self.scores(q.b), q.share
        return {d: s + weakest[d] if d in weakest else s * share
                for d, s in self.scores(q.a).items()}  # fmt: skip

    @staticmethod
    def _intersection(parts: list[dict[int, float]]) -> dict[int, float]:
        if not parts or not all(parts):
            return {}
        smallest = min(parts, key=len)
        common = smallest.keys()
        for part in parts:
            if part is not smallest:
                common = common & part.keys()
        return {d: sum(p[d] for p in parts) for d in common}

    def _term(self, q: wq.Term) -> dict[int, float]:
        fieldname = q.fieldname
        btext = _term_bytes(self.schema, fieldname, q.text)
        if btext is None:
            return {}
        searcher, weighting = self.searcher, self.searcher.weighting
        if type(weighting) is not BM25F:
            return self._by_matcher(q)
        # BM25F scores an unscorable field by the weight alone
        scorable = self.schema[fieldname].scorable
        b = weighting._field_B.get(fieldname, weighting.B)
        k1, boost = weighting.K1, q.boost
        found = [_cached_postings(sub.reader(), fieldname, btext) for sub, _, _ in self.leaves]
        if not any(found):
            return {}
        idf, avgfl = (
            (_idf(searcher, found), searcher.avg_field_length(fieldname) or 1)
            if scorable
            else (0.0, 1)
        )
        out: dict[int, float] = {}
        for (sub, offset, _), runs, postings in zip(self.leaves, self.runs, found, strict=True):
            if postings is None:
                continue
            reader = sub.reader()
            if reader.has_deletions():
                postings = _live_postings(reader, fieldname, btext, postings)
            ids, weights, lengths, _ = postings
            keep = _among(ids, runs) if runs is not None else None
            if keep is not None:
                ids = [ids[i] for i in keep]
                weights, lengths = [weights[i] for i in keep], [lengths[i] for i in keep]
            if scorable:
                scores = [bm25(idf, w, n, avgfl, b, k1)
                          for w, n in zip(weights, lengths, strict=True)]  # fmt: skip
            else:
                scores = list(weights)
            if offset:
                ids = [d + offset for d in ids]
            if boost != 1.0:
                scores = [score * boost for score in scores]
            out.update(zip(ids, scores, strict=True))
        if self.terms is not None:
            term = (fieldname, btext)
            for docnum in out:
                self.terms.setdefault(docnum, []).append(term)
        return out

    def _phrase(self, q: wq.Phrase) -> dict[int, float]:
        """Documents holding the words at consecutive positions, in order, scored as
        Whoosh scores a phrase: its words' scores added, times the phrase's boost. Only
        the documents holding every word have their positions read."""
        field = self.schema[q.fieldname] if q.fieldname in self.schema else None
        if (field is None or q.slop != 1 or len(q.words) < 2 or None in q.words
                or not field.format.supports("positions")):  # fmt: skip
            return self._by_matcher(q)
        recording, self.terms = self.terms, None
        try:
            parts = [self._term(wq.Term(q.fieldname, word)) for word in q.words]
        finally:
            self.terms = recording
        common = set(parts[0]).intersection(*parts[1:])
        btexts = [field.to_bytes(word) for word in q.words]
        out: dict[int, float] = {}
        for sub, offset, _ in self.leaves:
            end = offset + sub.doc_count_all()
            local = sorted(d - offset for d in common if offset <= d < end)
            if not local:
                continue
            reader = sub.reader()
            places = [term_values(reader, q.fieldname, b, local, "positions") for b in btexts]
            for i, docnum in enumerate(local):
                if _consecutive([found[i] for found in places]):
                    d = offset + docnum
                    out[d] = _tree_sum([part[d] for part in parts]) * q.boost
        if self.terms is not None:
            terms = [(q.fieldname, b) for b in btexts]
            for docnum in out:
                self.terms.setdefault(docnum, []).extend(terms)
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


def term_values(reader, fieldname: str, btext: bytes, docnums: list[int], kind: str) -> list:
    """A term's ``kind`` of value ("positions", "characters") in each of ``docnums``,
    sorted local numbers of documents that hold it, read from its postings."""
    matcher, found = reader.postings(fieldname, btext), []
    for docnum in docnums:
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
        found.append(matcher.value_as(kind))
    return found


def _consecutive(positions: list[list[int]]) -> bool:
    """Whether the words stand one after another somewhere (each word's positions)."""
    ends = set(positions[0])
    for following in positions[1:]:
        ends = {p + 1 for p in ends}.intersection(following)
        if not ends:
            return False
    return True


def _tree_sum(scores: list[float]) -> float:
    """Scores added in the order Whoosh's binary tree of matchers adds them."""
    if len(scores) == 1:
        return scores[0]
    half = len(scores) // 2
    return _tree_sum(scores[:half]) + _tree_sum(scores[half:])


def term_docs(searcher: Searcher, fieldname: str, text: str) -> list[int]:
    """The live documents holding one term (global numbers, ascending), read a block at a
    time from the process's posting cache: a segment carried into a new generation is not
    decoded again, so the sets worked out per generation come quickly after an edit."""
    field = searcher.schema[fieldname]
    btext = field.to_bytes(text)
    found: list[int] = []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        postings = _cached_postings(reader, fieldname, btext)
        if postings is None:
            continue
        if reader.has_deletions():
            postings = _live_postings(reader, fieldname, btext, postings)
        found.extend(offset + d for d in postings[0])
    return found


class Memo:
    """Recent query results of one index generation, MEMO_ENTRIES scored documents in
    all: a query that falls back from all words to any word, and its check of which
    words matched nothing, reuse each word's scores; so do later queries sharing a word.
    Results are shared: callers must not change them. Not for use by two threads."""

    def __init__(self) -> None:
        self.results: OrderedDict = OrderedDict()
        self.held = 0

    def get(self, q: wq.Query, compute) -> dict[int, float]:
        results = self.results
        key = memo_key(q)
        try:
            found = results.get(key)
        except TypeError:  # a query that cannot be hashed
            return compute(q)
        if found is not None:
            results.move_to_end(key)
            return found
        found = results[key] = compute(q)
        self.held += len(found) + 1
        while self.held > MEMO_ENTRIES and len(results) > 1:
            _, dropped = results.popitem(last=False)
            self.held -= len(dropped) + 1
        return found


def memo_key(q: wq.Query) -> tuple:
    """A query's structure as nested tuples, worked out once per query object. Tuples
    hash and compare in C; Whoosh's queries hash and compare themselves in Python at
    every level of the tree, which was a fifth of a ranking's time."""
    key = q.__dict__.get("_memo_key")
    if key is None:
        kind = type(q)
        if kind is wq.Term:
            key = (kind, q.fieldname, q.text, q.boost)
        elif kind is wq.Or or kind is wq.And:
            subqueries = tuple(memo_key(s) for s in q.subqueries)
            key = (kind, q.boost, getattr(q, "minmatch", 0), getattr(q, "scale", None), subqueries)
        elif kind is AllButWeakest:
            key = (kind, q.boost, memo_key(q.a), memo_key(q.b))
        else:
            key = (kind, q)  # compared as Whoosh compares it
        q.__dict__["_memo_key"] = key
    return key


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


def _runs(local: list[int]) -> list[tuple[int, int]]:
    """Sorted document numbers as runs of consecutive numbers, (first, last + 1): the
    passages of one position were added together, so a few runs cover many documents."""
    runs: list[tuple[int, int]] = []
    for docnum in local:
        if runs and runs[-1][1] == docnum:
            runs[-1] = (runs[-1][0], docnum + 1)
        else:
            runs.append((docnum, docnum + 1))
    return runs


def _among(ids, runs: list[tuple[int, int]]) -> list[int]:
    """The indexes in ``ids`` (sorted) of the documents in ``runs``, two bisections a run."""
    keep: list[int] = []
    start = 0
    for first, end in runs:
        start = bisect_left(ids, first, start)
        stop = bisect_left(ids, end, start)
        keep.extend(range(start, stop))
        start = stop
    return keep


class _PostingCache:
    """Decoded postings of recent terms, shared by every thread of the process.

    A segment's files never change once written, so postings are kept by segment id
    (carried over unchanged from one generation to the next); deleted documents are
    left out when a reader with deletions asks. Bounded by the number of postings.
    """

    def __init__(self, max_postings: int) -> None:
        self.max_postings = max_postings
        self.held = 0
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key, value) -> None:
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = value
            self.held += _size(value)
            while self.held > self.max_postings and len(self.entries) > 1:
                _, dropped = self.entries.popitem(last=False)
                self.held -= _size(dropped)


def _size(entry) -> int:
    """What an entry counts against the bound, in postings of 16 bytes (an id, a weight
    and a length): a posting with its encoded characters takes about 80."""
    return len(entry[0]) * (1 if entry[3] is None else 5) + 1


MEMO_ENTRIES = 50_000  # scored documents an evaluator remembers (a few MB)
MAX_CACHED_POSTINGS = 2_000_000  # about 32 MB of arrays per process
_CACHE = _PostingCache(MAX_CACHED_POSTINGS)
_ABSENT = (array("i"), array("d"), array("i"), None)


def _cached_postings(reader, fieldname: str, btext: bytes):
    """(ids, weights, field lengths, encoded positions or None) of one term in one
    segment, deleted documents included, or None when the segment does not hold it."""
    key = _segment_key(reader, fieldname, btext)
    found = _CACHE.get(key) if key is not None else None
    if found is None:
        found = _read_postings(reader, fieldname, btext)
        if key is not None:
            _CACHE.put(key, found)
    return None if found is _ABSENT or not found[0] else found


def _idf(searcher: Searcher, found: list) -> float:
    """Whoosh's IDF of a term (BM25F's), from its postings in each segment, deleted
    documents included as Whoosh counts them: no lookup in Whoosh's term tables."""
    holding = sum(len(postings[0]) for postings in found if postings is not None)
    return log(searcher.doc_count_all() / (holding + 1)) + 1


def holds(searcher: Searcher, fieldname: str, text: str) -> bool:
    """Whether any segment holds the term (from the posting cache, which a search reads
    next anyway)."""
    btext = _term_bytes(searcher.schema, fieldname, text)
    if btext is None:
        return False
    leaves = searcher.leaf_searchers()
    return any(_cached_postings(sub.reader(), fieldname, btext) for sub, _ in leaves)


def _term_bytes(schema, fieldname: str, text) -> bytes | None:
    """The term as the field indexes it; None for a field the schema lacks, or text no
    field could hold (an unpaired surrogate, say)."""
    if fieldname not in schema:
        return None
    try:
        return schema[fieldname].to_bytes(text)
    except ValueError:
        return None


def _live_postings(reader, fieldname: str, btext: bytes, postings):
    """``postings`` without the segment's deleted documents (and without characters),
    kept in the posting cache too: after an edit the largest segment has deletions, and
    filtering every word's postings on every search cost a fifth of its time. A
    segment's deletions only ever grow, so their number names them."""
    deleted = reader.deleted_docs_set
    key = _segment_key(reader, fieldname, btext)
    key = (*key, len(deleted)) if key is not None else None
    found = _CACHE.get(key) if key is not None else None
    if found is None:
        ids, weights, lengths, _ = postings
        keep = [i for i, docnum in enumerate(ids) if docnum not in deleted]
        found = (array("i", [ids[i] for i in keep]), array("d", [weights[i] for i in keep]),
                 array("i", [lengths[i] for i in keep]), None)  # fmt: skip
        if key is not None:
            _CACHE.put(key, found)
    return found


def _segment_key(reader, fieldname: str, btext: bytes) -> tuple | None:
    segment = reader.segment() if hasattr(reader, "segment") else None
    return (segment.segment_id(), fieldname, btext) if segment is not None else None


def cached_characters(reader, fieldname: str, btext: bytes):
    """(document ids, encoded characters) of one term in one segment, when the posting
    cache holds them (a scoring read them): the highlighter then needs no second read
    of the term's postings."""
    key = _segment_key(reader, fieldname, btext)
    found = _CACHE.get(key) if key is not None else None
    return None if found is None or found[3] is None else (found[0], found[3])


def _read_postings(reader, fieldname: str, btext: bytes):
    """Every posting of one term in one segment, deleted documents included: from the
    segment's posting file when it has one (``kb.index.posting_file``), else through
    Whoosh, with the encoded characters of each when the field keeps them (they come in
    the same blocks, already decoded, so keeping them costs memory, not time)."""
    stored = read_postings(reader, fieldname, btext)
    if stored is None:
        keeps = reader.schema[fieldname].format.supports("characters")
        values: list | None = [] if keeps else None
        found = whoosh_postings(reader, fieldname, btext, values)
        stored = None if found is None else (*found, values)
    if stored is None or not stored[0]:
        return _ABSENT
    ids, weights, values = stored
    return ids, weights, array("i", _field_lengths(reader, fieldname, ids)), values


def whoosh_postings(reader, fieldname: str, btext: bytes, values: list | None = None):
    """(ids, weights) of every posting of one term in one segment as Whoosh reads them,
    deleted documents included, each posting's encoded value added to ``values`` when
    given; None when the segment does not hold the term."""
    terms = getattr(reader, "_terms", None)
    try:
        if hasattr(terms, "matcher"):  # one lookup in the term index, deletions and all
            matcher = terms.matcher(fieldname, btext, reader.schema[fieldname].format)
        else:
            matcher = reader.postings(fieldname, btext)
    except TermNotFound:
        return None
    if isinstance(matcher, FilterMatcher):
        # Whoosh's filter has already stepped over deleted postings at the start, so
        # those may be missing: only the deleted ones, which searches leave out anyway.
        matcher = matcher.child
    return _decoded(matcher, values)


def field_postings(reader, fieldname: str) -> Iterator[tuple[bytes, array, array, list | None]]:
    """(term, ids, weights, encoded characters or None) of every term of one field in one
    segment, in term order, deleted documents included; the characters when the field
    keeps them. The term table is walked once and each term's postings read from the
    place it names (looking each term up again cost as much as reading it)."""
    terms, fmt = getattr(reader, "_terms", None), reader.schema[fieldname].format
    direct = hasattr(terms, "_codec") and hasattr(terms, "_postfile")
    keeps = fmt.supports("characters")
    for btext, info in reader.iter_field(fieldname, b""):
        values: list | None = [] if keeps else None
        if direct:
            matcher = terms._codec.postings_reader(terms._postfile, info, fmt,
                                                   term=(fieldname, btext))  # fmt: skip
            found = _decoded(matcher, values)
        else:
            found = whoosh_postings(reader, fieldname, btext, values)
        if found is not None:
            yield btext, *found, values


def _decoded(matcher, values: list | None = None) -> tuple[array, array]:
    ids, weights = array("i"), array("d")
    if type(matcher) is W3LeafMatcher:
        # A block at a time: the block's ids and weights come decoded as arrays.
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.fromlist(list(matcher._ids))
            weights.fromlist(list(matcher._weights))
            if values is not None:
                matcher._read_values()
                values.extend(matcher._values)
            matcher._next_block()
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            if values is not None:
                values.append(matcher.value())
            matcher.next()
    return ids, weights


_LENGTH_OF_BYTE = [byte_to_length(b) if b else 0 for b in range(256)]


def _field_lengths(reader, fieldname: str, ids) -> list[int]:
    """The field's length in each document, as Whoosh's BM25F reads it (one byte per
    document, decoded). The segment's whole length column is one read."""
    if not reader.schema[fieldname].scorable:
        return [0] * len(ids)  # never read: such a field is scored by weight alone
    column = _length_column(reader, fieldname)
    if column is None:
        return [reader.doc_field_length(d, fieldname, 1) or 0 for d in ids]
    count, decode = len(column), _LENGTH_OF_BYTE
    return [decode[column[d]] if d < count else 0 for d in ids]


def _length_column(reader, fieldname: str) -> bytes | None:
    """The raw one-byte-per-document length column of a Whoosh 3 segment, or None
    when this reader keeps its lengths some other way."""
    try:
        column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is None or column._fixedlen != 1:
            return None
        return bytes(column._dbfile.get(column._basepos, column._count))
    except AttributeError:
        return None
