"""The editors' report: top searches, searches with no results, results nobody opened.

``flask kb searches`` and the preview's ``/preview/searches`` both show one ``Report``.
A query appears only when it was searched at least ``KB_INSIGHTS_MIN_COUNT`` times in
the period (the store never returns rarer ones), so a one-off search that names a
person is never displayed.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from kb.config import Settings
from kb.insights import oldest_kept_day
from kb.insights.counter import utc_today
from kb.insights.store import InsightsStore, QueryTotals

DEFAULT_DAYS = 30
DEFAULT_LIMIT = 20
SECTIONS = {
    "top": "Top searches",
    "no_results": "Top searches with no results",
    "not_opened": "Searches whose results nobody opened",
}
TABLE_QUERY_CHARS = 60
SAFE_IN_DOUBLE_QUOTES = re.compile(r"[\w .,'?:;()&+/-]+")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Report:
    """What was searched from ``since`` to ``until``, each list at most ``limit`` long."""

    since: date
    until: date
    min_count: int
    top: tuple[QueryTotals, ...]
    no_results: tuple[QueryTotals, ...]
    not_opened: tuple[QueryTotals, ...]

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def sections(self) -> list[tuple[str, str, tuple[QueryTotals, ...]]]:
        """(key, title, rows) for each list, in the order shown."""
        return [(key, title, getattr(self, key)) for key, title in SECTIONS.items()]

    def to_json(self) -> dict:
        body: dict = {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "days": self.days,
            "min_count": self.min_count,
        }
        for key, _title, rows in self.sections():
            body[key] = [_row_json(row) for row in rows]
        return body


def _row_json(row: QueryTotals) -> dict:
    values = asdict(row)
    values["no_results"] = values.pop("empty")
    return values


def read_report(
    settings: Settings,
    days: int = DEFAULT_DAYS,
    limit: int = DEFAULT_LIMIT,
    today: date | None = None,
) -> Report:
    """The last ``days`` days (today included, UTC) of counts in the settings' folder.

    Counts older than the retention period are deleted first, so the report never shows
    them even when no search has been counted since. Raises ``sqlite3.Error`` or
    ``OSError`` when the file cannot be read.
    """
    today = today or utc_today()
    store = InsightsStore(settings.insights_folder)
    oldest = oldest_kept_day(today, settings.insights_keep_months)
    store.forget_before(oldest)
    since = max(today - timedelta(days=days - 1), oldest)
    shown = store.totals(since, today, settings.insights_min_count)
    answered = [t for t in shown if t.searches > t.empty]
    return Report(
        since=since,
        until=today,
        min_count=settings.insights_min_count,
        top=_first(shown, lambda t: (-t.searches, t.query), limit),
        no_results=_first(
            [t for t in shown if t.empty], lambda t: (-t.empty, -t.searches, t.query), limit
        ),
        not_opened=_first(
            [t for t in answered if t.opened == 0],
            lambda t: (-(t.searches - t.empty), t.query),
            limit,
        ),
    )


def _first(rows: list[QueryTotals], key, limit: int) -> tuple[QueryTotals, ...]:
    return tuple(sorted(rows, key=key)[:limit])


def render_table(report: Report) -> str:
    """Plain text for a terminal: one small table per list."""
    lines = [
        f"Searches from {report.since} to {report.until} (UTC); only queries searched "
        f"at least {report.min_count} times are shown."
    ]
    for _key, title, rows in report.sections():
        lines += ["", title]
        if not rows:
            lines.append("  (none)")
            continue
        lines.append(f"  {'searches':>8}  {'no results':>10}  {'opened':>6}  {'results':>7}  query")
        for row in rows:
            query = row.query
            if len(query) > TABLE_QUERY_CHARS:
                query = query[: TABLE_QUERY_CHARS - 1] + "…"
            lines.append(
                f"  {row.searches:>8}  {row.empty:>10}  {row.opened:>6}  {row.results:>7}  {query}"
            )
    return "\n".join(lines)


def render_csv(report: Report) -> str:
    """One CSV table; the ``list`` column says which list a row belongs to.

    A query starting with ``= + - @`` gets a leading ``'`` so that a spreadsheet shows
    it as text instead of running it as a formula.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["list", "query", "searches", "no_results", "opened", "results"])
    for key, _title, rows in report.sections():
        for row in rows:
            query = "'" + row.query if row.query.startswith(FORMULA_START) else row.query
            writer.writerow([key, query, row.searches, row.empty, row.opened, row.results])
    return out.getvalue()


def new_position_title(query: str) -> str:
    """A title for a position that would answer ``query``: its words, capitalised."""
    words = " ".join(query.replace('"', " ").replace("*", " ").split())
    return words[:1].upper() + words[1:]


def new_position_command(query: str) -> str:
    """The shell command that starts that position, safe to paste into a terminal."""
    title = new_position_title(query) or "New position"
    quoted = f'"{title}"' if SAFE_IN_DOUBLE_QUOTES.fullmatch(title) else shlex.quote(title)
    return f"flask --app app kb new {quoted}"
