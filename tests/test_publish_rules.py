"""One set of content rules: `flask kb check`, `flask kb index` (fresh, --rebuild and
incremental) and the public site agree on what is published and what is wrong; one
duplicate-slug rule on every kind of build; a broken file never withdraws a citation."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from app import create_app
from kb.cite.ledger import LEDGER_FILE, read_ledger
from tests.conftest import front_matter

BUILDS = ("fresh", "rebuild", "incremental")
TOPICS = "europe: Europe\ntrade: Trade\nclimate: Climate\n"


def position(title: str, body: str, **fields) -> str:
    fields = {"title": title, "summary": "S.", "status": "adopted", "updated": "2026-11-01",
              **fields}  # fmt: skip
    return front_matter(**fields) + body + "\n"


GOOD = {
    "europe.md": position("Europe", "Europe good words.", topics="[europe]", related="[trade]"),
    "trade.md": position("Trade", "Trade good words, see [Europe](/positions/europe)."),
    "climate.md": position("Climate", "Climate good words.", topics="[climate]"),
}


def broken_europe(text: str) -> Callable[[Path], str]:
    def apply(folder: Path) -> str:
        (folder / "europe.md").write_text(text, encoding="utf-8")
        return "europe.md"

    return apply


def new_file(name: str, text: str) -> Callable[[Path], str]:
    def apply(folder: Path) -> str:
        (folder / name).write_text(text, encoding="utf-8")
        return name

    return apply


def not_utf8(folder: Path) -> str:
    (folder / "europe.md").write_bytes(position("Café", "Europe broken words.").encode("latin-1"))
    return "europe.md"


# One broken file each; the file named is the one with the error.
BROKEN = {
    "bad-yaml": broken_europe("---\ntitle: Europe: ours\n---\nEurope broken words.\n"),
    "unknown-topic": broken_europe(position("Europe", "Europe broken words.", topics="[jobs]")),
    "dangling-related": broken_europe(
        position("Europe", "Europe broken words.", related="[clmate]")
    ),
    "broken-link": broken_europe(
        position("Europe", "Europe broken words, [see](/positions/labour-achievments).")
    ),
    "status-typo": broken_europe(position("Europe", "Europe broken words.", status="adoptedd")),
    "empty-body": broken_europe(position("Europe", "")),
    "empty-title": broken_europe("---\ntitle: ''\nsummary: S.\n---\nEurope broken words.\n"),
    "not-utf8": not_utf8,
    "duplicate-slug": new_file("dup-slug.md", position("Dup", "Dup broken words.", slug="europe")),
    "new-file-unknown-topic": new_file(
        "jobs.md", position("Jobs", "Jobs broken words.", topics="[jobs]")
    ),
}


class Site:
    """A content folder, its index and ledger, driven through the CLI like an editor."""

    def __init__(self, base: Path) -> None:
        self.folder, self.index_dir = base / "positions", base / "search_index"
        self.folder.mkdir()
        (self.folder / "topics.yml").write_text(TOPICS, encoding="utf-8")
        for name, text in GOOD.items():
            (self.folder / name).write_text(text, encoding="utf-8")

    def app(self):
        config = {"KB_POSITIONS_DIR": str(self.folder), "KB_INDEX_DIR": str(self.index_dir)}
        return create_app({"TESTING": True, **config})

    def cli(self, *args: str):
        return self.app().test_cli_runner().invoke(args=["kb", *args])

    def check(self) -> dict[str, set[str]]:
        """kb check's errors by file, without the ledger's (which `kb index` resolves)."""
        report = json.loads(self.cli("check", "--format", "json").stdout)
        errors: dict[str, set[str]] = {}
        for p in report["problems"]:
            if p["severity"] == "error" and not p["path"].endswith(LEDGER_FILE):
                errors.setdefault(Path(p["path"]).name, set()).add(f"{p['line']}: {p['message']}")
        return errors

    def published(self) -> dict[str, str]:
        """What the public site shows: slug → the text of its passages."""
        client = self.app().test_client()
        listed = client.get("/api/positions").get_json()["positions"]
        shown = {}
        for item in listed:
            record = client.get(f"/api/positions/{item['slug']}").get_json()
            shown[item["slug"]] = " ".join(p["text"] for p in record["passages"])
        return shown


def index_errors(result) -> dict[str, set[str]]:
    """`kb index`'s error lines (on stderr), by file."""
    errors: dict[str, set[str]] = {}
    for line in result.stderr.splitlines():
        path, number, message = line.split(":", 2)
        errors.setdefault(Path(path).name, set()).add(f"{number}: {message.strip()}")
    return errors


def build(site: Site, kind: str, break_it: Callable[[Path], str]):
    """Break one file, then index it the given way; the good version was published
    first for every kind (a fresh build then starts from a fresh clone: ledger, no index)."""
    good = site.cli("index")
    assert good.exit_code == 0, good.output
    broken = break_it(site.folder)
    if kind == "fresh":
        shutil.rmtree(site.index_dir)
    return broken, site.cli("index", *(["--rebuild"] if kind == "rebuild" else []))


