"""Meaning vectors: positions found by what they are about, not only by their words."""

from __future__ import annotations

import math
import random
import struct
from array import array
from collections import Counter
from types import SimpleNamespace

import pytest

from kb.index import build
from kb.index.nearest import Passages, best_passage_cosines
from kb.index.run import PositionHit
from kb.index.vectors import (
    MAGIC,
    VectorSet,
    WordVectors,
    load_vectors,
    quantise,
    read_table,
)
from kb.search import engine
from kb.search.engine import SearchRequest
from kb.search.grammar import parse
from kb.search.meaning import Related, parse_rows
from kb.search.vectors import Ranked, blend, query_vector
from kb.service import knowledge_base_of

HOUSING = "We will build council homes, cap rents and give tenants security from landlords."
RAILWAYS = "Trains should run on time, and the railway lines should be publicly owned."


def cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_all_cosines_at_once_equal_one_at_a_time():
    rng = random.Random(7)
    rows = {d: array("b", [rng.randint(-127, 127) for _ in range(96)]) for d in range(300)}
    query = array("b", [rng.randint(-127, 127) for _ in range(96)])
    found = VectorSet.of({d: row.tobytes() for d, row in rows.items()}).cosines(query.tobytes())
    for docnum, row in rows.items():
        assert found[docnum] == pytest.approx(cosine(query, row), abs=1e-9)


def test_passage_cosines_at_once_equal_one_at_a_time():
    rng = random.Random(9)

    def rows(count: int) -> list[array]:
        return [array("b", [rng.randint(-127, 127) for _ in range(96)]) for _ in range(count)]

    positions = [rows(40), [array("b", bytes(96)), *rows(3)], [], rows(1)]  # zeros: no word
    passages = [Passages.of(b"".join(r.tobytes() for r in p), 96) for p in positions]
    for query in (rows(1)[0], positions[0][3]):
        found = best_passage_cosines(query.tobytes(), passages)
        wanted = [max((cosine(query, r) for r in p if any(r)), default=0.0) for p in positions]
        assert found == pytest.approx(wanted, abs=1e-9)
    assert best_passage_cosines(rows(1)[0].tobytes(), passages[2:3]) == [0.0]


def test_a_bag_of_words_is_the_weighted_sum_of_its_words():
    rng = random.Random(8)
    dims, words = 16, ["rent", "homes", "tenants"]
    matrix = [[rng.randint(-127, 127) for _ in range(dims)] for _ in words]
    weights = bytes([200, 50, 255])
    table = WordVectors(
        {w: i for i, w in enumerate(words)},
        weights,
        array("b", [v for row in matrix for v in row]).tobytes(),
        dims,
    )
    counts = Counter({"rent": 1, "homes": 3, "tenants": 1, "unknown": 5})
    expected = [0.0] * dims
    for word, count in counts.items():
        if word in table.rows:
            row = table.rows[word]
            scale = weights[row] * (1 + math.log(count))
            expected = [e + scale * v for e, v in zip(expected, matrix[row], strict=True)]
    assert cosine(array("b", table.embed(counts)), expected) > 0.999
    assert table.embed(Counter({"unknown": 1})) is None
    assert table.row("tenant") is None and table.row("rental") is None
    assert table.row("rents") == 0  # a plural finds its singular


def test_two_neighbours_that_form_a_phrase_count_as_the_phrase():
    words = ["fossil", "fuels", "fossil fuel", "burnt"]
    table = WordVectors({w: i for i, w in enumerate(words)}, bytes(4), bytes(4), 1)
    assert table.bag("fossil fuels are burnt".split()) == Counter(
        {"fossil fuels": 1, "are": 1, "burnt": 1}
    )  # the plural finds its singular's row, as a word does
    assert table.bag(["fossil", None, "fuels"]) == Counter({"fossil": 1, "fuels": 1})
    assert table.bag(["fossil", "fossil", "fuels"]) == Counter({"fossil": 1, "fossil fuels": 1})


