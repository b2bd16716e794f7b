"""Where a Positions search spends its time: cProfile of the slowest query, and of all.

    python -m bench.profile_query [--corpus digitalgov] [--queries 300] [--top 25]

Uses the benchmark's working copy and index under bench/.work/ (building them if
missing or built by another schema), times the benchmark's distinct query set
through KnowledgeBase.search, then profiles the slowest query on a fresh
KnowledgeBase (empty result cache, searcher already open), and the whole set.
Prints the top cumulative entries and the time inside the project's own functions;
the raw profiles go to bench/results/*.pstats for snakeviz or pstats.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

from bench.queries import query_sets
from bench.sections import segments
from bench.system import REPO
from bench.workspace import SOURCES, Corpus

RESULTS = REPO / "bench" / "results"
CANDIDATES = 8
RETIMES = 3


def ensure_index(corpus: Corpus, rebuild: bool = False) -> None:
    """Reuse the benchmark's index when this code can open it (and ``rebuild`` is false)."""
    from kb.config import Settings
    from kb.index.store import IndexMissing
    from kb.indexing import reindex
    from kb.service import KnowledgeBase

    settings = Settings.from_mapping(corpus.settings_mapping())
    if not rebuild and corpus.root.is_dir() and corpus.load_indexed():
        try:
            KnowledgeBase(settings).revision()
            return
        except IndexMissing as exc:
            print(f"rebuilding the index: {exc}", file=sys.stderr)
    if not corpus.root.is_dir():
        corpus.prepare()
    started = time.perf_counter()
    report = reindex(settings, rebuild=True)
    print(f"built {corpus.name} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    corpus.remember_indexed(report.added)


def fresh_kb(corpus: Corpus, warm: list[str]):
    """A new KnowledgeBase (empty cache) whose searcher is open and warmed."""
    from kb.config import Settings
    from kb.search.engine import SearchRequest
    from kb.service import KnowledgeBase

    kb = KnowledgeBase(Settings.from_mapping(corpus.settings_mapping()))
    for q in warm:
        kb.search(SearchRequest(q=q))
    return kb


def time_queries(kb, queries: list[str], budget: float) -> list[tuple[float, str, int]]:
    """(seconds, query, total) for each query, until the budget is spent."""
    from kb.search.engine import SearchRequest

    timed = []
    deadline = time.perf_counter() + budget
    for q in queries:
        started = time.perf_counter()
        total = kb.search(SearchRequest(q=q)).total
        timed.append((time.perf_counter() - started, q, total))
        if time.perf_counter() > deadline:
            break
    return timed


def slowest_confirmed(
    corpus: Corpus, warm: list[str], timed: list[tuple[float, str, int]]
) -> tuple[float, str, int]:
    """The slowest query by the median of RETIMES fresh-cache runs of the CANDIDATES slowest.

    One timing on a shared machine can be a pause that has nothing to do with the
    query; re-timing the front-runners picks a query that is slow every time.
    """
    from kb.search.engine import SearchRequest

    confirmed = []
    for _, q, total in sorted(timed, reverse=True)[:CANDIDATES]:
        runs = []
        for _ in range(RETIMES):
            kb = fresh_kb(corpus, warm[:1])
            started = time.perf_counter()
            kb.search(SearchRequest(q=q))
            runs.append(time.perf_counter() - started)
        confirmed.append((statistics.median(runs), q, total))
    return max(confirmed)


def top_cumulative(profile: cProfile.Profile, count: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(count)
    return out.getvalue()


def own_code(profile: cProfile.Profile, count: int) -> str:
    """The project's functions (kb/, app.py) by cumulative time, as a share of the total."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = max((ct for (_, _, _), (_, _, _, ct, _) in stats.items()), default=0.0)
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.items():
        path = Path(filename)
        if REPO in path.parents and "bench" not in path.parts and ".venv" not in path.parts:
            where = f"{path.relative_to(REPO)}:{line} {name}"
            rows.append((cumulative, own, calls, where))
    rows.sort(reverse=True)
    lines = [f"{'cumulative':>12} {'share':>6} {'own':>9} {'calls':>7}  function"]
    for cumulative, own, calls, where in rows[:count]:
        share = cumulative / total * 100 if total else 0.0
        lines.append(f"{cumulative * 1000:10.1f}ms {share:5.1f}% {own * 1000:7.1f}ms "
                     f"{calls:>7}  {where}")  # fmt: skip
    return "\n".join(lines)


def library_hotspots(profile: cProfile.Profile, count: int) -> str:
    """The functions with the most time of their own (any library)."""
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats("tottime").print_stats(count)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_query")
    parser.add_argument("--corpus", default="digitalgov", choices=list(SOURCES))
    parser.add_argument("--queries", type=int, default=300, help="how many distinct queries")
    parser.add_argument("--budget", type=float, default=90.0, help="seconds for timing them")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rebuild", action="store_true", help="profile a freshly built index")
    args = parser.parse_args(argv)
    from kb.search.engine import SearchRequest

    corpus = Corpus(args.corpus, *SOURCES[args.corpus])
    ensure_index(corpus, args.rebuild)
    print(f"index: {segments(corpus)} segment(s); the benchmark's edits add segments and "
          "deleted documents, --rebuild starts from one")  # fmt: skip
    sets = query_sets(corpus.root, corpus.indexed)
    queries = sets["latency"][: args.queries]
    timed = time_queries(fresh_kb(corpus, sets["warm"]), queries, args.budget)
    ms = sorted(t * 1000 for t, _, _ in timed)
    seconds, slowest, total = slowest_confirmed(corpus, sets["warm"], timed)
    print(f"{len(timed)} distinct queries over {corpus.name}: median {ms[len(ms) // 2]:.1f} ms, "
          f"max {ms[-1]:.1f} ms, mean {sum(ms) / len(ms):.1f} ms")  # fmt: skip
    print("slowest five:", "; ".join(f"{q!r} {t * 1000:.0f} ms ({n} hits)"
                                      for t, q, n in sorted(timed, reverse=True)[:5]))  # fmt: skip

    kb = fresh_kb(corpus, sets["warm"])
    single = cProfile.Profile()
    single.runcall(kb.search, SearchRequest(q=slowest))
    print(f"\n=== slowest query {slowest!r}: {seconds * 1000:.1f} ms unprofiled "
          f"(median of {RETIMES}), {total} hits ===")  # fmt: skip
    print(top_cumulative(single, args.top))
    print("--- time in project code (slowest query) ---")
    print(own_code(single, 20))

    kb = fresh_kb(corpus, sets["warm"])
    whole = cProfile.Profile()
    whole.runcall(lambda: [kb.search(SearchRequest(q=q)) for _, q, _ in timed])
    print(f"\n=== all {len(timed)} queries, fresh cache ===")
    print("--- time in project code (all queries) ---")
    print(own_code(whole, 25))
    print("\n--- most time of their own (all queries) ---")
    print(library_hotspots(whole, 15))
    RESULTS.mkdir(parents=True, exist_ok=True)
    single.dump_stats(RESULTS / "profile-slowest.pstats")
    whole.dump_stats(RESULTS / "profile-all.pstats")
    print(f"profiles written to {RESULTS}/profile-slowest.pstats and profile-all.pstats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
