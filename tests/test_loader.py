"""Front matter and body → Position, with every problem as path:line: message."""

from __future__ import annotations

from kb.content.loader import load_folder, parse_position


def messages(text: str, path: str = "positions/europe.md") -> list[str]:
    return [str(p) for p in parse_position(path, text).problems]


def test_valid_file_becomes_position():
    result = parse_position(
        "europe.md",
        "---\ntitle: Europe\nsummary: Close partners.\ntopics: [europe, trade]\n"
        "status: adopted\nupdated: 2026-11-26\nauthors: [Policy team]\n---\n# Europe\n\nText.\n",
    )
    position = result.position
    assert result.problems == ()
    assert (position.slug, position.title, position.topics) == (
        "europe",
        "Europe",
        ("europe", "trade"),
    )
    assert position.updated.isoformat() == "2026-11-26"
    assert position.authors == ("Policy team",)
    assert [p.text for p in position.passages] == ["Text."]


def test_title_from_first_heading():
    result = parse_position("fair-pay.md", "---\nstatus: adopted\n---\n\n# Fair pay\n\nBody.\n")
    assert result.position.title == "Fair pay"
    assert "Fair pay" not in result.position.html  # the page renders the title itself


def test_no_title_takes_the_file_name_made_readable():
    result = parse_position("Economy/Homelessness_Policy.md", "---\nstatus: adopted\n---\nText.\n")
    assert result.problems == ()
    assert (result.position.title, result.position.slug) == (
        "Homelessness policy",
        "homelessness-policy",
    )


def test_empty_title_is_an_error():
    assert messages("---\ntitle: ''\n---\nJust text.\n") == [
        "positions/europe.md:2: title: is empty; write the position's title"
    ]


def test_bad_yaml_names_the_line():
    text = "---\ntitle: Europe\ntopics: [europe, trade\nstatus: adopted\n---\nBody\n"
    assert messages(text) == [
        "positions/europe.md:4: front matter is not valid YAML: expected ',' or ']', but got ':'"
    ]


def test_unclosed_front_matter():
    assert messages("---\ntitle: Europe\n\nBody\n") == [
        "positions/europe.md:1: front matter starts with '---' but has no closing '---' line"
    ]


def test_every_problem_reported_at_once_with_real_lines():
    text = (
        "---\n"
        "title: Europe\n"
        "topics: europe\n"
        "status: final\n"
        "updated: 26/11/2026\n"
        "authors: Policy team\n"
        "colour: red\n"
        "---\nBody\n"
    )
    assert messages(text) == [
        "positions/europe.md:3: topics: expected a list like [europe, trade], "
        "got a string ('europe')",
        "positions/europe.md:4: status: unknown value 'final'; use one of adopted, draft, archived",
        "positions/europe.md:5: updated: expected a date like 2026-11-26, got '26/11/2026'",
        "positions/europe.md:6: authors: expected a list like [Policy team], "
        "got a string ('Policy team')",
        "positions/europe.md:7: warning: unknown key 'colour' is ignored; known keys: title, "
        "slug, summary, topics, status, updated, authors, related, change_note",
    ]


def test_wrong_type_for_title():
    assert messages("---\ntitle: [a, b]\n---\nBody\n") == [
        "positions/europe.md:2: title: expected text like 'title: Fair pay', got a list"
    ]


def test_unknown_key_is_only_a_warning():
    result = parse_position("europe.md", "---\ntitle: Europe\ncolor: red\n---\nBody\n")
    assert result.position is not None
    assert [p.severity for p in result.problems] == ["warning"]


def test_not_utf8_names_the_line(positions_dir):
    (positions_dir / "latin.md").write_bytes(b"---\ntitle: Caf\xe9\n---\nBody\n")
    collection = load_folder(positions_dir)
    assert [str(p) for p in collection.problems] == [
        "latin.md:2: file is not valid UTF-8 (byte 0xe9); save it with UTF-8 encoding"
    ]
    assert collection.positions == ()


def test_duplicate_slug_is_an_error(write_position):
    from kb.content.checks import check_folder

    write_position("europe", title="Europe")
    write_position("europe-two", title="Europe again", slug="europe")
    folder = write_position("x").parent
    # The rule lives in kb.content.rules: the file named as the slug keeps it.
    assert (
        "europe-two.md:3: slug 'europe' is also used by europe.md, which keeps the address; "
        "give this file its own 'slug: ...' or rename it"
    ) in [str(p) for p in check_folder(folder)]


def test_hidden_and_underscore_files_are_not_positions(positions_dir, write_position):
    write_position("europe")
    (positions_dir / "_draft-notes.md").write_text("notes", encoding="utf-8")
    (positions_dir / ".hidden.md").write_text("notes", encoding="utf-8")
    assert [p.slug for p in load_folder(positions_dir).positions] == ["europe"]


def test_starter_content_is_valid():
    from tests.conftest import STARTER

    collection = load_folder(STARTER)
    assert collection.problems == ()
    assert len(collection.positions) >= 10
