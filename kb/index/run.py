"""Run compiled queries: ranked positions with facets, best passages, highlights.

Snippets are marked from the character offsets stored with each word
(``kb.index.snippets``), because re-analysing stored text was most of Whoosh's query time.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from whoosh import query as wq
from whoosh.collectors import TimeLimit, TimeLimitCollector, WrappingCollector
from whoosh.searching import Searcher

from kb.index.columns import META, PASSAGE, json_value
from kb.index.evaluate import (
    Evaluator,
    Memo,
    Term,
    cached_characters,
    term_docs,
    term_values,
)
from kb.index.query import EVERYTHING, as_text, fold, stem, text_stems
from kb.index.records import (
    IntroRecord,
    PassageRecord,
    PositionMeta,
    PositionRecord,
    count_topics,
    shallow_fields,
)
from kb.index.snippets import Marker, Place

TIME_LIMIT_SECONDS = 2.0
KEY_TERMS = 12  # terms a more-like-this searches for
KEY_CANDIDATES = 80  # of a position's words, the most repeated are weighed for that
PHRASE_SCAN = 200  # passages read to complete a phrase; suggestions must stay instant
SUGGEST_CANDIDATES = 200  # words ranked for a completion
SUGGEST_SCAN = 2_000  # words looked at for them, offered or not
PASSAGE_RECORDS_KEPT = 5_000  # parsed passages kept per generation: a few MB
TEXT_FIELD = "passage_text"  # where a passage's words, and their places, are indexed
# Sections that cite or point elsewhere: they hold the query's words without answering.
BOILERPLATE_HEADINGS = frozenset(
    ["source", "sources", "references", "notes", "footnotes", "bibliography", "links",
     "see also", "further reading"]
)  # fmt: skip


@dataclass(frozen=True)
class PositionHit:
    """A ranked position: its small stored metadata, its score and its document."""

    meta: PositionMeta
    score: float
    docnum: int


@dataclass(frozen=True, kw_only=True)
class PassageHit(PassageRecord):
    """A matching passage of a listed position: its record, score and snippet."""

    slug: str
    score: float
    snippet: str  # HTML: escaped text with <mark> around the matched words
    terms: frozenset[str] = frozenset()  # the indexed forms (stems) its text matched


@dataclass(frozen=True)
class Ranking:
    """The top positions for a query, how many matched, and topic counts."""

    hits: list[PositionHit]
    total: int
    facets: dict[str, int]


class _RecordingCollector(WrappingCollector):
    """Remembers every matching document, so totals and facets need no second pass."""

    def __init__(self, child) -> None:
        super().__init__(child)
        self.seen: set[int] = set()

    def collect(self, sub_docnum: int):
        self.seen.add(self.offset + sub_docnum)
        return self.child.collect(sub_docnum)


def _run(searcher: Searcher, query: wq.Query, collector) -> None:
    """Collect with a time limit: partial results beat no answer."""
    timed = TimeLimitCollector(collector, timelimit=TIME_LIMIT_SECONDS, use_alarm=False)
    try:
        searcher.search_with_collector(query, timed)
    except TimeLimit:
        pass


def rank_positions(
    searcher: Searcher,
    query: wq.Query,
    topics: list[str],
    limit: int,
    by_date: bool,
    include_drafts: bool,
) -> Ranking:
    """The top ``limit`` positions, the total, and topic counts.

    ``topics`` are combined as OR: a position with any of them is kept. Topic counts
    respect the query but not the topic filter itself, the way shops count a facet:
    choosing one topic still shows the others' counts, ready to be added. A chosen
    topic is always counted, even at zero, so the page can offer to remove it.

    A text query is scored a posting list at a time (``Evaluator``): every match is
    scored once, and the same scores give the total, the facets and the top ``limit``.
    A text query needs no "positions only" scope, since only position documents have
    the position text fields.
    """
    if query is EVERYTHING or by_date:
        return _rank_by_collector(searcher, query, topics, limit, by_date, include_drafts)
    scores = _evaluator(searcher).scores(query)
    drafts = set() if include_drafts else _draft_docs(searcher)
    if drafts:
        scores = {d: s for d, s in scores.items() if d not in drafts}
    facets = topic_counts(searcher, scores)
    for topic in topics:
        facets.setdefault(topic, 0)
    if topics:
        wanted = _topic_docs(searcher, tuple(topics))
        scores = {d: s for d, s in scores.items() if d in wanted}
    hits = [PositionHit(_meta(searcher, docnum), score, docnum)
            for score, docnum in top_n(scores, limit)]  # fmt: skip
    return Ranking(hits, len(scores), facets)


def top_n(scores: dict[int, float], limit: int) -> list[tuple[float, int]]:
    """The ``limit`` best (score, document), highest score first, then lowest document
    number, as Whoosh orders them."""
    best = heapq.nsmallest(limit, scores.items(), key=lambda item: (-item[1], item[0]))
    return [(score, docnum) for docnum, score in best]


def _rank_by_collector(
    searcher: Searcher,
    query: wq.Query,
    topics: list[str],
    limit: int,
    by_date: bool,
    include_drafts: bool,
) -> Ranking:
    """``rank_positions`` through Whoosh's collectors: every position (an empty query
    with topics), or an order by date.

    Scopes are cached sets of document numbers: Whoosh would otherwise rebuild a
    bit set from the postings on every query.
    """
    scope = _position_docs(searcher) if query is EVERYTHING else None
    mask = None if include_drafts else _draft_docs(searcher) or None
    order = {"sortedby": "updated_order", "reverse": True} if by_date else {}
    top = searcher.collector(limit=limit, filter=scope, mask=mask, optimize=False, **order)
    # Whoosh swaps in a pruned matcher once low scorers cannot reach the top N, which
    # would hide them from the total and the facets; every match must be counted.
    top.replace = 0
    recorder = _RecordingCollector(top)
    _run(searcher, query, recorder)
    matched = recorder.seen
    facets = topic_counts(searcher, matched)
    for topic in topics:
        facets.setdefault(topic, 0)
    results = top.results()
    if topics:
        wanted = _topic_docs(searcher, tuple(topics))
        if not wanted:  # Whoosh reads an empty filter as no filter: every document
            return Ranking([], 0, facets)
        matched = matched & wanted
        filtered = searcher.collector(limit=limit, filter=wanted, mask=mask, **order)
        _run(searcher, query, filtered)
        results = filtered.results()
    hits = [
        PositionHit(_meta(searcher, docnum), float(score or 0.0), docnum)
        for score, docnum in results.top_n
    ]
    if by_date:
        hits = [PositionHit(h.meta, 0.0, h.docnum) for h in hits]
    return Ranking(hits, len(matched), facets)


def _meta(searcher: Searcher, docnum: int) -> PositionMeta:
    """What a result shows of a position, read from its column once per generation."""
    return _cached(searcher, ("meta", docnum), lambda: PositionMeta.from_json(
        json_value(searcher, META, docnum)
    ))  # fmt: skip


def prepare_generation(searcher: Searcher) -> None:
    """Make ready what every search of this generation reads first: the sets of
    position, passage and draft documents, and each position's topics, result
    metadata, passages (with the score their scope adds) and title stems. A server
    does it before it answers anything (``KnowledgeBase.warm_up``; preloaded, once for
    all its workers): 0.16 s on a third of digitalgov, 0.4 s on all of it, which a
    fresh worker otherwise spent during its first few hundred searches."""
    _passage_docs(searcher)
    _draft_docs(searcher)
    _doc_topics(searcher)
    for docnum in _position_docs(searcher):
        meta = _meta(searcher, docnum)
        _scope_of(searcher, meta.slug)  # and so _passages_of
        text_stems(meta.title)


_PER_READER: WeakKeyDictionary = WeakKeyDictionary()
_PER_GENERATION: WeakKeyDictionary = WeakKeyDictionary()


def _cached(searcher: Searcher, key, compute):
    """A value computed once per index generation (which never changes), shared by the
    searchers every thread opens on it: a new thread, or the first search after an
    edit, finds it ready. Values are never changed after they are made, so threads
    can share them; two threads may both compute one, and either result will do."""
    values = _PER_GENERATION.setdefault(_generation(searcher), {})
    if key not in values:
        values[key] = compute()
    return values[key]


def _generation(searcher: Searcher):
    """What every searcher on one generation shares: the storage that ``IndexReader``
    opens it from (pinned once per generation); else this searcher's own reader."""
    storage = getattr(getattr(searcher, "_ix", None), "storage", None)
    return storage if storage is not None else searcher.reader()


