"""Search: a request in, one SearchResults value out (the page and the API render it).

All query terms are preferred; when that finds nothing, any term will do, ranked by
how many terms match and how close together they stand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from kb.index import Query, Searcher
from kb.index.nearest import nearest_positions
from kb.index.query import (
    EVERYTHING,
    PASSAGE_FIELDS,
    POSITION_FIELDS,
    QueryCompiler,
    covers,
    text_stems,
)
from kb.index.records import PositionMeta, shallow_fields
from kb.index.run import (
    PassageHit,
    PositionHit,
    best_passages,
    has_match,
    lacking,
    match_count,
    rank_positions,
)
from kb.index.snippets import crop
from kb.index.vectors import WordVectors
from kb.limits import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_CHARS, MAX_TOPIC_CHARS, MAX_TOPIC_FILTERS
from kb.query_model import Phrase
from kb.search.degrees import WEIGHT as DEGREE_WEIGHT
from kb.search.degrees import with_degrees
from kb.search.grammar import Clause, ParsedQuery, parse
from kb.search.meaning import Related
from kb.search.spelling import is_english
from kb.search.synonyms import Synonyms
from kb.search.vectors import CANDIDATES, Ranked, blend, query_vector

PASSAGES_PER_RESULT = 3
RERANK_WINDOW = 10  # positions re-ranked by their best passage (nearness of the words)
PASSAGE_WEIGHT = 1.0
RELATED_ONLY = 0.5  # the words' share of the blend when only related words were found
MIN_CLAUSES_TO_DROP_ONE = 3  # of this many words, a position may lack the commonest
SORTS = ("relevance", "updated")


@dataclass(frozen=True)
class SearchRequest:
    """What the person asked for; every field is already bounded."""

    q: str = ""
    topics: tuple[str, ...] = ()
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    correct: bool = True  # False: "Search instead for" the words exactly as typed

    @classmethod
    def from_args(cls, q, topics, page, per_page, sort, spell=None) -> SearchRequest:
        """Build from untrusted strings; anything odd falls back to a default."""
        return cls(
            q=clip_query(q),
            topics=clip_topics(topics),
            page=_bounded_int(page, 1, 1, MAX_PAGE),
            per_page=_bounded_int(per_page, 10, 1, MAX_PER_PAGE),
            sort=sort if sort in SORTS else "relevance",
            correct=str(spell or "").lower() != "off",
        )


def clip_query(q) -> str:
    """The search text as searched and echoed: whitespace collapsed, cut to the limit."""
    return " ".join(str(q or "").split())[:MAX_QUERY_CHARS]


def clip_topics(topics) -> tuple[str, ...]:
    """Distinct topic filters, lower-cased, sorted, each and all of them bounded."""
    wanted = {str(t).strip().lower()[:MAX_TOPIC_CHARS] for t in topics if t and str(t).strip()}
    return tuple(sorted(wanted))[:MAX_TOPIC_FILTERS]


def _bounded_int(value, default: int, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return max(low, min(high, number))


@dataclass(frozen=True, kw_only=True)
class PositionResult(PositionMeta):
    """A ranked position with its best passages."""

    score: float
    snippet: str  # HTML: escaped text with <mark> around matches
    passages: tuple[PassageHit, ...]
    missing: tuple[str, ...] = ()  # the query's words this position lacks


@dataclass(frozen=True)
class SearchResults:
    request: SearchRequest
    total: int = 0
    did_you_mean: str | None = None  # the corrected query (kept for API clients)
    facets: dict[str, int] = field(default_factory=dict)
    results: tuple[PositionResult, ...] = ()
    matched: str = "all"  # "all" terms, "any" term, or "none"
    unmatched: tuple[str, ...] = ()  # when matched == "any": the words no position holds
    corrected: str | None = None  # "Showing results for …", when a non-word was corrected
    original: str | None = None  # "… Search instead for …": the query as typed
    answer_confident: bool = False  # the answer passage holds most of the meaningful words

    @property
    def answer(self) -> PassageHit | None:
        """The passage that best answers the query: the first result's best passage,
        offered only when it holds most of the meaningful words."""
        if not self.answer_confident:
            return None
        for result in self.results:
            if result.passages:
                return result.passages[0]
        return None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.per_page))


def corrected_text(parsed: ParsedQuery, corrections: dict[str, str]) -> str | None:
    """The query as typed, with each misspelt word replaced by its correction."""
    if not corrections:
        return None
    words = parsed.text.split()
    fixed = [corrections.get(w.lower().strip('?!.,;:"()'), w) for w in words]
    return " ".join(fixed) if fixed != words else None


def understand(
    compiler: QueryCompiler, synonyms: Synonyms, parsed: ParsedQuery, correct: bool
) -> list[Clause]:
    """The clauses to search for: synonyms and phrases first ("global warming" reaches
    its group before any word is judged), then spelling, then synonyms of the corrected
    words ("climat change" → "climate change" → its group)."""
    clauses = synonyms.expand(parsed.clauses)
    if not correct:
        return clauses
    return synonyms.expand(compiler.correct_clauses(clauses))


def search(
    searcher: Searcher,
    synonyms: Synonyms,
    request: SearchRequest,
    include_drafts: bool = False,
    related: Related | None = None,
    vectors: WordVectors | Callable[[], WordVectors | None] | None = None,
) -> SearchResults:
    """Run ``request`` against ``searcher``; never raises for any query text.

    With ``related`` (the meaning route), each word also finds a few words related to
    it in meaning, weighing less than the word itself; with ``vectors``, positions near
    the query in meaning join the first page's ranking (kb/search/vectors.py). The
    vectors may be given as their loader, called only when a search needs them: most
    searches find their words, and the table takes a tenth of a second to read.
    """
    parsed = parse(request.q)
    topics = sorted(set(request.topics) | set(parsed.topics))
    compiler = QueryCompiler(searcher, is_word=is_english)
    parsed.clauses = understand(compiler, synonyms, parsed, request.correct)
    if related is not None:
        parsed.clauses = related.expand(parsed.clauses, compiler.known)
    parsed.clauses = with_degrees(parsed.clauses, compiler.known)  # cheap → cheaper
    if parsed.is_empty and not topics:
        return SearchResults(request=request, matched="none")
    by_date = request.sort == "updated"
    end = request.page * request.per_page
    reranked = not by_date and end <= RERANK_WINDOW
    window = RERANK_WINDOW if reranked else end
    run = (topics, window, by_date, include_drafts)
    matched = "all"
    query = compiler.compile(parsed, require_all=True) if parsed.clauses else EVERYTHING
    looser = _without_commonest(searcher, compiler, parsed, query, topics, include_drafts)
    query = looser or query
    ranking = rank_positions(searcher, query, *run)
    if ranking.total == 0 and len(parsed.clauses) > 1:
        matched = "any"
        query = compiler.compile(parsed, require_all=False)
        ranking = rank_positions(searcher, query, *run)
    # A passage may hold only some of the words, so passages are scored on any of them.
    passage_query = (
        compiler.compile(parsed, require_all=False, fields=PASSAGE_FIELDS)
        if parsed.clauses
        else EVERYTHING
    )
    hits = ranking.hits if reranked else ranking.hits[end - request.per_page : end]
    # When some position holds every word typed, the words decide: no vector work at all.
    near: list[PositionHit] = []
    found_all = bool(hits) and matched == "all"
    if reranked and vectors is not None:
        if not (found_all and _typed_match(searcher, compiler, parsed, topics, include_drafts)):
            near = _near(searcher, vectors, parsed.clauses, topics, include_drafts)
    slugs = list(dict.fromkeys(hit.meta.slug for hit in [*hits, *near]))
    passages = best_passages(searcher, passage_query, slugs, PASSAGES_PER_RESULT)
    total = ranking.total
    if reranked:
        words_weight = 1.0 if not near or _any_typed_known(compiler, parsed) else RELATED_ONLY
        ranked = blend(_by_closeness(hits, passages, parsed.clauses), near, words_weight)
        total += len(ranked) - len(hits)  # positions found only by their meaning
        if ranked and not ranking.total:
            matched = "meaning"
        hits = ranked[end - request.per_page : end]
    gained_related = any(a.weight < DEGREE_WEIGHT for c in parsed.clauses for a in c.alternatives)
    unmatched = (
        _unmatched(searcher, compiler, parsed, topics, include_drafts)
        if total and (matched != "all" or gained_related)
        else ()
    )
    # Every position of a plain AND holds every word: only a looser search can lack some.
    loose = looser is not None or matched == "any" or gained_related or bool(near)
    missing = _missing(searcher, compiler, parsed, hits, unmatched) if loose else {}
    results = tuple(
        _position_result(hit, passages.get(hit.meta.slug, []), missing.get(hit.meta.slug, ()))
        for hit in hits
    )
    corrected = corrected_text(parsed, compiler.corrections)
    return SearchResults(
        request=request,
        total=total,
        did_you_mean=corrected,
        facets=ranking.facets,
        results=results,
        matched=matched if total else "none",
        unmatched=unmatched,
        corrected=corrected,
        original=parsed.text if corrected else None,
        answer_confident=_answers(hits, passages, parsed.clauses),
    )


def _without_commonest(
    searcher: Searcher,
    compiler: QueryCompiler,
    parsed: ParsedQuery,
    every_word: Query,
    topics: list[str],
    include_drafts: bool,
) -> Query | None:
    """The query that lets a position lack one clause: of three or more, the one the
    most positions hold, never a quoted one; only when some position in scope holds
    every clause (``every_word``) and some position lacks just that one (else None).

    A position about the question often lacks its commonest word while a passing
    mention holds them all: "prison reform and rehabilitation" found only Cannabis
    (one sentence on prison and rehabilitation, "reform" elsewhere), not Criminal
    Justice, which lacks "reform". Search engines drop the least telling word in the
    same way; a rare word (a name) is never the one dropped.
    """
    if len(parsed.clauses) < MIN_CLAUSES_TO_DROP_ONE:
        return None

    def held_by(clause: Clause) -> int:
        if clause.quoted:
            return 0
        return match_count(searcher, compiler.clause_query(clause, POSITION_FIELDS))

    count, index = max((held_by(clause), i) for i, clause in enumerate(parsed.clauses))
    if not count or not has_match(searcher, every_word, topics, include_drafts):
        return None
    looser = compiler.compile(parsed, require_all=True, optional=index)
    return looser if match_count(searcher, looser) > match_count(searcher, every_word) else None


def _missing(
    searcher: Searcher,
    compiler: QueryCompiler,
    parsed: ParsedQuery,
    hits: list[PositionHit],
    unmatched: tuple[str, ...],
) -> dict[str, tuple[str, ...]]:
    """slug → the words it lacks, for the positions shown ("Missing: reform"), so a
    reader knows why a position that lacks some is there: it holds neither the word, a
    synonym nor another degree of it (a related word does not count). A word no
    position holds is left out: the page says that once ("Not found")."""
    clauses = [c for c in parsed.clauses if c.label not in unmatched]
    if not clauses or not hits:
        return {}
    queries = [compiler.clause_query(_as_typed(c), POSITION_FIELDS) for c in clauses]
    return {
        slug: tuple(clauses[i].label for i in indexes)
        for slug, indexes in lacking(searcher, queries, hits).items()
    }


def _as_typed(clause: Clause) -> Clause:
    """The clause without the related words it gained: the word, its synonyms and its
    other degrees (the clause as it is, should it hold nothing else)."""
    typed = _typed(clause, DEGREE_WEIGHT)
    return typed if typed.alternatives else clause


def _typed(clause: Clause, min_weight: float) -> Clause:
    """The clause's alternatives that weigh at least ``min_weight``."""
    return replace(clause, alternatives=[a for a in clause.alternatives if a.weight >= min_weight])


