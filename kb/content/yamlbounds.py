"""YAML with bounds: alias expansion and nesting measured before any value is built.

PyYAML's composer shares one node per anchor, so composing a "billion laughs" document is
as cheap as its text; constructing it is what explodes. ``compose_bounded`` counts the
nodes construction would build (in time linear in the text) and refuses past a limit.
Errors come as one line with the line number in the YAML text, never PyYAML's several
lines naming ``"<unicode string>"``.
"""

from __future__ import annotations

from typing import Any

import yaml

from kb.limits import MAX_YAML_NODES


class BoundedYamlError(Exception):
    """YAML that cannot be read within bounds; ``line`` is 1-based within the YAML text."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def compose_bounded(text: str, max_nodes: int = MAX_YAML_NODES) -> yaml.Node | None:
    """Compose ``text`` into YAML nodes, refusing more than ``max_nodes`` after aliases.

    Nesting hundreds deep raises RecursionError, as PyYAML does; callers report it.

    Composing shares one node per anchor, so it stays as small as the text; the count
    is what constructing Python values would build, computed without building them.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise BoundedYamlError(mark.line + 1 if mark else 1, one_line(exc.problem)) from exc
    except yaml.YAMLError as exc:
        raise BoundedYamlError(1, one_line(str(exc))) from exc
    if root is not None:
        _count(root, max_nodes)
    return root


def _count(root: yaml.Node, max_nodes: int) -> int:
    """Nodes after alias expansion; raises once past ``max_nodes`` or on a cycle."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise BoundedYamlError(node.start_mark.line + 1, "an alias refers to itself")
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        if total > max_nodes:
            raise BoundedYamlError(
                node.start_mark.line + 1,
                f"expands to more than {max_nodes:,} values (aliases '*' repeat anchors "
                "'&'); write the values out plainly",
            )
        sizes[key] = total
        return total

    return size(root)


def construct(node: yaml.Node | None) -> Any:
    """Python values of a node ``compose_bounded`` accepted; YAML tags give one line."""
    if node is None:
        return None
    try:
        return yaml.SafeLoader("").construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise BoundedYamlError(mark.line + 1 if mark else 1, one_line(exc.problem)) from exc
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise BoundedYamlError(1, one_line(str(exc))) from exc


def one_line(text: str | None) -> str:
    return " ".join(str(text or "unreadable").split())
