"""Markdown folders written for other habits and tools become working sites unchanged.

Each style gets a small folder built here: plain folders with spaced names and setext
titles, Jekyll, Hugo and MkDocs. The tests index it as `flask kb index` does and read
the pages, topics, summaries, redirects and rewritten links back through the app.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from kb.content.checks import check, check_folder
from kb.content.loader import load_folder, parse_position
from kb.content.slug import MAX_SLUG_CHARS, file_slug, readable_name, slugify
from kb.index.build import update_index
from tests.conftest import STARTER

IPNZ = Path(__file__).resolve().parents[2] / "shared/corpora/internet-party-nz/policies"
if not IPNZ.is_dir():
    IPNZ = Path("/work/shared/corpora/internet-party-nz/policies")


def build(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path → text) under ``root``; a path ending in / is a folder."""
    for relative, text in files.items():
        path = root / relative
        if relative.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def slugs(client) -> set[str]:
    return {p["slug"] for p in client.get("/api/positions").get_json()["positions"]}


def messages(root: Path) -> list[str]:
    return [str(problem) for problem in check_folder(root)]


# --- addresses from any file name -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Respect Privacy.md", "respect-privacy"),
        ("AnimalWelfare.md", "animal-welfare"),
        ("cafés-and-high-streets.md", "cafes-and-high-streets"),
        ("Homelessness_Policy.md", "homelessness-policy"),
        ("LGBTQ+.md", "lgbtq"),
        ("Embracing the 15-Minute City Concept.md.md", "embracing-the-15-minute-city-concept"),
        ('A "Robin Hood Tax" On Tax.md', "a-robin-hood-tax-on-tax"),
        ("IPAConstitution.md", "ipa-constitution"),
        ("europe.md", "europe"),
        ("Политика занятости.md", "politika-zanyatosti"),
        ("Ελλάδα.md", "ellada"),
    ],
)  # fmt: skip
def test_addresses_from_any_file_name(name, slug):
    assert file_slug(name) == slug


def test_long_names_are_shortened_with_a_stable_distinct_suffix():
    first = file_slug("word " * 60 + "one.md")
    second = file_slug("word " * 60 + "two.md")
    assert len(first) <= MAX_SLUG_CHARS and len(second) <= MAX_SLUG_CHARS
    assert first != second
    assert first == file_slug("word " * 60 + "one.md")  # stable across runs
    assert re.fullmatch(r"(word-)+word-[0-9a-f]{8}", first)


def test_names_with_no_letters_get_distinct_addresses_never_section():
    first, second = file_slug("🌍.md"), file_slug("🌱.md")
    assert first != second
    assert re.fullmatch(r"position-[0-9a-f]{8}", first)
    assert slugify("中文政策", camel=True) == "zhong-wen-zheng-ce"


def test_readable_names():
    assert readable_name("Homelessness_Policy.md") == "Homelessness policy"
    assert readable_name("AnimalWelfare.md") == "Animal welfare"
    assert readable_name("cafes-and-high-streets.md") == "Cafes and high streets"
    assert readable_name("LGBTQ+.md") == "LGBTQ+"


def test_unclean_slug_is_cleaned_with_a_warning():
    result = parse_position("x.md", "---\ntitle: X\nslug: Fair Pay\n---\nText.\n")
    assert result.position.slug == "fair-pay"
    assert [str(p) for p in result.problems] == [
        "x.md:3: warning: slug: 'Fair Pay' is not lower-case words joined by hyphens; the "
        "address is 'fair-pay' (write 'slug: fair-pay' to say so)"
    ]


# --- titles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "body"),
    [
        (" Land Value Tax\n=====\n\nTax land.\n", "Land Value Tax", "Tax land."),
        ("Intro words.\n\n# The Title\n\nMore.\n", "The Title", "Intro words. More."),
        ("## Summary\n\nShort.\n", "Summary", "Short."),
        ("   # Indented\n\nText.\n", "Indented", "Text."),
        ("```\n# not a title\n```\n\nText.\n", "Plain name", "# not a title Text."),
    ],
)  # fmt: skip
def test_titles_from_headings_shown_once(text, title, body):
    position = parse_position("Plain_Name.md", text).position
    assert position.title == title
    assert " ".join(p.text for p in position.passages) == body
    assert "<h1" not in position.html  # the page renders the title itself, once


