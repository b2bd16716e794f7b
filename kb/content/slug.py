"""Addresses and anchors from names: the one place text becomes a slug.

Every address (``/positions/<slug>``), topic slug and heading anchor is made here, so a
file name, a ``slug:`` value, a tag and ``kb new`` can never disagree about what a name
becomes. A slug is lower-case ASCII letters, digits and single hyphens, at most
``MAX_SLUG_CHARS`` long.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import PurePosixPath

from anyascii import anyascii

from kb.limits import MAX_ADDRESS_CHARS

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_CHARS = MAX_ADDRESS_CHARS  # the longest address the site answers
HASH_CHARS = 8  # of the stable suffix that keeps shortened or untransliterable slugs apart
MARKDOWN_SUFFIXES = (".md", ".markdown")
INTRO_NAMES = frozenset({"readme.md", "index.md", "_index.md"})  # folder introductions

_SEPARATORS = re.compile(r"[^a-z0-9]+")
# A capital that starts a word inside a name: "AnimalWelfare", "IPAConstitution".
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def fold(text: str) -> str:
    """``text`` in ASCII: accents dropped (``café`` → ``cafe``), other scripts transliterated
    (``Политика`` → ``Politika``), symbols without a letter equivalent removed.

    Accents are folded by Unicode decomposition first, exactly as anchors always were,
    so existing anchors keep their spelling; only letters that decomposition would lose
    (``ß``, ``ø``, Cyrillic, Greek, CJK...) are transliterated.
    """
    out: list[str] = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        decomposed = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        if decomposed:
            out.append(decomposed)
        elif char.isalnum():
            out.append(anyascii(char))
        elif char.isspace():
            out.append(" ")
    return "".join(out)


def stable_suffix(text: str) -> str:
    """A short hash of ``text``: the same text always gives the same suffix."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def shorten(slug: str, limit: int = MAX_SLUG_CHARS) -> str:
    """``slug`` if it fits, else cut at a hyphen and ended with a stable hash of the whole.

    Two long names that share their first ``limit`` characters still get distinct slugs.
    """
    if len(slug) <= limit:
        return slug
    room = limit - HASH_CHARS - 1
    head = slug[:room]
    if "-" in head and slug[room] != "-":
        head = head.rsplit("-", 1)[0]
    return f"{head.strip('-')}-{stable_suffix(slug)}"


def slugify(
    text: str, fallback: str = "section", *, camel: bool = False, anchor: bool = False
) -> str:
    """A readable, URL-safe slug: ``'Trade & Europe'`` → ``'trade-europe'``.

    ``camel`` also splits words joined in CamelCase (``AnimalWelfare`` →
    ``animal-welfare``), as file names often are. Apostrophes join words
    (``Labour's`` → ``labours``), except in heading anchors (``anchor``), which keep the
    spelling published citations already link to (``labour-s``). Text with nothing to
    keep (emoji, punctuation) gives ``fallback`` plus a stable hash of the text, so two
    such names never share an address; anchors use plain ``fallback`` (the page numbers
    repeats), and an empty ``text`` gives ``fallback`` alone.
    """
    folded = fold(text)
    if not anchor:
        folded = folded.replace("'", "")
    if camel:
        folded = _CAMEL.sub("-", folded)
    slug = _SEPARATORS.sub("-", folded.lower()).strip("-")
    if slug:
        return shorten(slug)
    return fallback if anchor or not text.strip() else f"{fallback}-{stable_suffix(text)}"


def anchor_slug(text: str) -> str:
    """A heading's anchor: ``slugify`` as anchors have always been spelled."""
    return slugify(text, anchor=True)


def clean_slug(text: str) -> str:
    """An editor's ``slug:`` or topic made valid: already-clean values are unchanged."""
    return (
        text if SLUG_RE.match(text) and len(text) <= MAX_SLUG_CHARS else slugify(text, "position")
    )


def file_stem(name: str) -> str:
    """A file name without its Markdown suffix, doubled ones too (``x.md.md`` → ``x``)."""
    stem = name
    while stem.lower().endswith(MARKDOWN_SUFFIXES):
        stem = stem[: stem.lower().rfind(".")]
    return stem.strip()


def file_slug(name: str) -> str:
    """The address a file name gives: ``Respect Privacy.md`` → ``respect-privacy``,
    ``AnimalWelfare.md`` → ``animal-welfare``, ``cafés.md`` → ``cafes``."""
    return slugify(file_stem(name), fallback="position", camel=True)


def page_place(path: str, leaf: bool) -> PurePosixPath:
    """Where a file's address and topic come from: the file itself, or for its folder's
    page (an index.md or README.md alone in its folder), that folder."""
    own = PurePosixPath(path)
    return own.parent if leaf else own


def readable_name(name: str) -> str:
    """A file or folder name as a title: ``Homelessness_Policy.md`` → ``Homelessness policy``,
    ``AnimalWelfare.md`` → ``Animal welfare``."""
    stem = file_stem(name)
    if not re.search(r"[_\s]", stem):  # kebab-case: hyphens are the spaces
        stem = stem.replace("-", " ")
    words = " ".join(re.sub(r"[_\s]+", " ", _CAMEL.sub(" ", stem)).split())
    if not words:
        return stem
    first, *rest = words.split(" ")
    # Keep acronyms (LGBTQ+, NZ) as written; lower-case ordinary capitalised words.
    tail = [w if w.isupper() and len(w) > 1 else w.lower() for w in rest]
    return " ".join([first[:1].upper() + first[1:], *tail])


def is_intro(name: str) -> bool:
    """True for the file names that introduce a folder's topic rather than state a position."""
    return name.lower() in INTRO_NAMES


def folder_topic(path: str) -> tuple[str, str] | None:
    """The topic a file's folder gives it, (slug, label): ``Civil Liberties/x.md`` →
    (``civil-liberties``, "Civil Liberties"); None for a file at the top of the folder."""
    folder = PurePosixPath(path).parent.name.strip()
    if not folder:
        return None
    return slugify(folder, "topic"), folder


def alias_path(alias: str) -> str:
    """An old address as the path it answers on: ``old-name`` → ``/positions/old-name``,
    ``/2017/06/x/`` → ``/2017/06/x`` (a trailing slash is not significant)."""
    text = alias.strip()
    if not text.startswith("/"):
        return f"/positions/{clean_slug(text.strip('/'))}"
    return "/" + text.strip("/")
