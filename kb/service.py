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

from flask import Flask, current_app

from kb.config import Settings
from kb.content.editors import TOPICS_FILE, read_topics
from kb.index.nearest import prepare_meaning
from kb.index.query import prepare_spelling, stem
from kb.index.reader import IndexReader
from kb.index.records import IntroRecord, PositionMeta, PositionRecord, count_topics
from kb.index.run import (
    all_records,
    get_record,
    intro_records,
    prepare_generation,
    similar_positions,
    suggest_phrases,
    suggest_words,
)
from kb.index.store import read_manifest
from kb.index.vectors import load_vectors
from kb.limits import MAX_SUGGEST_CHARS
from kb.search.engine import SearchRequest, SearchResults, search
from kb.search.meaning import load_related
from kb.search.spelling import english_words, is_english
from kb.search.synonyms import EDITORS_FILE, Synonyms, load_synonyms

CACHE_ENTRIES = 512
RELATED_LIMIT = 5
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
    """Topic labels; a bad topics.yml (reported by `flask kb check`) gives none."""
    return read_topics(path.parent).labels or {}


def _readable(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


def _one_form_each(phrases: list[str], words: list[str]) -> list[str]:
    """Phrases in order, without two forms of one word or a word already offered."""
    seen = {stem(w) for w in words}
    kept = []
    for phrase in phrases:
        key = " ".join(stem(w) for w in phrase.split())
        if key not in seen:
            seen.add(key)
            kept.append(phrase)
    return kept


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
        labels = self.topic_labels()
        return labels.get(slug) or self.folder_labels().get(slug) or _readable(slug)

    # Folders written for other tools (issue 12): labels from folder names and tags,
    # folder introductions, and old addresses that redirect; all read from the index.

    def folder_labels(self) -> dict[str, str]:
        """Topic → label as written in a folder name or a tag ("Civil Liberties")."""

        def load() -> dict[str, str]:
            labels = {i.topic: i.label for i in reversed(self._intros()) if i.topic}
            for record in self.records():
                for topic, label in record.topic_labels:
                    labels.setdefault(topic, label)
            return labels

        return self.cached(("folder_labels",), load)

    def topic_intro(self, topic: str) -> IntroRecord | None:
        """The introduction of a topic's folder (its README.md or index.md), if any."""
        return next((i for i in self._intros() if i.topic == topic), None)

    def _intros(self) -> list[IntroRecord]:
        return self.cached(("intros",), lambda: intro_records(self.reader.searcher()))

    def redirect(self, path: str) -> str | None:
        """The position an old address (a Hugo alias, a Jekyll redirect_from, a file name
        replaced by ``slug:``) now lives at, or None."""

        def load() -> dict[str, str]:
            targets: dict[str, str] = {}
            for record in self.records():
                for alias in record.aliases:
                    targets.setdefault(alias, record.slug)
            return targets

        return self.cached(("aliases",), load).get("/" + path.strip("/"))

    def warm_up(self) -> None:
        """Read and make ready what a process's first searches of the live generation
        would: its per-generation tables, its spelling words, the English word list
        and, with meaning on, the vectors and related words. A server's app runs it
        before it answers anything (``app.py``; with gunicorn.conf.py's preload, once in
        the main process, whose workers then share the pages), rather than paying for
        them in its first hundred searches. Raises IndexMissing when there is no index
        to warm."""
        searcher = self.reader.searcher()
        prepare_generation(searcher)
        prepare_spelling(searcher)
        english_words()
        self.synonyms()
        if self.settings.meaning:
            load_vectors()
            load_related()
            prepare_meaning(searcher)
        # The tables belong to the generation, not to this thread's searcher: a forked
        # worker must open its own files, never share this one's file positions.
        self.reader.close()

    def search(self, request: SearchRequest) -> SearchResults:
        synonyms = self.synonyms()
        related = load_related() if self.settings.meaning else None
        vectors = load_vectors if self.settings.meaning else None  # read when first needed
        key = ("search", request, id(synonyms))
        return self.cache.get(
            self.revision(),
            key,
            lambda: search(
                self.reader.searcher(), synonyms, request, self.include_drafts, related, vectors
            ),
        )

    def position(self, slug: str) -> PositionRecord | None:
        """The stored record of a position; drafts only in preview mode."""
        record = self.cached(("position", slug), lambda: get_record(self.reader.searcher(), slug))
        if record and (not record.is_draft or self.include_drafts):
            return record
        return None

    def related(self, slug: str, limit: int = RELATED_LIMIT) -> list[PositionRecord]:
        """Visible positions related to ``slug``: its ``related:`` list in the editors'
        order, then the closest by content; computed once per index revision."""

        def compute() -> list[str]:
            record = get_record(self.reader.searcher(), slug)
            if record is None:
                return []
            similar = similar_positions(self.reader.searcher(), slug, limit * 2, True)
            return [s for s in dict.fromkeys([*record.related, *similar]) if s != slug]

        slugs = self.cached(("related", slug), compute)
        found = (self.position(s) for s in slugs)  # drops drafts outside preview
        return [record for record in found if record is not None][:limit]

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
        """Title, phrase and word completions for what is being typed.

        ``phrases`` are whole queries: the phrase being typed completed ("clim ch" →
        "climate change") and synonyms or acronyms that start with it ("brex" →
        "brexit"); ``words`` complete the last word, one form per word.
        """
        text = " ".join(str(text or "").split())[:MAX_SUGGEST_CHARS].lower()
        if not text:
            return Suggestions("", (), (), ())

        def compute() -> Suggestions:
            titles = tuple(r.meta for r in self.records() if text in r.title.lower())[:limit]
            searcher = self.reader.searcher()
            *before, last = text.split()
            words = suggest_words(searcher, last, limit, is_english) if len(last) >= 2 else []
            phrases = suggest_phrases(searcher, before, last, limit)
            phrases = _one_form_each(phrases + self._synonym_completions(text), words)
            return Suggestions(text, titles, tuple(phrases[:limit]), tuple(words))

        return self.cached(("suggest", text, limit), compute)

    def _synonym_completions(self, text: str) -> list[str]:
        """Synonyms and acronyms starting with ``text`` whose group the index knows."""
        if len(text) < 2:
            return []
        searcher = self.reader.searcher()
        found = []
        for key, group in self.synonyms().groups.items():
            entry = " ".join(key)
            if entry.startswith(text) and any(
                suggest_words(searcher, words[-1], 1) for words in group
            ):
                found.append(entry)
        return sorted(found, key=lambda e: (len(e), e))[:4]


@dataclass(frozen=True)
class Suggestions:
    """Completions for what is being typed: matching position titles, then words."""

    query: str
    titles: tuple[PositionMeta, ...]
    phrases: tuple[str, ...]  # whole queries: the phrase completed, or a synonym
    words: tuple[str, ...]  # the last word completed


def init_app(app: Flask, knowledge_base: KnowledgeBase) -> None:
    """Make ``knowledge_base`` the one this app serves (replacing any earlier one)."""
    app.extensions[EXTENSION] = knowledge_base


def knowledge_base_of(app: Flask) -> KnowledgeBase:
    """The knowledge base ``app`` serves."""
    return app.extensions[EXTENSION]


def current_kb() -> KnowledgeBase:
    """The knowledge base of the app handling this request or command."""
    return knowledge_base_of(current_app)