def near_hits(*cosines: float) -> list[PositionHit]:
    return [PositionHit(SimpleNamespace(slug=f"p{i}"), c, i) for i, c in enumerate(cosines)]


def test_a_middling_cosine_is_offered_only_when_it_stands_out_among_many():
    offered = [h.meta.slug for h in blend([], near_hits(0.26, 0.17, 0.16, 0.15, 0.14))]
    assert offered == ["p0"]  # clearly the nearest of five
    assert blend([], near_hits(0.26, 0.2, 0.16, 0.15, 0.14)) == []  # not far enough ahead
    assert blend([], near_hits(0.26, 0.17, 0.16)) == []  # among three, ahead says nothing
    assert blend([], near_hits(0.19, 0.05, 0.04, 0.03, 0.02)) == []  # too far in itself
    assert len(blend([], near_hits(0.34, 0.31, 0.3, 0.1, 0.1))) == 3  # near in themselves


def test_words_found_only_through_related_words_weigh_less():
    a, b = near_hits(0.25, 0.33)
    ranked = [Ranked(a, 5.0)]  # a holds the words; b is nearer in meaning
    assert [h.meta.slug for h in blend(ranked, [b, a])] == ["p0", "p1"]
    assert [h.meta.slug for h in blend(ranked, [b, a], words_weight=0.5)] == ["p1", "p0"]


def test_the_file_format_reads_back():
    names = b"rent\nhomes"
    data = MAGIC + struct.pack("<III", 2, 3, len(names)) + names + b"\x10\x20" + bytes(6)
    table = read_table(data)
    assert table.rows == {"rent": 0, "homes": 1} and table.dims == 3
    with pytest.raises(ValueError, match="truncated"):
        read_table(data[:-1])
    assert quantise([0.0, 0.0]) is None


def test_the_shipped_table_is_there_and_knows_meanings():
    table = load_vectors()
    assert table is not None and len(table.rows) >= 50_000

    def near(a: str, b: str) -> float:
        return cosine(array("b", table.embed(Counter([a]))), array("b", table.embed(Counter([b]))))

    assert near("homelessness", "housing") > near("homelessness", "railway") + 0.2
    assert near("brexit", "eu") > near("brexit", "climate") + 0.2
    # A phrase has its own vector, nearer its meaning than its words' sum.
    assert near("free speech", "censorship") > 0.5
    assert near("free speech", "censorship") > near_words("free speech", "censorship") + 0.3


def near_words(phrase: str, other: str) -> float:
    table = load_vectors()
    words = table.embed(Counter(phrase.split()))
    return cosine(array("b", words), array("b", table.embed(Counter([other]))))


def test_a_query_reads_its_words_as_phrases():
    table = load_vectors()
    phrase = table.embed(Counter(["fossil fuels"]))
    assert query_vector(parse("fossil fuels").clauses, table) == phrase
    assert query_vector(parse('"fossil fuels"').clauses, table) == phrase
    assert query_vector(parse("what about fossil fuels?").clauses, table) == phrase
    assert query_vector(parse("fuels fossil").clauses, table) != phrase


@pytest.fixture
def search(make_app):
    """search("query") by the words and the meaning vectors only (no related-words table,
    which would find some of these on its own); meaning=False through the app's setting."""

    def run(q: str, meaning: bool = True):
        kb = knowledge_base_of(make_app(KB_MEANING="1" if meaning else "0"))
        if not meaning:
            return kb.search(SearchRequest(q=q))
        searcher = kb.reader.searcher()
        return engine.search(searcher, kb.synonyms(), SearchRequest(q=q), vectors=load_vectors())

    return run


def slugs(found) -> list[str]:
    return [r.slug for r in found.results]


def test_a_question_sharing_no_word_finds_its_position(write_position, search):
    write_position("housing", HOUSING, title="Housing")
    write_position("railways", RAILWAYS, title="Railways")
    found = search("homelessness")
    assert slugs(found) == ["housing"]
    assert (found.matched, found.total, found.unmatched) == ("meaning", 1, ("homelessness",))
    assert slugs(search("mortgages")) == ["housing"]


