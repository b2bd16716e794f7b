"""Each segment's postings as plain arrays, beside Whoosh's own: read with one ``pread``.

Whoosh keeps a term's postings in blocks, each a pickled tuple of Python objects, and
finds a term through its term table: a fresh worker meeting a word for the first time
spent about 50 µs finding it and 1.8 µs a posting unpickling it, a quarter to a third of
its first 200 searches. When an indexer finishes a generation it writes, for every
segment that lacks one, ``<segment>.kbpostings``: for each searched field, the terms in
order, and for each term its documents, weights and (where the field keeps them) each
posting's encoded characters, as machine arrays and bytes. Readers find a term by
bisection and read its postings with one call. Phrases still read word positions
through Whoosh, for the documents holding every word.

The file is named like the segment's own files, so Whoosh deletes it with the segment.
A segment without one, or a field it does not keep, is read through Whoosh as before.

Layout: ``MAGIC``; each term's postings (ids as ``i``, weights as ``f``, then for a
field with characters where each posting's characters end, as ``I``, and the
characters), little-endian; each field's term table (``TABLE_PARTS``); a JSON
directory of where those are; the directory's offset; ``MAGIC`` again, which a
truncated file lacks.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import threading
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader

MAGIC = b"KBPOST1\n"
SUFFIX = ".kbpostings"
TRAILER = struct.Struct("<Q")
# A field's term table: its terms end to end, where each starts, and each one's postings'
# offset in the file, count and size in bytes.
TABLE_PARTS = ("terms", "starts", "offsets", "counts", "sizes")
TABLE_CODES = {"starts": "I", "offsets": "Q", "counts": "I", "sizes": "I"}
SEGMENTS_KEPT = 32  # segments whose term tables a process keeps (a few MB each)

# document ids ("i"), weights ("d"), each posting's encoded characters (or None)
Postings = tuple[array, array, "Values | None"]
FieldPostings = Callable[[SegmentReader, str], Iterator[tuple[bytes, array, array, list | None]]]


def file_name(segment) -> str:
    return segment.make_filename(SUFFIX)


def missing(folder: Path, segments: Iterable) -> bool:
    """Whether any of ``segments`` of the generation in ``folder`` lacks its file."""
    return any(not (folder / file_name(segment)).exists() for segment in segments)


def write_missing(folder: Path, fields: Iterable[str], read_field: FieldPostings) -> None:
    """Write the posting file, for ``fields``, of every segment of the index in ``folder``
    lacking one; ``read_field`` reads each term of a field with its postings, through
    Whoosh."""
    ix = whoosh_index.open_dir(str(folder))
    try:
        for segment in ix._segments():
            path = folder / file_name(segment)
            if not path.exists():
                reader = SegmentReader(ix.storage, ix.schema, segment)
                try:
                    _write(path, reader, [f for f in fields if f in ix.schema], read_field)
                finally:
                    reader.close()
    finally:
        ix.close()


def _write(path: Path, reader: SegmentReader, fields: list[str], read_field: FieldPostings) -> None:
    partial = path.with_name(path.name + ".part")
    directory: dict[str, dict] = {}
    with open(partial, "wb") as out:
        out.write(MAGIC)
        for fieldname in fields:
            terms, starts = bytearray(), array("I", [0])
            offsets, counts, sizes = array("Q"), array("I"), array("I")
            for btext, ids, weights, values in read_field(reader, fieldname):
                if not ids:
                    continue
                record = _record(ids, weights, values)
                offsets.append(out.tell())
                counts.append(len(ids))
                sizes.append(len(record))
                out.write(record)
                terms += btext
                starts.append(len(terms))
            directory[fieldname] = _write_table(out, terms, starts, offsets, counts, sizes)
        where = out.tell()
        out.write(json.dumps(directory).encode("ascii"))
        out.write(TRAILER.pack(where) + MAGIC)
    os.replace(partial, path)


def _record(ids: array, weights: array, values: list | None) -> bytes:
    """One term's postings: its ids, its weights (Whoosh keeps them as 32-bit floats, so
    nothing is lost), then, for a field that keeps them, where each posting's encoded
    characters end and the characters themselves."""
    record = _little(array("i", ids)) + _little(array("f", weights))
    if values is None:
        return record
    ends, end = array("I"), 0
    for value in values:
        end += len(value)
        ends.append(end)
    return record + _little(ends) + b"".join(values)


def _write_table(out, terms: bytearray, *numbers: array) -> dict:
    """One field's term table; its parts' places, for the directory."""
    places = {}
    parts = [bytes(terms), *(_little(n) for n in numbers)]
    for name, data in zip(TABLE_PARTS, parts, strict=True):
        places[name] = [out.tell(), len(data)]
        out.write(data)
    return places


def _little(numbers: array) -> bytes:
    if sys.byteorder == "big":  # pragma: no cover - every platform we run on
        numbers = array(numbers.typecode, numbers)
        numbers.byteswap()
    return numbers.tobytes()


def _numbers(typecode: str, data: bytes) -> array:
    numbers = array(typecode)
    numbers.frombytes(data)
    if sys.byteorder == "big":  # pragma: no cover
        numbers.byteswap()
    return numbers


@dataclass(frozen=True)
class _Table:
    """One field's terms in one segment, in order, and where each one's postings are."""

    terms: bytes
    starts: array
    offsets: array
    counts: array
    sizes: array

    def find(self, btext: bytes) -> int | None:
        """The term's place in the table, by bisection over the sorted terms."""
        low, high = 0, len(self.counts)
        while low < high:
            middle = (low + high) // 2
            if self.terms[self.starts[middle] : self.starts[middle + 1]] < btext:
                low = middle + 1
            else:
                high = middle
        found = low < len(self.counts) and self._term(low) == btext
        return low if found else None

    def _term(self, place: int) -> bytes:
        return self.terms[self.starts[place] : self.starts[place + 1]]


