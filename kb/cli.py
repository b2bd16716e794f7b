"""The editors' commands: ``flask kb index``, ``flask kb check``, ``flask kb new``."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from kb.config import Settings
from kb.content.render import slugify
from kb.index.store import IndexBusy
from kb.indexing import reindex

kb_cli = AppGroup("kb", help="Build the index, check content, scaffold positions.")


def settings() -> Settings:
    return current_app.config["KB"].settings


def _progress_bar():
    """A click progress bar fed by the indexer's (done, total) callbacks."""
    state = {"bar": None, "done": 0}

    def update(done: int, total: int) -> None:
        if state["bar"] is None:
            state["bar"] = click.progressbar(length=total, label="indexing", file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["done"])
        state["done"] = done
        if done >= total:
            state["bar"].__exit__(None, None, None)

    return update


@kb_cli.command("index")
@click.option("--rebuild", is_flag=True, help="Rebuild everything, not only changed files.")
@click.option("--wait", default=0.0, help="Seconds to wait for another indexer to finish.")
def index_command(rebuild: bool, wait: float) -> None:
    """Bring the search index up to date with the content folder."""
    config = settings()
    if not config.positions_dir.is_dir():
        raise click.ClickException(f"content folder not found: {config.positions_dir}")
    try:
        report = reindex(config, rebuild=rebuild, progress=_progress_bar(), lock_wait=wait)
    except IndexBusy as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"could not write the index: {exc}") from None
    for problem in report.problems:
        click.echo(str(problem), err=True)
    click.echo(report.summary())


@kb_cli.command("new")
@click.argument("title")
@click.option("--topic", "topics", multiple=True, help="A topic slug; repeat for several.")
def new_command(title: str, topics: tuple[str, ...]) -> None:
    """Create a new draft position file with valid front matter."""
    title = " ".join(title.split())
    if not title:
        raise click.ClickException('give the position a title, e.g. flask kb new "Fair pay"')
    slug = slugify(title)
    path = settings().positions_dir / f"{slug}.md"
    if path.exists():
        raise click.ClickException(f"{path} already exists; choose another title")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scaffold(title, list(topics)), encoding="utf-8")
    click.echo(f"created {path}")


def scaffold(title: str, topics: list[str]) -> str:
    quoted = title.replace('"', '\\"')
    return (
        f'---\ntitle: "{quoted}"\nsummary: One sentence stating the position.\n'
        f"topics: [{', '.join(slugify(t) for t in topics)}]\nstatus: draft\n"
        f"updated: {date.today().isoformat()}\nauthors: [Policy team]\n---\n"
        f"# {title}\n\nWrite the position here, one idea per paragraph.\n"
    )


def init_app(app: Flask) -> None:
    from kb.content.checks import check_command

    kb_cli.add_command(check_command)
    app.cli.add_command(kb_cli)
