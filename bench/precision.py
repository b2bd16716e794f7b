"""Precision at 10 on digitalgov's pages, against a plain FTS5 over the same files.

Each topic its editors used on at least MIN_PAGES pages is one query, its name as a
reader would type it ("plain language", "customer experience"); the pages labelled with
that topic in ``labels_topics.csv`` (front matter the editors wrote, not us) are the
relevant ones. Precision at 10 is the share of the first ten results that are relevant,
averaged over the queries.

    python -m bench.precision [-v]   # about two minutes: it builds both indexes
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections.abc import Callable
from pathlib import Path

CORPUS = Path("/work/shared/corpora/digitalgov")
MIN_PAGES = 30
CUTOFF = 10


def labelled_pages(corpus: Path = CORPUS) -> dict[str, set[str]]:
    """Topic → the pages (paths under the content folder) its editors labelled with it."""
    pages: dict[str, set[str]] = {}
    with open(corpus / "labels_topics.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            path = row["file"].strip().removeprefix("content/")
            for topic in row["topics (from front matter)"].split(";"):
                if topic.strip():
                    pages.setdefault(topic.strip(), set()).add(path)
    return pages


def precision(found: list[str], relevant: set[str]) -> float:
    """The share of the first CUTOFF results (paths) that are relevant."""
    return sum(path in relevant for path in found[:CUTOFF]) / CUTOFF


def positions_search(content: Path, index_dir: Path) -> Callable[[str], list[str]]:
    """A function: query → the paths of Positions' first CUTOFF results."""
    from app import create_app
    from kb.index.build import update_index
    from kb.search.engine import SearchRequest
    from kb.service import knowledge_base_of

    update_index(content, index_dir)
    app = create_app(
        {"TESTING": True, "KB_POSITIONS_DIR": str(content), "KB_INDEX_DIR": str(index_dir)}
    )
    kb = knowledge_base_of(app)

    def search(query: str) -> list[str]:
        found = kb.search(SearchRequest(q=query, per_page=CUTOFF)).results
        return [record.path for r in found if (record := kb.position(r.slug)) is not None]

    return search


def fts5_search(content: Path, db: Path) -> Callable[[str], list[str]]:
    """The same for the FTS5 baseline (its slugs are paths without the suffix)."""
    from bench.fts5_baseline import build_fts5, connect_readonly, search_fts5

    build_fts5(content, db)
    conn = connect_readonly(db)

    def search(query: str) -> list[str]:
        return [r["slug"] + ".md" for r in search_fts5(conn, query, CUTOFF)["results"]]

    return search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="each query's precision")
    args = parser.parse_args()
    topics = {t: p for t, p in labelled_pages().items() if len(p) >= MIN_PAGES}
    queries = {topic.replace("-", " "): pages for topic, pages in sorted(topics.items())}
    with tempfile.TemporaryDirectory() as tmp:
        engines = {
            "Positions": positions_search(CORPUS / "content", Path(tmp) / "index"),
            "FTS5": fts5_search(CORPUS / "content", Path(tmp) / "fts5.db"),
        }
        scores = {name: {q: precision(search(q), queries[q]) for q in queries}
                  for name, search in engines.items()}  # fmt: skip
    print(f"digitalgov: {len(queries)} topic queries (topics on at least {MIN_PAGES} pages)")
    for name, by_query in scores.items():
        print(f"  {name:9} precision@{CUTOFF} {sum(by_query.values()) / len(by_query):.3f}")
    if args.verbose:
        for query in queries:
            row = "  ".join(f"{scores[name][query]:.1f}" for name in scores)
            print(f"    {row}  {query} ({len(queries[query])} pages)")


if __name__ == "__main__":
    main()
