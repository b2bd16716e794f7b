"""Turn measurements into the printed table, the target verdicts and the JSON file.

Every row shows Positions (Whoosh) beside the FTS5 baseline and the ratio
Positions ÷ FTS5: above 1 means Positions takes longer (or, for req/s and rates,
does more).
"""

from __future__ import annotations

import json
from pathlib import Path

Row = tuple[str, object, object, str]  # measurement, positions, fts5, unit

TARGET_CORPUS = "digitalgov"


def _fmt(value: object, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    number = float(value)
    if abs(number) < 10:
        return f"{number:.3g}"
    if abs(number) >= 100:
        return f"{number:,.0f}"
    return f"{number:.1f}"


def _ratio(a: object, b: object) -> str:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        return f"{a / b:.2f}×" if a / b < 100 else f"{a / b:,.0f}×"
    return ""


def corpus_rows(name: str, data: dict) -> list[Row]:
    """The table rows for one corpus, in reading order."""
    rows: list[Row] = []
    sizes = data.get("sizes", {})
    if sizes:
        scanned = f"{sizes['files_scanned']:,} files, {sizes['mb_scanned']} MB"
        rows.append(("corpus (Markdown scanned)", scanned, scanned, ""))
    build = data.get("build")
    if build:
        p, f = build["positions"], build["fts5"]
        skipped = f"{p['docs']:,} (+{p['skipped']} skipped)"
        rows += [
            ("documents indexed", skipped, f["docs"], ""),
            ("passages / paragraphs", p["passages"], f["passages"], ""),
            ("full build", p["seconds"], f["seconds"], "s"),
            ("full build, CPU time of the process", p["cpu_s"], f["cpu_s"], "s"),
            ("build rate", p["docs_per_s"], f["docs_per_s"], "docs/s"),
            ("build rate", p["mb_per_s"], f["mb_per_s"], "MB/s"),
            ("index size", p["index_mb"], f["index_mb"], "MB"),
            ("build peak memory", p["peak_rss_mb"], f["peak_rss_mb"], "MB"),
        ]
    for update in data.get("incremental", []):
        p, f = update["positions"], update["fts5"]
        files = f"{update['files']} file" + ("s" if update["files"] > 1 else "")
        rows.append((f"edit {files}: index update", p["update_s"], f["update_s"], "s"))
        rows.append((f"edit {files}: until searchable", p["searchable_s"], f["searchable_s"], "s"))
        rows.append((f"edit {files}: files the indexer re-indexed", p["files_reread"],
                     update["files"], ""))  # fmt: skip
    preview = data.get("preview")
    if preview:
        label = f"preview: save until searchable (median of {preview['saves']})"
        rows.append((label, preview["median_searchable_s"], None, "s"))
        rows.append(("preview: start until serving", preview["start_s"], None, "s"))
    cold = data.get("cold")
    if cold:
        rows.append(("cold start → first answer", cold["positions"]["seconds"],
                     cold["fts5"]["seconds"], "s"))  # fmt: skip
    query = data.get("query")
    if query:
        p, f = query["positions"], query["fts5"]
        for key in ("p50_ms", "p95_ms", "p99_ms"):
            label = f"search {key[:3]}, {p['n']} distinct queries"
            rows.append((label, p[key], f[key], "ms"))
    rows += _http_rows(data.get("http", {}))
    rows += _first_rows(data.get("first"))
    after = data.get("query_after_updates")
    if after:
        p, f = after["positions"], after["fts5"]
        note = f"after the edits ({after['index_segments']} segments)"
        rows.append((f"search p50, {note}", p["p50_ms"], f["p50_ms"], "ms"))
        rows.append((f"search p95, {note}", p["p95_ms"], f["p95_ms"], "ms"))
    return rows


# The first-requests section's Positions servers (bench/http_load.py), as the report names them.
FIRST_SERVERS_SHOWN = (("positions", "bare"), ("positions_production", "as deployed"))


def _first_rows(first: dict | None) -> list[Row]:
    """A fresh server's first 200 distinct queries at 8 clients: Positions "bare" (no
    configuration file), then "as deployed" (gunicorn.conf.py), each beside the same
    FTS5 rounds; "start" is from launch until it answered a search."""
    if not first:
        return []
    rows: list[Row] = []
    rounds = len(first["fts5"]["rounds"])
    f = first["fts5"]
    for name, how in FIRST_SERVERS_SHOWN:
        p = first.get(name)
        if not p:
            continue
        label = f"first 200, {how}"
        rows.append((f"{label}: p50 ({rounds} rounds)", p["p50_ms"], f["p50_ms"], "ms"))
        rows.append((f"{label}: workers' CPU", p.get("cpu_ms"), f.get("cpu_ms"), "ms"))
        rows.append((f"{label}: start", p.get("ready_s"), f.get("ready_s"), "s"))
    return rows


def _http_rows(http: dict) -> list[Row]:
    rows: list[Row] = []
    if not http:
        return rows
    p_all, f_all = http["positions"], http["fts5"]
    for mix in p_all:
        for p, f in zip(p_all[mix]["runs"], f_all[mix]["runs"], strict=True):
            prefix = f"HTTP {mix} c={p['concurrency']}"
            rows += [
                (f"{prefix} throughput", p["rps"], f["rps"], "req/s"),
                (f"{prefix} p50", p["p50_ms"], f["p50_ms"], "ms"),
                (f"{prefix} p95", p["p95_ms"], f["p95_ms"], "ms"),
                (f"{prefix} p99", p["p99_ms"], f["p99_ms"], "ms"),
            ]
            if p["errors"] or f["errors"]:
                rows.append((f"{prefix} errors", p["errors"], f["errors"], ""))
    rows.append(("worker peak RSS (max)", _max_rss(p_all), _max_rss(f_all), "MB"))
    return rows


def _max_rss(engine: dict) -> float | None:
    peaks = [w["peak_rss_mb"] for mix in engine.values() for w in mix["workers"]
             if w.get("peak_rss_mb")]  # fmt: skip
    return max(peaks) if peaks else None


def render_table(results: dict) -> str:
    """The whole table as text: a header line per corpus, one line per measurement."""
    lines = []
    widths = (44, 24, 16, 9)
    header = ("measurement", "Positions (Whoosh)", "FTS5 baseline", "ratio")
    for name, data in results["corpora"].items():
        lines.append("")
        lines.append(f"== {name} ==")
        lines.append(_line(header, widths))
        lines.append(_line(tuple("-" * w for w in widths), widths))
        for label, p, f, unit in corpus_rows(name, data):
            shown = f"{label} ({unit})" if unit else label
            cells = (shown, _fmt(p, unit), _fmt(f, unit), _ratio(p, f))
            lines.append(_line(cells, widths))
    return "\n".join(lines)


def _line(cells: tuple, widths: tuple) -> str:
    first, *rest = cells
    return f"{first:<{widths[0]}} " + " ".join(
        f"{c:>{w}}" for c, w in zip(rest, widths[1:], strict=True)
    )


def targets(results: dict) -> list[dict]:
    """The issue's targets, judged on the digitalgov corpus (and updates on every corpus)."""
    checks: list[dict] = []
    data = results["corpora"].get(TARGET_CORPUS, {})
    query = data.get("query")
    if query:
        p = query["positions"]
        checks.append(_check("search p50 ≤ 8 ms (distinct)", p["p50_ms"], 8, "ms"))
        checks.append(_check("search p95 ≤ 25 ms (distinct)", p["p95_ms"], 25, "ms"))
    http = data.get("http")
    if http:
        checks += _http_checks(http)
    first = data.get("first") or {}
    for name, how in FIRST_SERVERS_SHOWN:
        p, f = first.get(name), first.get("fts5")
        if p and f and p["p50_ms"] and f["p50_ms"]:
            ratio = p["p50_ms"] / f["p50_ms"]
            label = f"HTTP first 200 distinct p50, {how}, ≤ 2.0× FTS5"
            checks.append(_check(label, ratio, 2.0, "×"))
    for name, corpus in results["corpora"].items():
        for update in corpus.get("incremental", []):
            if update["files"] == 1:
                value = update["positions"]["searchable_s"]
                checks.append(_check(f"one edit searchable < 1 s ({name})", value, 1, "s"))
                value = update["positions"]["update_s"]
                checks.append(_check(f"one-file incremental index < 1 s ({name})", value, 1, "s"))
        preview = corpus.get("preview")
        if preview:
            value = preview["median_searchable_s"]
            checks.append(_check(f"preview: a save searchable < 1 s ({name})", value, 1, "s"))
    cold = data.get("cold")
    if cold:
        checks.append(_check("cold start < 1 s", cold["positions"]["seconds"], 1, "s"))
    if http:
        peak = _max_rss(http["positions"])
        checks.append(_check("memory < 300 MB per worker", peak, 300, "MB"))
    return checks


def _http_checks(http: dict) -> list[dict]:
    checks = []
    limits = {"distinct": 2.0, "zipf": 1.2}
    for mix, limit in limits.items():
        p = _level(http["positions"].get(mix), 8)
        f = _level(http["fts5"].get(mix), 8)
        if p and f and p["p50_ms"] and f["p50_ms"]:
            ratio = p["p50_ms"] / f["p50_ms"]
            checks.append(_check(f"HTTP c=8 {mix} p50 ≤ {limit}× FTS5", ratio, limit, "×"))
    return checks


def _level(mix: dict | None, concurrency: int) -> dict | None:
    for run in (mix or {}).get("runs", []):
        if run["concurrency"] == concurrency:
            return run
    return None


def _check(name: str, value: float | None, limit: float, unit: str) -> dict:
    ok = value is not None and value <= limit
    return {"target": name, "value": value, "limit": limit, "unit": unit, "met": ok}


def render_targets(checks: list[dict]) -> str:
    lines = ["", "== targets (issues 7 and 16) =="]
    for check in checks:
        verdict = "met" if check["met"] else "MISSED"
        value = _fmt(check["value"], check["unit"])
        lines.append(f"{check['target']:<44} {value:>10} {check['unit']:<3} {verdict}")
    return "\n".join(lines)


def write_json(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
