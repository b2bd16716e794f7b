"""The Whoosh schema and analysers: one index, two kinds of document.

Position documents rank whole positions; passage documents find the paragraph that
answers. Each kind has its own text fields, so a query over one never walks the
other's postings. Passage text is indexed with character offsets (``chars=True``) so
highlighting jumps straight to the matched words instead of re-analysing the text.
"""

from __future__ import annotations

from whoosh.analysis import (
    CharsetFilter,
    IntraWordFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
)
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

# Words with inner hyphens or apostrophes stay one token, then IntraWordFilter adds
# the parts and the joined form: "co-operative" → co, operative, cooperative.
TOKEN_PATTERN = r"\w+(?:[-'’.]\w+)*"
SCHEMA_VERSION = 15  # 6: folder introductions, topic labels, aliases; 7: meaning vectors;
# 8: meaning vectors with phrases, and each passage's vector; 9: what searches read per
# document in columns (kb/index/columns.py); 10: each segment's posting file
# (kb/index/posting_file.py); 11: HTML comments hidden, so every file is rendered again;
# 12: raw HTML kept and sanitised, not shown as text; 13: Hugo shortcodes read; 14: a
# heading read after Markdown undoes its escapes, so its text and anchor change, and
# Hugo ref shortcodes linked to their pages; 15: footnotes, MkDocs'
# notes and headings' own ids ("{#id}") rendered, kramdown's "{: …}" lines hidden,
# Jekyll's Liquid tags read


def plain_analyzer():
    """Lower-cased, accent-folded words, split at hyphens, not stemmed."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | IntraWordFilter(splitwords=False, mergewords=True, mergenums=True)
        | LowercaseFilter()
        | CharsetFilter(accent_map)
    )


def stemming_analyzer():
    """The plain analyser followed by the English (Porter) stemmer."""
    return plain_analyzer() | StemFilter(lang="en", cachesize=50000)


# The fields a search scores or filters on, whose postings each segment's posting file
# keeps (kb/index/posting_file.py); the others (spelling's words, keys, paths, dates)
# are looked up through Whoosh, and would add a third to the file's writing time.
SEARCHED_FIELDS = (
    "kind", "slug", "status", "topics", "title", "summary", "headings", "body",
    "passage_heading", "passage_text",
)  # fmt: skip


def build_schema() -> Schema:
    """The schema shared by position and passage documents."""
    stem = stemming_analyzer()
    return Schema(
        key=ID(unique=True, stored=True),  # slug, or "passage:<id>"
        kind=ID(stored=True),  # "position" or "passage"
        slug=ID(stored=True),
        path=ID(stored=True),
        status=ID(stored=True),
        updated=ID(stored=True),
        updated_order=NUMERIC(int, bits=32, sortable=True),  # yyyymmdd, for sorting by date
        topics=KEYWORD(stored=True, commas=True, lowercase=True),
        # position documents
        title=TEXT(analyzer=stem, stored=True),
        summary=TEXT(analyzer=stem, stored=True),
        headings=TEXT(analyzer=stem),
        body=TEXT(analyzer=stem),
        # passage documents
        passage_heading=TEXT(analyzer=stem),
        passage_text=TEXT(analyzer=stem, chars=True),  # its text is in the passage column
        words=TEXT(analyzer=plain_analyzer(), phrase=False),  # spelling and suggestions
        record=STORED(),  # JSON the pages need, so requests never read Markdown
        # Read per document by every search, so kept out of the compressed stored record:
        meta=COLUMN(VarBytesColumn()),  # the small part of the record a search result shows
        meaning=COLUMN(VarBytesColumn()),  # position and passage vectors (kb/index/vectors.py)
        passage=COLUMN(VarBytesColumn()),  # a passage's record and text
    )
