"""HTTP throughput and latency under gunicorn, load generated on 127.0.0.1 only.

The load generator is Python threads with keep-alive connections (http.client) in
this process. It shares the machine's cores with the server, so absolute figures
are lower than a separate load machine would show; both engines pay the same tax.
"""

from __future__ import annotations

import http.client
import itertools
import os
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from bench.system import PYTHON, REPO, child_pids, cpu_ms, latency_summary, process_memory_mb
from bench.workspace import WORK, Corpus

WORKERS = 2
THREADS = 4
REQUEST_TIMEOUT = 60.0
READY_TIMEOUT = 60.0
APPS = {
    "positions": "app:create_app()",
    "fts5": "bench.fts5_baseline:create_app_from_env()",
}


@dataclass(frozen=True)
class Server:
    port: int
    pid: int
    ready_s: float  # from launch until it first answered a search


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, timeout: float = 5.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _wait_ready(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    status = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            status = _get(port, "/api/search?q=ready")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-8:])
    raise RuntimeError(f"gunicorn on 127.0.0.1:{port} did not answer 200 (last: {status}):\n{tail}")


@contextmanager
def gunicorn(
    engine: str, corpus: Corpus, env: dict[str, str] | None = None, production: bool = False
) -> Iterator[Server]:
    """Run gunicorn (gthread, WORKERS × THREADS) for one engine; always stopped after.

    ``env`` adds to the corpus's environment (``bench.insights_http`` switches counting).
    By default no configuration file applies, as when a test runs the app its own way;
    ``production`` runs it with the project's ``gunicorn.conf.py`` (its worker, the app
    loaded once and the index read before the workers start), access log off.
    """
    port = free_port()
    WORK.mkdir(parents=True, exist_ok=True)
    if production:
        config, worker = REPO / "gunicorn.conf.py", []
        env = {"KB_ACCESS_LOG": os.devnull, **(env or {})}
    else:
        config, worker = WORK / "gunicorn.bench.py", ["-k", "gthread"]
        config.write_text("# settings are on the command line\n", encoding="utf-8")
    log = WORK / f"gunicorn-{engine}-{corpus.name}-{port}.log"
    command = [
        str(Path(PYTHON).parent / "gunicorn"), "-c", str(config),
        "-w", str(WORKERS), *worker, "--threads", str(THREADS),
        "-b", f"127.0.0.1:{port}", "--log-level", "warning", APPS[engine],
    ]  # fmt: skip
    with open(log, "w") as log_file:
        full_env = {**os.environ, **corpus.env, **(env or {})}
        launched = time.perf_counter()
        proc = subprocess.Popen(command, cwd=REPO, env=full_env, stdout=log_file, stderr=log_file)
        try:
            _wait_ready(proc, port, log)
            yield Server(port, proc.pid, time.perf_counter() - launched)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class QueryFeed:
    """A thread-safe endless feed of queries (wraps around a finite sequence)."""

    def __init__(self, queries: list[str]) -> None:
        self._cycle = itertools.cycle(queries)
        self._lock = threading.Lock()
        self.size = len(queries)
        self.taken = 0

    def next(self) -> str:
        with self._lock:
            self.taken += 1
            return next(self._cycle)


def timed_search(conn: http.client.HTTPConnection, query: str) -> float | None:
    """Seconds one /api/search took over ``conn``, or None when it failed (the connection
    is then closed, and reopens on the next request)."""
    started = time.perf_counter()
    try:
        conn.request("GET", f"/api/search?q={quote(query)}")
        response = conn.getresponse()
        response.read()
        ok = response.status == 200
    except (OSError, http.client.HTTPException):
        ok = False
        conn.close()
    return time.perf_counter() - started if ok else None