def test_front_matter_title_wins_and_an_opening_h1_is_not_repeated():
    text = "---\ntitle: Written\n---\n# Written\n\n# Later\n\nText.\n"
    position = parse_position("x.md", text).position
    assert position.title == "Written"
    assert position.html.count("<h1") == 1 and "Later" in position.html


# --- plain folders: spaced names, setext titles, readmes ------------------------------

PLAIN = {
    "Economy/Implement A Land Value Tax.md": (
        " Implement A Land Value Tax\n==========================\n\n"
        "We will tax the value of land. It is fair.\n\n"
        "See [the wealth tax](./Wealth%20Concentration%20Based%20Taxation.md#rates) too.\n"
    ),
    "Economy/Wealth Concentration Based Taxation.md": (
        "Wealth Concentration Based Taxation\n===\n\nTax great fortunes.\n\n## Rates\n\nLow.\n"
    ),
    "Economy/readme.md": (
        "# Economy\n\nOur economic policies:\n\n"
        "- [Wealth tax](./Wealth%20Concentration%20Based%20Taxation.md)\n"
        "- [Land tax](./Implement%20A%20Land%20Value%20Tax.md)\n"
    ),
    "Civil Liberties /Respect Privacy.md": "# Respect Privacy\n\nPrivacy is a right.\n",
    "Welfare And Work/Homelessness_Policy.md": "Everyone deserves a home. Build them.\n",
    "Welfare And Work/LGBTQ+.md": "LGBTQ+\n===\n\nEqual rights [at work](../Economy/readme.md).\n",
    "Welfare And Work/Embracing the 15-Minute City Concept.md.md": "# 15-Minute\n\nShops.\n",
    "Welfare And Work/Empty.md": "",
    "Drafts/": "",
    ".github/CONTRIBUTING.md": "# Contributing\n\nNot a policy.\n",
    "notes.txt": "not Markdown",
}  # fmt: skip


def test_plain_folder_check_names_only_real_problems(positions_dir):
    build(positions_dir, PLAIN)
    assert messages(positions_dir) == [
        "Welfare And Work/Empty.md:1: warning: file is empty, so it is skipped; write the "
        "position in it or delete it"
    ]


def test_plain_folder_becomes_a_site(positions_dir, publish):
    build(positions_dir, PLAIN)
    client = publish()
    assert slugs(client) == {
        "implement-a-land-value-tax", "wealth-concentration-based-taxation", "respect-privacy",
        "homelessness-policy", "lgbtq", "embracing-the-15-minute-city-concept",
    }  # fmt: skip
    land = client.get("/api/positions/implement-a-land-value-tax").get_json()
    assert land["title"] == "Implement A Land Value Tax"
    assert land["topics"] == ["economy"]
    assert land["summary"] == "We will tax the value of land."
    homeless = client.get("/api/positions/homelessness-policy").get_json()
    assert homeless["title"] == "Homelessness policy"
    assert client.get("/api/positions/respect-privacy").get_json()["topics"] == ["civil-liberties"]


def test_plain_folder_pages_links_and_topic_introductions(positions_dir, publish):
    build(positions_dir, PLAIN)
    client = publish()
    page = client.get("/positions/implement-a-land-value-tax").get_data(as_text=True)
    assert page.count("Implement A Land Value Tax</h1>") == 1
    assert 'href="/positions/wealth-concentration-based-taxation#rates"' in page
    assert '<p class="lead">' not in page  # a derived summary is not repeated above the body
    assert 'href="/topics/economy"' in page and ">Economy</a>" in page
    topic = client.get("/topics/economy").get_data(as_text=True)
    assert "<h1>Economy</h1>" in topic and "Our economic policies:" in topic
    assert 'href="/positions/wealth-concentration-based-taxation"' in topic
    civil = client.get("/topics/civil-liberties").get_data(as_text=True)
    assert "<h1>Civil Liberties</h1>" in civil  # the folder name, trailing space dropped
    lgbtq = client.get("/positions/lgbtq").get_data(as_text=True)
    assert 'href="/topics/economy"' in lgbtq
    assert client.get("/positions/readme").status_code == 404  # an introduction, no position
    found = client.get("/api/search?q=land+value").get_json()["results"]
    assert found[0]["slug"] == "implement-a-land-value-tax"


