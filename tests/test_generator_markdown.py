"""Markdown that Jekyll, Hugo and MkDocs folders write beyond the basics: footnotes
(all three), notes (MkDocs' admonitions, Material's collapsible ones) and MkDocs'
fence-less metadata. Each reads as the generator's own site shows it."""

from __future__ import annotations

import re

import markdown
from markdown.extensions.footnotes import FootnoteExtension

from kb.content.checks import check_folder
from kb.content.footnotes import Footnotes
from kb.content.loader import parse_position
from kb.content.render import render_body

SOURCED = """\
Housing is a right.[^statement] Rents have doubled.[^rents]

## Rents

Rents must fall.[^rents]

[^statement]: The founding statement, 2024.
[^rents]: Office for National Statistics,
    private rental index.
"""


def test_footnotes_show_on_the_page_and_are_one_citable_passage(write_position, make_app):
    write_position("housing", SOURCED, title="Housing")
    client = make_app().test_client()
    page = client.get("/positions/housing").get_data(as_text=True)
    assert re.search(
        r'right\.<sup id="fnref:statement"><a class="footnote-ref" href="#fn:statement"', page
    )
    assert '<li id="fn:rents">' in page and 'href="#fnref2:rents"' in page  # back to both
    found = client.get("/api/positions/housing").get_json()["passages"]
    passages = {p["url"].partition("#")[2]: p for p in found}
    # the words, without the marks that lead around the page
    assert passages["intro-1"]["text"] == "Housing is a right. Rents have doubled."
    assert passages["rents-1"]["text"] == "Rents must fall."
    notes = passages["notes-1"]
    assert notes["heading"] == "Notes"
    assert notes["text"] == (
        "The founding statement, 2024. Office for National Statistics, private rental index."
    )
    quoted = {p.anchor: p.html for p in render_body("housing", SOURCED).passages}
    assert "↩" not in quoted["notes-1"] and "<sup" not in quoted["intro-1"]
    # the notes have their Cite control on the page, as every passage has
    assert notes["cite_url"] in page
    results = client.get("/api/search?q=rental+index").get_json()["results"]
    assert results[0]["slug"] == "housing"


def test_footnote_ids_are_python_markdowns_own():
    """Each further reference to a note is numbered at once (the extension tried every
    number from 2 up: 20,000 references to one note took 165 s), with the same ids."""
    body = "a[^1] b[^x] c[^1] d[^1] e[^x] f[^nope]\n\n[^1]: One.\n[^x]: Ex.\n[^unused]: U.\n"
    ours = markdown.markdown(body, extensions=[Footnotes()])
    theirs = markdown.markdown(body, extensions=[FootnoteExtension()])
    assert ours == theirs and 'id="fnref3:1"' in ours


def test_mkdocs_notes_read_as_notes():
    body = (
        'Intro.\n\n!!! warning "Rents are rising"\n    Act now.\n\n    Or pay more.\n\n'
        "??? tip\n    Folded in MkDocs, open here.\n\n"
        '???+ note "Open"\n    Already open.\n\n'
        "```\n??? note\n```\n"
    )
    rendered = render_body("x", body, "x.md")
    assert '<div class="admonition warning" id="intro-2">' in rendered.html
    assert '<p class="admonition-title">Rents are rising</p>' in rendered.html
    texts = [p.text for p in rendered.passages]
    assert texts == [
        "Intro.",
        "Rents are rising Act now. Or pay more.",
        "Tip Folded in MkDocs, open here.",
        "Open Already open.",
        "??? note",  # code is left as written
    ]


def test_only_the_notes_classes_survive_the_sanitiser():
    html = render_body(
        "x",
        '<div class="admonition note evil" onclick="x()">Raw.</div>\n\n'
        '<p class="big">Styled.</p>\n\n<a class="footnote-ref x" href="https://e.org">l</a>\n',
    ).html
    assert '<div class="admonition note"' in html and "onclick" not in html
    assert "<p>Styled.</p>" in html.replace(' id="intro-2"', "")  # no empty class=""
    assert '<a class="footnote-ref" href="https://e.org"' in html


