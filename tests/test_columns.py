"""What searches read per document comes from columns, right in every segment."""

from __future__ import annotations

from whoosh import index as whoosh_index

from kb.index.columns import (
    META,
    PASSAGE,
    column,
    decode_meaning,
    encode_json,
    encode_meaning,
    json_value,
)
from kb.index.schema import build_schema


def _position(writer, slug: str) -> None:
    writer.add_document(key=slug, kind="position", slug=slug, meta=encode_json({"slug": slug}))


def test_values_are_found_across_segments_one_of_which_has_no_column(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    for batch in (["housing", "climate"], [], ["europe"]):
        writer = ix.writer()
        for slug in batch:
            _position(writer, slug)
        if not batch:  # a segment of a folder introduction only: no meta column at all
            writer.add_document(key="intro:x", kind="intro", record="{}")
        writer.commit(merge=False)
    with ix.searcher() as searcher:
        assert len(searcher.leaf_searchers()) == 3
        found = {}
        for docnum in range(searcher.doc_count_all()):
            value = json_value(searcher, META, docnum)
            kind = searcher.stored_fields(docnum)["kind"]
            found[searcher.stored_fields(docnum)["key"]] = (kind, value)
    assert found == {
        "housing": ("position", {"slug": "housing"}),
        "climate": ("position", {"slug": "climate"}),
        "intro:x": ("intro", None),
        "europe": ("position", {"slug": "europe"}),
    }


def test_a_reader_keeps_its_column_readers(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    with ix.writer() as writer:
        writer.add_document(key="passage:a", kind="passage",
                            passage=encode_json({"id": "a", "text": "Homes"}))  # fmt: skip
    with ix.searcher() as searcher:
        assert column(searcher, PASSAGE) is column(searcher, PASSAGE)
        assert json_value(searcher, PASSAGE, 0) == {"id": "a", "text": "Homes"}


def test_meaning_round_trips():
    whole, passages = bytes([1, 2, 3]), bytes([4, 5, 6, 7, 8, 9])
    assert decode_meaning(encode_meaning(whole, passages)) == (whole, passages)
    assert decode_meaning(b"") is None


def test_folded_segments_keep_every_documents_values(
    write_position, positions_dir, index_dir, monkeypatch
):
    """Folding small segments copies their columns: each position's metadata and each
    passage's text, edited or not, still read back."""
    from kb.index import merging, store
    from kb.index.build import update_index
    from kb.index.reader import IndexReader

    monkeypatch.setattr(merging, "SMALL_DOCUMENTS", 20)
    for number in range(20):
        write_position(f"p{number}", f"Paragraph {number} about apples.\n\nAnd more.\n")
    update_index(positions_dir, index_dir)
    for round in range(merging.FOLD_AT + 1):
        write_position(f"p{round}", f"Paragraph about pears, round {round}.\n")
        update_index(positions_dir, index_dir)
    revision = store.current_revision(index_dir)
    segments = whoosh_index.open_dir(str(index_dir / revision))._segments()
    assert len(segments) == 2  # the build, and the edits folded into one
    index = IndexReader(index_dir)  # kept: its searchers close with it
    searcher = index.searcher()
    texts, metas = {}, {}
    for docnum in searcher.reader().all_doc_ids():
        fields = searcher.stored_fields(docnum)
        if fields["kind"] == "passage":
            text = json_value(searcher, PASSAGE, docnum)["text"]
            texts.setdefault(fields["slug"], []).append(text)
        elif fields["kind"] == "position":
            metas[fields["slug"]] = json_value(searcher, META, docnum)["slug"]
    assert metas == {f"p{n}": f"p{n}" for n in range(20)}
    assert texts["p0"] == ["Paragraph about pears, round 0."]
    assert texts["p19"] == ["Paragraph 19 about apples.", "And more."]
