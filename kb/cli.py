"""The editors' commands: ``flask kb index|check|new|serve``."""

from __future__ import annotations

import signal
import sys
from datetime import date

import click
import yaml
from flask import current_app
from flask.cli import AppGroup

from kb.config import Settings
from kb.content.checks import advice, format_problem, json_report, summary_line
from kb.content.loader import position_files
from kb.content.slug import slugify
from kb.index.store import IndexBusy
from kb.indexing import check_all, reindex
from kb.service import current_kb, knowledge_base_of

LONG_RUN_FILES = 50  # fewer files take well under a second: no progress bar

kb_cli = AppGroup("kb")  # registered through app.py, which gives its help


def settings() -> Settings:
    return current_kb().settings


class ProgressBar:
    """A click progress bar for long runs on a terminal; silent otherwise.

    Fed by the indexer's ``(done, total)`` calls while it reads files; when reading is
    done it says the index is being written, which takes the rest of the run. On a pipe
    or in CI nothing is drawn, so the output stays one line per problem and a summary.
    """

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.bar = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total < LONG_RUN_FILES or not self.stream.isatty() or done >= total:
                return
            self.bar = click.progressbar(length=total, label="reading files", file=self.stream)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done
        if done >= total:
            self.close()
            click.echo("writing the index...", file=self.stream)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)  # ends the bar's line
            self.bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def busy_message(index_dir, wait: float) -> str:
    waited = f" for {wait:g} seconds" if wait else ""
    return (
        f"another indexer (flask kb index, or the preview) is updating {index_dir}{waited}; "
        "run this again when it has finished, or add --wait 60 to wait for it"
    )


@kb_cli.command("index")
@click.option("--rebuild", is_flag=True, help="Rebuild everything, not only changed files.")
@click.option("--wait", default=0.0, help="Seconds to wait for another indexer to finish.")
def index_command(rebuild: bool, wait: float) -> None:
    """Bring the search index up to date with the content folder."""
    config = settings()
    root = config.positions_dir
    if not root.is_dir():
        raise click.ClickException(f"content folder not found: {root}")
    try:
        with ProgressBar() as progress:
            report = reindex(config, rebuild=rebuild, progress=progress, lock_wait=wait)
    except IndexBusy:
        raise click.ClickException(busy_message(config.index_dir, wait)) from None
    except OSError as exc:
        raise click.ClickException(f"could not write the index: {exc}") from None
    for problem in report.problems:
        if problem.is_error:
            click.echo(format_problem(problem, root), err=True)
    click.echo(report.summary())
    if report.failed:
        raise SystemExit(1)


@kb_cli.command("check")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text",
              help="text (path:line: message) or json for tools.")  # fmt: skip
def check_command(output: str) -> None:
    """Check every position file; exit 1 if any has an error (warnings alone pass)."""
    root = settings().positions_dir
    if not root.is_dir():
        raise click.ClickException(f"content folder not found: {root}")
    problems = check_all(settings())
    files = len(position_files(root))
    if output == "json":
        click.echo(json_report(root, files, problems))
    else:
        for problem in problems:
            click.echo(format_problem(problem, root))
        click.echo(summary_line(files, problems))
        for line in advice(problems):
            click.echo(line)
    if any(p.is_error for p in problems):
        raise SystemExit(1)


@kb_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
def serve_command(host: str, port: int) -> None:
    """Preview for editors: drafts shown, re-indexed within a second of each save."""
    from kb.preview import PreviewServer
    from kb.web.preview import enable_preview

    app = enable_preview(current_app._get_current_object())
    root = knowledge_base_of(app).settings.positions_dir
    if not root.is_dir():
        raise click.ClickException(f"content folder not found: {root}")
    try:
        preview = PreviewServer(app, host, port)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another with --port"
        ) from None
    _stop_on_signals()
    preview.start(background=False)
    current = preview.state.current
    click.echo(current.summary or current.failure)
    click.echo(f"Preview on {preview.url}/ with drafts; watching {root} (Ctrl-C stops).")
    try:
        preview.serve_forever()  # returns on Ctrl-C: werkzeug catches KeyboardInterrupt
    except KeyboardInterrupt:
        pass  # pressed again while shutting down
    finally:
        preview.stop()
    click.echo("preview stopped")


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM stop the preview, even when started from a background job.

    A shell starts background jobs with SIGINT ignored, and Python then never raises
    KeyboardInterrupt, so the preview could not be stopped; SIGTERM would kill it
    without shutting the watcher down.
    """

    def interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


@kb_cli.command("new")
@click.argument("title")
@click.option("--topic", "topics", multiple=True, help="A topic slug; repeat for several.")
def new_command(title: str, topics: tuple[str, ...]) -> None:
    """Create a new draft position file with valid front matter."""
    title = " ".join(title.split())
    if not title:
        raise click.ClickException('give the position a title, e.g. flask kb new "Fair pay"')
    slug = slugify(title, "position")  # at most 200 characters; other scripts transliterated
    path = settings().positions_dir / f"{slug}.md"
    if path.exists():
        raise click.ClickException(f"{path} already exists; choose another title")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:
            handle.write(scaffold(title, list(topics)))
    except FileExistsError:
        raise click.ClickException(f"{path} already exists; choose another title") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"created {path}")


def scaffold(title: str, topics: list[str]) -> str:
    """A draft's text; the title is quoted by the YAML writer, so any title reads back."""
    quoted = yaml.safe_dump({"title": title}, allow_unicode=True, width=1_000_000).strip()
    return (
        f"---\n{quoted}\nsummary: One sentence stating the position.\n"
        f"topics: [{', '.join(slugify(t, 'topic') for t in topics)}]\nstatus: draft\n"
        f"updated: {date.today().isoformat()}\nauthors: [Policy team]\n---\n"
        f"# {title}\n\nWrite the position here, one idea per paragraph.\n"
    )


@kb_cli.command("searches")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1),
              help="The period: this many days up to today (UTC).")  # fmt: skip
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="Rows in each list.")  # fmt: skip
@click.option("--format", "output", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="How to print the report.")  # fmt: skip
def searches_command(days: int, limit: int, output: str) -> None:
    """What visitors searched for: top searches, no results, results nobody opened."""
    import json
    import sqlite3

    from kb.insights.report import read_report, render_csv, render_table

    config = settings()
    try:
        report = read_report(config, days=days, limit=limit)
    except (sqlite3.Error, OSError) as exc:
        raise click.ClickException(
            f"could not read the search counts in {config.insights_folder}: {exc}"
        ) from None
    if output == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    elif output == "csv":
        click.echo(render_csv(report), nl=False)
    else:
        click.echo(render_table(report))