def test_link_to_a_missing_file_is_reported_with_its_line(positions_dir):
    build(positions_dir, {
        "Economy/readme.md": "# Economy\n\nSee [tax](./Wealth%20Tax.md).\n\n[out](../../x.md)\n",
        "Economy/Wealth Taxes.md": "# Wealth taxes\n\nText.\n",
    })  # fmt: skip
    assert messages(positions_dir) == [
        "Economy/readme.md:3: link to ./Wealth%20Tax.md goes nowhere: there is no file "
        "Economy/Wealth Tax.md; did you mean 'Economy/Wealth Taxes.md'?",
        "Economy/readme.md:5: link to ../../x.md leads out of the content folder; link to "
        "the page on the web instead, or copy the file into the folder",
    ]


def test_same_file_in_two_folders_is_one_duplicate_slug_error(positions_dir):
    build(positions_dir, {"A/Tax.md": "# Tax\n\nText.\n", "B/Tax.md": "# Tax\n\nText.\n"})
    errors = [p for p in check_folder(positions_dir) if p.is_error]
    assert [(p.path, p.message.split(";")[0]) for p in errors] == [
        ("B/Tax.md", "slug 'tax' is also used by A/Tax.md, which keeps the address"),
    ]


# --- Jekyll ------------------------------------------------------------------------

JEKYLL = {
    "Cannabis.md": (
        '---\nlayout: post\ntitle: Cannabis Policy\nexcerpt: "Legalise medical use"\n'
        "category: policies\ndate: 2015-01-01 00:00\ntags: [Healthcare, Drug Law]\n"
        "comments: true\nredirect_from:\n  - /policies/old-cannabis/\n---\n\n"
        "## Summary\n\nThe Internet Party recognises that current approaches do not work.\n"
    ),
    "SecretPlan.md": "---\ntitle: Secret\ndraft: true\n---\nNot yet.\n",
    "Unpublished.md": "---\ntitle: Hidden\npublished: false\n---\nNot yet.\n",
    "AnimalWelfare.md": (
        "---\ntitle: Animal Welfare\nauthor: Jane Doe\n"
        "last_modified_at: 2016-03-04T10:00:00+13:00\n---\nAnimals matter. A lot.\n"
    ),
}


def test_jekyll_folder(positions_dir, publish):
    build(positions_dir, JEKYLL)
    assert messages(positions_dir) == []
    client = publish()
    assert slugs(client) == {"cannabis", "animal-welfare"}  # drafts are not public
    cannabis = client.get("/api/positions/cannabis").get_json()
    assert (cannabis["title"], cannabis["summary"], cannabis["updated"]) == (
        "Cannabis Policy", "Legalise medical use", "2015-01-01",
    )  # fmt: skip
    assert cannabis["topics"] == ["healthcare", "drug-law", "policies"]
    page = client.get("/positions/cannabis").get_data(as_text=True)
    assert ">Drug Law</a>" in page  # the tag's label, as written
    assert '<p class="lead">Legalise medical use</p>' in page
    animals = client.get("/api/positions/animal-welfare").get_json()
    assert (animals["authors"], animals["updated"]) == (["Jane Doe"], "2016-03-04")
    moved = client.get("/policies/old-cannabis/")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/positions/cannabis")


# --- Hugo --------------------------------------------------------------------------

HUGO = {
    "content/news/_index.md": "---\ntitle: News\ndescription: What is new.\n---\nThe latest.\n",
    "content/news/open-data.md": (
        "---\ntitle: Open data\ndescription: Publish data openly.\nlastmod: 2024-02-03\n"
        "date: 2020-01-01T09:00:00Z\ncategories: [Open Government]\nweight: 3\n"
        "aliases:\n  - /2017/06/13/open-data-old/\n  - open-data-policy\ntoc: true\n"
        "featured: yes\n---\nGovernment data should be open.\n"
    ),
    "content/news/web-standards.md": (
        "---\ntitle: Web standards\nslug: standards\nauthors: [Sam]\nfeatured: no\n---\n"
        "Use the standards. See [open data](open-data.md).\n"
    ),
}


