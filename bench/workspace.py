"""The corpora a benchmark run uses and where their copies and indexes live.

Everything is written under bench/.work/ (git-ignored). Each run starts from a fresh
copy of the source files, because the incremental-update measurement edits them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bench.corpus import fresh_copy, multiply_unique, sampled_copy, sections_copy
from bench.system import REPO, dir_size_mb

WORK = REPO / "bench" / ".work"
DIGITALGOV = Path("/work/shared/corpora/digitalgov/content")
# name: (source folder, copies of it; a negative number n keeps one file in -n)
SOURCES = {
    "positions": (REPO / "positions", 1),
    "digitalgov": (DIGITALGOV, 1),
    "digitalgov-x4": (DIGITALGOV, 4),
    # about 1,340 files: the size of the 1,267 manifesto sections issue 16 is checked on
    "digitalgov-third": (DIGITALGOV, -3),
    # 1,267 files, each one section of a page: that test's shape, short documents
    "digitalgov-sections": (DIGITALGOV, 1, 1267),
}


@dataclass
class Corpus:
    """One corpus under test: its working copy, both indexes, and the files indexed."""

    name: str
    source: Path
    times: int
    sections: int = 0  # when set: this many files, each one section of a source page
    indexed: list[str] = field(default_factory=list)  # paths Positions indexed

    @property
    def root(self) -> Path:
        return WORK / "corpora" / self.name

    @property
    def index_dir(self) -> Path:
        return WORK / "index" / self.name

    @property
    def fts5_db(self) -> Path:
        return WORK / "fts5" / f"{self.name}.db"

    @property
    def indexed_file(self) -> Path:
        return WORK / "index" / f"{self.name}.files.json"

    @property
    def env(self) -> dict[str, str]:
        """Environment for the Positions app and the FTS5 app over this corpus."""
        return {
            "KB_POSITIONS_DIR": str(self.root),
            "KB_INDEX_DIR": str(self.index_dir),
            "FTS5_DB": str(self.fts5_db),
        }

    def settings_mapping(self) -> dict[str, str]:
        return {"KB_POSITIONS_DIR": str(self.root), "KB_INDEX_DIR": str(self.index_dir)}

    def prepare(self) -> None:
        """Lay down a fresh working copy of the source files."""
        if self.sections:
            sections_copy(self.source, self.root, self.sections)
        elif self.times == 1:
            fresh_copy(self.source, self.root)
        elif self.times < 0:
            sampled_copy(self.source, self.root, -self.times)
        else:
            multiply_unique(self.source, self.root, self.times)

    def remember_indexed(self, paths: list[str]) -> None:
        self.indexed = list(paths)
        self.indexed_file.parent.mkdir(parents=True, exist_ok=True)
        self.indexed_file.write_text(json.dumps(self.indexed), encoding="utf-8")

    def load_indexed(self) -> bool:
        """Reuse the file list of an earlier build (for runs that skip building); False
        when there is none, or its index was built by another version of the code."""
        if not self.indexed_file.is_file() or not self.fts5_db.is_file():
            return False
        if not self._index_is_current():
            return False
        self.indexed = json.loads(self.indexed_file.read_text(encoding="utf-8"))
        return bool(self.indexed)

    def _index_is_current(self) -> bool:
        from kb.index import store
        from kb.index.schema import SCHEMA_VERSION

        revision = store.current_revision(self.index_dir)
        return revision is not None and (
            store.schema_version(self.index_dir, revision) == SCHEMA_VERSION
        )

    def sizes(self) -> dict:
        """Files and megabytes of Markdown in the working copy (what the indexer scans)."""
        from kb.content.loader import position_files

        files = position_files(self.root)
        every = sorted(self.root.rglob("*.md"))
        return {
            "markdown_files": len(every),
            "files_scanned": len(files),
            "mb_scanned": round(sum(p.stat().st_size for p in files) / 1e6, 2),
            "corpus_mb": round(dir_size_mb(self.root), 2),
        }


def corpora(names: list[str]) -> list[Corpus]:
    """The Corpus objects for the given names, in the given order."""
    return [Corpus(name, *SOURCES[name]) for name in names]