MKDOCS_PAGE = """\
Title:   Fair pay
Summary: Everyone should earn
         enough to live on.
Authors: Policy team
    Waylan Limberg
Tags:    Work, Pay
Date:    2018-07-10
Status:  final

Our position on pay.
"""


def test_mkdocs_fenceless_metadata_is_read_with_its_lines(positions_dir):
    path = positions_dir / "fair-pay.md"
    path.write_text(MKDOCS_PAGE.replace("Status:  final\n", ""), "utf-8")
    position = parse_position("fair-pay.md", path.read_text("utf-8")).position
    assert position is not None
    assert (position.title, position.summary) == (
        "Fair pay",
        "Everyone should earn enough to live on.",
    )
    assert position.authors == ("Policy team", "Waylan Limberg")
    assert position.topics == ("work", "pay") and str(position.updated) == "2018-07-10"
    assert [p.text for p in position.passages] == ["Our position on pay."]
    path.write_text(MKDOCS_PAGE, "utf-8")
    assert [str(p) for p in check_folder(positions_dir)] == [
        "fair-pay.md:8: status: unknown value 'final'; use one of adopted, draft, archived"
    ]


def test_a_first_line_that_only_looks_like_metadata_stays_text():
    """Lines are metadata only when the whole first block is 'Key: value' lines and one
    is the title."""
    for text in (
        "Note: read this first.\n\nBody.\n",
        "Title: X\nthen a sentence.\n\nBody.\n",
        "\nTitle: after a blank line\n\nBody.\n",
        "Date: next Tuesday\nVenue: Town Hall\n\nBody.\n",
    ):
        position = parse_position("page.md", text).position
        assert position is not None and position.title == "Page"
        assert position.passages[0].text == " ".join(text.split("\n\n")[0].split())


def test_a_footnote_is_not_a_link_to_check(positions_dir):
    """ "[^1]: …" defines a note, not a link: a file name or an address in its text is
    just text, while "[1]: …" still links."""
    (positions_dir / "fair-pay.md").write_text(
        "# Fair pay\n\nPay.[^1] [Plan][2]\n\n[^1]: old-plan.md, /positions/gone\n"
        "[2]: missing-plan.md\n",
        "utf-8",
    )
    assert [p.message for p in check_folder(positions_dir)] == [
        "link to missing-plan.md goes nowhere: there is no file missing-plan.md; "
        "fix the file name in the link or remove the link"
    ]


def test_a_headings_own_id_is_its_anchor_and_attribute_lists_are_not_text():
    """Hugo, MkDocs (attr_list) and kramdown give a heading its id with "{#id}"; the
    folder's own links use it. Its passages keep anchors from its words."""
    rendered = render_body(
        "ux",
        "[Personas](#personas) first.\n\n## Personas {#personas}\n\nUsers, imagined.\n\n"
        "## Surveys {#toc1}\n\nAsk [them](https://e.org){.external}.\n",
    )
    assert [h[1:] for h in rendered.headings] == [("Personas", "personas"), ("Surveys", "toc1")]
    assert '<a href="#personas"' in rendered.html and '<h2 id="personas">' in rendered.html
    assert [(p.anchor, p.text) for p in rendered.passages[1:]] == [
        ("personas-1", "Users, imagined."),
        ("surveys-1", "Ask them."),
    ]


def test_the_generators_instruction_lines_are_not_passages():
    """just-the-docs' "{: .no_toc }" and "1. TOC / {:toc}", MkDocs' "[TOC]": the site reads
    them and shows none; "{: #id}" under a heading still names its anchor."""
    body = (
        "# Fair pay\n{: .fs-9 }\n\n## Contents\n{: .no_toc .text-delta }\n\n"
        "1. TOC\n{:toc}\n\n[TOC]\n\n## Wages\n{: #pay }\n\nPay more.\n{: .lead }\n\n"
        "{: .orphan }\n\n```\n{: .kept }\n[TOC]\n```\n"
    )
    rendered = render_body("x", body)
    assert [p.text for p in rendered.passages] == ["Pay more.", "{: .kept } [TOC]"]
    assert [h[1:] for h in rendered.headings] == [
        ("Fair pay", "fair-pay"),
        ("Contents", "contents"),
        ("Wages", "pay"),
    ]


