"""Passages: one per block, with heading trail, ordinal, stable id, readable anchor."""

from __future__ import annotations

from kb.content.render import render_body

BODY = """Intro paragraph.

## Trade and Europe

First trade paragraph.

- a list item
- another

### Tariffs

| a | b |
|---|---|
| 1 | 2 |

> A quoted line.
"""


def test_blocks_become_passages_with_trails_and_anchors():
    passages = render_body("europe", BODY).passages
    assert [(p.ordinal, p.anchor, p.heading) for p in passages] == [
        (1, "intro-1", ""),
        (2, "trade-and-europe-1", "Trade and Europe"),
        (3, "trade-and-europe-2", "Trade and Europe"),
        (4, "tariffs-1", "Trade and Europe › Tariffs"),
        (5, "tariffs-2", "Trade and Europe › Tariffs"),
    ]
    assert passages[2].text == "a list item; another"
    assert passages[4].text == "A quoted line."


def test_a_heading_with_escaped_marks_reads_as_shown():
    """A heading's text and anchor are read after Markdown undoes its escapes: "\\*" had
    left control characters in the heading, and "42" (the mark's code) in its anchor."""
    rendered = render_body("x", "## Q \\*&\\* A \\[draft\\]\n\nText.")
    assert rendered.headings == ((2, "Q *&* A [draft]", "q-a-draft"),)
    assert rendered.passages[0].heading == "Q *&* A [draft]"


def test_every_anchor_is_on_the_page():
    rendered = render_body("europe", BODY)
    for passage in rendered.passages:
        assert f'id="{passage.anchor}"' in rendered.html


def test_same_text_same_id():
    first = render_body("europe", BODY).passages
    again = render_body("europe", BODY).passages
    assert [p.id for p in first] == [p.id for p in again]


def test_whitespace_only_edit_keeps_id():
    first = render_body("europe", "One  paragraph\nwrapped.\n").passages[0]
    second = render_body("europe", "One paragraph wrapped.\n").passages[0]
    assert first.id == second.id


def test_edited_paragraph_gets_new_id_and_others_keep_theirs():
    before = render_body("europe", BODY).passages
    after = render_body("europe", BODY.replace("First trade paragraph.", "Edited text.")).passages
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a.id != b.id]
    assert changed == [1]


def test_inserted_paragraph_leaves_existing_ids_alone():
    before = {p.id for p in render_body("europe", BODY).passages}
    after = {p.id for p in render_body("europe", "New opening.\n\n" + BODY).passages}
    assert before < after and len(after - before) == 1


def test_same_text_in_other_position_has_other_id():
    a = render_body("europe", "Shared words.").passages[0]
    b = render_body("climate", "Shared words.").passages[0]
    assert a.id != b.id


def test_repeated_paragraph_gets_distinct_ids():
    passages = render_body("europe", "Same.\n\nSame.\n").passages
    assert len({p.id for p in passages}) == 2


def test_raw_html_and_scripts_never_survive():
    rendered = render_body(
        "x",
        "<script>alert(1)</script>\n\nText <img src=x onerror=alert(1)> "
        "[link](javascript:alert(1)) <a href='javascript:alert(2)'>two</a>\n\n"
        "<style>p { display: none }</style><iframe src=https://example.org></iframe>\n\n"
        '<img alt="x><script>alert(3)</script>" src="data:image/png;base64,AA">\n',
    )
    assert "<script" not in rendered.html and "alert(1)</" not in rendered.html
    assert "onerror" not in rendered.html and "javascript:" not in rendered.html
    assert "<style" not in rendered.html and "display" not in rendered.html
    assert "<iframe" not in rendered.html and "<img" in rendered.html  # the src=x one
    assert "alert(3)" not in rendered.html  # an image emptied of its data: URL goes whole
    assert [p.text for p in rendered.passages] == ["Text link two"]


def test_raw_html_is_kept_as_the_site_generators_keep_it():
    """Jekyll, Hugo and MkDocs folders use HTML for links, anchors and tables: it is
    shown as HTML, sanitised, and its passages read as text, never as tags."""
    body = (
        'Read <a href="https://example.org/plan" class="btn" style="x">the plan</a>.\n\n'
        '<a id="arts-1"></a>\n\n'
        '<table class="usa-table">\n  <caption>Schedule</caption>\n'
        '  <tr><th scope="row">Homepage</th><td colspan="2">Weekly</td></tr>\n</table>\n\n'
        '<img alt="Pasted" src="data:image/png;base64,iVBORw0KGgo=">Pasted chart.\n'
    )
    rendered = render_body("arts", body)
    assert '<a href="https://example.org/plan" rel="noopener noreferrer">the plan</a>' in (
        rendered.html
    )
    assert 'id="arts-1"' in rendered.html  # in-page anchors keep working
    assert '<th scope="row">Homepage</th><td colspan="2">Weekly</td>' in rendered.html
    assert "class=" not in rendered.html and "style=" not in rendered.html
    assert "<img" not in rendered.html and "base64" not in rendered.html  # data: removed
    texts = [p.text for p in rendered.passages]
    assert "Read the plan." in texts
    assert "Schedule; Homepage; Weekly" in texts
    assert "Pasted chart." in texts
    assert not any("<" in text for text in texts) and "" not in texts  # an anchor is no passage


def test_html_comments_are_hidden_as_every_site_generator_hides_them():
    """Raw HTML is shown as text, but a comment shown would publish an editor's note."""
    body = (
        "Open trade <!-- check the figures --> matters.\n\n"
        "<!-- TODO: ask the policy team\nbefore publishing -->\n\n"
        "Write `<!-- this -->` in HTML.\n\n"
        "```html\n<!-- kept in code -->\n```\n\n"
        "An unclosed <!-- stays as written.\n"
    )
    rendered = render_body("europe", body)
    assert "check the figures" not in rendered.html and "TODO" not in rendered.html
    texts = [p.text for p in rendered.passages]
    assert texts[0] == "Open trade matters."
    assert not any("TODO" in text for text in texts)
    assert "Write <!-- this --> in HTML." in texts
    assert "<!-- kept in code -->" in texts
    assert "An unclosed <!-- stays as written." in texts


def test_tags_that_never_close_are_hidden_from_the_html_reader_and_shown_as_typed():
    """The HTML reader reads ahead from each "<" that starts a tag without ending it: a
    60 KB file of them took 25 s (the render budget is 10 s). So such a "<" never reaches
    it (code aside), and the page still shows it as typed."""
    from kb.content.render import _IncompleteTags

    lines = ["a <b c <a <a and `<i` and <em>x</em> </"]
    hidden = _IncompleteTags(None).run(lines)[0]
    assert hidden.count("<") == 3  # "<i" in code, "<em>" and "</em>": each a whole tag
    assert "`<i`" in hidden
    rendered = render_body("x", "a <b c and `<i` and <em>x</em>")
    assert rendered.passages[0].text == "a <b c and <i and x"
    assert "<em>x</em>" in rendered.html and "&lt;b c" in rendered.html