def test_hugo_folder_with_aliases(positions_dir, publish):
    build(positions_dir, HUGO)
    assert messages(positions_dir) == [
        "content/news/open-data.md:12: warning: unknown key 'featured' is ignored (also in 1 "
        "other file); known keys: title, slug, summary, topics, status, updated, authors, related, "
        "change_note"
    ]
    client = publish()
    assert slugs(client) == {"open-data", "standards"}
    data = client.get("/api/positions/open-data").get_json()
    assert (data["summary"], data["updated"], data["topics"]) == (
        "Publish data openly.", "2024-02-03", ["open-government"],
    )  # fmt: skip
    for old in (
        "/2017/06/13/open-data-old/",
        "/2017/06/13/open-data-old",
        "/positions/open-data-policy",
    ):
        moved = client.get(old)
        assert (moved.status_code, moved.headers["Location"]) == (301, "/positions/open-data")
    # the file name's address still leads to a position whose slug: replaced it
    moved = client.get("/positions/web-standards")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/positions/standards")
    assert client.get("/positions/nothing-here").status_code == 404
    assert client.post("/2017/06/13/open-data-old/").status_code in (404, 405)
    topic = client.get("/topics/news")
    assert topic.status_code == 200 and "The latest." in topic.get_data(as_text=True)


HUGO_TOML = {
    "content/work/fair-pay.md": (
        '+++\ntitle = "Fair pay"\ndate = 2024-03-05T10:00:00+01:00\nlastmod = 2025-01-10\n'
        'description = "A living wage for all."\ntags = ["Work", "Wages"]\ndraft = false\n'
        'weight = 3\naliases = ["/old/fair-pay/"]\n\n[params]\nhero = "pay.jpg"\n+++\n'
        "A living wage is the floor.\n"
    ),
    "content/work/plans.md": '+++\ntitle = "Plans"\ndraft = true\n+++\nLater.\n',
    # Hugo reads front matter after blank lines; Jekyll would not, and Hugo folders have it.
    "content/work/housing.md": (
        "\n\n---\n# How to edit: see the wiki\ntitle: Housing first\n---\n\nA home for everyone.\n"
    ),
    # ... but blank lines, then rules around a paragraph, are Markdown, not front matter.
    "content/work/rules.md": "\n---\nA paragraph between rules.\n\n---\n\nMore.\n",
}


def test_hugo_toml_front_matter(positions_dir, publish):
    build(positions_dir, HUGO_TOML)
    assert messages(positions_dir) == []
    client = publish()
    assert slugs(client) == {"fair-pay", "housing", "rules"}  # plans is a draft
    data = client.get("/api/positions/fair-pay").get_json()
    assert (data["title"], data["summary"], data["updated"], data["topics"]) == (
        "Fair pay", "A living wage for all.", "2025-01-10", ["work", "wages"],
    )  # fmt: skip
    moved = client.get("/old/fair-pay/")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/positions/fair-pay")
    assert client.get("/api/positions/housing").get_json()["title"] == "Housing first"
    rules = client.get("/positions/rules").get_data(as_text=True)
    assert "A paragraph between rules." in rules and "<hr" in rules


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('+++\ntitle = "Europe\nweight = 2\n+++\nText.\n',
         "x.md:2: front matter is not valid TOML: Illegal character '\\n'"),
        ('+++\ntitle = "Europe"\ntitle = "Again"\n+++\nText.\n',
         "x.md:3: front matter is not valid TOML: Cannot overwrite a value"),
        ('\n+++\ntitle = "Europe"\nupdated = "soon"\n+++\nText.\n',
         "x.md:4: updated: expected a date like 2026-11-26, got 'soon'"),
        ('+++\ntitle = "Europe"\n', "x.md:1: front matter starts with '+++' but has no closing "
         "'+++' line"),
    ],
    ids=["unclosed-string", "key-twice", "bad-date-after-blank-lines", "unclosed-fence"],
)  # fmt: skip
def test_toml_front_matter_problems_name_the_file_line(positions_dir, text, message):
    build(positions_dir, {"x.md": text})
    assert messages(positions_dir) == [message]


