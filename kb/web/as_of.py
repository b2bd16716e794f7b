"""A position as it stood on a past date (``/positions/<slug>?as_of=YYYY-MM-DD``).

The pages blueprint serves it; it lives apart from every blueprint so none imports another.
"""

from __future__ import annotations

from flask import abort, render_template

from kb.cite.catalogue import first_recorded, ledger_of, moved_to, past_version
from kb.cite.formats import human_date
from kb.content.model import parse_day
from kb.limits import MAX_ADDRESS_CHARS
from kb.web.urls import history_url
from kb.web.views import get_position_or_404, knowledge_base


def position_as_of(slug: str, raw: str):
    """The position exactly as the version in force at the end of ``raw`` (a date)
    published it: order, title, summary, topics and authors, from the ledger."""
    day = parse_day(raw.strip())
    if day is None:
        notice = f"“{raw[:40]}” is not a date like 2026-11-26, so this is the current version."
        return render_template("position.html", position=get_position_or_404(slug),
                               as_of_notice=notice)  # fmt: skip
    if len(slug) > MAX_ADDRESS_CHARS:
        abort(404, "No position has that address.")
    kb = knowledge_base()
    ledger = ledger_of(kb)
    version = past_version(ledger, slug, day)
    if version is None:
        first = first_recorded(ledger, slug)
        if first is None:
            abort(404, "No versions of this position are recorded in the citation ledger.")
        if first <= day.isoformat():
            abort(404, f"This position was not published on {human_date(day.isoformat())}; "
                       f"see its history at {history_url(slug)}.")  # fmt: skip
        abort(404, f"This position did not exist on {human_date(day.isoformat())}; "
                   f"its first recorded version is from {human_date(first)}.")  # fmt: skip
    current = kb.position(slug) is not None or moved_to(kb, slug) is not None
    return render_template("position.html", position=version.record, as_of=version.as_of,
                           as_of_version=version.version, as_of_current=current)  # fmt: skip
