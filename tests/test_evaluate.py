"""The posting-list evaluator scores exactly as Whoosh's own search does, on one segment
or several, with deleted documents, and when restricted to a few documents."""

from __future__ import annotations

import pytest
from whoosh import index as whoosh_index
from whoosh import query as wq

from kb.index.evaluate import AllButWeakest, Evaluator, Memo
from kb.index.query import POSITION_FIELDS, stem_query
from kb.index.schema import build_schema

TEXTS = [
    ("housing", "Homes for everyone", "Build more homes and council housing in every town."),
    ("climate", "Climate action", "Cut emissions; homes insulated, and climate change met."),
    ("europe", "Europe", "Trade with Europe creates jobs. Climate change is shared."),
    ("jobs", "Good jobs", "Jobs in every region, fair pay and secure homes."),
    ("health", "Health care", "A health service free at the point of use, in every town."),
    ("schools", "Schools", "Every child a good school; teachers paid fairly."),
]


def _add(writer, slug: str, title: str, body: str) -> None:
    # The text is kept in the stored record too, for checking matched terms against.
    writer.add_document(key=slug, kind="position", slug=slug, title=title, body=body,
                        passage_text=body, record=body)  # fmt: skip


@pytest.fixture(params=["one segment", "three segments, one deletion"])
def searcher(tmp_path, request):
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    if request.param == "one segment":
        with ix.writer() as writer:
            for text in TEXTS:
                _add(writer, *text)
    else:
        for batch in (TEXTS[:2], TEXTS[2:4], TEXTS[4:]):
            writer = ix.writer()
            for text in batch:
                _add(writer, *text)
            writer.commit(merge=False)
        writer = ix.writer()
        writer.delete_by_term("key", "jobs")
        writer.commit(merge=False)
        assert len(ix._segments()) == 3
    with ix.searcher() as s:
        yield s
    ix.close()


def _whoosh(searcher, q) -> dict[int, float]:
    """Whoosh's scores as the passage search asked for them (with matched terms, so a
    constant-score query's child is scored)."""
    return {hit.docnum: hit.score for hit in searcher.search(q, limit=None, terms=True)}


QUERIES = [
    stem_query(["home"], POSITION_FIELDS),
    wq.And([stem_query(["home"], POSITION_FIELDS), stem_query(["town"], POSITION_FIELDS)]),
    wq.Or([stem_query(["climat"], POSITION_FIELDS), stem_query(["job"], POSITION_FIELDS)]),
    stem_query(["climat", "chang"], POSITION_FIELDS),  # a phrase
    stem_query(["home", "council", "hous"], POSITION_FIELDS),  # three in a row (past "and")
    stem_query(["home", "town"], POSITION_FIELDS),  # both words, never side by side
    stem_query(["chang", "climat"], POSITION_FIELDS),  # the words, the wrong way round
    wq.Phrase("passage_text", ["everi", "town"], boost=1.5),  # a field keeping characters
    wq.Or([wq.Phrase("body", ["fair", "pay"]), wq.Term("title", "job")]),
    wq.Or([wq.Term("body", "home", boost=0.5), wq.Term("title", "climat", boost=3.0)], boost=2.0),
    wq.AndNot(stem_query(["home"], POSITION_FIELDS), stem_query(["climat"], POSITION_FIELDS)),
    wq.Term("body", "nowhere"),
    wq.And(
        [
            wq.ConstantScoreQuery(
                wq.Or([wq.Term("kind", "position"), wq.Term("slug", "jobs")]), 0.0
            ),
            stem_query(["home"], POSITION_FIELDS),
        ]
    ),  # fmt: skip
]


@pytest.mark.parametrize("q", QUERIES, ids=repr)
def test_scores_match_whoosh(searcher, q):
    mine = Evaluator(searcher).scores(q)
    theirs = _whoosh(searcher, q)
    assert mine.keys() == theirs.keys()
    for docnum, score in theirs.items():
        assert mine[docnum] == pytest.approx(score, rel=1e-12)


@pytest.mark.parametrize("q", QUERIES, ids=repr)
def test_restricted_scores_are_the_same_scores(searcher, q):
    everything = _whoosh(searcher, q)
    some = set(list(everything)[::2]) | {0}
    mine = Evaluator(searcher, restrict=some).scores(q)
    assert mine.keys() == {d for d in everything if d in some}
    for docnum, score in mine.items():
        assert score == pytest.approx(everything[docnum], rel=1e-12)


def test_a_memo_gives_the_same_results(searcher):
    memo = Memo()
    for q in QUERIES + QUERIES:
        assert Evaluator(searcher, memo=memo).scores(q) == Evaluator(searcher).scores(q)


def test_matched_terms_are_recorded(searcher):
    evaluator = Evaluator(searcher, record_terms=True)
    found = evaluator.scores(wq.Or([wq.Term("body", "home"), wq.Term("body", "town")]))
    for docnum in found:
        terms = {text for _, text in evaluator.terms[docnum]}
        words = set(searcher.stored_fields(docnum)["record"].lower().split())
        assert terms and all(any(w.startswith(t.decode()) for w in words) for t in terms)


def test_a_phrase_records_the_terms_whoosh_reports(searcher):
    q = wq.Phrase("passage_text", ["everi", "town"])
    evaluator = Evaluator(searcher, record_terms=True)
    found = evaluator.scores(q)
    hits = searcher.search(q, limit=None, terms=True)
    assert found and set(found) == {hit.docnum for hit in hits}
    for hit in hits:
        assert sorted(evaluator.terms[hit.docnum]) == sorted(hit.matched_terms())


def test_a_deleted_document_is_never_scored_even_when_asked_for(searcher):
    q = stem_query(["job"], POSITION_FIELDS)
    live = _whoosh(searcher, q)
    everything = set(range(searcher.reader().doc_count_all()))
    assert Evaluator(searcher, restrict=everything).scores(q).keys() == live.keys()


def test_a_later_deletion_from_the_same_segment_is_never_scored(tmp_path):
    """Postings without deleted documents are remembered per segment; a deletion made
    after a search (a later generation of the same segment) must still be left out."""
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    with ix.writer() as writer:
        for text in TEXTS:
            _add(writer, *text)
    q = stem_query(["home"], POSITION_FIELDS)
    for slug in ("jobs", "climate"):
        writer = ix.writer()
        writer.delete_by_term("key", slug)
        writer.commit(merge=False)
        with ix.searcher() as s:
            assert s.reader().has_deletions()
            assert Evaluator(s).scores(q) == pytest.approx(_whoosh(s, q), rel=1e-12)
            assert Evaluator(s).scores(q).keys() == _whoosh(s, q).keys()
    ix.close()


def test_all_but_the_weakest_clause_scores_a_lacking_document_by_its_share(searcher):
    """Whoosh runs it as AND MAYBE (the same documents); a document lacking the weakest
    clause scores n − 1 of n of what it holds, one holding it the full sum."""
    home, town, region, fair = (stem_query([w], POSITION_FIELDS)
                                for w in ("home", "town", "region", "fair"))  # fmt: skip
    q = AllButWeakest(wq.And([home, wq.Or([town, region])]), fair)
    mine = Evaluator(searcher).scores(q)
    theirs = _whoosh(searcher, q)
    assert mine.keys() == theirs.keys()
    holding = Evaluator(searcher).scores(fair)
    assert any(d not in holding for d in mine)  # the case it exists for
    for docnum, score in theirs.items():
        share = 1.0 if docnum in holding else 2 / 3
        assert mine[docnum] == pytest.approx(score * share, rel=1e-12)
