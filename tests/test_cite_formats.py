"""Every citation format, from one record: text, Markdown, BibTeX, CSL JSON, RIS."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from kb.cite.formats import (
    CitationRecord,
    as_bibtex,
    as_csl_json,
    as_markdown,
    as_ris,
    as_text,
    human_date,
)
from kb.cite.ledger import read_ledger
from kb.config import Settings
from kb.indexing import reindex

RECORD = CitationRecord(
    id="0123456789ab",
    slug="europe",
    title="Europe",
    section="Trade › Tariffs",
    quote="Tariffs are a tax on working families.",
    date="2026-11-12",
    url="https://positions.example.org/cite/0123456789ab",
    site="Positions",
    authors=("Policy team",),
    accessed="2026-12-01",
)
AWKWARD = CitationRecord(
    id="0123456789ab",
    slug="costs",
    title="Costs: 50% & {more} for #1_x ~ ^ \\ $",
    section="",
    quote="We {never} said } that; costs rose 5% & more.",
    date="",
    url="https://positions.example.org/cite/0123456789ab",
    site="Positions & Co",
    authors=(),
    accessed="2026-12-01",
    status="revised",
    changed_on="2026-12-05",
)


def parse_bibtex(text: str) -> tuple[str, str, dict[str, str]]:
    """A strict little parser for one @type{key, name = {value}, ...} entry.

    Braces must balance (a backslash escapes the next character), every field must be
    braced, and nothing may follow the closing brace: what BibTeX itself insists on.
    """
    head = re.match(r"\s*@(\w+)\{([^,\s{}]+),", text)
    assert head, "no @type{key, header"
    pos, fields = head.end(), {}
    while True:
        pos = _skip_space(text, pos)
        if text[pos] == "}":
            assert text[pos + 1 :].strip() == "", "text after the entry"
            return head.group(1), head.group(2), fields
        name = re.compile(r"(\w+)\s*=\s*\{").match(text, pos)
        assert name, f"no field at {text[pos : pos + 30]!r}"
        pos, depth, start = name.end(), 1, name.end()
        while depth:
            char = text[pos]
            if char == "\\":
                pos += 2
                continue
            depth += {"{": 1, "}": -1}.get(char, 0)
            pos += 1
        fields[name.group(1)] = text[start : pos - 1]
        pos = _skip_space(text, pos)
        if text[pos] == ",":
            pos += 1


def _skip_space(text: str, pos: int) -> int:
    while text[pos].isspace():
        pos += 1
    return pos


def test_human_dates():
    assert human_date("2026-11-02") == "2 November 2026"
    assert human_date("not a date") == "not a date"


def test_text_is_a_ready_to_paste_reference():
    assert as_text(RECORD) == (
        "“Tariffs are a tax on working families.” Policy team, “Europe”, section "
        "“Trade › Tariffs”, Positions, 12 November 2026. "
        "https://positions.example.org/cite/0123456789ab (accessed 1 December 2026)."
    )
    assert as_text(AWKWARD).endswith("This wording was revised on 5 December 2026.")


def test_markdown_is_a_quote_with_a_link():
    assert as_markdown(RECORD) == (
        "> Tariffs are a tax on working families.\n>\n"
        "> — [Europe › Trade › Tariffs](https://positions.example.org/cite/0123456789ab), "
        "Positions, 12 November 2026\n"
    )
    awkward = as_markdown(CitationRecord(**{**RECORD.__dict__, "title": "A [b] *c*",
                                            "quote": "1. not a list"}))  # fmt: skip
    assert awkward.startswith("> 1\\. not a list\n")
    assert "[A \\[b\\] \\*c\\* › Trade › Tariffs](" in awkward


@pytest.mark.parametrize("record", [RECORD, AWKWARD])
def test_bibtex_parses_as_one_balanced_misc_entry(record):
    kind, key, fields = parse_bibtex(as_bibtex(record))
    assert kind == "misc" and key == f"{record.slug}-0123456789ab"
    assert fields["url"] == record.url and fields["urldate"] == "2026-12-01"
    assert set(fields) >= {"author", "title", "publisher", "howpublished", "url", "note"}


def test_bibtex_fields_and_escaping():
    _, _, fields = parse_bibtex(as_bibtex(RECORD))
    assert fields["author"] == "{Policy team}"  # a corporate name BibTeX will not split
    assert fields["title"] == "{Europe: Trade › Tariffs}"
    assert (fields["year"], fields["date"]) == ("2026", "2026-11-12")
    assert "Tariffs are a tax on working families." in fields["note"]
    _, _, awkward = parse_bibtex(as_bibtex(AWKWARD))
    assert awkward["title"] == (
        r"{Costs: 50\% \& \{more\} for \#1\_x \textasciitilde{} \textasciicircum{} "
        r"\textbackslash{} \$}"
    )
    assert awkward["author"] == r"{Positions \& Co}"  # no authors: the publisher
    assert "year" not in awkward


def test_csl_json_has_the_required_fields():
    (item,) = json.loads(as_csl_json(RECORD))
    assert (item["id"], item["type"], item["title"]) == ("europe-0123456789ab", "webpage", "Europe")
    assert item["URL"] == RECORD.url and item["section"] == "Trade › Tariffs"
    assert item["author"] == [{"literal": "Policy team"}]
    assert item["issued"] == {"date-parts": [[2026, 11, 12]]}
    assert item["accessed"] == {"date-parts": [[2026, 12, 1]]}
    (awkward,) = json.loads(as_csl_json(AWKWARD))
    assert "issued" not in awkward and awkward["title"] == AWKWARD.title


def test_ris_starts_with_ty_and_ends_with_er():
    ris = as_ris(RECORD)
    lines = ris.split("\r\n")
    assert lines[0] == "TY  - ELEC" and lines[-2] == "ER  - " and lines[-1] == ""
    assert all(re.match(r"^[A-Z][A-Z0-9]  - ", line) for line in lines[:-1])
    tags = dict(line.split("  - ", 1) for line in lines[1:-2])
    assert (tags["TI"], tags["SE"], tags["AU"], tags["PY"]) == (
        "Europe",
        "Trade › Tariffs",
        "Policy team",
        "2026",
    )
    assert (tags["DA"], tags["UR"], tags["Y2"]) == ("2026/11/12", RECORD.url, "2026/12/01")


def test_the_api_serves_each_format_with_its_media_type(
    write_position, positions_dir, index_dir, make_app
):
    write_position("europe", "## Trade\n\nTariffs are a tax on working families.\n",
                   title="Europe", updated="2026-11-12")  # fmt: skip
    reindex(Settings.from_mapping({"KB_POSITIONS_DIR": str(positions_dir),
                                   "KB_INDEX_DIR": str(index_dir)}))  # fmt: skip
    client = make_app(index=False).test_client()
    (pid,) = read_ledger(positions_dir).entries
    expected = {
        "text": "text/plain; charset=utf-8",
        "markdown": "text/markdown; charset=utf-8",
        "bibtex": "application/x-bibtex; charset=utf-8",
        "csl-json": "application/vnd.citationstyles.csl+json; charset=utf-8",
        "ris": "application/x-research-info-systems; charset=utf-8",
    }
    for fmt, media_type in expected.items():
        response = client.get(f"/api/cite/{pid}?format={fmt}")
        assert response.status_code == 200 and response.headers["Content-Type"] == media_type
        assert f'filename="europe-{pid}.' in response.headers["Content-Disposition"]
    today = date.today()
    assert (
        client.get(f"/api/cite/{pid}?format=ris")
        .get_data(as_text=True)
        .count(f"Y2  - {today:%Y/%m/%d}")
        == 1
    )
    parse_bibtex(client.get(f"/api/cite/{pid}?format=bibtex").get_data(as_text=True))
    body = client.get(f"/api/cite/{pid}").get_json()
    assert set(body["formats"]) == set(expected)
    bad = client.get(f"/api/cite/{pid}?format=chicago")
    assert bad.status_code == 400 and bad.get_json()["error"] == (
        "format must be one of text, markdown, bibtex, csl-json, ris"
    )
    page = client.get(f"/cite/{pid}").get_data(as_text=True)
    for fmt in expected:
        assert f'<pre id="cite-{fmt}"' in page
        assert f'data-copy-target="cite-{fmt}" hidden>' in page
        assert f'href="/api/cite/{pid}?format={fmt}" download="europe-{pid}.' in page
