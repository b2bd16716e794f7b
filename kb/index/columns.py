"""Values a search reads for one document at a time, kept in Whoosh columns.

Whoosh stores a document's stored fields as one pickled, zlib-compressed record: reading
a position's short search metadata meant inflating and unpickling its whole record
(every passage's text and HTML), about 36 µs a document, an eighth of a fresh server's
first searches. What searches read per document (a position's metadata and meaning
vectors, a passage's record and text) is kept in uncompressed byte columns instead: one
read at a known offset.

A column reader reads through its reader's open files, which serve one thread, so each
reader (not each generation) gets its own.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from weakref import WeakKeyDictionary

from whoosh.searching import Searcher

META = "meta"  # a position's PositionMeta, as JSON
MEANING = "meaning"  # a position's meaning vector, then its passages' (see encode_meaning)
PASSAGE = "passage"  # a passage's PassageRecord with its text, as JSON

_LENGTH_BYTES = 2


class ColumnValues:
    """One column's raw values across a reader's segments (b"" where a document has none)."""

    def __init__(self, searcher: Searcher, fieldname: str) -> None:
        self.offsets: list[int] = []
        self.readers: list = []
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            self.offsets.append(offset)
            # A segment whose documents have no value (only folder introductions, say)
            # has no column file; Whoosh's multi-segment column reader then looks its
            # documents up in another segment's column (and fails), so each is kept here.
            has = reader.has_column(fieldname)
            self.readers.append(reader.column_reader(fieldname, translate=False) if has else None)

    def get(self, docnum: int) -> bytes:
        i = bisect_right(self.offsets, docnum) - 1
        reader = self.readers[i] if i >= 0 else None
        return reader[docnum - self.offsets[i]] if reader is not None else b""


_PER_READER: WeakKeyDictionary = WeakKeyDictionary()


def column(searcher: Searcher, fieldname: str) -> ColumnValues:
    """``fieldname``'s values for this searcher's reader, opened once per reader."""
    reader = searcher.reader()
    kept = _PER_READER.get(reader)
    if kept is None:  # setdefault would make a weak reference on every call
        kept = _PER_READER[reader] = {}
    found = kept.get(fieldname)
    if found is None:
        found = kept[fieldname] = ColumnValues(searcher, fieldname)
    return found


def json_value(searcher: Searcher, fieldname: str, docnum: int) -> dict | None:
    """A JSON column's value for one document, or None when it has none."""
    raw = column(searcher, fieldname).get(docnum)
    return json.loads(raw) if raw else None


def encode_json(value: dict) -> bytes:
    return json.dumps(value).encode("utf-8")


def encode_meaning(whole: bytes, passages: bytes) -> bytes:
    """A position's vector, then its passages' end to end, behind the vector's length."""
    return len(whole).to_bytes(_LENGTH_BYTES, "big") + whole + passages


def decode_meaning(raw: bytes) -> tuple[bytes, bytes] | None:
    """(the position's vector, its passages' vectors end to end), or None."""
    if not raw:
        return None
    dims = int.from_bytes(raw[:_LENGTH_BYTES], "big")
    return raw[_LENGTH_BYTES : _LENGTH_BYTES + dims], raw[_LENGTH_BYTES + dims :]
