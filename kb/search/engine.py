"""Search: a request in, one SearchResults value out (the page and the API render it).

All query terms are preferred; when that finds nothing, any term will do, ranked by
how many terms match and how close together they stand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whoosh.searching import Searcher

from kb.index.query import EVERYTHING, QueryCompiler
from kb.index.run import best_passages, search_positions
from kb.search.grammar import ParsedQuery, parse
from kb.search.synonyms import Synonyms

MAX_PER_PAGE = 50
MAX_PAGE = 100
PASSAGES_PER_RESULT = 3
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
            q=str(q or "")[:2000],
            topics=tuple(sorted({t.strip().lower() for t in topics if t and t.strip()}))[:10],
            page=_bounded_int(page, 1, 1, MAX_PAGE),
            per_page=_bounded_int(per_page, 10, 1, MAX_PER_PAGE),
            sort=sort if sort in SORTS else "relevance",
        )


def _bounded_int(value, default: int, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return max(low, min(high, number))


@dataclass(frozen=True)
class PassageResult:
    id: str
    slug: str
    anchor: str
    heading: str
    text: str
    snippet: str  # HTML: escaped text with <mark> around matches
    score: float


@dataclass(frozen=True)
class PositionResult:
    slug: str
    title: str
    summary: str
    topics: tuple[str, ...]
    updated: str
    status: str
    score: float
    snippet: str  # HTML, as above
    passages: tuple[PassageResult, ...]


@dataclass(frozen=True)
class SearchResults:
    request: SearchRequest
    total: int = 0
    did_you_mean: str | None = None
    facets: dict[str, int] = field(default_factory=dict)
    results: tuple[PositionResult, ...] = ()
    matched: str = "all"  # "all" terms, "any" term, or "none"

    @property
    def answer(self) -> PassageResult | None:
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
    matched = "all"
    query = compiler.compile(parsed, require_all=True) if parsed.clauses else EVERYTHING
    run = (topics, request.page, request.per_page, request.sort == "updated", include_drafts)
    hits, total, facets = search_positions(searcher, query, *run)
    if total == 0 and len(parsed.clauses) > 1:
        matched = "any"
        query = compiler.compile(parsed, require_all=False)
        hits, total, facets = search_positions(searcher, query, *run)
    # Within a matching position, the best passage may hold only some of the words.
    passage_query = compiler.compile(parsed, require_all=False) if parsed.clauses else query
    slugs = [h.record["slug"] for h in hits]
    passages = best_passages(searcher, passage_query, slugs, PASSAGES_PER_RESULT)
    results = tuple(_position_result(hit, passages.get(hit.record["slug"], [])) for hit in hits)
    return SearchResults(
        request=request,
        total=total,
        did_you_mean=corrected_text(parsed, compiler.corrections),
        facets=facets,
        results=results,
        matched=matched if total else "none",
    )


def _position_result(hit, passage_hits) -> PositionResult:
    record = hit.record
    by_id = {p["id"]: p for p in record["passages"]}
    passages = tuple(
        PassageResult(
            id=p.record["id"], slug=p.slug, anchor=p.record["anchor"],
            heading=p.record["heading"], text=by_id.get(p.record["id"], {}).get("text", p.text),
            snippet=p.snippet, score=p.score,
        )
        for p in passage_hits
    )  # fmt: skip
    return PositionResult(
        slug=record["slug"], title=record["title"], summary=record["summary"],
        topics=tuple(record["topics"]), updated=record["updated"], status=record["status"],
        score=hit.score, snippet=hit.snippet, passages=passages,
    )  # fmt: skip