def _evaluator(searcher: Searcher) -> Evaluator:
    """An evaluator remembering recent results in the reader's memo: one per reader,
    since a memo is changed by every search (a searcher serves one thread)."""
    reader = searcher.reader()
    memo = _PER_READER.get(reader)
    if memo is None:
        memo = _PER_READER[reader] = Memo()
    return Evaluator(searcher, memo=memo)


def _position_docs(searcher: Searcher) -> set[int]:
    return _cached(searcher, "positions", lambda: set(
        term_docs(searcher, "kind", "position")
    ))  # fmt: skip


def _passage_docs(searcher: Searcher) -> frozenset[int]:
    return _cached(searcher, "passages", lambda: frozenset(
        term_docs(searcher, "kind", "passage")
    ))  # fmt: skip


def _draft_docs(searcher: Searcher) -> set[int]:
    def compute() -> set[int]:
        reader = searcher.reader()
        if reader.doc_frequency("status", "draft") == 0:
            return set()
        return set(term_docs(searcher, "status", "draft"))

    return _cached(searcher, "drafts", compute)


def _doc_topics(searcher: Searcher) -> dict[int, tuple[str, ...]]:
    """Position document number → its topics, built once per reader from the postings."""

    def compute() -> dict[int, tuple[str, ...]]:
        reader = searcher.reader()
        positions = _position_docs(searcher)
        collected: dict[int, list[str]] = {}
        for term in reader.lexicon("topics"):
            topic = as_text(term)
            for docnum in term_docs(searcher, "topics", topic):
                if docnum in positions:
                    collected.setdefault(docnum, []).append(topic)
        return {docnum: tuple(names) for docnum, names in collected.items()}

    return _cached(searcher, "doc_topics", compute)