def test_character_references_in_titles_and_summaries_are_characters(positions_dir, publish):
    """As a site generator shows them: digitalgov writes ``Center&#8217;s``, ``&mdash;``."""
    build(positions_dir, {"texting.md": (
        "---\ntitle: The Center&#8217;s text messages\nsummary: Short &mdash; and clear.\n---\n"
        "Texts work.\n"
    )})  # fmt: skip
    client = publish()
    data = client.get("/api/positions/texting").get_json()
    assert (data["title"], data["summary"]) == ("The Center’s text messages", "Short — and clear.")
    page = client.get("/positions/texting").get_data(as_text=True)
    assert "Center’s" in page and "&amp;#8217;" not in page


# --- MkDocs ------------------------------------------------------------------------

MKDOCS = {
    "docs/index.md": "# Our Policies\n\nWelcome. Read [installing](guide/Install.md).\n",
    "docs/guide/index.md": "# The guide\n\nHow we work.\n",
    "docs/guide/Install.md": (
        "# Install\n\nFirst [the home](../index.md), then [other](other.md#part-two).\n"
    ),
    "docs/guide/other.md": "# Other\n\n## Part two\n\nText.\n",
    "mkdocs.yml": "site_name: Policies\n",
}


def test_mkdocs_folder(positions_dir, publish):
    build(positions_dir, MKDOCS)
    assert messages(positions_dir) == []
    client = publish()
    assert slugs(client) == {"install", "other"}  # index.md files introduce, not state
    page = client.get("/positions/install").get_data(as_text=True)
    assert 'href="/positions/other#part-two"' in page and 'href="/topics/docs"' in page
    assert 'id="part-two"' in client.get("/positions/other").get_data(as_text=True)
    assert "How we work." in client.get("/topics/guide").get_data(as_text=True)


def test_introductions_are_updated_incrementally(positions_dir, publish):
    build(positions_dir, MKDOCS)
    publish()
    (positions_dir / "docs/guide/index.md").write_text("# The guide\n\nRewritten.\n")
    client = publish()
    assert "Rewritten." in client.get("/topics/guide").get_data(as_text=True)


# --- a folder that is one page: Hugo's page bundles --------------------------------

BUNDLES = {
    "policies/_index.md": "---\ntitle: Policies\n---\nAll our policies.\n",
    "policies/fair-pay/index.md": "---\ntitle: Fair pay\n---\nA living wage for all.\n",
    "policies/fair-pay/images/chart.png": "not Markdown",
    "policies/Housing/README.md": "# Homes\n\nHomes for all.\n",
    "index.md": "# Welcome\n\nOur site.\n",
}


def test_an_index_or_readme_alone_in_its_folder_is_the_folders_page(positions_dir, publish):
    """Hugo's page bundle (policies/fair-pay/index.md beside its images) is the page
    "fair-pay" in the topic around it; so is a folder holding only a README.md. Hugo's
    _index.md, an index.md beside other pages, and the top one still introduce."""
    build(positions_dir, BUNDLES)
    assert messages(positions_dir) == []
    client = publish()
    assert slugs(client) == {"fair-pay", "housing"}
    fair_pay = client.get("/api/positions/fair-pay").get_json()
    assert (fair_pay["title"], fair_pay["topics"]) == ("Fair pay", ["policies"])
    assert client.get("/api/positions/housing").get_json()["title"] == "Homes"
    assert "All our policies." in client.get("/topics/policies").get_data(as_text=True)
    results = client.get("/api/search?q=living+wage").get_json()["results"]
    assert [r["slug"] for r in results] == ["fair-pay"]


@pytest.mark.parametrize("watched", [False, True])
def test_a_page_added_beside_a_bundle_makes_it_an_introduction(positions_dir, index_dir, watched):
    """The other way too when it goes; whether the whole folder is walked or only the
    files a watcher saw change are named, and the index.md itself never changed."""
    build(positions_dir, BUNDLES)
    _age(positions_dir)  # so that their unchanged sizes and times are trusted
    update_index(positions_dir, index_dir)
    cache: dict = {}  # the preview's checks keep one, as the index keeps its manifest
    assert set(check(positions_dir, cache).owners) == {"fair-pay", "housing"}
    beside = "policies/fair-pay/wages.md"
    build(positions_dir, {beside: "---\ntitle: Wages\n---\nPay rises.\n"})
    changed = {beside} if watched else None
    report = update_index(positions_dir, index_dir, changed=changed)
    assert (report.added, report.updated) == ([beside], ["policies/fair-pay/index.md"])
    assert slugs_in(positions_dir, index_dir) == {"housing", "wages"}
    assert set(check(positions_dir, cache, changed=changed).owners) == {"housing", "wages"}
    (positions_dir / beside).unlink()
    report = update_index(positions_dir, index_dir, changed=changed)
    assert (report.removed, report.updated) == ([beside], ["policies/fair-pay/index.md"])
    assert slugs_in(positions_dir, index_dir) == {"fair-pay", "housing"}
    assert set(check(positions_dir, cache, changed=changed).owners) == {"fair-pay", "housing"}


