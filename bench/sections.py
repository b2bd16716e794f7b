"""In-process and child-process measurements: build, query latency, updates, cold start.

Each function measures Positions (Whoosh) and the FTS5 baseline on the same files,
with the same queries, in the same run, and returns plain dicts for the report.
"""

from __future__ import annotations

import json
import random
import statistics
import string
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from bench import fts5_baseline as fts5
from bench.system import dir_size_mb, latency_summary, run_child
from bench.workspace import Corpus

SEARCHABLE_TIMEOUT = 30.0
COLD_RUNS = 3


class BenchError(RuntimeError):
    """A measurement could not be taken (the message says why)."""


def _child_json(args: list[str], out: Path, env: dict | None = None) -> tuple[dict, dict]:
    """Run a child command that writes JSON to ``out``; return (its JSON, process usage)."""
    run = run_child(args, env=env)
    if run.returncode != 0 or not out.is_file():
        tail = "\n".join(run.stderr.strip().splitlines()[-6:])
        raise BenchError(f"`bench.child {args[0]}` failed (exit {run.returncode}):\n{tail}")
    data = json.loads(out.read_text(encoding="utf-8"))
    return data, {"wall_s": run.wall, "peak_rss_mb": run.peak_mb, "cpu_s": run.cpu}


def _rates(docs: int, mb: float, seconds: float) -> dict:
    return {"docs_per_s": docs / seconds if seconds else None,
            "mb_per_s": mb / seconds if seconds else None}  # fmt: skip


def build(corpus: Corpus) -> dict:
    """Full index build of both engines, each in its own process (time, rate, size, memory)."""
    out = corpus.index_dir.parent / f"{corpus.name}.build.json"
    out.unlink(missing_ok=True)
    args = ["build-whoosh", str(corpus.root), str(corpus.index_dir), str(out)]
    whoosh, usage = _child_json(args, out)
    corpus.remember_indexed(whoosh["added"])
    mb_in = sum((corpus.root / p).stat().st_size for p in whoosh["added"]) / 1e6
    live = corpus.index_dir / whoosh["revision"]
    positions = {
        **usage, "seconds": whoosh["seconds"], "docs": len(whoosh["added"]),
        "skipped": len(whoosh["skipped"]), "errors": whoosh["errors"],
        "warnings": whoosh["warnings"], "passages": whoosh["passages"],
        "index_mb": dir_size_mb(live), "mb_in": mb_in, "skipped_examples": whoosh["skipped"][:5],
        **_rates(len(whoosh["added"]), mb_in, whoosh["seconds"]),
    }  # fmt: skip
    fts_out = corpus.fts5_db.with_suffix(".build.json")
    fts_out.unlink(missing_ok=True)
    args = ["build-fts5", str(corpus.root), str(corpus.fts5_db), str(corpus.indexed_file),
            str(fts_out)]  # fmt: skip
    stats, usage = _child_json(args, fts_out)
    baseline = {
        **usage, "seconds": stats["seconds"], "docs": stats["docs"],
        "passages": stats["paragraphs"], "index_mb": stats["db_bytes"] / 1e6,
        "mb_in": stats["bytes_in"] / 1e6,
        **_rates(stats["docs"], stats["bytes_in"] / 1e6, stats["seconds"]),
    }  # fmt: skip
    return {"positions": positions, "fts5": baseline}


def _timed_queries(
    run: Callable[[str], int], queries: list[str], budget: float
) -> tuple[list[float], list[int]]:
    """Time each query until the list or the time budget runs out; (seconds, totals)."""
    times, totals = [], []
    deadline = time.perf_counter() + budget
    for q in queries:
        started = time.perf_counter()
        totals.append(run(q))
        times.append(time.perf_counter() - started)
        if time.perf_counter() > deadline:
            break
    return times, totals


def query_latency(corpus: Corpus, queries: list[str], warm: list[str], budget: float) -> dict:
    """Warm single-thread latency, every query distinct (a result cache never answers).

    Positions goes through KnowledgeBase.search (highlights and best passages
    included); the baseline through search_fts5 (snippets and passages). Both are
    warmed with other queries first. Positions runs until ``budget`` seconds are
    spent; the baseline then runs exactly the same queries.
    """
    from kb.config import Settings
    from kb.search.engine import SearchRequest
    from kb.service import KnowledgeBase

    kb = KnowledgeBase(Settings.from_mapping(corpus.settings_mapping()))
    for q in warm:
        kb.search(SearchRequest(q=q))
    times, totals = _timed_queries(lambda q: kb.search(SearchRequest(q=q)).total, queries, budget)
    asked = queries[: len(times)]
    conn = fts5.connect_readonly(corpus.fts5_db)
    for q in warm:
        fts5.search_fts5(conn, q)
    fts_times, fts_totals = _timed_queries(
        lambda q: fts5.search_fts5(conn, q)["total"], asked, float("inf")
    )
    conn.close()
    slowest = sorted(zip(times, asked, totals, strict=True), reverse=True)[:10]
    return {
        "index_segments": segments(corpus),
        "positions": {**latency_summary(times), "zero_hits": totals.count(0),
                      "slowest": [{"q": q, "ms": t * 1000, "total": n} for t, q, n in slowest]},
        "fts5": {**latency_summary(fts_times), "zero_hits": fts_totals.count(0)},
        "queries_distinct": len(set(asked)) == len(asked),
    }  # fmt: skip