def _topic_docs(searcher: Searcher, topics: tuple[str, ...]) -> set[int]:
    """Position documents carrying any of ``topics`` (a facet's choices combine as OR)."""
    wanted = set(topics)
    return {d for d, names in _doc_topics(searcher).items() if wanted.intersection(names)}


def topic_counts(searcher: Searcher, docs: set[int]) -> dict[str, int]:
    """How many of ``docs`` carry each topic, most common first."""
    doc_topics = _doc_topics(searcher)
    return count_topics(doc_topics.get(docnum, ()) for docnum in docs)


def has_match(searcher: Searcher, query: wq.Query, topics: list[str], include_drafts: bool) -> bool:
    """Whether any visible position within ``topics`` (any of them; all when empty) matches."""
    scope = _topic_docs(searcher, tuple(topics)) if topics else None
    if topics and not scope:
        return False
    drafts = set() if include_drafts else _draft_docs(searcher)
    matches = _evaluator(searcher).scores(query)
    return any(d not in drafts and (scope is None or d in scope) for d in matches)


def match_count(searcher: Searcher, query: wq.Query) -> int:
    """How many documents ``query`` matches, drafts and topics included."""
    return len(_evaluator(searcher).scores(query))


def lacking(
    searcher: Searcher, queries: list[wq.Query], hits: list[PositionHit]
) -> dict[str, list[int]]:
    """For each position of ``hits``, the indexes of the ``queries`` it does not match
    (only the positions that lack some, by slug)."""
    evaluator = _evaluator(searcher)
    found: dict[str, list[int]] = {}
    for index, query in enumerate(queries):
        matches = evaluator.scores(query)
        for hit in hits:
            if hit.docnum not in matches:
                found.setdefault(hit.meta.slug, []).append(index)
    return found


def similar_positions(searcher: Searcher, slug: str, limit: int, include_drafts: bool) -> list[str]:
    """Slugs of the positions closest to ``slug`` by content, closest first.

    A more-like-this: the position's key terms searched as an OR over the other
    positions' bodies, each term weighted by how much it tells this position apart.
    """
    docnum = searcher.document_number(key=slug)
    if docnum is None:
        return []
    terms = _key_terms(searcher, _record(searcher.stored_fields(docnum)))
    if not terms:
        return []
    query = wq.Or([wq.Term("body", term, boost=weight) for term, weight in terms])
    mask = {docnum} | (set() if include_drafts else _draft_docs(searcher))
    collector = searcher.collector(limit=limit, mask=mask)
    _run(searcher, query, collector)
    return [searcher.stored_fields(d)["slug"] for _, d in collector.results().top_n]


