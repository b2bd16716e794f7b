"""Search insights for editors: what people search for, counted, never logged.

Each search adds one to a counter for its normalised text on that day (UTC), with how
many results it found and whether a result was then opened. Nothing about the person
(address, cookie, browser, time of day) is ever stored. ``counter`` buffers counts in
memory and writes them in the background; ``store`` is the SQLite file; ``report``
reads it back for editors, showing only queries searched at least a set number of times.
"""

from __future__ import annotations

from datetime import date

from kb.search.engine import clip_query
from kb.search.grammar import clean


def normalise_query(text: object) -> str:
    """The search text as counted: what the search cleaned and clipped, in lower case.

    ``OR`` keeps its capitals, because the search reads only that spelling as "either".
    """
    words = clip_query(clean(str(text or ""))).split(" ")
    return " ".join(word if word == "OR" else word.lower() for word in words)


def oldest_kept_day(today: date, keep_months: int) -> date:
    """The first day whose counts are kept: the same day ``keep_months`` months ago.

    When that month is shorter (31 March less one month), its last day is used.
    """
    months = today.year * 12 + today.month - 1 - keep_months
    year, month = divmod(months, 12)
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month + 1, day)
        except ValueError:
            continue
    raise AssertionError("every month has 28 days")
