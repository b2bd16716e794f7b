"""`flask kb check`: every problem, `path:line: message` with the fix, then a summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import create_app
from kb.content import checks
from kb.content.checks import check_folder

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = FIXTURES / "broken"

EXPECTED = """\
broken/bad-yaml.md:2: front matter is not valid YAML: mapping values are not allowed here; \
if a value contains ': ', put the whole value in quotes, like title: "Europe: our future"
broken/dangling.md:6: topics: 'trad' is not in topics.yml; did you mean 'trade'?
broken/dangling.md:7: related: 'clmate' goes nowhere: no position has the slug 'clmate'; \
fix the slug or remove the reference
broken/dangling.md:12: link to /positions/eurpoe goes nowhere: no position has the slug \
'eurpoe'; did you mean 'europe'?
broken/dangling.md:14: warning: heading 'Details' skips a level (#### after #); make it ## \
so no level is skipped
broken/dangling.md:16: warning: link to /positions/draft-idea points to a draft, which the \
public site does not show; adopt draft-idea.md first or remove the reference
broken/duplicate-slug.md:3: slug 'europe' is also used by europe.md, which keeps the address; \
give this file its own 'slug: ...' or rename it
broken/empty.md:5: the body is empty; write the position below the front matter
broken/not-utf8.md:2: file is not valid UTF-8 (byte 0xe9); save it with UTF-8 encoding
broken/same-title.md:4: warning: title 'Europe' is also used by europe.md; give each position \
its own title
broken/trade.md:8: warning: unknown key 'colour' is ignored; known keys: title, slug, summary, \
topics, status, updated, authors, related, change_note
broken/wrong-types.md:4: topics: expected a list like [europe, trade], got a string ('europe')
broken/wrong-types.md:5: status: unknown value 'final'; use one of adopted, draft, archived
broken/wrong-types.md:6: updated: expected a date like 2026-11-26, got 'next week'
broken/wrong-types.md:7: authors: expected a list like [Policy team], got a number (42)
checked 11 files: 11 errors, 4 warnings
6 files with errors will not be published until they are fixed (a file already published \
keeps its last good version); warnings never stop publishing
"""


@pytest.fixture
def check(tmp_path, monkeypatch):
    """Run `flask kb check` over a folder, from tests/fixtures so paths read broken/..."""
    monkeypatch.chdir(FIXTURES)

    def run(folder: Path, *args: str):
        config = {"KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(tmp_path / "index")}
        app = create_app({"TESTING": True, **config})
        return app.test_cli_runner().invoke(args=["kb", "check", *args])

    return run


def test_non_utf8_fixture_really_is_latin1():
    data = (BROKEN / "not-utf8.md").read_bytes()
    assert b"Caf\xe9" in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


@pytest.mark.parametrize("processes", ["one process", "several processes"])
def test_broken_folder_text_output_is_exact(check, monkeypatch, processes):
    """The same report whether the files are read here or, as in a large folder, by
    several processes."""
    if processes == "several processes":
        monkeypatch.setattr(checks, "PARALLEL_FROM", 2)
    result = check(BROKEN)
    assert result.output == EXPECTED
    assert result.exit_code == 1


def test_broken_folder_json_output(check):
    result = check(BROKEN, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert {k: report[k] for k in ("ok", "files", "errors", "warnings")} == {
        "ok": False,
        "files": 11,
        "errors": 11,
        "warnings": 4,
    }
    assert report["problems"][0] == {
        "path": "broken/bad-yaml.md",
        "line": 2,
        "severity": "error",
        "message": "front matter is not valid YAML: mapping values are not allowed here; "
        "if a value contains ': ', put the whole value in quotes, like "
        'title: "Europe: our future"',
    }
    as_text = [
        f"{p['path']}:{p['line']}: {'warning: ' if p['severity'] == 'warning' else ''}"
        f"{p['message']}"
        for p in report["problems"]
    ]
    assert as_text == EXPECTED.split("\nchecked ")[0].splitlines()


def test_warnings_alone_exit_0(check, write_position, positions_dir):
    write_position("europe", "Text.", title="Europe", summary="S.", colour="[x]")
    result = check(positions_dir)
    assert result.exit_code == 0
    assert result.output.endswith("checked 1 file: 0 errors, 1 warning\n")


def test_outside_the_working_folder_paths_are_absolute(check, write_position, positions_dir):
    write_position("europe", raw="---\ntitle: Europe\nstatus: final\n---\nText.\n")
    result = check(positions_dir)
    assert result.output.splitlines()[0] == (
        f"{positions_dir}/europe.md:3: status: unknown value 'final'; "
        "use one of adopted, draft, archived"
    )


def test_missing_content_folder_is_a_clear_error(check, tmp_path):
    result = check(tmp_path / "nowhere")
    assert result.exit_code == 1
    assert f"Error: content folder not found: {tmp_path / 'nowhere'}" in result.output


def problems(folder: Path) -> list[str]:
    return [str(p) for p in check_folder(folder)]


# Front matter for a position whose body starts on line 7.
EUROPE_FRONT = "---\ntitle: Europe\nsummary: S.\nstatus: adopted\nupdated: 2026-01-01\n---\n"


def test_body_lines_are_real_file_lines(write_position, positions_dir):
    body = (
        "# Europe\n\nIntro.\n\n## Trade\n\nSee [x](/positions/nowhere).\n\n"
        "```\n#### not a heading\n[y](/positions/in-code)\n```\n\n#### Deep\n\n"
        "[ref]: /positions/gone\n"
    )
    write_position("europe", raw=EUROPE_FRONT + body)
    assert problems(positions_dir) == [
        "europe.md:13: link to /positions/nowhere goes nowhere: no position has the slug "
        "'nowhere'; fix the slug or remove the reference",
        "europe.md:20: warning: heading 'Deep' skips a level (#### after ##); make it ### so "
        "no level is skipped",
        "europe.md:22: link to /positions/gone goes nowhere: no position has the slug 'gone'; "
        "fix the slug or remove the reference",
    ]


def test_title_from_heading_duplicate_points_at_the_heading(write_position, positions_dir):
    write_position("a", "Text.", title="Fair pay", summary="S.")
    write_position("b", raw="---\nsummary: S.\n---\n\n# fair  PAY\n\nText.\n")
    assert problems(positions_dir) == [
        "b.md:5: warning: title 'fair  PAY' is also used by a.md; give each position its own title"
    ]


def test_impossible_date_and_empty_draft(write_position, positions_dir):
    write_position("a", raw="---\ntitle: A\nsummary: S.\nupdated: 2026-13-01\n---\nText.\n")
    write_position("b", raw="---\ntitle: B\nsummary: S.\nstatus: draft\n---\n")
    assert problems(positions_dir) == [
        "a.md:4: updated: expected a date like 2026-11-26, got '2026-13-01'",
        "b.md:5: warning: the body is empty; write the position below the front matter",
    ]


def test_links_to_a_broken_file_are_not_reported_twice(write_position, positions_dir):
    write_position("a", "See [b](/positions/b).", title="A", summary="S.", related="[b]")
    write_position("b", raw="---\ntitle: B\nstatus: final\n---\nText.\n")
    assert problems(positions_dir) == [
        "b.md:3: status: unknown value 'final'; use one of adopted, draft, archived"
    ]


def test_topic_list_problems(positions_dir, write_position):
    write_position("a", "Text.", title="A", summary="S.", topics="[europe]")
    (positions_dir / "topics.yml").write_text("europe: Europe\nYoung People: Young people\n")
    assert problems(positions_dir) == [
        "topics.yml:1: warning: 'Young People' is not a topic slug; use lower-case words "
        "joined by hyphens, like young-people"
    ]
    (positions_dir / "topics.yml").write_text("europe: Europe\n  bad: [\n")
    assert problems(positions_dir) == [
        "topics.yml:2: not valid YAML: mapping values are not allowed here; write one "
        "'slug: Label' line per topic, like 'young-people: Young people'"
    ]


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("title: X\ntopics: [a, b\n", "a list needs commas between items and a closing ']'"),
        ('title: "X\n', "a quoted value is missing its closing quote"),
        ("title: X\n\tsummary: y\n", "indent with spaces, not tabs"),
        ("title: `x`\n", "put a value that starts with @, ` or % in quotes"),
    ],
)
def test_yaml_mistakes_come_with_the_fix(positions_dir, write_position, front, message):
    write_position("a", raw=f"---\n{front}---\nText.\n")
    (found,) = problems(positions_dir)
    assert found.startswith("a.md:") and found.endswith(message)


def test_cache_rereads_only_changed_files(positions_dir, write_position, monkeypatch):
    write_position("a", "Text.", title="A", summary="S.")
    write_position("b", "See [a](/positions/a).", title="B", summary="S.")
    cache: dict = {}
    assert check_folder(positions_dir, cache) == []
    inspected = []
    real = checks.inspect_file
    monkeypatch.setattr(
        checks,
        "inspect_file",
        lambda root, path, data: inspected.append(path.name) or real(root, path, data),
    )
    (positions_dir / "a.md").unlink()
    write_position("c", "New.", title="C", summary="S.")
    found = [str(p) for p in check_folder(positions_dir, cache)]
    assert inspected == ["c.md"]
    assert found == [
        "b.md:7: link to /positions/a goes nowhere: no position has the slug 'a'; fix the "
        "slug or remove the reference"
    ]
    assert sorted(cache) == ["b.md", "c.md"]


def test_the_previews_checks_read_only_what_changed(
    write_position, positions_dir, index_dir, monkeypatch
):
    """The preview checks the folder after every save: unchanged files (same size and
    times) and an unchanged ledger are not read again."""
    from kb.cite import ledger
    from kb.config import Settings
    from kb.indexing import check_all, reindex
    from tests.file_audit import FileAudit
    from tests.test_incremental import _age

    for name in ("a", "b", "c"):
        write_position(name, f"Text {name}.")
    _age(positions_dir)
    settings = Settings.from_mapping(
        {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
    )
    reindex(settings)
    cache, memo, parsed = {}, {}, []
    parse = ledger.read_ledger
    monkeypatch.setattr(ledger, "read_ledger", lambda root: parsed.append(root) or parse(root))
    first = check_all(settings, cache, memo)
    write_position("b", "Changed text with a [broken link](/positions/nowhere).")
    with FileAudit().recording() as audit:
        second = check_all(settings, cache, memo)
    read = {Path(p).name for p in audit.paths if p.endswith(".md")}
    assert read == {"b.md"}
    assert [p for p in second if p.path == "b.md"] and not [p for p in first if p.path == "b.md"]
    assert len(parsed) == 1  # the unchanged ledger was parsed by the first check only
    assert second == check_all(settings)  # what `flask kb check` says, read from scratch


def test_raw_html_the_page_removes_is_named_once_at_its_first_line(write_position, positions_dir):
    body = (
        "Intro with `<iframe>` in code, an autolink <https://example.org>, a "
        '<a href="https://example.org">kept link</a> and <br/> a break.\n\n'
        "```\n<script>in a fence</script>\n```\n\n"
        '<iframe src="https://www.youtube.com/embed/a-very-long-video-address"></iframe>\n\n'
        '<img alt="Chart" src="data:image/png;base64,iVBORw0KGgo=">\n'
    )
    write_position("europe", raw=EUROPE_FRONT + body)
    assert problems(positions_dir) == [
        "europe.md:13: warning: raw HTML '<iframe src=\"https://www.youtube.com/em…' is "
        "removed from the page (and 1 more line): only safe HTML is kept (links, images "
        "from web addresses, tables, lists, text styles)",
    ]


def test_safe_html_and_plain_markdown_have_no_warning(write_position, positions_dir):
    body = 'a < b and c > d; x<y; `<b>`\n\n<table><tr><td><a href="/x">x</a></td></tr></table>\n'
    write_position("europe", raw=EUROPE_FRONT + body)
    assert problems(positions_dir) == []