def _key_terms(searcher: Searcher, record: PositionRecord) -> list[tuple[str, float]]:
    """The KEY_TERMS body terms of ``record`` with the highest tf-idf.

    Only repeated words and the title's and summary's words are candidates, which keeps
    the lexicon look-ups few; a word no other position uses is skipped, since it cannot
    lead to a neighbour, and so is a word every position uses (its idf is zero).
    """
    analyzer = searcher.schema["body"].analyzer
    text = "\n".join([record.title, record.summary, *(p.text for p in record.passages)])
    counts = Counter(token.text for token in analyzer(text))
    named = {token.text for token in analyzer(f"{record.title}\n{record.summary}")}
    candidates = [
        term
        for term, count in counts.most_common()
        if (count > 1 or term in named) and len(term) > 2 and not term.isdigit()
    ][:KEY_CANDIDATES]
    reader, positions = searcher.reader(), len(_position_docs(searcher))
    scored = []
    for term in candidates:
        shared = reader.doc_frequency("body", term)
        if 1 < shared < positions:
            scored.append((term, (1 + math.log(counts[term])) * math.log(positions / shared)))
    return sorted(scored, key=lambda item: -item[1])[:KEY_TERMS]


def best_passages(
    searcher: Searcher,
    query: wq.Query,
    slugs: list[str],
    per_slug: int,
) -> dict[str, list[PassageHit]]:
    """The best-matching passages of each listed position, highest score first, each
    with a highlighted snippet."""
    if not slugs or query is wq.NullQuery:
        return {}
    # Only the listed positions' passages are scored: the rest of the corpus's matches
    # for the same words are never looked at.
    wanted = {d: slug for slug in slugs for d in _passages_of(searcher, slug)}
    # The scope ("kind:passage AND slug:…") adds the same to every passage's score
    # (Whoosh scores a constant-score query's child in a scored search), and its terms
    # count as matched, as they did when this ran through Whoosh's collector. It is
    # worked out once per position and generation, and added as Whoosh's AND adds.
    scopes = {slug: _scope_of(searcher, slug) for slug in slugs}
    evaluator = Evaluator(searcher, set(wanted), record_terms=True)
    matched = evaluator.scores(query)
    scores = {d: scope[0] + score for d, score in matched.items()
              if (scope := scopes.get(wanted.get(d))) is not None}  # fmt: skip
    candidates: dict[str, list[tuple[float, _Passage]]] = {}
    for score, docnum in top_n(scores, len(slugs) * per_slug * 4):
        # Only the best few of each position can be shown, so only they are judged.
        found = candidates.setdefault(wanted[docnum], [])
        if len(found) < per_slug + 2:
            terms = [*scopes[wanted[docnum]][1], *evaluator.terms[docnum]]
            passage = _Passage(docnum, score, _passage_record(searcher, docnum), terms)
            found.append((_answer_score(passage), passage))
    shown: dict[str, list[tuple[float, _Passage]]] = {}
    for slug, judged in candidates.items():
        judged.sort(key=lambda item: -item[0])
        shown[slug] = judged[:per_slug]
    places = _places(searcher, [passage for judged in shown.values() for _, passage in judged])
    marker = Marker()
    return {slug: [_passage_hit(slug, passage, score, marker, places[passage.docnum])
                   for score, passage in judged]
            for slug, judged in shown.items()}  # fmt: skip


@dataclass(frozen=True)
class _Passage:
    """A passage that matched: its document, score, record and the terms it matched."""

    docnum: int
    score: float
    record: PassageRecord
    terms: list[Term]


def _scope_query(slug: str) -> wq.Query:
    return wq.And([wq.Term("kind", "passage"), wq.Or([wq.Term("slug", slug)])])


