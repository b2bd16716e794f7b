"""SQLite FTS5 / BM25 baseline: the competitor the Positions benchmarks compare against.

It indexes the same Markdown files (via bench.corpus) as paragraphs in one FTS5
table and answers free-text queries with documents grouped from their best
paragraphs, so its output has the same shape as the Positions search API.

Serve it with gunicorn (FTS5_DB must point at a database made by build_fts5)::

    FTS5_DB=/tmp/fts5.db gunicorn 'bench.fts5_baseline:create_app_from_env()'

Build and smoke-test from the command line::

    python3 -m bench.fts5_baseline /path/to/corpus [--db out.db] [-q "query" ...]
"""

from __future__ import annotations

import argparse
import functools
import heapq
import json
import os
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request

try:
    from bench.corpus import iter_markdown_files, read_document, split_paragraphs
except ImportError:  # run as a script (python3 bench/fts5_baseline.py): bench/ is sys.path[0]
    from corpus import iter_markdown_files, read_document, split_paragraphs  # type: ignore

TOKENIZER = "porter unicode61 remove_diacritics 2"
# bm25() weights per FTS5 column (slug, title, heading, text); slug is UNINDEXED.
BM25_WEIGHTS = (0.0, 3.0, 1.5, 1.0)
PASSAGES_PER_DOC = 3
SNIPPET_TOKENS = 24
MAX_QUERY_TERMS = 32  # bounds the cost of pathological queries (e.g. 10,000 words)
MAX_LIMIT = 100
# Paragraph rowid = doc id << PARA_BITS | paragraph number, so hits group by document
# without reading the slug column back from FTS5 content (~half the cost of broad queries).
PARA_BITS = 20
MAX_PARAGRAPHS_PER_DOC = 1 << PARA_BITS
# Whoosh's default analyzer drops these and 1-char tokens; the baseline does the same at
# query time so both engines answer the same question.
STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the "
    "this to us we when will with yet you your".split()
)
_TOKEN = re.compile(r"\w+")
DocumentRow = tuple[int, str, str, str, str]
ParagraphRow = tuple[int, str, str, str, str]

SCHEMA = f"""
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    topics TEXT NOT NULL
);
CREATE VIRTUAL TABLE paragraphs USING fts5(
    slug UNINDEXED, title, heading, text,
    tokenize = '{TOKENIZER}'
);
"""

_HITS_SQL = f"""
SELECT rowid, bm25(paragraphs, {", ".join(map(str, BM25_WEIGHTS))}) AS score
FROM paragraphs WHERE paragraphs MATCH ?
"""
_SNIPPET = f"snippet(paragraphs, 3, '<mark>', '</mark>', '…', {SNIPPET_TOKENS})"
_PASSAGES_SQL = f"""
SELECT heading, {_SNIPPET} FROM paragraphs
WHERE paragraphs MATCH ? AND rowid BETWEEN ? AND ?
ORDER BY bm25(paragraphs, {", ".join(map(str, BM25_WEIGHTS))}) LIMIT {PASSAGES_PER_DOC}
"""
_SNIPPET_SQL = f"SELECT heading, {_SNIPPET} FROM paragraphs WHERE paragraphs MATCH ? AND rowid = ?"


# ---------------------------------------------------------------- building


def _paragraph_rows(doc_id: int, doc: dict[str, Any]) -> Iterator[ParagraphRow]:
    """Yield (rowid, slug, title, heading, text): the summary first, then body paragraphs.

    The summary is indexed as a paragraph so documents with little or no body
    (landing pages, service cards) are still findable by what they are about.
    Paragraphs beyond MAX_PARAGRAPHS_PER_DOC are dropped.
    """
    slug, title = doc["slug"], doc["title"]
    pairs = split_paragraphs(doc["body"])
    if doc["summary"]:
        pairs.insert(0, ("", doc["summary"]))
    base = doc_id << PARA_BITS
    for n, (heading, text) in enumerate(pairs[:MAX_PARAGRAPHS_PER_DOC]):
        yield base | n, slug, title, heading, text


