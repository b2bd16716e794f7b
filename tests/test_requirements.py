"""Dependencies are pinned to exact versions with hashes, and installed that way.

pip's ``--require-hashes`` refuses a package whose archive does not match a hash in
requirements*.txt, so a tampered or substituted download cannot be installed.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements.txt", "requirements-dev.txt")
SOURCES = {"requirements.in": "requirements.txt", "requirements-dev.in": "requirements-dev.txt"}
PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)$")
HASH_RE = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


def canonical(name: str) -> str:
    """PEP 503 normalised name: 'Flask' and 'flask' and 'fl_ask' compare alike."""
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(path: Path) -> list[tuple[int, str]]:
    """(first file line, text) of each requirement, backslash continuations joined."""
    lines, pending, start = [], "", 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        pending += text
        if pending.strip():
            lines.append((start, " ".join(pending.split())))
        pending = ""
    return lines


def pins(path: Path) -> dict[str, str]:
    """Package → pinned version in a lock file."""
    found = {}
    for _line, text in logical_lines(path):
        match = PIN_RE.match(text.split()[0])
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


@pytest.mark.parametrize("name", LOCKS)
def test_every_locked_requirement_is_pinned_with_hashes(name):
    lines = logical_lines(ROOT / name)
    assert lines, f"{name} lists no requirements"
    for number, text in lines:
        requirement, *options = text.split()
        assert PIN_RE.match(requirement), f"{name}:{number}: not pinned with ==: {requirement}"
        hashes = [o for o in options if o.startswith("--hash")]
        assert hashes, f"{name}:{number}: {requirement} has no --hash"
        for option in options:
            assert HASH_RE.match(option), f"{name}:{number}: unexpected option {option}"


@pytest.mark.parametrize(("source", "lock"), SOURCES.items())
def test_direct_requirements_are_pinned_and_the_lock_is_current(source, lock):
    locked = pins(ROOT / lock)
    for number, text in logical_lines(ROOT / source):
        if text.startswith(("-c ", "-r ")):
            continue
        match = PIN_RE.match(text)
        assert match, f"{source}:{number}: pin an exact version with ==: {text}"
        name, version = canonical(match.group(1)), match.group(2)
        assert locked.get(name) == version, (
            f"{source}:{number}: {name}=={version} but {lock} has {locked.get(name)}; run make lock"
        )


def test_dev_lock_agrees_with_runtime_lock():
    runtime, dev = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements-dev.txt")
    clashes = {n: (v, dev[n]) for n, v in runtime.items() if n in dev and dev[n] != v}
    assert clashes == {}


def test_makefile_installs_with_require_hashes():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line and " -r " in line]
    assert installs, "the Makefile no longer installs the requirements"
    for line in installs:
        assert "--require-hashes" in line, line
        assert "-r requirements.txt" in line


@pytest.mark.parametrize("name", LOCKS)
def test_the_virtualenv_runs_the_pinned_versions(name):
    wrong = {}
    for package, version in pins(ROOT / name).items():
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[package] = (version, installed)
    assert wrong == {}, "installed versions differ from the lock; run make test to reinstall"


def test_npm_test_tooling_is_locked_with_integrity_hashes():
    lock = ROOT / "package-lock.json"
    if not lock.is_file():
        pytest.skip("no package-lock.json: the project has no npm dependencies")
    packages = json.loads(lock.read_text(encoding="utf-8"))["packages"]
    for path, entry in packages.items():
        if not path:
            continue
        assert entry.get("integrity", "").startswith("sha512-"), f"{path} has no sha512 integrity"
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry.get("version", "")), path
    wanted = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    for name, version in wanted.get("devDependencies", {}).items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"package.json: pin {name} exactly"
