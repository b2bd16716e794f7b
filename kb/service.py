"""The knowledge base as the web layer sees it: search, positions, topics, suggestions.

Everything read from the index is cached per index revision, so a new generation
invalidates it and repeated requests never touch Whoosh. Each app keeps one
``KnowledgeBase`` in ``app.extensions``; ``current_kb()`` is the only way in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import yaml
from flask import Flask, current_app

from kb.config import Settings
from kb.index.reader import IndexReader
from kb.index.records import PositionMeta, PositionRecord, count_topics
from kb.index.run import all_records, get_record, suggest_words
from kb.index.store import read_manifest
from kb.limits import MAX_SUGGEST_CHARS
from kb.search.engine import SearchRequest, SearchResults, search
from kb.search.synonyms import EDITORS_FILE, Synonyms, load_synonyms

TOPICS_FILE = "topics.yml"
CACHE_ENTRIES = 512
EXTENSION = "positions"  # the app.extensions key holding the KnowledgeBase


class RevisionCache:
    """A small thread-safe LRU whose entries belong to one index revision."""

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self.revision: str | None = None
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, revision: str, key, compute):
        with self.lock:
            if revision != self.revision:
                self.revision, self.entries = revision, OrderedDict()
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = compute()
        with self.lock:
            if revision == self.revision:
                self.entries[key] = value
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)
        return value


class FileCache:
    """Re-reads a small editors' file only when its modification time changes."""

    def __init__(self, path: Path, load) -> None:
        self.path, self.load = path, load
        self.stamp: float | None = -1.0
        self.value = None
        self.lock = threading.Lock()

    def get(self):
        try:
            stamp = self.path.stat().st_mtime
        except OSError:
            stamp = None
        with self.lock:
            if stamp != self.stamp:
                self.value, self.stamp = self.load(self.path), stamp
            return self.value


def _read_topics(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


class KnowledgeBase:
    """Read-only access to the live index for one app process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reader = IndexReader(settings.index_dir)
        self.cache = RevisionCache()
        folder = settings.positions_dir
        self._synonyms = FileCache(folder / EDITORS_FILE, lambda _p: load_synonyms(folder))
        self._topics = FileCache(folder / TOPICS_FILE, _read_topics)
        self._side_files: dict[str, FileCache] = {}
        self._side_lock = threading.Lock()

    @property
    def include_drafts(self) -> bool:
        return self.settings.preview

    def revision(self) -> str:
        """The live index revision; raises IndexMissing when there is none."""
        return self.reader.revision()

    def synonyms(self) -> Synonyms:
        return self._synonyms.get()

    def side_file(self, name: str, load):
        """``load(path)`` of an editors' file in the content folder, re-run only when the
        file changes (for files such as the citation ledger that pages read as they are)."""
        with self._side_lock:
            cache = self._side_files.get(name)
            if cache is None or cache.load is not load:
                cache = FileCache(self.settings.positions_dir / name, load)
                self._side_files[name] = cache
        return cache.get()

    def built_at(self) -> float:
        """When the live index revision was built (seconds since the epoch)."""
        return self.cached(
            ("built_at",), lambda: read_manifest(self.settings.index_dir, self.revision()).built_at
        )

    def cached(self, key, compute):
        """``compute()``, remembered until the live index revision changes."""
        return self.cache.get(self.revision(), key, compute)

    def topic_labels(self) -> dict[str, str]:
        return self._topics.get()

    def topic_label(self, slug: str) -> str:
        return self.topic_labels().get(slug) or slug.replace("-", " ").capitalize()

    def search(self, request: SearchRequest) -> SearchResults:
        synonyms = self.synonyms()
        key = ("search", request, id(synonyms))
        return self.cache.get(
            self.revision(),
            key,
            lambda: search(self.reader.searcher(), synonyms, request, self.include_drafts),
        )

    def position(self, slug: str) -> PositionRecord | None:
        """The stored record of a position; drafts only in preview mode."""
        record = self.cached(("position", slug), lambda: get_record(self.reader.searcher(), slug))
        if record and (not record.is_draft or self.include_drafts):
            return record
        return None

    def records(self) -> tuple[PositionRecord, ...]:
        """Every visible position, most recently updated first."""

        def load() -> tuple[PositionRecord, ...]:
            found = all_records(self.reader.searcher(), self.include_drafts)
            return tuple(sorted(found, key=lambda r: (r.updated, r.slug), reverse=True))

        return self.cached(("records",), load)

    def records_with_topic(self, topic: str) -> tuple[PositionRecord, ...]:
        """The visible positions under ``topic``, most recently updated first."""
        return tuple(r for r in self.records() if topic in r.topics)

    def topics(self) -> dict[str, int]:
        """Topic → number of visible positions, most used first."""
        return count_topics(record.topics for record in self.records())

    def suggest(self, text: str, limit: int = 8) -> Suggestions:
        """Title and word completions for the last word typed."""
        text = " ".join(str(text or "").split())[:MAX_SUGGEST_CHARS].lower()
        if not text:
            return Suggestions("", (), ())

        def compute() -> Suggestions:
            titles = tuple(r.meta for r in self.records() if text in r.title.lower())[:limit]
            last = text.split()[-1]
            words = suggest_words(self.reader.searcher(), last, limit) if len(last) >= 2 else []
            return Suggestions(text, titles, tuple(words))

        return self.cached(("suggest", text, limit), compute)


@dataclass(frozen=True)
class Suggestions:
    """Completions for what is being typed: matching position titles, then words."""

    query: str
    titles: tuple[PositionMeta, ...]
    words: tuple[str, ...]


def init_app(app: Flask, knowledge_base: KnowledgeBase) -> None:
    """Make ``knowledge_base`` the one this app serves (replacing any earlier one)."""
    app.extensions[EXTENSION] = knowledge_base


def knowledge_base_of(app: Flask) -> KnowledgeBase:
    """The knowledge base ``app`` serves."""
    return app.extensions[EXTENSION]


def current_kb() -> KnowledgeBase:
    """The knowledge base of the app handling this request or command."""
    return knowledge_base_of(current_app)
