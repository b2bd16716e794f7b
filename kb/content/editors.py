"""The editors' side files (``topics.yml``, ``synonyms.txt``), read with bounds.

One reader for each, used by ``flask kb check`` and by the site alike, so what the check
accepts is what the site shows. Every read is bounded: the size is checked with ``stat``
before reading, and YAML is composed into nodes whose alias-expanded count is measured
before anything is built (``kb/content/yamlbounds.py``), so a "billion laughs" file is a
one-line problem, never a hang.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kb.content.loader import ContentRefused, read_content
from kb.content.model import Problem
from kb.content.validate import SLUG_RE
from kb.content.yamlbounds import BoundedYamlError, compose_bounded, construct
from kb.limits import MAX_EDITORS_FILE_BYTES

TOPICS_FILE = "topics.yml"
TOPICS_FIX = "write one 'slug: Label' line per topic, like 'young-people: Young people'"


def read_editors_text(path: Path, root: Path) -> str:
    """An editors' file as text, read only if it is a regular file within the size limit.

    Raises ContentRefused with the reason otherwise (and OSError if it cannot be read).
    """
    data, size = read_content(path, root)
    if data is None or len(data) > MAX_EDITORS_FILE_BYTES:
        size = size if data is None else len(data)
        raise ContentRefused(
            f"file is {size:,} bytes; the limit is {MAX_EDITORS_FILE_BYTES:,} bytes"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentRefused("file is not valid UTF-8; save it as UTF-8") from exc


@dataclass(frozen=True)
class TopicList:
    """The editors' topic list: labels by slug (None when absent or unreadable)."""

    labels: dict[str, str] | None = None
    problems: tuple[Problem, ...] = field(default=())


def read_topics(root: Path) -> TopicList:
    """``topics.yml`` of the content folder, bounded; a bad file is problems, no labels."""
    path = root / TOPICS_FILE
    if not path.is_file() and not path.is_symlink():
        return TopicList()
    try:
        data = construct(compose_bounded(read_editors_text(path, root)))
    except ContentRefused as exc:
        return TopicList(problems=(Problem(TOPICS_FILE, 1, exc.message),))
    except OSError as exc:
        message = f"cannot read file: {exc.strerror or exc}"
        return TopicList(problems=(Problem(TOPICS_FILE, 1, message),))
    except RecursionError:
        message = f"nested too deeply to read; {TOPICS_FIX}"
        return TopicList(problems=(Problem(TOPICS_FILE, 1, message),))
    except BoundedYamlError as exc:
        message = f"not valid YAML: {exc.problem}; {TOPICS_FIX}"
        return TopicList(problems=(Problem(TOPICS_FILE, exc.line, message),))
    if isinstance(data, list):  # a plain list of slugs: no labels of their own
        data = {item: None for item in data if isinstance(item, (str, int, float))}
    if not isinstance(data, dict):
        message = f"the topic list is not a list; {TOPICS_FIX}"
        return TopicList(problems=(Problem(TOPICS_FILE, 1, message),))
    labels = {str(key): "" if value is None else str(value) for key, value in data.items()}
    problems = tuple(
        Problem(TOPICS_FILE, 1, f"'{topic}' is not a topic slug; use lower-case words "
                "joined by hyphens, like young-people", "warning")
        for topic in sorted(labels) if not SLUG_RE.match(topic)
    )  # fmt: skip
    return TopicList(labels, problems)