@pytest.mark.parametrize("kind", BUILDS)
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_check_index_and_site_agree_on_every_broken_file(tmp_path, case, kind):
    site = Site(tmp_path)
    broken, result = build(site, kind, BROKEN[case])
    checked = site.check()
    assert set(checked) == {broken}, checked  # the one broken file, and only it
    assert index_errors(result) == checked  # kb index names exactly what kb check names
    assert f"skipped {broken} ({len(checked[broken])} error" in result.stdout
    shown = site.published()
    was_published = broken == "europe.md"
    # Every other file is published in its current version ...
    assert {"trade", "climate"} <= set(shown)
    assert "Trade good words" in shown["trade"] and "Climate good words" in shown["climate"]
    assert not any("broken words" in text for text in shown.values())
    # ... and the broken one keeps its last good version, except on a fresh clone.
    if kind == "fresh" and was_published:
        assert "europe" not in shown
        assert result.exit_code == 1
        assert "it was published as /positions/europe and is now off the site" in result.stdout
    else:
        assert shown["europe"] == "Europe good words."
        assert result.exit_code == 0, result.output
    # The preview's rules are the same: its problem list names the same errors.
    preview = preview_errors(site)
    assert preview == checked


def preview_errors(site: Site) -> dict[str, set[str]]:
    from kb.config import Settings
    from kb.preview import LiveIndexer, PreviewState

    settings = Settings.from_mapping(
        {"KB_POSITIONS_DIR": str(site.folder), "KB_INDEX_DIR": str(site.index_dir)}
    )
    snapshot = LiveIndexer(settings, PreviewState()).refresh()
    errors: dict[str, set[str]] = {}
    for p in snapshot.problems:
        if p.is_error and not p.path.endswith(LEDGER_FILE):
            errors.setdefault(p.path, set()).add(f"{p.line}: {p.message}")
    return errors


def test_the_issue_11_position_is_not_published(tmp_path):
    site = Site(tmp_path)
    text = position("Economy", "Jobs words, see [x](/positions/labour-achievments).",
                    topics="[europe, jobs]", related="[nowhere]")  # fmt: skip
    (site.folder / "economy.md").write_text(text, encoding="utf-8")
    result = site.cli("index")
    assert (
        index_errors(result)
        == site.check()
        == {
            "economy.md": {
                "6: topics: 'jobs' is not in topics.yml; add it there or fix the spelling",
                "7: related: 'nowhere' goes nowhere: no position has the slug 'nowhere'; fix the "
                "slug or remove the reference",
                "9: link to /positions/labour-achievments goes nowhere: no position has the slug "
                "'labour-achievments'; fix the slug or remove the reference",
            }
        }
    )
    assert "index rebuilt: 3 added, 0 updated, 0 removed, 1 skipped with errors" in result.stdout
    assert "skipped economy.md (3 errors above): it is not on the site" in result.stdout
    assert "economy" not in site.published()
    assert site.app().test_client().get("/topics/jobs").status_code == 404
    assert "Jobs words" not in (site.folder / LEDGER_FILE).read_text(encoding="utf-8")


# One duplicate-slug rule ---------------------------------------------------------------

HOUSING = position("Housing and homes", "Housing words.")
NEWCOMER = position("Dup", "Newcomer words.", slug="housing-and-homes")
DUPLICATE_MESSAGE = (
    "slug 'housing-and-homes' is also used by housing-and-homes.md, which keeps the address; "
    "give this file its own 'slug: ...' or rename it"
)


@pytest.mark.parametrize("kind", BUILDS)
def test_the_file_named_as_the_slug_keeps_it_on_every_build(tmp_path, kind):
    site = Site(tmp_path)
    (site.folder / "housing-and-homes.md").write_text(HOUSING, encoding="utf-8")
    _, result = build(site, kind, new_file("dup-slug.md", NEWCOMER))
    expected = {"dup-slug.md": {f"6: {DUPLICATE_MESSAGE}"}}
    assert index_errors(result) == site.check() == expected
    assert site.published()["housing-and-homes"] == "Housing words."
    assert result.exit_code == 0, result.output


def test_the_file_named_as_the_slug_wins_even_when_it_comes_second(tmp_path):
    site = Site(tmp_path)
    (site.folder / "a-newcomer.md").write_text(NEWCOMER, encoding="utf-8")
    (site.folder / "housing-and-homes.md").write_text(HOUSING, encoding="utf-8")
    result = site.cli("index")
    assert index_errors(result) == {
        "a-newcomer.md": {f"6: {DUPLICATE_MESSAGE}"}
    }  # sorted first, and still the error
    assert site.published()["housing-and-homes"] == "Housing words."


INCUMBENT = position("Shared", "Incumbent words.", slug="shared")
CHALLENGER = position("Shared too", "Challenger words.", slug="shared")


