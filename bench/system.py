"""Machine facts, child processes with their own resource usage, and percentiles."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def machine_info() -> dict:
    """Date, uname, CPU model and count, memory, Python version and current load."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "uname": " ".join(platform.uname()),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_mb": _meminfo_mb("MemTotal"),
        "python": platform.python_version(),
        "load_average_at_start": list(os.getloadavg()),
    }


def _meminfo_mb(key: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def code_version() -> dict:
    """The commit, whether the app code has uncommitted edits, and a hash of that code.

    Comparing the hash at the start and the end of a run shows whether the code under
    test changed while it ran (a shared checkout), which would make the figures mixed.
    """
    digest = hashlib.sha256()
    for path in sorted([REPO / "app.py", *(REPO / "kb").rglob("*.py")]):
        digest.update(path.read_bytes())

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        except OSError:
            return ""
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_app_changes": bool(git("status", "--porcelain", "--", "kb", "app.py")),
        "app_code_sha256": digest.hexdigest()[:16],
    }


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: wall seconds, peak RSS (MB), CPU seconds and output."""

    wall: float
    peak_mb: float
    cpu: float
    returncode: int
    stdout: str
    stderr: str


def run_child(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 1800
) -> ChildRun:
    """Run ``python -m bench.child ARGS`` from the repo root; killed after ``timeout`` s.

    os.wait4 returns the resource usage of this one child, so its peak RSS is its own
    (RUSAGE_CHILDREN would report the largest of all children so far).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [PYTHON, "-m", "bench.child", *args],
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=err,
            text=True,
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return ChildRun(wall, usage.ru_maxrss / 1024, cpu, proc.returncode, out.read(), err.read())


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(fraction * len(sorted_values) * 1000) // 1000))
    return sorted_values[min(len(sorted_values), rank) - 1]


def latency_summary(seconds: list[float]) -> dict:
    """Count, median, p95, p99 and max of a list of durations, in milliseconds."""
    values = sorted(s * 1000 for s in seconds)
    return {
        "n": len(values),
        "p50_ms": percentile(values, 0.50),
        "p95_ms": percentile(values, 0.95),
        "p99_ms": percentile(values, 0.99),
        "max_ms": values[-1] if values else None,
    }


def process_memory_mb(pid: int) -> dict:
    """VmRSS (now) and VmHWM (peak) of a process in MB, from /proc."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    except (OSError, ValueError):
        pass
    return {"rss_mb": found.get("VmRSS"), "peak_rss_mb": found.get("VmHWM")}


def child_pids(parent: int) -> list[int]:
    """Pids whose parent is ``parent`` (gunicorn workers of a master)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and int(fields[1]) == parent:  # field 4: the parent's pid
            pids.append(int(entry.name))
    return sorted(pids)


def cpu_ms(pids: list[int]) -> float:
    """User plus system CPU time the processes ``pids`` have used so far, in ms."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` from its field 3 on (what follows the ")" that closes the
    command name, which may hold spaces); None for a process that is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def dir_size_mb(path: Path) -> float:
    """Total size of the regular files under path (or of path itself), in MB."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