def _load_corpus(
    root: Path, files: list[Path] | None = None
) -> tuple[list[DocumentRow], list[ParagraphRow], int]:
    """Read the Markdown files (default: every one under root) into rows and bytes in."""
    documents: list[DocumentRow] = []
    paragraphs: list[ParagraphRow] = []
    bytes_in = 0
    for path in iter_markdown_files(root) if files is None else files:
        doc = read_document(path, root)
        if doc is None:
            continue
        doc_id = len(documents) + 1
        bytes_in += doc["bytes"]
        topics = json.dumps(doc["topics"], ensure_ascii=False)
        documents.append((doc_id, doc["slug"], doc["title"], doc["summary"], topics))
        paragraphs.extend(_paragraph_rows(doc_id, doc))
    return documents, paragraphs, bytes_in


def build_fts5(root: Path, db_path: Path, files: list[Path] | None = None) -> dict[str, Any]:
    """Create a fresh FTS5 database at db_path from the Markdown files under root.

    ``files`` (paths under root) restricts the build to those files, so the baseline
    can index exactly the files Positions indexed.
    Any existing file at db_path is replaced. Everything is inserted in one
    transaction with executemany, then the FTS index is merged ('optimize') so
    queries hit a single b-tree. Returns {"docs", "paragraphs", "seconds",
    "bytes_in", "db_bytes"}; seconds covers reading, parsing and indexing.
    """
    root, db_path = Path(root), Path(db_path)
    started = time.perf_counter()
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    documents, paragraphs, bytes_in = _load_corpus(root, files)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        # A throwaway build needs no crash safety; a rebuild is the recovery path.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(SCHEMA)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO documents VALUES (?, ?, ?, ?, ?)", documents)
        conn.executemany(
            "INSERT INTO paragraphs (rowid, slug, title, heading, text) VALUES (?, ?, ?, ?, ?)",
            paragraphs,
        )
        conn.execute("INSERT INTO paragraphs (paragraphs) VALUES ('optimize')")
        conn.execute("COMMIT")
    finally:
        conn.close()
    return {
        "docs": len(documents),
        "paragraphs": len(paragraphs),
        "seconds": round(time.perf_counter() - started, 4),
        "bytes_in": bytes_in,
        "db_bytes": db_path.stat().st_size,
    }


