"""Settings, read once from environment variables (or a test's mapping)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULTS = {
    "KB_POSITIONS_DIR": "positions",
    "KB_INDEX_DIR": "search_index",
    "KB_SITE_NAME": "Positions",
    "KB_BASE_URL": "http://127.0.0.1:5000",
    "KB_PREVIEW": "",
    "KB_TRUST_PROXY": "",  # "1": believe one proxy's X-Forwarded-For/-Proto headers
    "KB_INSIGHTS": "on",  # "off": count no searches (kb/insights/)
    "KB_INSIGHTS_DIR": "",  # empty: search_insights/ beside the index folder
    "KB_INSIGHTS_MIN_COUNT": "3",  # a query is shown once searched this many times
    "KB_INSIGHTS_KEEP_MONTHS": "12",  # counts older than this are deleted
    "KB_MEANING": "1",  # "0": search the words only, without related meanings
}
OFF = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    """Where content and the index live, and how the site names itself."""

    positions_dir: Path
    index_dir: Path
    site_name: str
    base_url: str
    preview: bool = False
    trust_proxy: bool = False
    insights: bool = True
    insights_dir: Path | None = None  # None: search_insights/ beside index_dir
    insights_min_count: int = 3
    insights_keep_months: int = 12

    @property
    def insights_folder(self) -> Path:
        """Where search counts are kept (``KB_INSIGHTS_DIR``)."""
        return self.insights_dir or self.index_dir.parent / "search_insights"

    meaning: bool = True  # words related in meaning also match (kb/search/meaning.py)

    @classmethod
    def from_mapping(cls, values: Mapping[str, object] | None = None) -> Settings:
        """Settings from ``values``, then the environment, then the defaults."""
        values = values or {}

        def get(name: str) -> str:
            return str(values.get(name) or os.environ.get(name) or DEFAULTS[name])

        return cls(
            positions_dir=Path(get("KB_POSITIONS_DIR")).resolve(),
            index_dir=Path(get("KB_INDEX_DIR")).resolve(),
            site_name=get("KB_SITE_NAME"),
            base_url=get("KB_BASE_URL").rstrip("/"),
            preview=get("KB_PREVIEW").lower() in ("1", "true", "yes", "on"),
            trust_proxy=get("KB_TRUST_PROXY").lower() in ("1", "true", "yes", "on"),
            insights=get("KB_INSIGHTS").lower() not in OFF,
            insights_dir=Path(get("KB_INSIGHTS_DIR")).resolve() if get("KB_INSIGHTS_DIR") else None,
            insights_min_count=_positive_int(get("KB_INSIGHTS_MIN_COUNT"), "KB_INSIGHTS_MIN_COUNT"),
            insights_keep_months=_positive_int(
                get("KB_INSIGHTS_KEEP_MONTHS"), "KB_INSIGHTS_KEEP_MONTHS"
            ),
            meaning=get("KB_MEANING").lower() not in ("0", "false", "no", "off"),
        )


def _positive_int(text: str, name: str) -> int:
    """A whole number of at least 1, or a ValueError naming the setting."""
    try:
        number = int(text.strip())
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {text!r}")
    return number
