"""`make bench`: Positions against a SQLite FTS5 + Flask baseline, same files, same run.

    python -m bench                      # everything (about 10–20 minutes)
    python -m bench --quick              # starter + digitalgov, shorter runs
    python -m bench --only build,query   # chosen sections
    python -m bench --corpora digitalgov --only http --http-seconds 5

Sections: build, query, update, preview, cold, http, first (a fresh server's first 200
distinct queries), insights. Prints a table and the issue's target
verdicts, and writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import http_load, insights_http, preview_edit, report, sections
from bench.queries import query_sets
from bench.system import REPO, code_version, machine_info
from bench.workspace import SOURCES, Corpus, corpora

SECTIONS = ("build", "query", "update", "preview", "cold", "http", "first", "insights")
HTTP_LEVELS = [1, 8, 32]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="starter + digitalgov, short runs")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--corpora", help=f"comma-separated, from {', '.join(SOURCES)}")
    parser.add_argument("--http-corpora", default="digitalgov", help="corpora served over HTTP")
    parser.add_argument("--http-seconds", type=float, help="seconds per HTTP run")
    parser.add_argument("--query-budget", type=float, help="seconds of queries per corpus")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "latest.json"))
    args = parser.parse_args(argv)
    args.only = [s for s in args.only.split(",") if s]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    default = "positions,digitalgov" if args.quick else ",".join(SOURCES)
    args.corpora = [c for c in (args.corpora or default).split(",") if c]
    if set(args.corpora) - set(SOURCES):
        parser.error(f"corpora must be among: {', '.join(SOURCES)}")
    args.http_corpora = [c for c in args.http_corpora.split(",") if c]
    args.http_seconds = args.http_seconds or (3.0 if args.quick else 10.0)
    args.query_budget = args.query_budget or (15.0 if args.quick else 60.0)
    return args


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def attempt(data: dict, key: str, measure: Callable[[], object]) -> None:
    """Store measure() under key, or the reason it failed; one failure never stops the run."""
    started = time.perf_counter()
    try:
        data[key] = measure()
    except Exception as exc:  # noqa: BLE001 — a benchmark reports every failure and goes on
        data.setdefault("errors", {})[key] = f"{type(exc).__name__}: {exc}"
        say(f"  {key} FAILED: {exc}")
        traceback.print_exc(file=sys.stderr)
    say(f"  {key}: {time.perf_counter() - started:.1f}s")


def run_corpus(corpus: Corpus, args: argparse.Namespace) -> dict:
    """Every chosen section for one corpus."""
    data: dict = {}
    say(f"{corpus.name}: preparing a fresh copy")
    corpus.prepare()
    data["sizes"] = corpus.sizes()
    if "build" in args.only or not corpus.load_indexed():
        attempt(data, "build", lambda: sections.build(corpus))
    if not corpus.indexed:
        return data
    queries = query_sets(corpus.root, corpus.indexed)
    data["query_sets"] = {k: len(set(v)) for k, v in queries.items()}
    if "query" in args.only:
        attempt(data, "query", lambda: sections.query_latency(
            corpus, queries["latency"], queries["warm"], args.query_budget))  # fmt: skip
    if "cold" in args.only:
        attempt(data, "cold", lambda: sections.cold_start(corpus, queries["latency"][0]))
    if "http" in args.only and corpus.name in args.http_corpora:
        mixes = {"distinct": queries["distinct"], "zipf": queries["zipf"]}
        attempt(data, "http", lambda: http_load.http_section(
            corpus, mixes, queries["warm"], HTTP_LEVELS, args.http_seconds))  # fmt: skip
    if "first" in args.only and corpus.name in args.http_corpora:
        attempt(data, "first", lambda: http_load.first_requests_section(
            corpus, queries["distinct"]))  # fmt: skip
    if "insights" in args.only and corpus.name in args.http_corpora:
        attempt(data, "insights", lambda: insights_http.insights_section(
            corpus, queries["distinct"], queries["warm"], args.http_seconds))  # fmt: skip
    # Updates last: they leave the index with more segments and deleted documents,
    # which the query measurement then repeats on, to show what edits cost searches.
    if "update" in args.only:
        data["incremental"] = []
        for count in (1, 10):
            attempt(data, f"update{count}", lambda c=count: sections.incremental(corpus, c, 7))
            if f"update{count}" in data:
                data["incremental"].append(data.pop(f"update{count}"))
    if "preview" in args.only:
        attempt(data, "preview", lambda: preview_edit.preview_edits(corpus))
    if "update" in args.only or "preview" in args.only:
        if "query" in args.only:
            attempt(data, "query_after_updates", lambda: sections.query_latency(
                corpus, queries["latency"], queries["warm"], args.query_budget))  # fmt: skip
    return data


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    results = {
        "machine": machine_info(),
        "code": code_version(),
        "settings": {"sections": args.only, "corpora": args.corpora, "quick": args.quick,
                     "http_seconds": args.http_seconds, "query_budget_s": args.query_budget,
                     "http": {"workers": http_load.WORKERS, "threads": http_load.THREADS,
                              "levels": HTTP_LEVELS, "corpora": args.http_corpora}},
        "corpora": {},
    }  # fmt: skip
    for corpus in corpora(args.corpora):
        results["corpora"][corpus.name] = run_corpus(corpus, args)
    results["runtime_s"] = time.perf_counter() - started
    results["code_at_end"] = code_version()
    results["targets"] = report.targets(results)
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    print_summary(results)
    report.write_json(results, Path(args.out))
    print(f"\nwrote {args.out}")
    return 0


def print_summary(results: dict) -> None:
    machine = results["machine"]
    print(f"Positions benchmark, {machine['date']}")
    print(f"machine: {machine['cpu']} × {machine['cpus']}, {machine['memory_mb']} MB, "
          f"Python {machine['python']}")  # fmt: skip
    print(f"uname: {machine['uname']}")
    code, end = results["code"], results["code_at_end"]
    edits = " + uncommitted edits" if code["uncommitted_app_changes"] else ""
    print(f"code: commit {code['commit']}{edits} (app code {code['app_code_sha256']})")
    if end["app_code_sha256"] != code["app_code_sha256"]:
        print(f"WARNING: the app code changed during the run (now {end['app_code_sha256']}, "
              f"commit {end['commit']}); figures mix versions — run again")  # fmt: skip
    print(f"load average at start {machine['load_average_at_start'][0]:.2f}, "
          f"at end {machine['load_average_at_end'][0]:.2f}; runtime "
          f"{results['runtime_s']:.0f} s")  # fmt: skip
    print("ratio = Positions ÷ FTS5 (above 1: slower, bigger — or, for req/s and rates, more)")
    print(report.render_table(results))
    print(report.render_targets(results["targets"]))
    print(insights_http.render(results))
    for name, data in results["corpora"].items():
        for key, message in data.get("errors", {}).items():
            print(f"\n{name} {key} failed: {message}")


if __name__ == "__main__":
    sys.exit(main())
