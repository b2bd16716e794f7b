"""Snippets are the windows and marks Whoosh's own highlighter would make."""

import random
import re
from itertools import groupby

from whoosh import highlight
from whoosh.analysis import Token

from kb.index.snippets import CHAR_LIMIT, SNIPPET_CHARS, SURROUND, Marker, _best_window, _distinct

WORDS = "climate change energy homes rent the people of a fair pay work europe trade".split()


def whoosh_fragment(text: str, places) -> str:
    """What Whoosh's PinpointFragmenter and HtmlFormatter make of the same matches."""
    tokens = sorted(
        (Token(text=word, startchar=start, endchar=end, boost=1.0) for start, end, word in places),
        key=lambda t: t.startchar,
    )
    tokens = [max(g, key=lambda t: t.endchar - t.startchar)
              for _, g in groupby(tokens, lambda t: t.startchar)]  # fmt: skip
    fragmenter = highlight.PinpointFragmenter(
        maxchars=SNIPPET_CHARS, surround=SURROUND, autotrim=True, charlimit=CHAR_LIMIT
    )
    best = highlight.top_fragments(
        fragmenter.fragment_matches(text, tokens), 1, highlight.BasicFragmentScorer(),
        highlight.FIRST,
    )  # fmt: skip
    return highlight.HtmlFormatter(tagname="mark", between=" … ").format(best)


def our_fragment(text: str, places) -> str:
    window = _best_window(text, _distinct(places))
    if window is None:
        return ""
    start, end, matches = window
    return Marker()._mark(text, start, end, matches)


def places_of(text: str, wanted: list[str]):
    return [(m.start(), m.end(), word) for word in wanted
            for m in re.finditer(rf"\b{word}\b", text)]  # fmt: skip


def test_the_same_window_and_marks_as_whoosh_on_random_passages():
    rng = random.Random(7)
    for _ in range(400):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 160)))
        text = text.replace(" a ", " <a> & ", 1)  # escaping is part of the output
        wanted = rng.sample(WORDS, rng.randint(1, 3))
        places = places_of(text, wanted)
        assert our_fragment(text, places) == whoosh_fragment(text, places), (text, wanted)


def test_a_passage_without_matched_words_is_cropped_not_marked():
    text = "Nothing here was matched. " * 20
    snippet = Marker().snippet(text, [])
    assert "<mark" not in snippet and snippet.endswith("…") and len(snippet) <= SNIPPET_CHARS + 2


def test_a_word_keeps_its_mark_class_across_a_pages_snippets():
    marker = Marker()
    text = "climate and energy"
    first = marker.snippet(text, places_of(text, ["climate", "energy"]))
    second = marker.snippet("energy first", places_of("energy first", ["energy"]))
    assert 'term1">energy<' in first and 'term1">energy<' in second


def test_a_word_matched_in_the_sentence_reached_back_for_is_marked():
    text = (
        "Each of labour's great achievements " + "tackled a form of inequality " * 4
        + "and labour unions matter most."
    )  # fmt: skip
    snippet = Marker().snippet(text, places_of(text, ["labour", "unions"]))
    assert snippet.startswith('Each of <mark class="match term0">labour</mark>')
    assert snippet.count("<mark") == 3


def test_every_matched_word_a_snippet_shows_is_marked():
    rng = random.Random(11)
    for _ in range(400):
        text = ". ".join(
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30)))
            for _ in range(rng.randint(1, 8))
        )  # fmt: skip
        wanted = rng.sample(WORDS, rng.randint(1, 3))
        snippet = Marker().snippet(text, places_of(text, wanted))
        unmarked = re.sub(r"<mark[^>]*>.*?</mark>", " ", snippet)
        for word in wanted:
            assert not re.search(rf"\b{word}\b", unmarked), (text, wanted, snippet)
