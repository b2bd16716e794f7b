"""The knowledge base as the web layer sees it: search, positions, topics, suggestions.

Everything read from the index is cached per index revision, so a new generation
invalidates it and repeated requests never touch Whoosh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import yaml

from kb.cite.ledger import LEDGER_FILE, Ledger, read_ledger_file
from kb.config import Settings
from kb.index.query import stem
from kb.index.reader import IndexReader
from kb.index.run import all_records, get_record, suggest_phrases, suggest_words
from kb.search.engine import SearchRequest, SearchResults, search
from kb.search.meaning import load_related
from kb.search.synonyms import EDITORS_FILE, Synonyms, load_synonyms

TOPICS_FILE = "topics.yml"
CACHE_ENTRIES = 512


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
        self._ledger = FileCache(folder / LEDGER_FILE, read_ledger_file)

    @property
    def include_drafts(self) -> bool:
        return self.settings.preview

    def revision(self) -> str:
        """The live index revision; raises IndexMissing when there is none."""
        return self.reader.revision()

    def synonyms(self) -> Synonyms:
        return self._synonyms.get()

    def ledger(self) -> Ledger:
        """The citation ledger, re-read when the file changes; never raises."""
        return self._ledger.get()

    def topic_labels(self) -> dict[str, str]:
        return self._topics.get()

    def topic_label(self, slug: str) -> str:
        return self.topic_labels().get(slug) or slug.replace("-", " ").capitalize()

    def search(self, request: SearchRequest) -> SearchResults:
        synonyms = self.synonyms()
        related = load_related() if self.settings.meaning else None
        key = ("search", request, id(synonyms))
        return self.cache.get(
            self.revision(),
            key,
            lambda: search(self.reader.searcher(), synonyms, request, self.include_drafts, related),
        )

    def position(self, slug: str) -> dict | None:
        """The stored record of a position; drafts only in preview mode."""
        record = self.cache.get(
            self.revision(), ("position", slug), lambda: get_record(self.reader.searcher(), slug)
        )
        if record and (record["status"] != "draft" or self.include_drafts):
            return record
        return None

    def records(self) -> list[dict]:
        """Every visible position, most recently updated first."""

        def load() -> list[dict]:
            found = all_records(self.reader.searcher(), self.include_drafts)
            return sorted(found, key=lambda r: (r["updated"], r["slug"]), reverse=True)

        return self.cache.get(self.revision(), ("records",), load)

    def topics(self) -> dict[str, int]:
        """Topic → number of visible positions, most used first."""
        counts: dict[str, int] = {}
        for record in self.records():
            for topic in record["topics"]:
                counts[topic] = counts.get(topic, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def suggest(self, text: str, limit: int = 8) -> dict:
        """Title, phrase and word completions for what is being typed.

        ``phrases`` are whole queries: the phrase being typed completed ("clim ch" →
        "climate change") and synonyms or acronyms that start with it ("brex" →
        "brexit"); ``words`` complete the last word, one form per word.
        """
        text = " ".join(str(text or "").split())[:100].lower()
        if not text:
            return {"query": "", "titles": [], "phrases": [], "words": []}

        def compute() -> dict:
            titles = [
                {"slug": r["slug"], "title": r["title"]}
                for r in self.records()
                if text in r["title"].lower()
            ][:limit]
            searcher = self.reader.searcher()
            *before, last = text.split()
            words = suggest_words(searcher, last, limit) if len(last) >= 2 else []
            phrases = suggest_phrases(searcher, before, last, limit)
            phrases = _one_form_each(phrases + self._synonym_completions(text), words)
            return {"query": text, "titles": titles, "phrases": phrases[:limit], "words": words}

        return self.cache.get(self.revision(), ("suggest", text, limit), compute)

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
