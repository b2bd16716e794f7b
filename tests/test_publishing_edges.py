"""Where the one set of content rules meets folders written for other tools: a broken
file, a folder introduction or a same-named file never costs a published address, a
citation or a redirect, on any kind of build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app import create_app
from kb.config import Settings
from kb.indexing import reindex

PRIVACY = "---\ntitle: Respect privacy\nslug: privacy-rights\n---\nPrivacy is a right we defend.\n"
PRIVACY_BROKEN = "---\ntitle: Respect privacy\nslug: privacy-rights\nsummary: [unclosed\n---\nX.\n"


@pytest.fixture
def site(positions_dir: Path, index_dir: Path):
    """Write files, index as `flask kb index` does, and read what the public site shows."""

    class Site:
        settings = Settings.from_mapping(
            {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
        )

        def write(self, relative: str, text: str) -> None:
            path = positions_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

        def index(self, rebuild: bool = False):
            return reindex(self.settings, rebuild=rebuild)

        def client(self):
            config = {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
            return create_app({"TESTING": True, **config}).test_client()

        def fresh_clone(self) -> None:
            shutil.rmtree(index_dir)

    return Site()


def first_passage_id(client, slug: str) -> str:
    return client.get(f"/api/positions/{slug}").get_json()["passages"][0]["id"]


def test_broken_front_matter_keeps_a_written_slug_and_its_citations_on_a_fresh_clone(site):
    site.write("Respect Privacy.md", PRIVACY)
    site.index()
    passage = first_passage_id(site.client(), "privacy-rights")
    site.fresh_clone()
    site.write("Respect Privacy.md", PRIVACY_BROKEN)
    report = site.index()
    assert report.withheld == {"Respect Privacy.md": "privacy-rights"} and report.failed
    cited = site.client().get(f"/api/cite/{passage}").get_json()
    assert cited["status"] == "current"
    assert '"status": "withdrawn"' not in (
        site.settings.positions_dir / "citations.ledger.jsonl"
    ).read_text(encoding="utf-8")


@pytest.mark.parametrize("rebuild", [False, True])
def test_a_new_same_named_file_never_takes_a_published_address(site, rebuild):
    site.write("Zeta/Overview.md", "# Overview\n\nThe published overview.\n")
    site.index()
    site.write("Alpha/Overview.md", "# Overview\n\nA newcomer with the same name.\n")
    report = site.index(rebuild=rebuild)
    assert "Alpha/Overview.md" in report.skipped and "Zeta/Overview.md" not in report.skipped
    text = site.client().get("/api/positions/overview").get_json()["passages"][0]["text"]
    assert text == "The published overview."


@pytest.mark.parametrize("rebuild", [False, True])
def test_a_broken_folder_introduction_keeps_its_last_good_version(site, rebuild):
    site.write("Economy/README.md", "# Economy\n\nHow we think about the economy.\n")
    site.write("Economy/Tax.md", "# Tax\n\nFair taxes.\n")
    site.write("Health/README.md", "# Health\n\nHow we think about health.\n")
    site.write("Health/Clinics.md", "# Clinics\n\nLocal clinics.\n")
    site.index()
    site.write("Economy/README.md", "# Economy\n\nSee [gone](./Gone.md).\n")
    report = site.index(rebuild=rebuild)
    assert report.kept == ["Economy/README.md"]
    page = site.client().get("/topics/economy").get_data(as_text=True)
    assert "How we think about the economy." in page
    assert "How we think about health." in site.client().get("/topics/health").get_data(
        as_text=True
    )


def test_a_rebuild_keeps_a_broken_files_redirects_and_topic_labels(site):
    site.write(
        "Civil Liberties/Privacy.md",
        "---\ntitle: Privacy\naliases: [/old-privacy/]\n---\nPrivacy matters.\n",
    )
    site.index()
    assert site.client().get("/old-privacy/").status_code == 301
    site.write("Civil Liberties/Privacy.md", "---\ntitle: ''\naliases: [/old-privacy/]\n---\nX.\n")
    report = site.index(rebuild=True)
    assert report.kept == ["Civil Liberties/Privacy.md"]
    client = site.client()
    assert client.get("/old-privacy/").status_code == 301
    assert "Civil Liberties" in client.get("/topics/civil-liberties").get_data(as_text=True)


def test_search_instead_for_the_words_as_typed_keeps_doing_so_on_every_link(site):
    for number in range(4):
        site.write(
            f"p{number}.md", f"# Internet {number}\n\nInternet privacu and more, {number}.\n"
        )
    site.index()
    page = (
        site.client().get("/search?q=internet+privacu&spell=off&per_page=2").get_data(as_text=True)
    )
    assert "spell=off" in page.split('rel="next"', 1)[1].split(">", 1)[0]
