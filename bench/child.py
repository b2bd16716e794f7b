"""What the benchmark runs in a child process, so memory and start-up are measured alone.

    python -m bench.child build-whoosh POSITIONS_DIR INDEX_DIR OUT_JSON
    python -m bench.child build-fts5 ROOT DB FILES_JSON OUT_JSON
    python -m bench.child cold-whoosh QUERY     (KB_POSITIONS_DIR, KB_INDEX_DIR from env)
    python -m bench.child cold-fts5 QUERY       (FTS5_DB from env)

Heavy imports happen inside each command, so a cold start pays for exactly what the
app it starts would import.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from urllib.parse import quote


def build_whoosh(positions_dir: str, index_dir: str, out: str) -> dict:
    """Full rebuild through kb.indexing.reindex, the code `flask kb index --rebuild` runs."""
    from kb.config import Settings
    from kb.indexing import reindex
    from kb.service import KnowledgeBase

    settings = Settings.from_mapping({"KB_POSITIONS_DIR": positions_dir, "KB_INDEX_DIR": index_dir})
    started = time.perf_counter()
    report = reindex(settings, rebuild=True)
    seconds = time.perf_counter() - started
    records = KnowledgeBase(settings).records()
    result = {
        "seconds": seconds,
        "added": sorted(report.added),
        "skipped": sorted(report.skipped),
        "errors": sum(1 for p in report.problems if p.is_error),
        "warnings": sum(1 for p in report.problems if not p.is_error),
        "passages": sum(len(r.passages) for r in records),
        "revision": report.revision,
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    return result


def build_fts5(root: str, db: str, files_json: str, out: str) -> dict:
    """Build the FTS5 baseline database from exactly the listed files."""
    from bench.fts5_baseline import build_fts5 as build

    names = json.loads(Path(files_json).read_text(encoding="utf-8"))
    stats = build(Path(root), Path(db), files=[Path(root) / name for name in names])
    Path(out).write_text(json.dumps(stats), encoding="utf-8")
    return stats


def cold_whoosh(query: str) -> str:
    """Start the Positions app from nothing and answer one API search."""
    from app import create_app

    client = create_app().test_client()
    return _answer(client.get(f"/api/search?q={quote(query)}"))


def cold_fts5(query: str) -> str:
    """Start the FTS5 baseline app from nothing and answer one API search."""
    from bench.fts5_baseline import create_app_from_env

    client = create_app_from_env().test_client()
    return _answer(client.get(f"/api/search?q={quote(query)}"))


def _answer(response) -> str:
    """'200 total=N' for a search answer, else the status and the start of the body."""
    body = response.get_json(silent=True) or {}
    if response.status_code == 200 and "total" in body:
        return f"200 total={body['total']}"
    return f"{response.status_code} {response.get_data(as_text=True)[:200]!r}"


COMMANDS = {
    "build-whoosh": build_whoosh,
    "build-fts5": build_fts5,
    "cold-whoosh": cold_whoosh,
    "cold-fts5": cold_fts5,
}


def main(argv: list[str]) -> int:
    """Run one command; its result goes to stdout as one line."""
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m bench.child {{{'|'.join(COMMANDS)}}} ARGS…", file=sys.stderr)
        return 2
    result = COMMANDS[argv[0]](*argv[1:])
    print(result if isinstance(result, str) else json.dumps({"seconds": result["seconds"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
