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
    "KB_MEANING": "1",  # "0": search the words only, without related meanings
}


@dataclass(frozen=True)
class Settings:
    """Where content and the index live, and how the site names itself."""

    positions_dir: Path
    index_dir: Path
    site_name: str
    base_url: str
    preview: bool = False
    trust_proxy: bool = False
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
            meaning=get("KB_MEANING").lower() not in ("0", "false", "no", "off"),
        )
