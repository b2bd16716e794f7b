"""Search: a request in, one SearchResults value out (the page and the API render it).

All query terms are preferred; when that finds nothing, any term will do, ranked by
how many terms match and how close together they stand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.index import Searcher
from kb.index.query import EVERYTHING, PASSAGE_FIELDS, POSITION_FIELDS, QueryCompiler
from kb.index.records import PositionMeta, shallow_fields
from kb.index.run import (
    PassageHit,
    PositionHit,
    best_passages,
    crop,
    has_match,
    rank_positions,
)
from kb.limits import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_CHARS, MAX_TOPIC_CHARS, MAX_TOPIC_FILTERS
from kb.search.grammar import ParsedQuery, parse
from kb.search.synonyms import Synonyms

PASSAGES_PER_RESULT = 3
RERANK_WINDOW = 10  # positions re-ranked by their best passage (nearness of the words)
PASSAGE_WEIGHT = 1.0
SORTS = ("relevance", "updated")


@dataclass(frozen=True)
class SearchRequest:
    """What the person asked for; every field is already bounded."""

    q: str = ""
    topics: tuple[str, ...] = ()
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"

    @classmethod
    def from_args(cls, q, topics, page, per_page, sort) -> SearchRequest:
        """Build from untrusted strings; anything odd falls back to a default."""
        return cls(
            q=clip_query(q),
            topics=clip_topics(topics),
            page=_bounded_int(page, 1, 1, MAX_PAGE),
            per_page=_bounded_int(per_page, 10, 1, MAX_PER_PAGE),
            sort=sort if sort in SORTS else "relevance",
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


@dataclass(frozen=True)
class SearchResults:
    request: SearchRequest
    total: int = 0
    did_you_mean: str | None = None
    facets: dict[str, int] = field(default_factory=dict)
    results: tuple[PositionResult, ...] = ()
    matched: str = "all"  # "all" terms, "any" term, or "none"
    unmatched: tuple[str, ...] = ()  # when matched == "any": the words no position holds

    @property
    def answer(self) -> PassageHit | None:
        """The passage that best answers the query: the first result's best passage."""
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


def search(
    searcher: Searcher, synonyms: Synonyms, request: SearchRequest, include_drafts: bool = False
) -> SearchResults:
    """Run ``request`` against ``searcher``; never raises for any query text."""
    parsed = parse(request.q)
    topics = sorted(set(request.topics) | set(parsed.topics))
    compiler = QueryCompiler(searcher)
    parsed.clauses = synonyms.expand(compiler.correct_clauses(parsed.clauses))
    if parsed.is_empty and not topics:
        return SearchResults(request=request, matched="none")
    by_date = request.sort == "updated"
    end = request.page * request.per_page
    reranked = not by_date and end <= RERANK_WINDOW
    window = RERANK_WINDOW if reranked else end
    run = (topics, window, by_date, include_drafts)
    matched = "all"
    query = compiler.compile(parsed, require_all=True) if parsed.clauses else EVERYTHING
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
    slugs = [hit.meta.slug for hit in hits]
    passages = best_passages(searcher, passage_query, slugs, PASSAGES_PER_RESULT)
    if reranked:
        hits = _by_closeness(hits, passages)[end - request.per_page : end]
    return SearchResults(
        request=request,
        total=ranking.total,
        did_you_mean=corrected_text(parsed, compiler.corrections),
        facets=ranking.facets,
        results=tuple(_position_result(hit, passages.get(hit.meta.slug, [])) for hit in hits),
        matched=matched if ranking.total else "none",
        unmatched=_unmatched(searcher, compiler, parsed, topics, include_drafts)
        if matched == "any" and ranking.total
        else (),
    )


def _unmatched(
    searcher: Searcher,
    compiler: QueryCompiler,
    parsed: ParsedQuery,
    topics: list[str],
    include_drafts: bool,
) -> tuple[str, ...]:
    """The clauses (as labelled to the reader) that no position in scope matches."""
    return tuple(
        clause.label
        for clause in parsed.clauses
        if not has_match(
            searcher, compiler.clause_query(clause, POSITION_FIELDS), topics, include_drafts
        )
    )


def _by_closeness(hits: list[PositionHit], passages: dict[str, list]) -> list[PositionHit]:
    """Re-rank: a position whose best paragraph holds more of the words comes first.

    Words in one paragraph stand close together, so the best passage's score is the
    nearness signal; it is added to the position's own (title-weighted) score.
    """

    def combined(hit: PositionHit) -> float:
        best = passages.get(hit.meta.slug)
        return hit.score + PASSAGE_WEIGHT * (best[0].score if best else 0.0)

    return sorted(hits, key=combined, reverse=True)


def _position_result(hit: PositionHit, passage_hits: list[PassageHit]) -> PositionResult:
    snippet = passage_hits[0].snippet if passage_hits else crop(hit.meta.summary)
    return PositionResult(
        **shallow_fields(hit.meta),
        score=hit.score, snippet=snippet, passages=tuple(passage_hits),
    )  # fmt: skip