def _unmatched(
    searcher: Searcher,
    compiler: QueryCompiler,
    parsed: ParsedQuery,
    topics: list[str],
    include_drafts: bool,
) -> tuple[str, ...]:
    """The clauses (as labelled to the reader) that no position in scope holds: neither
    the word, a synonym nor another degree of it (a related word found instead does not
    count: "homelessness" is not found, though housing is)."""
    return tuple(
        clause.label
        for clause in parsed.clauses
        if not has_match(
            searcher, compiler.clause_query(_as_typed(clause), POSITION_FIELDS), topics,
            include_drafts,
        )
    )  # fmt: skip


def _answers(hits: list[PositionHit], passages: dict[str, list], clauses: list[Clause]) -> bool:
    """True when the first passage shown holds most of the meaningful words in its own
    text (a heading above it is not shown with the answer): more than half of them (so
    one word of two is not enough), and the only one when there is one. A word counts
    when the passage holds it, a synonym or another degree of it; a related word does
    not ("sculptors" found a passage on artists, under "Not found: sculptors")."""
    first = next((passages[h.meta.slug][0] for h in hits if passages.get(h.meta.slug)), None)
    if first is None or not clauses:
        return False
    found = sum(1 for clause in clauses if covers(clause, first.terms, DEGREE_WEIGHT))
    return found * 2 > len(clauses)


