"""Run compiled queries: ranked positions with facets, best passages, highlights.

Highlighting uses the stored character offsets (PinpointFragmenter) and a cap on the
characters scanned, because re-analysing stored text was most of Whoosh's query time.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from whoosh import highlight
from whoosh import query as wq
from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.searching import Results, Searcher

from kb.index.query import DRAFTS, fold, kind_filter, slugs_filter

TIME_LIMIT_SECONDS = 2.0
CHAR_LIMIT = 20_000
SNIPPET_CHARS = 240


@dataclass(frozen=True)
class PositionHit:
    record: dict
    score: float
    snippet: str


@dataclass(frozen=True)
class PassageHit:
    slug: str
    record: dict
    score: float
    snippet: str
    text: str


def _highlighter(results: Results, surround: int) -> None:
    fragmenter = highlight.PinpointFragmenter(maxchars=SNIPPET_CHARS, surround=surround)
    fragmenter.charlimit = CHAR_LIMIT
    results.fragmenter = fragmenter
    results.formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")


def crop(text: str, width: int = SNIPPET_CHARS) -> str:
    """An escaped, word-boundary crop for when nothing was highlighted."""
    if len(text) > width:
        text = text[:width].rsplit(" ", 1)[0] + " …"
    return html.escape(text)


def _collect(searcher: Searcher, query: wq.Query, limit: int, **options) -> Results:
    """Search with a time limit; ``options`` go to Whoosh's collector (filter, mask…)."""
    collector = searcher.collector(limit=limit, terms=True, **options)
    timed = TimeLimitCollector(collector, timelimit=TIME_LIMIT_SECONDS, use_alarm=False)
    try:
        searcher.search_with_collector(query, timed)
    except TimeLimit:
        pass  # partial results beat no answer
    return timed.results()


def search_positions(
    searcher: Searcher,
    query: wq.Query,
    topics: list[str],
    page: int,
    per_page: int,
    by_date: bool,
    include_drafts: bool,
) -> tuple[list[PositionHit], int, dict[str, int]]:
    """One page of ranked positions, the total, and topic counts for the query."""
    mask = None if include_drafts else DRAFTS
    options = {"sortedby": "updated_order", "reverse": True} if by_date else {}
    limit = page * per_page
    unfiltered = _collect(searcher, query, limit, filter=kind_filter("position"), mask=mask,
                          **options)  # fmt: skip
    facets = topic_counts(searcher, set(unfiltered.docs()))
    results = unfiltered
    if topics:
        results = _collect(searcher, query, limit, filter=kind_filter("position", topics),
                           mask=mask, **options)  # fmt: skip
    _highlighter(results, surround=90)
    hits = []
    for hit in results[(page - 1) * per_page : limit]:
        record = json.loads(hit["record"])
        snippet = hit.highlights("body", top=2) or crop(record["summary"] or hit["body"])
        hits.append(PositionHit(record, float(hit.score or 0.0), snippet))
    return hits, len(results.docs()), facets


def topic_counts(searcher: Searcher, docs: set[int]) -> dict[str, int]:
    """How many of ``docs`` carry each topic."""
    counts = {}
    reader = searcher.reader()
    for topic in reader.lexicon("topics"):
        name = topic.decode() if isinstance(topic, bytes) else topic
        posting = set(reader.postings("topics", name).all_ids())
        count = len(docs & posting)
        if count:
            counts[name] = count
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def best_passages(
    searcher: Searcher, query: wq.Query, slugs: list[str], per_slug: int
) -> dict[str, list[PassageHit]]:
    """The best-matching passages of each listed position, highest score first."""
    if not slugs or query is wq.NullQuery:
        return {}
    results = _collect(
        searcher, query, limit=len(slugs) * per_slug * 4, filter=slugs_filter("passage", slugs)
    )
    _highlighter(results, surround=110)
    grouped: dict[str, list[PassageHit]] = {}
    for hit in results:
        slug = hit["slug"]
        if len(grouped.setdefault(slug, [])) >= per_slug:
            continue
        snippet = hit.highlights("body", top=1) or crop(hit["body"])
        grouped[slug].append(
            PassageHit(slug, json.loads(hit["record"]), float(hit.score or 0.0), snippet,
                       hit["body"])
        )  # fmt: skip
    return grouped


def get_record(searcher: Searcher, slug: str) -> dict | None:
    """The stored record of one position, or None."""
    fields = searcher.document(key=slug)
    return json.loads(fields["record"]) if fields and fields.get("kind") == "position" else None


def all_records(searcher: Searcher, include_drafts: bool = False) -> list[dict]:
    """Every position's record (no body text parsing: it is stored)."""
    records = []
    for fields in searcher.documents(kind="position"):
        record = json.loads(fields["record"])
        if include_drafts or record["status"] != "draft":
            records.append(record)
    return records


def suggest_words(searcher: Searcher, prefix: str, limit: int) -> list[str]:
    """Indexed words starting with ``prefix``, most common first."""
    reader = searcher.reader()
    words = []
    for term in reader.expand_prefix("words", fold(prefix)):
        word = term.decode() if isinstance(term, bytes) else term
        words.append((reader.doc_frequency("words", word), word))
        if len(words) >= 200:
            break
    return [w for _, w in sorted(words, key=lambda x: (-x[0], x[1]))[:limit]]
