"""Real servers on 127.0.0.1 for tests that need sockets: a threaded Werkzeug server
in-process, and gunicorn as production runs it. Both are bounded in time and always
stopped; nothing ever listens beyond the loopback interface.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from kb.preview import QuietServerHandler

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
GUNICORN = Path(sys.executable).with_name("gunicorn")
START_SECONDS = 20.0


class SilentHandler(QuietServerHandler):
    """No request log: it would only bury the test output."""

    def log_request(self, code="-", size="-") -> None:
        pass


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def serve_in_thread(app: Flask) -> Iterator[str]:
    """Serve ``app`` on an ephemeral loopback port; yields the base URL."""
    server = make_server(HOST, 0, app, threaded=True, request_handler=SilentHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def raw_get(port: int, target: str, timeout: float = 10) -> http.client.HTTPResponse:
    """One plain HTTP GET to a local server, body read and connection closed; for
    requests a test client would not send as-is (overlong or oddly encoded targets)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def wait_until_up(port: int, process: subprocess.Popen, log: Path) -> None:
    """Return once the server answers HTTP; fail with its log if it dies or stalls."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", "/api/positions")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise RuntimeError(f"gunicorn did not answer within {START_SECONDS:.0f}s:\n{log.read_text()}")


@contextmanager
def run_gunicorn(
    env: Mapping[str, str], log: Path, workers: int = 2, threads: int = 4, extra: tuple = ()
) -> Iterator[int]:
    """Run ``gunicorn 'app:create_app()'`` with the project's config on a free port."""
    port = free_port()
    has_config = (ROOT / "gunicorn.conf.py").is_file()
    config = ["--config", "gunicorn.conf.py"] if has_config else ["--worker-class", "gthread"]
    command = [
        str(GUNICORN), *config, "--bind", f"{HOST}:{port}", "--workers", str(workers),
        "--threads", str(threads), *extra, "app:create_app()",
    ]  # fmt: skip
    full_env = {**os.environ, "KB_ACCESS_LOG": os.devnull, "KB_BIND": f"{HOST}:{port}", **env}
    with open(log, "w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_until_up(port, process, log)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
