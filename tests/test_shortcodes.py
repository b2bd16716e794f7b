"""Hugo shortcodes read as a reader of the Hugo site sees them: no tag shown as text,
no text lost into a broken link, code left as written."""

from __future__ import annotations

import re

from kb.content.checks import check_folder
from kb.content.render import render_body
from kb.content.shortcodes import unwrap_shortcodes

HUGO_PAGE = """\
{{< button href="https://www.challenge.gov/about/" text="Post a challenge" >}}

A growing [community of practice]({{< ref "challenges-prizes.md" >}}) for challenges and \
prizes, and [Testing 101]({{< relref "2013-11-21-testing.md" >}} "Testing") too.

[{{< legacy-img src="2014/05/api.jpg" alt="A graphic" >}}APIs]({{< ref "apis.md" >}}) help.

{{< note variant="alert" >}}
Agencies must register first.
{{< /note >}}

{{< youtube id="m9L-vJn6OlI" title="Cultivating a career in UX" >}}

{{% box %}}Inside a box.{{% /box %}}

Write `{{< ref "x.md" >}}` to link a page.

```
{{< highlight go >}}
```
"""


def test_a_hugo_page_reads_as_its_site_shows_it():
    rendered = render_body("challenges", HUGO_PAGE, "services/challenges.md")
    texts = [p.text for p in rendered.passages]
    assert texts[:6] == [
        "Post a challenge",
        "A growing community of practice for challenges and prizes, and Testing 101 too.",
        "APIs help.",
        "Agencies must register first.",
        "Cultivating a career in UX",
        "Inside a box.",
    ]
    assert '<a href="https://www.challenge.gov/about/" rel="noopener noreferrer">' in (
        rendered.html
    )
    assert 'href="https://www.youtube.com/watch?v=m9L-vJn6OlI"' in rendered.html
    # a ref to a Markdown file links to its page, by the file's name, as Hugo finds it
    links = re.findall(r'<a href="(/positions/[^"]*)"[^>]*>([^<]*)</a>', rendered.html)
    assert links == [
        ("/positions/challenges-prizes", "community of practice"),
        ("/positions/2013-11-21-testing", "Testing 101"),
        ("/positions/apis", "APIs"),
    ]
    assert 'Write {{< ref "x.md" >}} to link a page.' in texts  # code is left as written
    assert "{{&lt; highlight go &gt;}}" in rendered.html  # and so is fenced code
    assert not any("{{" in text for text in texts[:6])


def test_an_unsafe_button_keeps_its_text_but_not_its_address():
    shown = unwrap_shortcodes('{{< button href="javascript:alert(1)" text="Go [now]" >}}')
    assert shown == "Go \\[now\\]"


def test_line_breaks_inside_a_tag_are_kept():
    text = '{{< card-prompt intro="**In your words**\nline two" >}}\nNext line'
    assert unwrap_shortcodes(text) == "\n\nNext line"


def test_text_without_shortcodes_is_unchanged():
    for text in ("Plain {{ braces }} and {{< unclosed", "a }} b {{", ""):
        assert unwrap_shortcodes(text) == text


def test_a_ref_links_to_the_page_of_the_file_it_names(write_position, positions_dir, make_app):
    """Hugo finds a page by its unique file name, wherever its folder; so does the site,
    whose positions answer at their file name's address (a ``slug:`` keeps it as an
    alias). A ref by path alone goes to the topic of that name, which leads on to a page
    of that name when there is no such topic; one naming nothing is a 404."""
    (positions_dir / "news" / "2015").mkdir(parents=True)
    (positions_dir / "guides").mkdir()
    write_position("guides/personas-101", "Personas help.", slug="personas")
    page = positions_dir / "news" / "2015" / "recap.md"
    page.write_text(
        '---\ntitle: Recap\n---\nRead [personas]({{< ref "personas-101.md#why" >}}), '
        '[guides]({{< ref "/guides" >}}), [again]({{< relref "/guides/personas-101" >}}) '
        'or [mobile]({{< ref "/topics/mobile" >}}).\n',
        encoding="utf-8",
    )
    client = make_app().test_client()
    html = client.get("/positions/recap").get_data(as_text=True)
    linked = re.findall(r'<a href="([^"]*)"[^>]*>(personas|guides|again|mobile)</a>', html)
    assert linked == [
        ("/positions/personas-101#why", "personas"),
        ("/topics/guides", "guides"),
        ("/topics/personas-101", "again"),
        ("/topics/mobile", "mobile"),
    ]
    assert client.get("/positions/personas-101").status_code in (200, 301, 308)
    assert client.get("/topics/guides").status_code == 200
    again = client.get("/topics/personas-101")  # no such topic: the page of that name
    assert (again.status_code, again.headers["Location"]) == (302, "/positions/personas")
    assert client.get("/topics/mobile").status_code == 404


def test_kb_check_names_a_ref_to_a_file_no_file_is_named(positions_dir):
    """Hugo stops its build on a ref it cannot find; the check says which, and where. A
    ref that finds its file in another folder, a ref to a section and a ref shown in
    code are fine."""
    (positions_dir / "guides").mkdir()
    (positions_dir / "guides" / "personas-101.md").write_text("# Personas\n\nText.\n", "utf-8")
    (positions_dir / "recap.md").write_text(
        "# Recap\n\n"
        'Read [personas]({{< ref "personas-101.md#why" >}}).\n\n'
        'See [the guide]({{< relref "guides/persona-101.md" >}}) and '
        '{{< ref "dashboards.md" >}}.\n\n'
        '[mobile]({{< ref "/topics/mobile" >}}), and `{{< ref "example.md" >}}` in code.\n',
        "utf-8",
    )
    problems = [str(p) for p in check_folder(positions_dir) if p.path == "recap.md"]
    assert problems == [
        "recap.md:5: link to 'dashboards.md' goes nowhere: no file in the folder is named "
        "dashboards.md; fix or remove the link",
        "recap.md:5: link to 'guides/persona-101.md' goes nowhere: no file in the folder is "
        "named persona-101.md; did you mean 'guides/personas-101.md'?",
    ]