def _client(port: int, feed: QueryFeed, deadline: float, out: dict) -> None:
    """One closed-loop client: request, wait for the answer, repeat until the deadline."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    latencies, errors = [], 0
    while time.perf_counter() < deadline:
        took = timed_search(conn, feed.next())
        if took is None:
            errors += 1
        else:
            latencies.append(took)
    conn.close()
    out["latencies"], out["errors"] = latencies, errors


def load(server: Server, feed: QueryFeed, concurrency: int, seconds: float) -> dict:
    """Closed-loop load for ``seconds`` (requests in flight then finish); req/s, latency."""
    started = time.perf_counter()
    deadline = started + seconds
    outs = [{} for _ in range(concurrency)]
    threads = [
        threading.Thread(target=_client, args=(server.port, feed, deadline, out), daemon=True)
        for out in outs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - started
    latencies = [t for out in outs for t in out.get("latencies", [])]
    errors = sum(out.get("errors", 0) for out in outs)
    return {
        "concurrency": concurrency,
        "seconds": elapsed,
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed if elapsed else None,
        **latency_summary(latencies),
    }


def worker_memory(server: Server) -> list[dict]:
    """VmRSS and VmHWM of each gunicorn worker (children of the master)."""
    return [{"pid": pid, **process_memory_mb(pid)} for pid in child_pids(server.pid)]


def warm_up(server: Server, queries: list[str]) -> None:
    """Send a few requests so every worker thread has opened its index or connection."""
    load(server, QueryFeed(queries), WORKERS * THREADS, 1.0)


def http_section(
    corpus: Corpus,
    mixes: dict[str, list[str]],
    warm: list[str],
    levels: list[int],
    seconds: float,
) -> dict:
    """For each engine and query mix: a fresh server, then one bounded run per level.

    Each mix starts on a fresh server (empty caches); within a mix the feed goes on
    across levels, so a "distinct" mix never repeats a query until it wraps around
    (``wrapped`` says if it did).
    """
    result: dict = {}
    for engine in APPS:
        result[engine] = {}
        for mix, queries in mixes.items():
            with gunicorn(engine, corpus) as server:
                warm_up(server, warm)
                feed = QueryFeed(queries)
                runs = [load(server, feed, level, seconds) for level in levels]
                result[engine][mix] = {
                    "runs": runs,
                    "wrapped": feed.taken > feed.size,
                    "workers": worker_memory(server),
                }
    return result


FIRST_REQUESTS = 200  # the held-out test: 200 distinct queries, 8 clients
FIRST_ROUNDS = 3
# The readiness check is answered by the first worker up. Clients that connect at once
# keep their connections, so when the other worker is still starting, the first takes
# all eight for the whole run and answers alone (p50 75–134 ms against 33–47 ms on
# digitalgov-third). Waiting this long lets every worker start first.
FIRST_SETTLE_S = 1.5


# Servers of the first-requests section: engine, and whether gunicorn.conf.py applies.
FIRST_SERVERS = {
    "positions": ("positions", False),
    "positions_production": ("positions", True),
    "fts5": ("fts5", False),
}


def first_requests_section(
    corpus: Corpus, queries: list[str], count: int = FIRST_REQUESTS, rounds: int = FIRST_ROUNDS
) -> dict:
    """A freshly started server's first ``count`` distinct queries at 8 clients, nothing
    sent before them but the readiness check (and a pause for every worker to start):
    each worker meets them with empty caches, so this counts what a new worker costs,
    which the timed runs' warm-up hides. Each round takes new queries, every server the
    same ones; the median round is reported, with the workers' CPU time for the queries
    (steadier than latency on a shared machine) and how long each server took to start.
    Positions runs twice: as a test might run it (no configuration file) and as
    production does (``gunicorn.conf.py``)."""
    result: dict = {name: [] for name in FIRST_SERVERS}
    for round_number in range(rounds):
        batch = queries[round_number * count : (round_number + 1) * count]
        for name, (engine, production) in FIRST_SERVERS.items():
            with gunicorn(engine, corpus, production=production) as server:
                time.sleep(FIRST_SETTLE_S)
                workers = child_pids(server.pid)
                before = cpu_ms(workers)
                run = once(server, batch, 8)
                run["cpu_ms"] = cpu_ms(workers) - before
                run["ready_s"] = server.ready_s
                result[name].append(run)
    return {name: {**_median_round(runs), "rounds": runs} for name, runs in result.items()}


def once(server: Server, queries: list[str], concurrency: int) -> dict:
    """Each of ``queries`` asked once by ``concurrency`` closed-loop clients."""
    feed, lock = iter(queries), threading.Lock()
    latencies: list[float] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT)
        while True:
            with lock:
                query = next(feed, None)
            if query is None:
                break
            took = timed_search(conn, query)
            if took is not None:
                latencies.append(took)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT * len(queries))
    return {"concurrency": concurrency, "errors": len(queries) - len(latencies),
            **latency_summary(latencies)}  # fmt: skip


def _median_round(runs: list[dict]) -> dict:
    """The median of each figure over the rounds (None when a round lacks it)."""
    medians = {}
    for key in ("p50_ms", "cpu_ms", "ready_s"):
        values = [run.get(key) for run in runs]
        medians[key] = statistics.median(values) if None not in values else None
    return medians
