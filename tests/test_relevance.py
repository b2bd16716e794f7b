"""Relevance over the starter positions: the query people type → the position first.

Each case is what an activist might type — plain words, questions, misspellings,
acronyms, plurals, phrases and topic filters — and the slug that must come first.
"""

from __future__ import annotations

import pytest

from kb.search.engine import SearchRequest
from kb.service import knowledge_base_of

CASES = [
    # plain words and names
    ("internationalism", "internationalism"),
    ("populism", "democracy-and-populism"),
    ("inequality", "inequality"),
    ("nostalgia", "pragmatic-reform"),
    ("broad church", "labour-tradition"),
    ("corporate interests", "rebalancing-power"),
    ("lived experience", "pragmatic-reform"),
    ("hearts and minds", "urgency-and-government"),
    ("historic wrongs", "internationalism"),
    ("democratic socialists", "labour-tradition"),
    ("climate marches", "climate"),
    ("emissions", "climate"),
    ("1996", "labour-tradition"),
    ("wealth gap", "inequality"),
    # questions in plain words
    ("what is your plan for the climate?", "climate"),
    ("what do you think about populism?", "democracy-and-populism"),
    ("why are you internationalists?", "internationalism"),
    ("how will you support young people?", "next-generation"),
    ("what has Labour achieved?", "labour-achievements"),
    ("who holds power?", "rebalancing-power"),
    # acronyms and synonyms
    ("NHS", "labour-achievements"),
    ("national health service", "labour-achievements"),
    ("EU", "europe"),
    ("european union", "europe"),
    ("gay rights", "labour-achievements"),
    ("global warming", "climate"),
    ("net zero", "climate"),
    ("referendum", "europe"),
    ("youth", "next-generation"),
    ("minimum wage", "labour-achievements"),
    # plurals and word forms
    ("populists", "democracy-and-populism"),
    ("internationalist", "internationalism"),
    ("pragmatic", "pragmatic-reform"),
    ("achievements", "labour-achievements"),
    ("european neighbours", "europe"),
    # misspellings
    ("inequalty", "inequality"),
    ("popullism", "democracy-and-populism"),
    ("internationlism", "internationalism"),
    ("climat change", "climate"),
    ("europe neighbors", "europe"),
    ("demcracy and populsm", "democracy-and-populism"),
    # phrases, prefixes, operators, hyphens
    ('"minority rights"', "democracy-and-populism"),
    ('"public vote"', "europe"),
    ("democra*", "democracy-and-populism"),
    ("co-operation with europe", "europe"),
    ("climate OR emissions", "climate"),
    ("europe -climate", "europe"),
    ("populism -europe", "democracy-and-populism"),
    # topic filters
    ("topic:europe", "europe"),
    ("young topic:democracy", "next-generation"),
    ("history topic:labour-history", "labour-tradition"),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_expected_first_result(starter_app, query, expected):
    with starter_app.app_context():
        found = knowledge_base_of(starter_app).search(SearchRequest(q=query))
    assert found.results, f"{query!r} found nothing"
    assert found.results[0].slug == expected, [r.slug for r in found.results[:3]]


def test_relevance_set_is_large_enough():
    assert len(CASES) >= 40