def _near(
    searcher: Searcher,
    vectors: WordVectors | Callable[[], WordVectors | None],
    clauses: list[Clause],
    topics: list[str],
    include_drafts: bool,
) -> list[PositionHit]:
    """The positions nearest the query in meaning (none when no word is known)."""
    table = vectors() if callable(vectors) else vectors
    query = query_vector(clauses, table) if table is not None else None
    if query is None:
        return []
    return nearest_positions(searcher, query, topics, include_drafts, CANDIDATES)


def _by_closeness(
    hits: list[PositionHit], passages: dict[str, list], clauses: list[Clause]
) -> list[Ranked]:
    """Re-rank: a position titled with every word of the query (or another degree of
    it: "cheap" and "Cheaper …") comes first; then a position whose best paragraph holds
    more of the words.

    Words in one paragraph stand close together, so the best passage's score is the
    nearness signal; it is added to the position's own (title-weighted) score.
    """

    def combined(hit: PositionHit) -> tuple[bool, float]:
        best = passages.get(hit.meta.slug)
        stems = text_stems(hit.meta.title)
        titled = bool(clauses) and all(covers(c, stems, DEGREE_WEIGHT) for c in clauses)
        return titled, hit.score + PASSAGE_WEIGHT * (best[0].score if best else 0.0)

    keyed = sorted(((combined(hit), hit) for hit in hits), key=lambda kh: kh[0], reverse=True)
    return [Ranked(hit, key[1]) for key, hit in keyed]


