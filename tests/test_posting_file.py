"""Each segment's posting file holds exactly Whoosh's postings, and searches answer the
same with or without it (kb/index/posting_file.py)."""

from __future__ import annotations

import shutil

import pytest
from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader

from kb.index import merging, posting_file, store
from kb.index.build import compact_index, update_index
from kb.index.evaluate import whoosh_postings
from kb.index.schema import SEARCHED_FIELDS
from tests.conftest import STARTER

QUERIES = [
    "climate change", "europe", '"working people"', "nhs funding", "the", "democracy -europe",
    "tax OR wealth", "next generation", "clmate", "young people's future",
]  # fmt: skip


@pytest.fixture(autouse=True)
def fresh_files():
    """Open posting files are kept per process: start and end each test without any."""
    posting_file.OPEN_FILES.clear()
    yield
    posting_file.OPEN_FILES.clear()


def live_folder(index_dir):
    return index_dir / store.current_revision(index_dir)


def segments(folder):
    ix = whoosh_index.open_dir(str(folder))
    found = list(ix._segments())
    ix.close()
    return found


def assert_same_as_whoosh(folder) -> int:
    """Every term of every searched field, read both ways; how many were compared."""
    ix = whoosh_index.open_dir(str(folder))
    compared = 0
    try:
        for segment in ix._segments():
            reader = SegmentReader(ix.storage, ix.schema, segment)
            for fieldname in SEARCHED_FIELDS:
                keeps = ix.schema[fieldname].format.supports("characters")
                for btext in reader.lexicon(fieldname):
                    values: list | None = [] if keeps else None
                    ids, weights = whoosh_postings(reader, fieldname, btext, values)
                    got = posting_file.read_postings(reader, fieldname, btext)
                    assert got is not None, (fieldname, btext)
                    assert (list(got[0]), list(got[1])) == (list(ids), list(weights))
                    stored = None if got[2] is None else [got[2][i] for i in range(len(got[2]))]
                    assert stored == values
                    compared += 1
                assert not posting_file.read_postings(reader, fieldname, b"nowordlikethis")[0]
            assert posting_file.read_postings(reader, "words", b"europe") is None  # not kept
            reader.close()
    finally:
        ix.close()
    return compared


def test_every_segment_gets_a_posting_file_that_matches_whoosh(
    write_position, positions_dir, index_dir
):
    """After a full build, an edit (a second segment, with a deletion in the first) and
    a fold, every live segment has its file, holding exactly Whoosh's postings."""
    shutil.copytree(STARTER, positions_dir, dirs_exist_ok=True)
    update_index(positions_dir, index_dir)
    assert assert_same_as_whoosh(live_folder(index_dir)) > 1000
    write_position("climate", "Rewilding the uplands, and **heat pumps** for every home.")
    update_index(positions_dir, index_dir)
    folder = live_folder(index_dir)
    assert len(segments(folder)) == 2
    assert assert_same_as_whoosh(folder) > 1000
    for round in range(merging.FOLD_AT + 1):
        write_position(f"extra-{round}", f"Paragraph {round} about orchards.")
        update_index(positions_dir, index_dir)
    folder = live_folder(index_dir)
    names = {posting_file.file_name(s) for s in segments(folder)}
    assert {p.name for p in folder.glob("*" + posting_file.SUFFIX)} == names  # none left over
    assert len(names) < merging.FOLD_AT + 2  # the small ones were folded
    assert_same_as_whoosh(folder)


def answers(client) -> list:
    return [client.get("/api/search", query_string={"q": q}).get_json() for q in QUERIES]


def test_searches_answer_the_same_without_posting_files_or_with_a_broken_one(
    positions_dir, index_dir, make_app
):
    """The file only saves time: the API's answers (results, totals, facets, snippets)
    are the same when it is missing or cut short, which is read through Whoosh."""
    shutil.copytree(STARTER, positions_dir, dirs_exist_ok=True)
    with_files = answers(make_app().test_client())
    (path,) = live_folder(index_dir).glob("*" + posting_file.SUFFIX)
    data = path.read_bytes()
    for broken in (data[: len(data) // 2], b""):
        path.write_bytes(broken)
        posting_file.OPEN_FILES.clear()
        client = make_app(index=False).test_client()
        assert answers(client) == with_files
    path.unlink()
    posting_file.OPEN_FILES.clear()
    assert answers(make_app(index=False).test_client()) == with_files
    assert any(a["results"] for a in with_files)


def test_a_preview_save_leaves_its_posting_file_to_the_pause_after_it(
    write_position, positions_dir, index_dir
):
    """A save in the preview (no folding) publishes its segment without a posting file,
    which the compaction after it writes, content unchanged; then there is nothing to do."""
    shutil.copytree(STARTER, positions_dir, dirs_exist_ok=True)
    update_index(positions_dir, index_dir)
    write_position("climate", "Rewilding the uplands, and **heat pumps** for every home.")
    update_index(positions_dir, index_dir, fold=False)
    saved = live_folder(index_dir)
    assert posting_file.missing(saved, segments(saved))
    assert compact_index(index_dir)
    compacted = live_folder(index_dir)
    assert compacted != saved and len(segments(compacted)) == 2
    assert not posting_file.missing(compacted, segments(compacted))
    assert assert_same_as_whoosh(compacted) > 1000
    assert not compact_index(index_dir)
    assert live_folder(index_dir) == compacted