def _scope_of(searcher: Searcher, slug: str) -> tuple[float, list] | None:
    """The score the scope adds to each passage of one position, and the terms it
    matched; None when the position has no passage."""

    def compute() -> tuple[float, list] | None:
        # Every passage of a position holds its kind and slug once, in fields that store
        # no length, so they all score alike: one is scored and its score shared.
        passages = _passages_of(searcher, slug)
        if not passages:
            return None
        evaluator = Evaluator(searcher, {passages[0]}, record_terms=True)
        scores = evaluator.scores(_scope_query(slug))
        if passages[0] not in scores:
            return None
        return scores[passages[0]], evaluator.terms[passages[0]]

    return _cached(searcher, ("scope of", slug), compute)


def _passages_of(searcher: Searcher, slug: str) -> list[int]:
    """The document numbers of one position's passages."""

    def compute() -> list[int]:
        passages = _passage_docs(searcher)
        return [d for d in term_docs(searcher, "slug", slug) if d in passages]

    return _cached(searcher, ("passages of", slug), compute)


def _places(searcher: Searcher, passages: list[_Passage]) -> dict[int, list[Place]]:
    """Where each matched word stands in each passage's text, for its snippet: read
    only for the passages shown, each term's postings once for all of them."""
    field = searcher.schema[TEXT_FIELD]
    matched = {p.docnum: p.terms for p in passages}
    found: dict[tuple[Term, int], list] = {}
    for sub, offset in searcher.leaf_searchers():
        end = offset + sub.doc_count_all()
        here = sorted(d for d in matched if offset <= d < end)
        for term in {t for d in here for t in matched[d] if t[0] == TEXT_FIELD}:
            holding = [d for d in here if term in matched[d]]
            chars = _characters(sub.reader(), TEXT_FIELD, term[1], [d - offset for d in holding])
            found.update(zip(((term, d) for d in holding), chars, strict=True))
    # In the order the passage matched its terms, as Whoosh's highlighter takes them.
    return {p.docnum: [(start, end, field.from_bytes(term[1]))
                       for term in p.terms if (term, p.docnum) in found
                       for _, start, end in found[term, p.docnum]]
            for p in passages}  # fmt: skip


def _characters(reader, fieldname: str, btext: bytes, docnums: list[int]) -> list:
    """Where a term stands in each of ``docnums`` (sorted, local to ``reader``): from the
    posting cache when scoring kept them there, else read from the postings."""
    decode = reader.schema[fieldname].format.decoder("characters")
    cached = cached_characters(reader, fieldname, btext)
    if cached is not None:
        ids, values = cached
        places = [bisect_left(ids, d) for d in docnums]
        if all(i < len(ids) and ids[i] == d for i, d in zip(places, docnums, strict=True)):
            return [decode(values[i]) for i in places]
    return term_values(reader, fieldname, btext, docnums, "characters")


def _passage_record(searcher: Searcher, docnum: int) -> PassageRecord:
    """A passage's record, with its text, from its column. Searches keep showing the same
    passages (half of them, over 300 distinct queries), so recent ones are kept per
    generation, up to a bound (records never change, so a shared dict is safe; a full
    one starts again)."""
    kept = _cached(searcher, "passage records", dict)
    record = kept.get(docnum)
    if record is None:
        if len(kept) >= PASSAGE_RECORDS_KEPT:
            kept.clear()
        record = kept[docnum] = PassageRecord.from_json(json_value(searcher, PASSAGE, docnum))
    return record


def _answer_score(passage: _Passage) -> float:
    """A passage's score as an answer: a "Source" section, a lead-in ending in a colon,
    or a passage whose own text matched nothing (only its heading) is never the answer
    while a passage that holds the words is there."""
    score = float(passage.score or 0.0)
    heading, text = passage.record.heading, passage.record.text.strip()
    if heading.strip().lower() in BOILERPLATE_HEADINGS:
        return score * 0.1
    if not any(field == TEXT_FIELD for field, _ in passage.terms):
        return score * 0.3
    if text.endswith(":") and len(text) < 160:
        return score * 0.3
    return score


def _passage_hit(
    slug: str, passage: _Passage, score: float, marker: Marker, places: list[Place]
) -> PassageHit:
    return PassageHit(
        **shallow_fields(passage.record), slug=slug, score=score,
        snippet=marker.snippet(passage.record.text, places),
        terms=frozenset(as_text(t) for field, t in passage.terms if field == TEXT_FIELD),
    )  # fmt: skip


