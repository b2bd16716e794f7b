"""One citation record, every format: text, Markdown, BibTeX, CSL JSON, RIS.

Also the page metadata reference managers read: Highwire Press ``citation_*`` tags and
schema.org JSON-LD, escaped so that no text can close the ``<script>`` element.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

FORMATS = ("text", "markdown", "bibtex", "csl-json", "ris")
LABELS = {
    "text": "Plain text",
    "markdown": "Markdown",
    "bibtex": "BibTeX",
    "csl-json": "CSL JSON",
    "ris": "RIS",
}
MEDIA_TYPES = {
    "text": "text/plain; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
    "bibtex": "application/x-bibtex; charset=utf-8",
    "csl-json": "application/vnd.citationstyles.csl+json; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
}
EXTENSIONS = {"text": "txt", "markdown": "md", "bibtex": "bib", "csl-json": "json", "ris": "ris"}
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True)
class CitationRecord:
    """Everything a citation says, whatever its format."""

    id: str  # the passage id ("" for a whole position)
    slug: str
    title: str  # the position's title
    section: str  # heading trail, may be ""
    quote: str  # the passage text as cited, may be ""
    date: str  # ISO date of the wording, may be ""
    url: str  # absolute, permanent
    site: str  # the publisher
    authors: tuple[str, ...]
    accessed: str  # ISO date
    status: str = "current"  # "current", "revised" or "withdrawn"
    changed_on: str = ""
    summary: str = ""
    keywords: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A citation key that is stable and safe in BibTeX, RIS and CSL."""
        return f"{self.slug}-{self.id}" if self.id else self.slug

    @property
    def creators(self) -> tuple[str, ...]:
        """Authors, or the publisher as a corporate author (reference managers want one)."""
        return self.authors or (self.site,)


def human_date(iso: str) -> str:
    """'2026-11-12' → '12 November 2026'; anything unparsable is returned as it is."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _date_parts(iso: str) -> list[int] | None:
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return None
    return [day.year, day.month, day.day]


def _status_sentence(record: CitationRecord) -> str:
    when = f" on {human_date(record.changed_on)}" if record.changed_on else ""
    if record.status == "revised":
        return f"This wording was revised{when}."
    if record.status == "withdrawn":
        return f"This passage was withdrawn{when}."
    return ""


def as_text(record: CitationRecord) -> str:
    """A ready-to-paste reference: quote, authors, title, section, site, date, URL."""
    parts = [f"“{record.quote}”"] if record.quote else []
    source = [", ".join(record.authors)] if record.authors else []
    source.append(f"“{record.title}”")
    if record.section:
        source.append(f"section “{record.section}”")
    source.append(record.site)
    if record.date:
        source.append(human_date(record.date))
    parts.append(", ".join(source) + ".")
    parts.append(f"{record.url} (accessed {human_date(record.accessed)}).")
    status = _status_sentence(record)
    return " ".join(parts + ([status] if status else []))


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_MARKDOWN_LINE_START = re.compile(r"^([-+]|\d+\.)(?=\s)")


def markdown_escape(text: str) -> str:
    """Text that Markdown shows literally, on one line."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return _MARKDOWN_LINE_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], escaped)


def _markdown_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def as_markdown(record: CitationRecord) -> str:
    """A block quote ending in a Markdown link to the permanent citation address."""
    label = record.title + (f" › {record.section}" if record.section else "")
    source = f"[{markdown_escape(label)}]({_markdown_url(record.url)}), {record.site}"
    if record.date:
        source += f", {human_date(record.date)}"
    status = _status_sentence(record)
    lines = [f"> {markdown_escape(record.quote)}", ">"] if record.quote else []
    lines.append(f"> — {source}" + (f". {markdown_escape(status)}" if status else ""))
    return "\n".join(lines) + "\n"


_BIBTEX_SPECIAL = str.maketrans({
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "$": r"\$",
    "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
})  # fmt: skip


def bibtex_escape(text: str) -> str:
    """Text safe inside a braced BibTeX value: specials escaped, braces balanced."""
    return " ".join(text.split()).translate(_BIBTEX_SPECIAL)


