"""Does counting searches (``kb/insights``) slow the public site? Counting on against off.

Two gunicorn servers over the same index run side by side, one with ``KB_INSIGHTS=on``
and one with ``off``. Each of CONCURRENCY closed-loop clients alternates between them,
request by request, each server getting the same distinct queries in the same order (so
the result cache never answers) and each going first half the time. Load from other
processes on a shared machine then falls on both alike, which matters more than anything
else when comparing within 5 %. Afterwards the counts file is read to show the counting
really happened.
"""

from __future__ import annotations

import http.client
import shutil
import threading
import time
from datetime import date

from bench.http_load import REQUEST_TIMEOUT, QueryFeed, Server, gunicorn, timed_search, warm_up
from bench.system import latency_summary
from bench.workspace import WORK, Corpus

CONCURRENCY = 8
RUN_FACTOR = 8  # the run lasts this many times --http-seconds
TARGET_PERCENT = 5.0


def _alternating_client(servers: dict[str, Server], feeds: dict[str, QueryFeed],
                        deadline: float, out: dict, first: int) -> None:  # fmt: skip
    # Which server hears a query first swaps every time: the second one to run a query
    # finds the index pages it reads already in the OS cache that both servers share.
    order = list(servers) if first % 2 == 0 else list(reversed(servers))
    conns = {
        name: http.client.HTTPConnection("127.0.0.1", s.port, timeout=REQUEST_TIMEOUT)
        for name, s in servers.items()
    }
    latencies: dict[str, list[float]] = {name: [] for name in servers}
    errors = dict.fromkeys(servers, 0)
    while time.perf_counter() < deadline:
        order.reverse()
        for name in order:
            took = timed_search(conns[name], feeds[name].next())
            if took is None:
                errors[name] += 1
            else:
                latencies[name].append(took)
    for conn in conns.values():
        conn.close()
    out["latencies"], out["errors"] = latencies, errors


def insights_section(corpus: Corpus, queries: list[str], warm: list[str], seconds: float) -> dict:
    """Distinct-query HTTP latency with counting on and off, measured in the same moments."""
    from kb.insights.store import InsightsStore

    folder = WORK / "insights" / corpus.name
    shutil.rmtree(folder, ignore_errors=True)
    envs = {
        "on": {"KB_INSIGHTS": "on", "KB_INSIGHTS_DIR": str(folder)},
        "off": {"KB_INSIGHTS": "off", "KB_INSIGHTS_DIR": str(folder)},
    }
    with gunicorn("positions", corpus, envs["on"]) as on:
        with gunicorn("positions", corpus, envs["off"]) as off:
            servers = {"on": on, "off": off}
            for server in servers.values():
                warm_up(server, warm)
            feeds = {name: QueryFeed(queries) for name in servers}
            duration = seconds * RUN_FACTOR
            deadline = time.perf_counter() + duration
            outs = [{} for _ in range(CONCURRENCY)]
            clients = [
                threading.Thread(target=_alternating_client,
                                 args=(servers, feeds, deadline, out, n), daemon=True)
                for n, out in enumerate(outs)
            ]  # fmt: skip
            for client in clients:
                client.start()
            for client in clients:
                client.join(duration + 2 * REQUEST_TIMEOUT + 5)
    # Both servers have stopped, so every worker has written what it buffered.
    counted = sum(t.searches for t in InsightsStore(folder).totals(date.min, date.max, 1))
    result: dict = {"concurrency": CONCURRENCY, "seconds": duration, "searches_counted": counted}
    for name in servers:
        latencies = [t for out in outs for t in out.get("latencies", {}).get(name, [])]
        errors = sum(out.get("errors", {}).get(name, 0) for out in outs)
        result[name] = {"requests": len(latencies), "errors": errors,
                        **latency_summary(latencies)}  # fmt: skip
    result["overhead_percent"] = 100 * (result["on"]["p50_ms"] / result["off"]["p50_ms"] - 1)
    return result


def render(results: dict) -> str:
    """One line per corpus measured, with the verdict against the 5 % target."""
    lines = []
    for name, data in results["corpora"].items():
        found = data.get("insights")
        if not found:
            continue
        on, off, overhead = found["on"], found["off"], found["overhead_percent"]
        verdict = "met" if abs(overhead) <= TARGET_PERCENT else "MISSED"
        lines.append(
            f"{name}: distinct-query HTTP p50, {found['concurrency']} clients alternating: "
            f"counting on {on['p50_ms']:.1f} ms ({on['requests']:,} requests), "
            f"off {off['p50_ms']:.1f} ms ({off['requests']:,}): {overhead:+.1f} % "
            f"(target within {TARGET_PERCENT:g} %: {verdict}); "
            f"{found['searches_counted']:,} searches counted, warm-up included"
        )
    return "\n".join(["", "== search insights (issue 17) =="] + lines) if lines else ""
