"""Hugo shortcodes read as a reader of the Hugo site sees them: no tag shown as text,
no text lost into a broken link, code left as written."""

from __future__ import annotations

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