def as_bibtex(record: CitationRecord) -> str:
    """A ``@misc`` entry; corporate authors are double-braced so they are not split."""
    title = record.title + (f": {record.section}" if record.section else "")
    fields = [
        ("author", " and ".join("{" + bibtex_escape(a) + "}" for a in record.creators)),
        ("title", "{" + bibtex_escape(title) + "}"),
        ("publisher", bibtex_escape(record.site)),
        ("howpublished", "\\url{" + _bibtex_url(record.url) + "}"),
        ("url", _bibtex_url(record.url)),
    ]
    if record.date:
        fields += [("year", record.date[:4]), ("date", record.date)]
    fields.append(("urldate", record.accessed))
    note = _note(record)
    if note:
        fields.append(("note", bibtex_escape(note)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{record.key},\n{body}\n}}\n"


def _bibtex_url(url: str) -> str:
    return url.replace("{", "%7B").replace("}", "%7D").replace("\\", "%5C").replace(" ", "%20")


def _note(record: CitationRecord) -> str:
    parts = [f"Quoted passage: “{record.quote}”"] if record.quote else []
    status = _status_sentence(record)
    return " ".join(parts + ([status] if status else []))


def csl_item(record: CitationRecord) -> dict:
    """One CSL JSON item (type "webpage")."""
    item: dict = {
        "id": record.key,
        "type": "webpage",
        "title": record.title,
        "container-title": record.site,
        "publisher": record.site,
        "author": [{"literal": name} for name in record.creators],
        "URL": record.url,
    }
    if record.section:
        item["section"] = record.section
    issued = _date_parts(record.date)
    if issued:
        item["issued"] = {"date-parts": [issued]}
    accessed = _date_parts(record.accessed)
    if accessed:
        item["accessed"] = {"date-parts": [accessed]}
    note = _note(record)
    if note:
        item["note"] = note
    return item


def as_csl_json(record: CitationRecord) -> str:
    """A CSL JSON array holding the one item, as reference managers import it."""
    return json.dumps([csl_item(record)], ensure_ascii=False, indent=2) + "\n"


def as_ris(record: CitationRecord) -> str:
    """An RIS record (``TY  - ELEC`` … ``ER  - ``), CRLF line endings as the format asks."""
    lines = [("TY", "ELEC"), ("ID", record.key), ("TI", record.title)]
    if record.section:
        lines.append(("SE", record.section))
    lines += [("AU", name) for name in record.creators]
    lines += [("T2", record.site), ("PB", record.site)]
    if record.date:
        lines += [("PY", record.date[:4]), ("DA", record.date.replace("-", "/"))]
    lines += [("UR", record.url), ("Y2", record.accessed.replace("-", "/"))]
    note = _note(record)
    if note:
        lines.append(("N1", note))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {' '.join(value.split())}\r\n" for tag, value in lines)


RENDERERS = {
    "text": as_text,
    "markdown": as_markdown,
    "bibtex": as_bibtex,
    "csl-json": as_csl_json,
    "ris": as_ris,
}


def render(record: CitationRecord, fmt: str) -> str:
    """``record`` in format ``fmt`` (one of FORMATS); raises KeyError for others."""
    return RENDERERS[fmt](record)


def highwire_tags(record: CitationRecord) -> list[tuple[str, str]]:
    """Highwire Press ``citation_*`` meta tags (read by Zotero and Google Scholar)."""
    tags = [("citation_title", record.title)]
    tags += [("citation_author", name) for name in record.creators]
    if record.date:
        tags.append(("citation_publication_date", record.date.replace("-", "/")))
    tags += [
        ("citation_publisher", record.site),
        ("citation_public_url", record.url),
        ("citation_fulltext_html_url", record.url),
        ("citation_language", "en"),
    ]
    if record.summary:
        tags.append(("citation_abstract", record.summary))
    if record.keywords:
        tags.append(("citation_keywords", "; ".join(record.keywords)))
    return tags


def json_ld(record: CitationRecord) -> dict:
    """schema.org metadata for a position page."""
    data: dict = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": record.title,
        "name": record.title,
        "url": record.url,
        "inLanguage": "en-GB",
        "author": [{"@type": "Organization", "name": name} for name in record.creators],
        "publisher": {"@type": "Organization", "name": record.site},
        "isAccessibleForFree": True,
    }
    if record.summary:
        data["description"] = record.summary
    if record.date:
        data["dateModified"] = record.date
    if record.keywords:
        data["keywords"] = list(record.keywords)
    return data


def script_json(data: object) -> str:
    """JSON safe inside ``<script type="application/ld+json">``: no text can end it."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(raw, escaped)
    return text
