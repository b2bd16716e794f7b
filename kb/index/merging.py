"""Which segments an incremental update folds into the segment it writes.

Every update writes a new segment, and deletes the old versions of its documents from
the segments that held them. Whoosh's default policy merges only once five or more
small segments pile up, and never drops a segment whose documents are all deleted: on
digitalgov after a few edits a search looked every word up in ten segments, four of
them empty, and took 1.7× as long as on the one-segment index a full build writes.

Here every small segment is rewritten into the new one, so an index that has taken
any number of edits holds its big build segment and one small segment. A segment is
small below a tenth of the documents or SMALL_DOCUMENTS, whichever is larger; that
bounds what one update rewrites while keeping the number of segments low.
"""

from __future__ import annotations

from whoosh.reading import SegmentReader

SMALL_DOCUMENTS = 2_000  # documents (positions + passages) always worth rewriting
SMALL_SHARE = 0.1  # a segment under this share of the index's documents is small


def fold_small_segments(writer, segments: list) -> list:
    """A Whoosh merge policy: add the small (and the emptied) segments' live documents
    to ``writer``'s new segment, and keep the others as they are."""
    live = sum(segment.doc_count() for segment in segments)
    small = max(SMALL_DOCUMENTS, live * SMALL_SHARE)
    kept = []
    for segment in segments:
        if segment.doc_count() >= small:
            kept.append(segment)
            continue
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    return kept