def _record(fields: dict) -> PositionRecord:
    return PositionRecord.from_json(json.loads(fields["record"]))


def get_record(searcher: Searcher, slug: str) -> PositionRecord | None:
    """The stored record of one position, or None."""
    fields = searcher.document(key=slug)
    return _record(fields) if fields and fields.get("kind") == "position" else None


def all_records(searcher: Searcher, include_drafts: bool = False) -> list[PositionRecord]:
    """Every position's record (no body text parsing: it is stored)."""
    records = [_record(fields) for fields in searcher.documents(kind="position")]
    return [r for r in records if include_drafts or not r.is_draft]


def suggest_words(
    searcher: Searcher, prefix: str, limit: int, is_word: Callable[[str], bool] | None = None
) -> list[str]:
    """Indexed words starting with ``prefix``, most common first, one form per word
    ("democracy", not also "democracies" and "democratic" … when they share a stem).

    With ``is_word`` (which words are real words), a word that is not one is offered
    only when the positions use it more than once ("tppa") and it is not two real words
    run together: a folder's stray codes (an image pasted as base64, an address) and the
    joined form of a hyphenated pair ("cannabisbased") are nobody's completion."""
    reader = searcher.reader()
    words = []
    for scanned, term in enumerate(reader.expand_prefix("words", fold(prefix))):
        word = as_text(term)
        info = reader.term_info("words", word)
        if is_word is None or is_word(word) or _offered(word, info.weight(), is_word):
            words.append((info.doc_frequency(), word))
        if len(words) >= SUGGEST_CANDIDATES or scanned >= SUGGEST_SCAN:
            break
    forms: dict[str, tuple[int, str]] = {}
    for count, word in words:
        key = stem(word)
        if key not in forms or (count, -len(word)) > (forms[key][0], -len(forms[key][1])):
            forms[key] = (count, word)
    ranked = sorted(forms.values(), key=lambda x: (-x[0], x[1]))
    return [w for _, w in ranked[:limit]]


def _offered(word: str, uses: float, is_word: Callable[[str], bool]) -> bool:
    """Whether a word that is not a real word is worth offering: used more than once,
    and not two real words of two letters or more run together."""
    if uses < 2:
        return False
    return not any(is_word(word[:cut]) and is_word(word[cut:]) for cut in range(2, len(word) - 1))


def complete_word(searcher: Searcher, prefix: str) -> str:
    """``prefix`` itself when the index has it as a word, else its most common completion."""
    reader = searcher.reader()
    folded = fold(prefix)
    if reader.doc_frequency("words", folded):
        return folded
    best = suggest_words(searcher, folded, 1)
    return best[0] if best else folded


def suggest_phrases(searcher: Searcher, before: list[str], last: str, limit: int) -> list[str]:
    """Complete a phrase being typed ("clim ch" → "climate change"): each earlier word is
    completed on its own, then the last from the words that follow it in the passages."""
    if not before or not last:
        return []
    words = [complete_word(searcher, w) for w in before]
    reader = searcher.reader()
    anchor = stem(words[-1])
    if not reader.doc_frequency("passage_text", anchor):
        return []
    follows = re.compile(rf"\b{re.escape(words[-1])}\s+({re.escape(fold(last))}\w*)", re.I)
    counts: dict[str, int] = {}
    for scanned, docnum in enumerate(reader.postings("passage_text", anchor).all_ids()):
        if scanned >= PHRASE_SCAN:
            break
        passage = json_value(searcher, PASSAGE, docnum) or {}
        for match in follows.finditer(passage.get("text", "")):
            word = match.group(1).lower()
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=lambda w: (-counts[w], w))[:limit]
    return [" ".join([*words, w]) for w in ranked]


def intro_records(searcher: Searcher) -> list[IntroRecord]:
    """Every folder introduction's record, in path order."""
    found = [IntroRecord.from_json(json.loads(fields["record"]))
             for fields in searcher.documents(kind="intro")]  # fmt: skip
    return sorted(found, key=lambda record: record.path)