def test_two_bundles_of_one_name_are_one_duplicate_named_by_their_folders(positions_dir):
    build(positions_dir, {
        "policies/tax/index.md": "# Tax\n\nFair taxes.\n",
        "archive/tax/index.md": "# Old tax\n\nOld taxes.\n",
    })  # fmt: skip
    assert messages(positions_dir) == [
        "policies/tax/index.md:1: slug 'tax' is also used by archive/tax/index.md, which "
        "keeps the address; give this file its own 'slug: ...' or rename it"
    ]


def _age(folder: Path, seconds: int = 3600) -> None:
    for path in folder.rglob("*.md"):
        past = path.stat().st_mtime_ns - seconds * 10**9
        os.utime(path, ns=(past, past))


def slugs_in(positions_dir: Path, index_dir: Path) -> set[str]:
    from app import create_app

    config = {"TESTING": True, "KB_POSITIONS_DIR": str(positions_dir)}
    return slugs(create_app({**config, "KB_INDEX_DIR": str(index_dir)}).test_client())


# --- kb new ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    ["Back\\slash", 'Quote "and" colon: yes', " ".join(["word"] * 60), "Политика", "#1: 'x'"],
)
def test_kb_new_writes_valid_yaml_for_any_title(make_app, positions_dir, title):
    result = make_app(index=False).test_cli_runner().invoke(args=["kb", "new", title])
    assert result.exit_code == 0, result.output
    (position,) = load_folder(positions_dir).positions
    assert position.title == title
    assert len(position.slug) <= MAX_SLUG_CHARS


def test_kb_new_non_latin_titles_get_distinct_readable_addresses(make_app, positions_dir):
    runner = make_app(index=False).test_cli_runner()
    for title in ("Политика занятости", "Ελληνική πολιτική", "🌍", "🌱"):
        assert runner.invoke(args=["kb", "new", title]).exit_code == 0
    names = sorted(path.stem for path in positions_dir.glob("*.md"))
    assert names[:2] == ["elliniki-politiki", "politika-zanyatosti"]
    assert len(set(names)) == 4 and all(n.startswith("position-") for n in names[2:])


# --- real folders ------------------------------------------------------------------


def test_starter_positions_keep_their_addresses_and_anchors(starter_client):
    ledger = (STARTER / "citations.ledger.jsonl").read_text(encoding="utf-8").splitlines()
    lines = [json.loads(line) for line in ledger[1:]]
    entries = [e for e in lines if "id" in e]  # passage lines; version lines follow them
    current = [e for e in entries if e["last_seen"] is None]
    assert {path.stem for path in STARTER.glob("*.md")} == {e["slug"] for e in entries}
    for entry in current:
        page = starter_client.get(f"/positions/{entry['slug']}").get_data(as_text=True)
        assert f'id="{entry["anchor"]}"' in page, entry["id"]


@pytest.mark.skipif(not IPNZ.is_dir(), reason="the shared Internet Party corpus is not here")
def test_internet_party_jekyll_policies_as_they_are(tmp_path, make_app):
    folder = tmp_path / "positions"
    shutil.rmtree(folder)
    shutil.copytree(IPNZ, folder)
    assert [p for p in check_folder(folder) if p.is_error] == []
    client = make_app().test_client()
    listed = client.get("/api/positions").get_json()["positions"]
    assert len(listed) == 18
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", p["slug"]) for p in listed)
    cannabis = client.get("/api/positions/cannabis").get_json()
    assert cannabis["title"] == "Cannabis Policy"
    assert cannabis["summary"].startswith("Immediately legalise medical use of cannabis")
    assert cannabis["updated"] == "2015-01-01"
    assert {"healthcare", "cannabis"} <= set(cannabis["topics"])
    assert client.get("/api/positions/animal-welfare").status_code == 200
    found = client.get("/api/search?q=cannabis").get_json()["results"]
    assert found[0]["slug"] == "cannabis"
    found = client.get("/api/search?q=dolphins").get_json()["results"]
    assert found[0]["slug"] == "dolphins"