def segments(corpus: Corpus) -> int | None:
    """How many Whoosh segment files the live generation has (None if unknown)."""
    try:
        live = (corpus.index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    # One .pst (postings) file per segment, whether or not segments are compound files.
    folder = corpus.index_dir / live
    return len(list(folder.glob("*.seg"))) + len(list(folder.glob("*.pst")))


def _unique_word(rng: random.Random) -> str:
    return "zqv" + "".join(rng.choice(string.ascii_lowercase) for _ in range(9))


def _append(root: Path, paths: list[str], word: str) -> dict[str, bytes]:
    """Append a paragraph with ``word`` to each file; return the original bytes."""
    originals = {}
    for rel in paths:
        path = root / rel
        originals[rel] = path.read_bytes()
        path.write_bytes(originals[rel].rstrip(b"\n") + f"\n\n{word} marker.\n".encode())
    return originals


def _wait_until(found: Callable[[], bool], started: float) -> float | None:
    """Seconds from ``started`` until found() is true, polled every 10 ms (None: timeout)."""
    while time.perf_counter() - started < SEARCHABLE_TIMEOUT:
        if found():
            return time.perf_counter() - started
        time.sleep(0.01)
    return None


def incremental(corpus: Corpus, count: int, seed: int) -> dict:
    """Edit ``count`` files, update each engine, and time until the edit is searchable.

    Positions: kb.indexing.reindex (incremental), while a warm KnowledgeBase in this
    process keeps searching, as a running worker would (it notices a new index
    generation within IndexReader.RECHECK_SECONDS). Baseline: delete + insert the
    rows of those files, then search on an already open connection.
    """
    from kb.config import Settings
    from kb.content.slug import is_intro
    from kb.indexing import reindex
    from kb.search.engine import SearchRequest
    from kb.service import KnowledgeBase

    rng = random.Random(seed + count)
    # Folder introductions (README.md, _index.md) are shown on topic pages, never searched.
    editable = [path for path in corpus.indexed if not is_intro(PurePosixPath(path).name)]
    targets = rng.sample(editable, min(count, len(editable)))
    settings = Settings.from_mapping(corpus.settings_mapping())
    # The working copy is new, so the index knows none of its files' times yet: the
    # first run after a copy (or a checkout) reads every file once to learn them.
    reindex(settings)
    kb = KnowledgeBase(settings)
    kb.search(SearchRequest(q="warm up"))
    word = _unique_word(rng)
    originals = _append(corpus.root, targets, word)
    try:
        started = time.perf_counter()
        report = reindex(settings)
        indexed = time.perf_counter() - started
        seen = _wait_until(lambda: kb.search(SearchRequest(q=word)).total >= len(targets), started)
        conn = fts5.connect_readonly(corpus.fts5_db)
        fts_started = time.perf_counter()
        fts5.update_fts5(corpus.fts5_db, corpus.root, [corpus.root / p for p in targets])
        fts_indexed = time.perf_counter() - fts_started
        fts_seen = _wait_until(
            lambda: fts5.search_fts5(conn, word)["total"] >= len(targets), fts_started
        )
        conn.close()
    finally:
        _restore(corpus, originals)
    reread = len(report.added) + len(report.updated)  # files with errors are not re-read
    return {
        "files": len(targets),
        "positions": {"update_s": indexed, "searchable_s": seen, "files_reread": reread},
        "fts5": {"update_s": fts_indexed, "searchable_s": fts_seen},
    }  # fmt: skip


def _restore(corpus: Corpus, originals: dict[str, bytes]) -> None:
    """Put the edited files back and bring both indexes back in line with them."""
    from kb.config import Settings
    from kb.indexing import reindex

    for rel, data in originals.items():
        (corpus.root / rel).write_bytes(data)
    reindex(Settings.from_mapping(corpus.settings_mapping()))
    fts5.update_fts5(corpus.fts5_db, corpus.root, [corpus.root / p for p in originals])


def cold_start(corpus: Corpus, query: str) -> dict:
    """Wall time of a process that starts the app, answers one API search and exits.

    The median of COLD_RUNS runs (the OS file cache is warm: this is a restart, not a
    boot). The child's peak RSS is reported too.
    """
    results = {}
    for engine in ("positions", "fts5"):
        command = "cold-whoosh" if engine == "positions" else "cold-fts5"
        runs = [run_child([command, query], env=corpus.env) for _ in range(COLD_RUNS)]
        failed = [r for r in runs if r.returncode != 0 or not r.stdout.startswith("200")]
        if failed:
            tail = "\n".join(failed[0].stderr.strip().splitlines()[-6:])
            raise BenchError(f"cold start of {engine} failed: {failed[0].stdout}{tail}")
        results[engine] = {
            "seconds": statistics.median(r.wall for r in runs),
            "peak_rss_mb": max(r.peak_mb for r in runs),
            "answer": runs[-1].stdout.strip(),
        }
    return results