JEKYLL_PAGE = """\
{% include _toc.html %}

See [our plan]({% post_url 2016-07-26-fair-pay %}), [housing]({% link _policies/Housing.md %})
and [home]({{ site.baseurl }}/about); `{% include x.html %}` is code.

{% comment %}
A draft nobody should read.
{% endcomment %}

{% raw %}Write {{ page.title }} or {% include y %}{% endraw %} to show them.

{% highlight python %}
print("<b>pay</b>")
{% endhighlight %}

{% if site.show %}Shown either way.{% endif %}
"""


def test_jekylls_liquid_tags_read_as_its_site_shows_them():
    rendered = render_body("x", JEKYLL_PAGE, "_policies/x.md")
    assert [p.text for p in rendered.passages] == [
        "See our plan, housing and home; {% include x.html %} is code.",
        "Write {{ page.title }} or {% include y %} to show them.",
        'print("<b>pay</b>")',
        "Shown either way.",
    ]
    links = re.findall(r'<a href="([^"]*)"', rendered.html)
    assert links == ["/positions/2016-07-26-fair-pay", "/positions/housing", "/about"]
    assert '<pre><code>print("&lt;b&gt;pay&lt;/b&gt;")\n</code></pre>' in rendered.html


def test_an_unclosed_raw_tag_shows_the_rest_as_written():
    text = "Before {% include a %} then {% raw %} and {% include b %}" + " {% raw %}" * 2000
    passages = render_body("x", text).passages
    assert passages[0].text == " ".join(text.replace("{% include a %}", "").split())


def test_kb_check_names_a_jekyll_link_to_a_file_no_file_is_named(positions_dir):
    (positions_dir / "_posts").mkdir()
    (positions_dir / "2016-07-26-fair-pay.md").write_text("# Fair pay\n\nPay.\n", "utf-8")
    (positions_dir / "home.md").write_text(
        "# Home\n\n[Pay]({% post_url 2016-07-26-fair-pay %}) and "
        "[rent]({% link _policies/rent.md %}).\n",
        "utf-8",
    )
    assert [str(p) for p in check_folder(positions_dir)] == [
        "home.md:3: link to '_policies/rent.md' goes nowhere: no file in the folder is named "
        "rent.md; fix or remove the link"
    ]


def test_kb_check_reads_what_jekylls_tags_leave(positions_dir):
    """Code in a highlight block is shown as code, not removed as raw HTML; a skipped
    heading level inside a comment is never on the page; lines keep their numbers."""
    (positions_dir / "code.md").write_text(
        "---\ntitle: Code\nsummary: Code.\n---\n{% highlight html %}\n<script>x()</script>\n"
        "{% endhighlight %}\n\n{% comment %}\n#### Draft\n{% endcomment %}\n\n"
        '{% raw %}<iframe src="y"></iframe>{% endraw %}\n',
        "utf-8",
    )
    assert [str(p) for p in check_folder(positions_dir)] == [
        "code.md:13: warning: raw HTML '<iframe src=\"y\">' is removed from the page: only "
        "safe HTML is kept (links, images from web addresses, tables, lists, text styles)"
    ]


def test_a_raw_block_is_read_to_its_own_end_whatever_it_holds():
    from kb.content.liquid import unwrap_liquid

    text = "{% raw %}a lone ` and {{ x }}{% endraw %} then `code` {% include y %}"
    assert unwrap_liquid(text) == "a lone ` and {{ x }} then `code` "
    split = "{%\nraw\n%}x{%\nendraw\n%}\nnext"
    assert unwrap_liquid(split).count("\n") == split.count("\n")  # lines keep their numbers
