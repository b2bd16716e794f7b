"""The one set of content rules: every problem, its severity, and what may be published.

`flask kb check`, `flask kb index` (fresh, ``--rebuild`` and incremental) and the live
preview all call ``decide``, so they cannot disagree about what a mistake is or which
files go on the site.

The rule: a file with an *error* never has that version published. Its last good
version stays live when there is one (the indexer keeps it); otherwise the file stays
off the site. A *warning* is advice and publishes nothing differently.

Errors found here, beyond each file's own (``Summary.local``):

- a slug two files claim: the file whose name already is the slug keeps the address;
  else the file already published under it (the live index, else the citation
  ledger); else the first path in sorted order. The other file is the error;
- a link to ``/positions/<slug>`` or a ``related:`` entry that leads to no position;
- a link to a Markdown file that is not there, or a Hugo ``ref`` or Jekyll ``link``
  tag naming one;
- a topic missing from ``topics.yml``.

References to a file that itself has errors are not reported a second time, and a
file's error never takes down the files that link to it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from kb.content.editors import TOPICS_FILE
from kb.content.links import file_link
from kb.content.model import Problem
from kb.content.slug import file_slug, is_intro, page_place

POSITIONS_PREFIX = "/positions/"


@dataclass(frozen=True)
class Summary:
    """What the folder-wide rules need to know about one file.

    Built from a freshly loaded file, or read back from the index manifest for a file
    whose content has not changed since it was published (so an incremental run
    re-applies every rule without re-reading unchanged files).
    """

    path: str
    slug: str | None  # the slug this version declares; None when it did not load
    claimed: str = ""  # for a file that did not load: the slug it names, if readable
    public: bool = True
    title: str = ""
    title_line: int = 1
    slug_line: int = 1
    topics: tuple[tuple[str, int], ...] = ()  # (topic, file line)
    related: tuple[tuple[str, int], ...] = ()  # (slug, file line)
    links: tuple[tuple[int, str], ...] = ()  # (file line, "/positions/...")
    file_links: tuple[tuple[int, str], ...] = ()  # (file line, "./Other File.md")
    ref_links: tuple[tuple[int, str], ...] = ()  # (file line, "page.md") a ref or link names
    local: tuple[Problem, ...] = ()  # problems found in this file alone
    passage_ids: frozenset[str] = frozenset()  # not stored: only fresh clones need it
    intro: bool = False  # a folder's introduction: published, but no position
    leaf: bool = False  # an index.md or README.md that is its folder's page

    @property
    def loaded(self) -> bool:
        return self.slug is not None

    @property
    def stem(self) -> str:
        """The address the file name alone gives (a folder's page: the folder's name)."""
        return file_slug(page_place(self.path, self.leaf).name)

    def to_json(self) -> dict:
        """For the manifest of a published file: its local problems are warnings only."""
        return {
            "slug": self.slug, "claimed": self.claimed, "public": self.public,
            "title": self.title, "title_line": self.title_line, "slug_line": self.slug_line,
            "topics": [list(t) for t in self.topics],
            "related": [list(r) for r in self.related],
            "links": [list(link) for link in self.links],
            "file_links": [list(link) for link in self.file_links],
            "ref_links": [list(link) for link in self.ref_links],
            "local": [[p.line, p.message, p.severity] for p in self.local],
            "intro": self.intro, "leaf": self.leaf,
        }  # fmt: skip

    @classmethod
    def from_json(cls, path: str, data: Mapping) -> Summary:
        """Read back ``to_json``; raises KeyError/TypeError/ValueError when malformed."""
        return cls(
            path=path, slug=data["slug"], claimed=data["claimed"], public=bool(data["public"]),
            title=str(data["title"]), title_line=int(data["title_line"]),
            slug_line=int(data["slug_line"]),
            topics=tuple((str(t), int(n)) for t, n in data["topics"]),
            related=tuple((str(s), int(n)) for s, n in data["related"]),
            links=tuple((int(n), str(t)) for n, t in data["links"]),
            file_links=tuple((int(n), str(t)) for n, t in data.get("file_links", ())),
            # Required: a manifest written before refs were checked has its files re-read.
            ref_links=tuple((int(n), str(t)) for n, t in data["ref_links"]),
            local=tuple(Problem(path, int(n), str(m), str(s)) for n, m, s in data["local"]),
            intro=bool(data.get("intro", False)), leaf=bool(data.get("leaf", False)),
        )  # fmt: skip


@dataclass(frozen=True)
class Incumbents:
    """Who publishes what right now, so a duplicate slug is settled the same way on
    every kind of build.

    ``by_path``: path → slug, from the live index's manifest. ``ledger``: slug → ids of
    the passages the citation ledger records as current, which settles a duplicate on a
    fresh clone, where there is no index yet.
    """

    by_path: Mapping[str, str] = field(default_factory=dict)
    ledger: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """Every problem, sorted by file and line, and the files whose version may go live."""

    problems: tuple[Problem, ...]
    publishable: frozenset[str]
    owners: Mapping[str, str]  # slug → the path that keeps it


def decide(
    files: Iterable[Summary],
    topics: set[str] | None,
    topic_problems: Iterable[Problem] = (),
    incumbents: Incumbents | None = None,
) -> Outcome:
    """Apply every rule to the whole folder.

    ``topics`` is the editors' topic list (None: no list, so topics are not checked);
    ``topic_problems`` are that list's own problems, reported as they are.
    """
    files = sorted(files, key=lambda f: f.path)
    incumbents = incumbents or Incumbents()
    problems = list(topic_problems)
    problems += [p for f in files for p in f.local]
    owners, duplicates = _settle_slugs(files, incumbents)
    problems += duplicates
    problems += _title_problems(files)
    loaded = {f.slug: f for f in files if f.loaded and owners.get(f.slug) == f.path}
    broken = {
        name
        for f in files
        if not f.loaded and not f.intro
        for name in (f.stem, f.claimed, incumbents.by_path.get(f.path))
        if name
    }
    for f in files:
        problems += _reference_problems(f, loaded, broken, topics)
    problems += _file_link_problems(files)
    problems += _ref_link_problems(files)
    failed = {p.path for p in problems if p.is_error}
    publishable = frozenset(f.path for f in files if (f.loaded or f.intro) and f.path not in failed)
    return Outcome(tuple(sorted(problems, key=_order)), publishable, owners)


def _order(problem: Problem) -> tuple:
    return (problem.path, problem.line, problem.severity != "error", problem.message)


def _settle_slugs(
    files: list[Summary], incumbents: Incumbents
) -> tuple[dict[str, str], list[Problem]]:
    """slug → the path that keeps it, and an error for every other claimant.

    A file that did not load still claims the slug its live version holds.
    """
    claims: dict[str, list[Summary]] = {}
    for f in files:
        slug = f.slug if f.loaded else incumbents.by_path.get(f.path)
        if slug:
            claims.setdefault(slug, []).append(f)
    owners, problems = {}, []
    for slug, group in claims.items():
        winner = _winner(slug, group, incumbents)
        owners[slug] = winner.path
        for f in group:
            if f is not winner:
                problems.append(Problem(
                    f.path, f.slug_line,
                    f"slug '{slug}' is also used by {winner.path}, which keeps the address; "
                    "give this file its own 'slug: ...' or rename it",
                ))  # fmt: skip
    return owners, problems


def _winner(slug: str, group: list[Summary], incumbents: Incumbents) -> Summary:
    """The file whose name is the slug; else the one published under it; else the first.

    Among several files whose names give the slug (``Economy/Overview.md`` and
    ``Health/Overview.md``), the one already published keeps it, so a newcomer never
    takes a published address.
    """
    if len(group) == 1:
        return group[0]  # no contest (and file names are slow to fold: skip them)
    named = [f for f in group if f.stem == slug]
    return _incumbent(slug, named or group, incumbents) or (named or group)[0]


def _incumbent(slug: str, group: list[Summary], incumbents: Incumbents) -> Summary | None:
    """The file published under ``slug`` now: the live index's, else the ledger's."""
    live = [f for f in group if incumbents.by_path.get(f.path) == slug]
    if live:
        return live[0]
    recorded = incumbents.ledger.get(slug, frozenset())
    overlap = max(group, key=lambda f: len(f.passage_ids & recorded))
    return overlap if overlap.passage_ids & recorded else None


def _title_problems(files: list[Summary]) -> list[Problem]:
    """Two positions with one title confuse readers: a warning."""
    problems, titles = [], {}
    for f in files:
        if not f.loaded:
            continue
        key = " ".join(f.title.lower().split())
        if key in titles:
            problems.append(Problem(
                f.path, f.title_line,
                f"title '{f.title}' is also used by {titles[key]}; give each position its "
                "own title", "warning",
            ))  # fmt: skip
        titles.setdefault(key, f.path)
    return problems


def _reference_problems(
    f: Summary, owners: dict[str, Summary], broken: set[str], topics: set[str] | None
) -> list[Problem]:
    """Links, related entries and topics of one file that point at nothing."""
    problems = []
    for line, target in f.links:
        slug = target[len(POSITIONS_PREFIX) :].strip("/")
        if slug and slug not in broken:
            message = _target_problem(f"link to {target}", slug, owners, f.public)
            if message:
                problems.append(Problem(f.path, line, *message))
    for slug, line in f.related:
        if slug not in broken:
            message = _target_problem(f"related: '{slug}'", slug, owners, f.public)
            if message:
                problems.append(Problem(f.path, line, *message))
    for topic, line in f.topics if topics is not None else ():
        if topic not in topics:
            hint = did_you_mean(topic, topics) or "add it there or fix the spelling"
            message = f"topics: '{topic}' is not in {TOPICS_FILE}; {hint}"
            problems.append(Problem(f.path, line, message))
    return problems


def _file_link_problems(files: list[Summary]) -> list[Problem]:
    """Relative links to Markdown files (``./Other%20File.md``) whose file is not there."""
    paths = {f.path.lower(): f.path for f in files}
    problems = []
    for f in files:
        for line, href in f.file_links:
            link = file_link(f.path, href)
            if link is None or link.path.lower() in paths:
                continue
            if link.outside:
                message = (
                    f"link to {href} leads out of the content folder; link to the page on "
                    "the web instead, or copy the file into the folder"
                )
            else:
                hint = _sibling_hint(link.path, paths.values()) or (
                    "fix the file name in the link or remove the link"
                )
                message = f"link to {href} goes nowhere: there is no file {link.path}; {hint}"
            problems.append(Problem(f.path, line, message))
    return problems


def _ref_link_problems(files: list[Summary]) -> list[Problem]:
    """Hugo ``ref`` shortcodes and Jekyll ``link`` tags naming a Markdown file that no
    file of the folder is named (both find the page by its file name, and so does this
    site): either stops its build on one, and here the link would lead nowhere."""
    by_name = {f.stem: f.path for f in files}
    problems = []
    for f in files:
        for line, target in f.ref_links:
            name = PurePosixPath(target).name
            if is_intro(name) or file_slug(name) in by_name:
                continue
            close = difflib.get_close_matches(file_slug(name), sorted(by_name), n=1, cutoff=0.75)
            hint = f"did you mean '{by_name[close[0]]}'?" if close else "fix or remove the link"
            message = f"link to '{target}' goes nowhere: no file in the folder is named {name}"
            problems.append(Problem(f.path, line, f"{message}; {hint}"))
    return problems


def _target_problem(
    what: str, slug: str, owners: dict[str, Summary], public: bool
) -> tuple[str, str] | None:
    """(message, severity) for a reference to ``slug``, or None when it is fine."""
    target = owners.get(slug)
    if target is None:
        hint = did_you_mean(slug, owners) or "fix the slug or remove the reference"
        return f"{what} goes nowhere: no position has the slug '{slug}'; {hint}", "error"
    if public and not target.public:
        return (
            f"{what} points to a draft, which the public site does not show; adopt "
            f"{target.path} first or remove the reference",
            "warning",
        )
    return None


def _sibling_hint(path: str, paths: Iterable[str]) -> str:
    """'did you mean …?' naming a file in the same folder whose name is close."""
    wanted = PurePosixPath(path)
    siblings = {PurePosixPath(p).name: p for p in paths if PurePosixPath(p).parent == wanted.parent}
    close = difflib.get_close_matches(wanted.name, sorted(siblings), n=1, cutoff=0.75)
    return f"did you mean '{siblings[close[0]]}'?" if close else ""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else ""
