"""The CLI: index, check and new, honouring KB_POSITIONS_DIR and KB_INDEX_DIR."""

from __future__ import annotations

from kb.content.loader import load_folder
from kb.index import store


def test_index_reports_bad_files_and_indexes_the_rest(make_app, write_position, index_dir):
    write_position("europe", "Neighbours.", title="Europe")
    write_position("broken", raw="---\ntitle: Broken\nupdated: someday\n---\nBody\n")
    runner = make_app(index=False).test_cli_runner()
    result = runner.invoke(args=["kb", "index"])
    assert result.exit_code == 0, result.output
    assert "broken.md:3: updated: expected a date like 2026-11-26, got 'someday'" in result.output
    assert "1 added" in result.output and "1 skipped with errors" in result.output
    assert store.current_revision(index_dir) is not None


def test_check_exits_1_on_errors_without_traceback(make_app, write_position):
    write_position("europe", "Neighbours.", title="Europe")
    write_position("broken", raw="---\ntitle: Broken\nstatus: final\n---\nBody\n")
    runner = make_app(index=False).test_cli_runner()
    result = runner.invoke(args=["kb", "check"])
    assert result.exit_code == 1
    assert (
        "broken.md:3: status: unknown value 'final'; use one of adopted, draft, archived"
        in result.output
    )
    assert "Traceback" not in result.output


def test_check_passes_on_good_content(make_app, write_position):
    write_position("europe", "Neighbours.", title="Europe")
    result = make_app(index=False).test_cli_runner().invoke(args=["kb", "check"])
    assert result.exit_code == 0
    assert "0 errors" in result.output


def test_new_scaffolds_a_valid_draft(make_app, positions_dir):
    runner = make_app(index=False).test_cli_runner()
    result = runner.invoke(args=["kb", "new", "Fair pay: a plan", "--topic", "economy"])
    assert result.exit_code == 0, result.output
    collection = load_folder(positions_dir)
    assert collection.problems == ()
    (position,) = collection.positions
    assert (position.slug, position.title, position.status) == (
        "fair-pay-a-plan",
        "Fair pay: a plan",
        "draft",
    )
    again = runner.invoke(args=["kb", "new", "Fair pay: a plan"])
    assert again.exit_code == 1 and "already exists" in again.output


def test_env_vars_choose_the_folders(tmp_path, monkeypatch, write_position, positions_dir):
    from app import create_app

    write_position("europe", "Neighbours.", title="Europe")
    monkeypatch.setenv("KB_POSITIONS_DIR", str(positions_dir))
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "elsewhere"))
    app = create_app()
    result = app.test_cli_runner().invoke(args=["kb", "index"])
    assert result.exit_code == 0
    assert store.current_revision(tmp_path / "elsewhere") is not None
    assert app.test_client().get("/positions/europe").status_code == 200
