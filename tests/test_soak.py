"""The bounded soak test (`make soak`): gunicorn as in production, 32 concurrent clients
for at most 40 seconds (KB_SOAK_SECONDS), while a loop edits positions and re-indexes.

Passes only with zero failed requests: no connection error, no 5xx. Prints requests per
second and latency percentiles. Loopback only.
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kb.config import Settings
from kb.indexing import reindex
from tests.live_server import HOST, ROOT, run_gunicorn

pytestmark = pytest.mark.soak

CLIENTS = 32
SECONDS = float(os.environ.get("KB_SOAK_SECONDS", "40"))
GENERATED = 300
REINDEX_PAUSE = 1.0
WORDS = ["europe", "climate", "housing", "work", "trade", "wages", "energy", "schools",
         "neighbours", "democracy", "nhs", "tax", "growth", "young people", "rebalancing power",
         "internationalism", "labour", "green jobs", "net zero", "fair pay"]  # fmt: skip
TOPICS = ["economy", "climate", "europe", "power", "democracy"]  # all in positions/topics.yml


def generated_position(n: int, edition: int = 0) -> str:
    topic = TOPICS[n % len(TOPICS)]
    paragraphs = "\n\n".join(
        f"Paragraph {p} of position {n}, edition {edition}: {WORDS[(n * 31 + p) % len(WORDS)]}"
        f" and {WORDS[(n + p) % len(WORDS)]} matter to every community in Britain."
        for p in range(6)
    )
    return (
        f"---\ntitle: Generated position {n}\nsummary: Summary of generated position {n}.\n"
        f"topics: [{topic}]\nstatus: adopted\nupdated: 2026-10-{n % 28 + 1:02d}\n---\n"
        f"## Section one\n\n{paragraphs}\n\n## Section two\n\n- a list item {n}\n- another one\n"
    )


@dataclass
class Tally:
    """What the clients saw, shared under a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    stale_retries: int = 0

    def record(self, path: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1
            if status >= 500:
                self.failures.append(f"{path}: {status}")

    def fail(self, path: str, error: str) -> None:
        with self.lock:
            self.failures.append(f"{path}: {error}")


def request_paths(slugs: list[str], passage_ids: list[str], rng: random.Random) -> str:
    word = rng.choice(WORDS).replace(" ", "+")
    choices = [
        (30, f"/search?q={word}"),
        (15, f"/api/search?q={word}&per_page=5"),
        (20, f"/positions/{rng.choice(slugs)}"),
        (8, f"/api/suggest?q={word[:3]}"),
        (6, f"/cite/{rng.choice(passage_ids)}"),
        (5, "/"),
        (4, f"/topics/{rng.choice(TOPICS)}"),
        (4, "/positions"),
        (3, "/static/site.css"),
        (3, "/feed.atom"),
        (2, f"/search?q={word}&sort=updated&page=2"),
    ]
    return rng.choices([p for _, p in choices], weights=[w for w, _ in choices])[0]


def client_loop(port: int, deadline: float, tally: Tally, slugs, passage_ids, seed: int):
    """One keep-alive client. A request that fails on a reused connection before any
    response is retried once on a new one, as browsers do (the server may have closed an
    idle connection); a failure on a fresh connection counts."""
    rng = random.Random(seed)
    connection, reused = None, False
    while time.monotonic() < deadline:
        path = request_paths(slugs, passage_ids, rng)
        for attempt in (1, 2):
            if connection is None:
                connection, reused = http.client.HTTPConnection(HOST, port, timeout=30), False
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
                response = connection.getresponse()
                response.read()
            except (http.client.HTTPException, OSError) as exc:
                connection.close()
                connection = None
                if reused and attempt == 1:
                    with tally.lock:
                        tally.stale_retries += 1
                    continue
                tally.fail(path, f"{type(exc).__name__}: {exc}")
                break
            tally.record(path, response.status, time.perf_counter() - started)
            if response.will_close:
                connection.close()
                connection = None
            else:
                reused = True
            break
    if connection is not None:
        connection.close()


def reindex_loop(folder: Path, env: dict, deadline: float, runs: list, stop: threading.Event):
    """Edit a few positions, then run `flask kb index` as an editor would, until the end."""
    flask = Path(sys.executable).with_name("flask")
    edition = 0
    while time.monotonic() < deadline - 3 and not stop.is_set():
        edition += 1
        for n in (edition % GENERATED, (edition * 7) % GENERATED):
            (folder / f"generated-{n}.md").write_text(generated_position(n, edition))
        started = time.monotonic()
        done = subprocess.run(
            [str(flask), "--app", "app", "kb", "index", "--wait", "30"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        runs.append((done.returncode, time.monotonic() - started, done.stdout + done.stderr))
        stop.wait(REINDEX_PAUSE)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def test_soak_under_gunicorn_while_reindexing(tmp_path, starter_index):
    folder = tmp_path / "positions"
    shutil.copytree(starter_index[0], folder)
    for n in range(GENERATED):
        (folder / f"generated-{n}.md").write_text(generated_position(n))
    index_dir = tmp_path / "search_index"
    settings = {"KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index_dir)}
    reindex(Settings.from_mapping(settings))
    env = {**os.environ, **settings}
    with run_gunicorn(settings, tmp_path / "gunicorn.log", workers=2, threads=4) as port:
        slugs, passage_ids = discover(port)
        tally, runs, stop = Tally(), [], threading.Event()
        started = time.monotonic()
        deadline = started + SECONDS
        indexer = threading.Thread(target=reindex_loop, args=(folder, env, deadline, runs, stop))
        clients = [
            threading.Thread(
                target=client_loop, args=(port, deadline, tally, slugs, passage_ids, seed)
            )  # fmt: skip
            for seed in range(CLIENTS)
        ]
        indexer.start()
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=SECONDS + 60)
        stop.set()
        indexer.join(timeout=90)
        elapsed = time.monotonic() - started
        edited = edition_seen(port, runs)
    latencies = tally.latencies
    print(
        f"\nsoak: {len(latencies):,} requests in {elapsed:.1f}s = {len(latencies) / elapsed:.0f}/s"
        f" with {CLIENTS} clients; latency p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
        f"mean {statistics.mean(latencies) * 1000:.0f} ms; statuses {dict(tally.statuses)}; "
        f"{len(runs)} re-index runs (mean {statistics.mean(r[1] for r in runs):.1f}s); "
        f"{tally.stale_retries} keep-alive retries; failures {len(tally.failures)}"
    )
    log = (tmp_path / "gunicorn.log").read_text()
    assert tally.failures == []
    assert set(tally.statuses) <= {200, 304}
    for sign in ("Traceback", "WORKER TIMEOUT", "[CRITICAL]", "[ERROR]"):
        assert sign not in log, log[-3000:]
    assert runs and all(code == 0 for code, _, _ in runs), [out for _, _, out in runs]
    assert edited, "the last edit never became searchable"


def discover(port: int) -> tuple[list[str], list[str]]:
    """Slugs and passage ids to request, read from the API like any client would."""
    import json

    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", "/api/positions")
        positions = json.loads(connection.getresponse().read())["positions"]
        slugs = [p["slug"] for p in positions]
        ids = []
        for slug in slugs[:20]:
            connection.request("GET", f"/api/positions/{slug}")
            ids += [p["id"] for p in json.loads(connection.getresponse().read())["passages"]]
    finally:
        connection.close()
    return slugs, ids


def edition_seen(port: int, runs: list) -> bool:
    """After the soak: the last edition written by the re-index loop is searchable."""
    import json

    editions = len(runs)
    if not editions:
        return False
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        deadline = time.monotonic() + 5  # each worker thread re-checks CURRENT twice a second
        while time.monotonic() < deadline:
            connection.request("GET", f'/api/search?q="edition+{editions}"')
            if json.loads(connection.getresponse().read())["total"] > 0:
                return True
            time.sleep(0.2)
    finally:
        connection.close()
    return False