def update_fts5(db_path: Path, root: Path, files: list[Path]) -> int:
    """Re-read the given files under root and replace their rows; return rows written.

    The incremental update a small FTS5 app would do when an editor saves files:
    delete each document's paragraphs by rowid range and insert them again, in one
    transaction. A file not yet in the database gets a new document id.
    """
    conn = sqlite3.connect(db_path, isolation_level=None)
    written = 0
    try:
        conn.execute("BEGIN IMMEDIATE")
        for path in files:
            doc = read_document(Path(path), Path(root))
            if doc is None:
                continue
            row = conn.execute("SELECT id FROM documents WHERE slug = ?", (doc["slug"],))
            found = row.fetchone()
            doc_id = found[0] if found else _next_document_id(conn)
            low = doc_id << PARA_BITS
            conn.execute(
                "DELETE FROM paragraphs WHERE rowid BETWEEN ? AND ?",
                (low, low + MAX_PARAGRAPHS_PER_DOC - 1),
            )
            topics = json.dumps(doc["topics"], ensure_ascii=False)
            conn.execute(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?)",
                (doc_id, doc["slug"], doc["title"], doc["summary"], topics),
            )
            rows = list(_paragraph_rows(doc_id, doc))
            conn.executemany(
                "INSERT INTO paragraphs (rowid, slug, title, heading, text) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            written += len(rows)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return written


def _next_document_id(conn: sqlite3.Connection) -> int:
    """The next free document id."""
    return conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM documents").fetchone()[0]


# ---------------------------------------------------------------- searching


def query_terms(q: Any) -> list[str]:
    """Return the distinct word tokens of q to search for (at most MAX_QUERY_TERMS).

    Stop words and 1-character tokens are dropped, unless that would drop them all.
    """
    if not isinstance(q, str):
        return []
    seen: dict[str, str] = {}
    for token in _TOKEN.findall(q):
        seen.setdefault(token.casefold(), token)
    terms = list(seen.values())
    content = [t for t in terms if len(t) > 1 and t.casefold() not in STOP_WORDS]
    return (content or terms)[:MAX_QUERY_TERMS]


def fts5_expression(terms: list[str], operator: str) -> str:
    """Join terms as quoted FTS5 strings with AND/OR; quoting disables all FTS5 syntax.

    \\w+ tokens never contain '"', so each quoted string is a plain term or phrase.
    """
    return f" {operator} ".join(f'"{term}"' for term in terms)


def _ranked_hits(conn: sqlite3.Connection, expr: str) -> list[tuple[int, float]]:
    """Return (rowid, bm25) for every matching paragraph; [] if FTS5 rejects expr."""
    try:
        return conn.execute(_HITS_SQL, (expr,)).fetchall()
    except sqlite3.Error:
        return []


def _group_by_document(
    hits: list[tuple[int, float]], limit: int
) -> tuple[int, list[tuple[int, list[int]]]]:
    """Rank documents by their best paragraph; return (total docs, [(doc id, rowids)]).

    bm25() is lower-is-better, so a document's score is its minimum paragraph score;
    each document keeps its PASSAGES_PER_DOC best paragraph rowids, best first.
    """
    rows: dict[int, list[tuple[float, int]]] = {}
    for rowid, score in hits:
        rows.setdefault(rowid >> PARA_BITS, []).append((score, rowid))
    best = {doc_id: min(scored) for doc_id, scored in rows.items()}
    top = sorted(best, key=best.__getitem__)[:limit]
    return len(rows), [
        (doc_id, [rowid for _, rowid in heapq.nsmallest(PASSAGES_PER_DOC, rows[doc_id])])
        for doc_id in top
    ]


def _passages(
    conn: sqlite3.Connection, terms: list[str], doc_id: int, fallback: tuple[str, list[int]]
) -> list[dict[str, str]]:
    """Return up to PASSAGES_PER_DOC {"heading", "snippet"} for one document, best first.

    Passages are the paragraphs whose own heading/text match the most query terms
    (OR, BM25), because every paragraph carries the title and a title-only hit
    shows nothing useful. If no paragraph matches outside the title, the fallback
    (expr, rowids) paragraphs are shown instead.
    """
    body_expr = f"{{heading text}} : ({fts5_expression(terms, 'OR')})"
    low = doc_id << PARA_BITS
    rows = conn.execute(_PASSAGES_SQL, (body_expr, low, low + MAX_PARAGRAPHS_PER_DOC - 1))
    passages = [{"heading": heading, "snippet": snippet} for heading, snippet in rows]
    if passages:
        return passages
    expr, rowids = fallback
    for rowid in rowids:
        row = conn.execute(_SNIPPET_SQL, (expr, rowid)).fetchone()
        if row is not None:
            passages.append({"heading": row[0], "snippet": row[1]})
    return passages


def _document_meta(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """Return {doc id: (slug, title, summary)} for the given document ids."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    sql = f"SELECT id, slug, title, summary FROM documents WHERE id IN ({marks})"
    return {row[0]: row[1:] for row in conn.execute(sql, ids)}


def _clamp_limit(limit: Any) -> int:
    """Coerce limit to an int in [1, MAX_LIMIT] (10 when unusable)."""
    try:
        return max(1, min(MAX_LIMIT, int(limit)))
    except (TypeError, ValueError, OverflowError):
        return 10


def search_fts5(conn: sqlite3.Connection, q: str, limit: int = 10) -> dict[str, Any]:
    """Search with BM25 and return {"query", "total", "results"}; never raises on any q.

    All word tokens must match (AND); if that finds nothing, any may match (OR).
    total counts matching documents. Each result is {"slug", "title", "summary",
    "passages"} with up to PASSAGES_PER_DOC passages {"heading", "snippet"}, best
    first; snippets mark hits with <mark>…</mark>. Unusable queries give no results.
    """
    empty: dict[str, Any] = {"query": q if isinstance(q, str) else "", "total": 0, "results": []}
    terms = query_terms(q)
    if not terms:
        return empty
    try:
        return _search_terms(conn, terms, _clamp_limit(limit), empty)
    except (sqlite3.Error, UnicodeError):
        return empty


def _search_terms(
    conn: sqlite3.Connection, terms: list[str], limit: int, out: dict[str, Any]
) -> dict[str, Any]:
    """Run the AND-then-OR search for already-sanitised terms and fill a copy of ``out``."""
    expr = fts5_expression(terms, "AND")
    hits = _ranked_hits(conn, expr)
    if not hits and len(terms) > 1:
        expr = fts5_expression(terms, "OR")
        hits = _ranked_hits(conn, expr)
    total, top = _group_by_document(hits, limit)
    meta = _document_meta(conn, [doc_id for doc_id, _ in top])
    results = []
    for doc_id, rowids in top:
        if doc_id not in meta:
            continue
        slug, title, summary = meta[doc_id]
        passages = _passages(conn, terms, doc_id, (expr, rowids))
        results.append({"slug": slug, "title": title, "summary": summary, "passages": passages})
    return {**out, "total": total, "results": results}


# ---------------------------------------------------------------- serving


def connect_readonly(db_path: Path) -> sqlite3.Connection:
    """Open db_path read-only (SQLite URI mode=ro); fails if the file does not exist."""
    conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)
    # Memory-mapped reads avoid a copy per page; the database is never written here.
    conn.execute("PRAGMA mmap_size = 268435456")
    return conn


def create_app(db_path: Path | str) -> Flask:
    """Return a Flask app serving GET /api/search?q=…&limit=… as search_fts5 JSON.

    Each worker thread lazily opens its own read-only connection.
    """
    db_path = Path(db_path)
    if not db_path.is_file():
        raise FileNotFoundError(f"FTS5 database not found: {db_path}")
    local = threading.local()
    app = Flask(__name__)
    app.json.ensure_ascii = False  # snippets carry '…' and non-ASCII text

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = connect_readonly(db_path)
        return conn

    @app.get("/api/search")
    def api_search() -> Any:
        q = request.args.get("q", "")
        limit = request.args.get("limit", 10)
        return jsonify(search_fts5(connection(), q, _clamp_limit(limit)))

    return app


def create_app_from_env() -> Flask:
    """Return create_app(os.environ["FTS5_DB"]) — the gunicorn entry point.

    gunicorn spec: ``bench.fts5_baseline:create_app_from_env()``.
    """
    db = os.environ.get("FTS5_DB")
    if not db:
        raise RuntimeError("set FTS5_DB to a database built by bench.fts5_baseline.build_fts5")
    return create_app(db)


wsgi_app = create_app_from_env


@functools.cache
def _env_app() -> Flask:
    """Build the FTS5_DB app once, on first access of the module attribute ``app``."""
    return create_app_from_env()


def __getattr__(name: str) -> Any:
    """Provide ``app`` lazily so importing this module never needs FTS5_DB."""
    if name == "app":
        return _env_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- command line

SAMPLE_QUERIES = (
    "accessibility",
    "plain language guidelines",
    "open data privacy",
    "how do I run a usability test",
    "xyzzy nonexistent frobnicate",
)


def _time_query(conn: sqlite3.Connection, q: str, repeat: int) -> tuple[float, dict[str, Any]]:
    """Return (median milliseconds over repeat runs, last result) for one query."""
    times, result = [], {}
    for _ in range(repeat):
        started = time.perf_counter()
        result = search_fts5(conn, q)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2], result


def main(argv: list[str] | None = None) -> int:
    """Build an FTS5 database for a corpus folder, then time a few sample queries."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="folder of Markdown files")
    parser.add_argument("--db", type=Path, help="database path (default: a temp file)")
    parser.add_argument("-q", "--query", action="append", help="query to run (repeatable)")
    parser.add_argument("--repeat", type=int, default=20, help="runs per query for timing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fts5-") as tmp:
        db = args.db or Path(tmp) / "fts5.db"
        stats = build_fts5(args.corpus, db)
        print(f"built {db}: {json.dumps(stats)}")
        conn = connect_readonly(db)
        for q in args.query or SAMPLE_QUERIES:
            ms, result = _time_query(conn, q, max(1, args.repeat))
            top = ", ".join(r["slug"] for r in result["results"][:3]) or "-"
            print(f"{ms:8.2f} ms  total={result['total']:<5} {q!r}: {top}")
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