class Values:
    """A term's postings' encoded characters, each cut from one byte string when asked
    for (a snippet needs those of a few passages, not of every posting)."""

    def __init__(self, data: bytes, ends: array) -> None:
        self.data, self.ends = data, ends

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, place: int) -> bytes:
        start = self.ends[place - 1] if place else 0
        return self.data[start : self.ends[place]]


class PostingFile:
    """One segment's posting file, open for reading (its term tables read on first use)."""

    def __init__(self, fd: int) -> None:
        """Takes ``fd`` over: it is closed once no thread uses the file any more, never
        while one is reading it (a closed descriptor's number may be reused)."""
        self.fd = fd
        size, tail_size = os.fstat(fd).st_size, TRAILER.size + len(MAGIC)
        tail = os.pread(fd, tail_size, size - tail_size) if size > tail_size else b""
        if not tail.endswith(MAGIC) or not os.pread(fd, len(MAGIC), 0) == MAGIC:
            raise ValueError("not a complete posting file")
        (where,) = TRAILER.unpack(tail[: TRAILER.size])
        self.directory = json.loads(os.pread(fd, max(0, size - tail_size - where), where))
        if not isinstance(self.directory, dict):
            raise ValueError("not a posting file's directory")
        self.tables: dict[str, _Table | None] = {}
        self.lock = threading.Lock()
        weakref.finalize(self, os.close, fd)

    def postings(self, fieldname: str, btext: bytes) -> Postings | None:
        """The term's ids and weights; empty arrays when the segment lacks the term;
        None when the file does not keep the field."""
        table = self._table(fieldname)
        if table is None:
            return None
        place = table.find(btext)
        if place is None:
            return array("i"), array("d"), None
        count, size = table.counts[place], table.sizes[place]
        data = os.pread(self.fd, size, table.offsets[place])
        if len(data) != size or (size != 8 * count and size < 12 * count):
            raise ValueError("posting file is damaged")
        ids = _numbers("i", data[: 4 * count])
        weights = array("d", _numbers("f", data[4 * count : 8 * count]))
        if size == 8 * count:
            return ids, weights, None
        ends = _numbers("I", data[8 * count : 12 * count])
        return ids, weights, Values(data[12 * count :], ends)

    def _table(self, fieldname: str) -> _Table | None:
        if fieldname not in self.tables:
            with self.lock:
                if fieldname in self.tables:
                    return self.tables[fieldname]
                places = self.directory.get(fieldname)
                self.tables[fieldname] = None if places is None else _Table(
                    os.pread(self.fd, places["terms"][1], places["terms"][0]),
                    *(_numbers(code, os.pread(self.fd, places[name][1], places[name][0]))
                      for name, code in TABLE_CODES.items()),
                )  # fmt: skip
        return self.tables[fieldname]


class _OpenFiles:
    """The posting files this process has open, by segment, the least recently used let
    go first. A segment's file never changes, so one is shared by every thread."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.files: OrderedDict[tuple, PostingFile | None] = OrderedDict()
        self.lock = threading.Lock()

    def of(self, reader) -> PostingFile | None:
        segment = reader.segment() if hasattr(reader, "segment") else None
        if segment is None:
            return None
        # By folder too: a generation may add the file of a segment an older one lacked.
        key = (getattr(getattr(reader, "_storage", None), "folder", None), segment.segment_id())
        with self.lock:
            if key in self.files:
                self.files.move_to_end(key)
                return self.files[key]
        opened = _open(reader, segment)
        with self.lock:
            self.files[key] = opened
            while len(self.files) > self.limit:
                self.files.popitem(last=False)
        return opened

    def clear(self) -> None:
        with self.lock:
            self.files.clear()


def _open(reader, segment) -> PostingFile | None:
    """The segment's posting file, or None when it has none or it cannot be read."""
    storage = getattr(reader, "_storage", None)
    if storage is None or not hasattr(storage, "_fpath"):
        return None
    try:
        fd = os.open(storage._fpath(file_name(segment)), os.O_RDONLY)
    except OSError:
        return None
    try:
        return PostingFile(fd)
    except (OSError, ValueError):
        os.close(fd)
        return None


OPEN_FILES = _OpenFiles(SEGMENTS_KEPT)


def read_postings(reader, fieldname: str, btext: bytes) -> Postings | None:
    """A term's postings in one segment from its posting file; None when the segment
    has no usable posting file, or it does not keep the field (then Whoosh's own
    postings are read)."""
    opened = OPEN_FILES.of(reader)
    if opened is None:
        return None
    try:
        return opened.postings(fieldname, btext)
    except (OSError, ValueError, LookupError, TypeError):  # a damaged file: Whoosh's, then
        return None