def _typed_match(
    searcher: Searcher,
    compiler: QueryCompiler,
    parsed: ParsedQuery,
    topics: list[str],
    include_drafts: bool,
) -> bool:
    """Whether some position holds every word typed (or a synonym), not counting the
    related words the query gained; asked of the index only when it gained some."""
    typed = [_typed(c, 1.0) for c in parsed.clauses]
    if not typed or not all(c.alternatives for c in typed):
        return False
    if typed == parsed.clauses:
        return True
    query = compiler.compile(replace(parsed, clauses=typed), require_all=True)
    return has_match(searcher, query, topics, include_drafts)


def _any_typed_known(compiler: QueryCompiler, parsed: ParsedQuery) -> bool:
    """Whether the index holds any word typed (or a synonym): if not, the words' ranking
    rests on related words alone, and weighs less against nearness in meaning."""
    return any(
        compiler.known(word)
        for clause in parsed.clauses
        for alternative in clause.alternatives
        if alternative.weight >= 1.0
        for word in (alternative.words if isinstance(alternative, Phrase) else (alternative.word,))
    )


def _position_result(
    hit: PositionHit, passage_hits: list[PassageHit], missing: tuple[str, ...]
) -> PositionResult:
    snippet = passage_hits[0].snippet if passage_hits else crop(hit.meta.summary)
    return PositionResult(
        **shallow_fields(hit.meta),
        score=hit.score, snippet=snippet, passages=tuple(passage_hits), missing=missing,
    )  # fmt: skip
