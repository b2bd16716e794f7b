"""The render time limit off the main thread: render in a worker process, kill it on time.

``render_budget`` uses SIGALRM, which only a main thread can take. The live preview
re-indexes in a background thread, so there a file is parsed in a separate process (which
renders in its own main thread, under the same SIGALRM budget) and the thread waits at most
RENDER_SECONDS plus a margin: a file that takes longer is reported exactly as `flask kb
index` reports it, and a worker that overruns is killed, never left running.

The worker is a fresh interpreter (``python -m kb.content.deadline``), not a fork: a
forked child would inherit the indexer's lock file and hold the lock for as long as it
lives, and multiprocessing's spawn would re-run the parent's main module.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from kb import limits

MARGIN_SECONDS = 1.0  # sending the file and the result back
START_SECONDS = 30.0  # a new worker imports the renderer first; a busy machine is slow
HEADER = struct.Struct("!Q")
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class RenderWorker:
    """One worker process, reused between files and replaced when it is killed."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()  # one file at a time: the preview renders in order

    def parse(self, path: str, text: str, leaf: bool = False):
        """``parse_guarded`` in the worker: its LoadResult, or None when out of time."""
        with self._lock:
            try:
                process = self._running()
                deadline = time.monotonic() + limits.RENDER_SECONDS + MARGIN_SECONDS
                _send(process.stdin, (path, text, leaf, limits.RENDER_SECONDS))
                return _receive(process.stdout, deadline)
            except (OSError, EOFError, TimeoutError, pickle.UnpicklingError):
                self._kill()
                return None

    def start(self) -> None:
        """Start the worker before the first file comes: a new one spends a few tenths
        of a second importing the renderer, which an editor's first save would wait for."""
        with self._lock:
            try:
                self._running()
            except (OSError, EOFError, TimeoutError, pickle.UnpicklingError):
                self._kill()  # the first file starts another, as it would have

    def _running(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            paths = [PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))}
            self._process = subprocess.Popen(
                [sys.executable, "-m", "kb.content.deadline"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True,
            )  # fmt: skip
            _receive(self._process.stdout, time.monotonic() + START_SECONDS)  # ready
        return self._process

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()  # a render stuck in C code would never see a gentler signal
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream:
                    stream.close()

    def close(self) -> None:
        with self._lock:
            self._kill()


def _send(stream: IO[bytes] | None, value) -> None:
    data = pickle.dumps(value)
    assert stream is not None
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes] | None, deadline: float):
    """One pickled value from ``stream``; TimeoutError once ``deadline`` has passed."""
    assert stream is not None
    fd = stream.fileno()
    data = b""
    wanted = HEADER.size
    while len(data) < wanted:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError
        chunk = os.read(fd, wanted - len(data))
        if not chunk:
            raise EOFError
        data += chunk
        if len(data) == HEADER.size and wanted == HEADER.size:
            wanted += HEADER.unpack(data)[0]
    return pickle.loads(data[HEADER.size :])


def serve(incoming: IO[bytes], outgoing: IO[bytes]) -> None:
    """The worker's loop: parse each file sent, in this process's main thread."""
    from kb.content.loader import parse_guarded

    _send(outgoing, "ready")
    while header := incoming.read(HEADER.size):
        path, text, leaf, seconds = pickle.loads(incoming.read(HEADER.unpack(header)[0]))
        limits.RENDER_SECONDS = seconds  # the parent's limit, which a test may lower
        _send(outgoing, parse_guarded(path, text, leaf))


WORKER = RenderWorker()
atexit.register(WORKER.close)  # the worker ends with its parent, never orphaned

if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