def test_a_252_character_file_name_has_a_page(positions_dir, publish):
    name = "A" + " long word" * 25 + "!"
    assert len(name + ".md") == 255
    (positions_dir / f"{name}.md").write_text("Text.\n", encoding="utf-8")
    client = publish()
    (slug,) = slugs(client)
    assert len(slug) <= MAX_SLUG_CHARS
    assert client.get(f"/positions/{slug}").status_code == 200


def test_an_unknown_key_is_reported_once_per_run(make_app, positions_dir):
    for name in ("a", "b", "c"):
        (positions_dir / f"{name}.md").write_text(f"---\ncolour: red\n---\n# {name}\n\nText.\n")
    runner = make_app(index=False).test_cli_runner()
    indexed = runner.invoke(args=["kb", "index"])
    assert indexed.exit_code == 0, indexed.output
    assert "unknown key" not in indexed.output  # kb index counts warnings; kb check lists them
    checked = runner.invoke(args=["kb", "check"])
    assert checked.output.count("unknown key 'colour'") == 1
    assert "unknown key 'colour' is ignored (also in 2 other files)" in checked.output


def test_folder_topics_must_be_in_topics_yml_where_it_exists(positions_dir):
    build(positions_dir, {
        "topics.yml": "economy: The economy\n",
        "Economy/Tax.md": "# Tax\n\nText.\n",
        "Health Care/Clinics.md": "# Clinics\n\nText.\n",
    })  # fmt: skip
    assert messages(positions_dir) == [
        "Health Care/Clinics.md:1: topics: 'health-care' is not in topics.yml; add it there "
        "or fix the spelling"
    ]


def test_unclean_topics_are_cleaned_with_their_label_kept(positions_dir, publish):
    build(positions_dir, {"x.md": "---\ntitle: X\ntopics: [Policies and Regulations]\n---\nT.\n"})
    client = publish()
    assert client.get("/api/positions/x").get_json()["topics"] == ["policies-and-regulations"]
    page = client.get("/positions/x").get_data(as_text=True)
    assert ">Policies and Regulations</a>" in page


def test_derived_summary_is_the_first_sentence_of_the_first_paragraph():
    text = "```\ncode first\n```\n\n- a list\n\nMr Smith said so. Then more.\n"
    position = parse_position("x.md", text).position
    assert (position.summary, position.summary_derived) == ("Mr Smith said so.", True)
    written = parse_position("y.md", "---\nsummary: Given.\n---\nFirst. Second.\n").position
    assert (written.summary, written.summary_derived) == ("Given.", False)


def test_links_to_a_bundle_lead_to_its_page(positions_dir, publish):
    """By relative path or by Hugo ref: its folder's address, which leads on to the page
    when the folder is one page; a section's _index.md to the topic page."""
    build(positions_dir, {
        **BUNDLES,
        "news/recap.md": (
            "# Recap\n\nSee [pay](../policies/fair-pay/index.md), "
            '[pay again]({{< ref "policies/fair-pay/index.md" >}}) and '
            '[all]({{< ref "/policies/_index.md" >}}).\n'
        ),
    })  # fmt: skip
    client = publish()
    page = client.get("/positions/recap").get_data(as_text=True)
    hrefs = re.findall(r'<a href="(/topics/[^"]*)"[^>]*>(pay|pay again|all)</a>', page)
    assert hrefs == [("/topics/fair-pay", "pay"), ("/topics/fair-pay", "pay again"),
                     ("/topics/policies", "all")]  # fmt: skip
    moved = client.get("/topics/fair-pay")
    assert (moved.status_code, moved.headers["Location"]) == (302, "/positions/fair-pay")
    assert client.get("/topics/policies").status_code == 200
    assert client.get("/topics/nothing-here").status_code == 404