SITE = {
    "climate": (
        "Climate change",
        "We will cut emissions, reach net zero and stop the planet warming.",
    ),
    "housing": ("Housing", HOUSING),
    "railways": ("Railways", RAILWAYS),
    "schools": ("Schools", "Every child deserves good teachers and small classes."),
    "health": ("Health", "Hospitals need more nurses, and patients shorter waits."),
    "defence": ("Defence", "Our armed forces should be properly equipped and paid."),
}


def test_a_phrase_finds_what_it_means_among_many(write_position, search):
    for slug, (title, text) in SITE.items():
        write_position(slug, text, title=title)
    assert slugs(search("fossil fuels")) == ["climate"]
    assert slugs(search("free speech")) == []  # nothing here is about it


def test_exact_matches_still_come_first(write_position, search):
    write_position("housing", HOUSING, title="Housing")
    write_position("railways", RAILWAYS + " No homeless person is moved on.", title="Railways")
    assert slugs(search("homeless")) == ["railways"]  # housing is nearer in meaning


def test_meaning_off_finds_only_the_words(write_position, search):
    write_position("housing", HOUSING, title="Housing")
    write_position("railways", RAILWAYS, title="Railways")
    assert slugs(search("homelessness", meaning=False)) == []
    assert slugs(search("tenants", meaning=False)) == ["housing"]


def test_a_generation_without_vectors_still_searches(write_position, search, monkeypatch):
    monkeypatch.setattr(build, "position_meaning", lambda position: None)
    write_position("housing", HOUSING, title="Housing")
    write_position("railways", RAILWAYS, title="Railways")
    assert slugs(search("tenants")) == ["housing"]
    assert slugs(search("homelessness")) == []


def test_the_page_says_the_results_are_close_in_meaning(write_position, make_app):
    write_position("housing", HOUSING, title="Housing")
    client = make_app().test_client()
    # a word the related-words table lacks, so its meaning alone finds the position
    page = client.get("/search?q=overcrowding").get_data(as_text=True)
    assert "1 position found close in meaning for “overcrowding”" in page
    assert "<s>overcrowding</s>" in page
    api = client.get("/api/search?q=overcrowding").get_json()
    assert (api["matched"], api["unmatched"]) == ("meaning", ["overcrowding"])


def test_related_words_do_not_make_the_words_step_aside(write_position, make_app):
    """A query that gained related words ("council homes" → railway, from a made-up
    table) still holds its typed words somewhere: those positions decide."""
    write_position("housing", HOUSING, title="Housing")
    write_position("railways", RAILWAYS, title="Railways")
    write_position("estates", "Social estates need new flats for families.", title="Estates")
    kb = knowledge_base_of(make_app())
    related = Related(parse_rows(["council homes\trailway:0.9"]))
    request = SearchRequest(q="council homes")
    found = engine.search(kb.reader.searcher(), kb.synonyms(), request, False, related,
                          load_vectors())  # fmt: skip
    assert slugs(found) == ["housing", "railways"]


def test_the_vectors_are_read_only_when_a_search_needs_them(make_app, write_position):
    """Most searches find their words; the table (0.1 s to read) waits for one that
    does not, so a fresh worker's first answer does not pay for it."""
    write_position("europe", "We work with our neighbours.", title="Europe")
    kb = knowledge_base_of(make_app())
    asked = []
    original = engine._near

    def spy(searcher, vectors, *rest):
        asked.append(vectors)
        return original(searcher, vectors, *rest)

    loads = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "_near", spy)
        patch.setattr("kb.service.load_vectors", lambda: loads.append(1) or load_vectors())
        assert kb.search(SearchRequest(q="neighbours")).total == 1
        assert loads == [] and asked == []  # the words were found: no table read
        kb.search(SearchRequest(q="homelessness"))
        assert loads == [1] and len(asked) == 1
