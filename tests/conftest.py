"""Shared fixtures: a content folder in tmp_path, an app over it, client and runner."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from app import create_app
from kb.index.build import update_index
from kb.insights.counter import flush_all

ROOT = Path(__file__).resolve().parent.parent
STARTER = ROOT / "positions"


def front_matter(**fields) -> str:
    lines = ["---"]
    for key, value in fields.items():
        if isinstance(value, (list, tuple)):
            value = "[" + ", ".join(value) + "]"
        lines.append(f"{key}: {value}")
    lines.append("---")
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def no_counts_left_behind():
    """Search counts buffered by a test are written when it ends: left to their timer,
    they would be written during the next test, into its logs and its failures."""
    yield
    flush_all()


@pytest.fixture
def positions_dir(tmp_path: Path) -> Path:
    """An empty content folder."""
    folder = tmp_path / "positions"
    folder.mkdir()
    return folder


@pytest.fixture
def write_position(positions_dir: Path):
    """Write a position file: write_position("europe", body, title=..., topics=[...])."""

    def write(name: str, body: str = "A paragraph.", raw: str | None = None, **fields) -> Path:
        path = positions_dir / f"{name}.md"
        if raw is None:
            fields.setdefault("title", name.replace("-", " ").title())
            fields.setdefault("status", "adopted")
            fields.setdefault("updated", "2026-11-01")
            raw = front_matter(**fields) + textwrap.dedent(body).lstrip("\n")
        path.write_text(raw, encoding="utf-8")
        return path

    return write


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "search_index"


@pytest.fixture
def make_app(positions_dir: Path, index_dir: Path):
    """An app over the tmp content folder; index=True builds the index first."""

    def make(index: bool = True, **config):
        if index:
            update_index(positions_dir, index_dir)
        settings = {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
        return create_app({"TESTING": True, **settings, **config})

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def starter_index(tmp_path_factory) -> tuple[Path, Path]:
    """The starter positions, copied and indexed once for the whole session."""
    base = tmp_path_factory.mktemp("starter")
    folder = base / "positions"
    shutil.copytree(STARTER, folder)
    update_index(folder, base / "search_index")
    return folder, base / "search_index"


@pytest.fixture(scope="session")
def starter_app(starter_index):
    folder, index = starter_index
    return create_app(
        {"TESTING": True, "KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index)}
    )


@pytest.fixture
def starter_client(starter_app):
    return starter_app.test_client()


EUROPE = """\
Britain's future is bound up with that of our European neighbours.

## Trade

Open trade with Europe creates jobs in every region of Britain.

Tariffs are a tax on working families and should be kept low.
"""
TRADE = "Open trade with Europe creates jobs in every region of Britain."
TRADE_EDITED = "Open trade with Europe creates good jobs in every nation and region of Britain."


@pytest.fixture
def publish(positions_dir, index_dir, make_app):
    """Index as `flask kb index` does (ledger included), then a client of a fresh app."""
    from kb.config import Settings
    from kb.indexing import reindex

    settings = Settings.from_mapping(
        {"KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
    )

    def run(**config):
        reindex(settings)
        return make_app(index=False, **config).test_client()

    return run
