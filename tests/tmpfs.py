"""A real, small tmpfs for tests of full and read-only disks (root only)."""

from __future__ import annotations

import gc
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted_tmpfs(folder: Path, size: str, *, covered_by: str) -> Iterator[Path]:
    """Mount a ``size`` tmpfs on ``folder`` for the block, unmounting it afterwards.

    Where mounting is refused (not root, a container without the capability) the test
    is skipped, naming the simulated test that ``covered_by`` says covers the same case.
    """
    folder.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]
    try:
        done = subprocess.run(mount, capture_output=True, text=True, timeout=10)
    except OSError as exc:
        pytest.skip(f"cannot mount a tmpfs ({exc}); {covered_by} covers this")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({done.stderr.strip()}); {covered_by} covers it")
    try:
        yield folder
    finally:
        gc.collect()  # close the files the test's apps still hold open
        done = subprocess.run(["umount", str(folder)], capture_output=True, timeout=10)
        if done.returncode != 0:  # still busy: detach now, freed when the last file closes
            subprocess.run(["umount", "--lazy", str(folder)], capture_output=True, timeout=10)
