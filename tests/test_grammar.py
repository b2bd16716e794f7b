"""The query language: what each piece of syntax means, and that nothing can break it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.search.grammar import MAX_CLAUSES, MAX_QUERY_CHARS, Phrase, Term, parse


def shape(text: str):
    parsed = parse(text)
    return (
        [c.alternatives for c in parsed.clauses],
        [c.alternatives for c in parsed.excluded],
        parsed.topics,
    )


def test_words_phrases_exclusions_or_prefix_topic():
    assert shape('"net zero" -coal OR gas* topic:climate') == (
        [[Phrase(("net", "zero")), Term("gas", prefix=True)]],
        [[Term("coal")]],
        ["climate"],
    )


def test_or_joins_neighbours():
    assert shape("buses OR trams")[0] == [[Term("buses"), Term("trams")]]


def test_prefix_needs_two_letters():
    assert shape("gr*")[0] == [[Term("gr", prefix=True)]]
    assert shape("g*")[0] == [[Term("g")]]  # one letter would expand to half the index


def test_not_and_minus_exclude():
    assert shape("a NOT b -c")[1] == [[Term("b")], [Term("c")]]


def test_question_words_are_dropped_unless_nothing_is_left():
    assert shape("what is your plan for the railways?")[0] == [[Term("railways")]]
    assert shape("what is it")[0] == [[Term("what")], [Term("is")], [Term("it")]]
    assert shape('"the plan"')[0] == [[Phrase(("the", "plan"))]]


def test_unknown_fields_and_operators_become_words():
    assert shape("title:europe word^abc [z TO a]")[0] == [
        [Term("title")], [Term("europe")], [Term("word")], [Term("abc")], [Term("z")]
    ]  # fmt: skip


def test_limits():
    assert len(parse("word " * 1000).text) <= MAX_QUERY_CHARS
    assert len(parse(" ".join(f"w{i}" for i in range(100))).clauses) == MAX_CLAUSES


def test_control_characters_are_removed():
    assert parse("a\x00b\x1fc\u200bd").text == "a b c d"


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=300))
def test_parse_never_raises(text):
    parsed = parse(text)
    assert len(parsed.clauses) <= MAX_CLAUSES


SYNTAX = st.sampled_from(['"', "-", "*", "OR", "AND", "NOT", "(", ")", "topic:", ":", "^", "~"])
QUERIES = st.lists(st.one_of(SYNTAX, st.text(max_size=12)), max_size=12).map(" ".join)


@settings(
    max_examples=150, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(q=st.one_of(QUERIES, st.text(max_size=200)))
def test_search_endpoints_never_fail(starter_client, q):
    api = starter_client.get("/api/search", query_string={"q": q})
    assert api.status_code == 200
    assert isinstance(api.get_json()["results"], list)
    assert starter_client.get("/search", query_string={"q": q}).status_code == 200