@pytest.mark.parametrize("kind", BUILDS)
def test_the_position_already_published_keeps_its_slug_on_every_build(tmp_path, kind):
    """Neither file is named 'shared': the one published first keeps the address, though
    the newcomer comes first in sorted order; on a fresh clone the ledger says which."""
    site = Site(tmp_path)
    (site.folder / "zz-incumbent.md").write_text(INCUMBENT, encoding="utf-8")
    _, result = build(site, kind, new_file("aa-challenger.md", CHALLENGER))
    message = (
        "slug 'shared' is also used by zz-incumbent.md, which keeps the address; "
        "give this file its own 'slug: ...' or rename it"
    )
    assert index_errors(result) == site.check() == {"aa-challenger.md": {f"6: {message}"}}
    assert site.published()["shared"] == "Incumbent words."


def test_with_no_history_the_first_path_in_sorted_order_keeps_the_slug(tmp_path):
    site = Site(tmp_path)
    (site.folder / "zz-incumbent.md").write_text(INCUMBENT, encoding="utf-8")
    (site.folder / "aa-challenger.md").write_text(CHALLENGER, encoding="utf-8")
    result = site.cli("index")
    assert set(index_errors(result)) == set(site.check()) == {"zz-incumbent.md"}
    assert site.published()["shared"] == "Challenger words."


# A broken file never withdraws a citation ------------------------------------------------


def europe_ids(site: Site) -> set[str]:
    return {e.id for e in read_ledger(site.folder).entries.values() if e.slug == "europe"}


def test_a_fresh_build_of_a_broken_file_keeps_its_citations_current(tmp_path):
    site = Site(tmp_path)
    assert site.cli("index").exit_code == 0
    ids = europe_ids(site)
    BROKEN["status-typo"](site.folder)
    shutil.rmtree(site.index_dir)  # a fresh clone, a new deploy
    for _ in range(2):  # and again: still broken, still kept current
        result = site.cli("index")
        assert result.exit_code == 1
        assert (
            "skipped europe.md (1 error above): it was published as /positions/europe and "
            "is now off the site; its citations stay current until it is fixed"
        ) in result.stdout
        ledger = read_ledger(site.folder)
        assert all(ledger.entries[pid].is_current for pid in ids)
    client = site.app().test_client()
    assert client.get("/positions/europe").status_code == 404
    for pid in ids:
        cited = client.get(f"/api/cite/{pid}").get_json()
        assert (cited["status"], cited["text"]) == ("current", "Europe good words.")
        assert "withdrawn" not in client.get(f"/cite/{pid}").get_data(as_text=True)
    (site.folder / "europe.md").write_text(GOOD["europe.md"], encoding="utf-8")
    fixed = site.cli("index")
    assert fixed.exit_code == 0 and "1 added" in fixed.stdout
    assert site.published()["europe"] == "Europe good words."


def test_a_rebuild_keeps_the_last_good_version_and_its_citations(tmp_path):
    site = Site(tmp_path)
    assert site.cli("index").exit_code == 0
    ledger_before = (site.folder / LEDGER_FILE).read_bytes()
    BROKEN["status-typo"](site.folder)
    for args in (("--rebuild",), (), ("--rebuild",)):
        result = site.cli("index", *args)
        assert result.exit_code == 0, result.output
        assert "(1 still shows its last good version)" in result.stdout
        assert site.published()["europe"] == "Europe good words."
    assert (site.folder / LEDGER_FILE).read_bytes() == ledger_before  # nothing retired


# Layers ---------------------------------------------------------------------------------


def imports_of(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_content_rules_import_nothing_above_content():
    content = Path(__file__).resolve().parent.parent / "kb" / "content"
    for path in content.glob("*.py"):
        above = {
            name
            for name in imports_of(path)
            if name.startswith(("kb.cite", "kb.index", "kb.search", "kb.web", "kb.service"))
            or name.split(".")[0] in ("click", "flask")
        }
        assert above == set(), path.name


def test_an_unchanged_file_with_errors_is_read_again_only_when_it_can_go_live(
    tmp_path, monkeypatch
):
    from kb.index import build

    site = Site(tmp_path)
    (site.folder / "links.md").write_text(
        position("Links", "See [later](/positions/later)."), encoding="utf-8"
    )
    (site.folder / "broken.md").write_text("---\ntitle: [x\n---\nBody\n", encoding="utf-8")
    first = site.cli("index")
    assert set(index_errors(first)) == {"links.md", "broken.md"}
    read = []
    real = build.inspect_path
    monkeypatch.setattr(build, "inspect_path", lambda path, root: read.append(path.name)
                        or real(path, root))  # fmt: skip
    (site.folder / "later.md").write_text(position("Later", "Later words."), encoding="utf-8")
    result = site.cli("index")
    assert sorted(read) == ["later.md", "links.md"]  # links.md can go live now; broken.md not
    assert set(index_errors(result)) == {"broken.md"} == set(site.check())
    assert "index updated: 2 added" in result.stdout
    assert {"links", "later"} <= set(site.published())
