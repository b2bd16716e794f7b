"""The packages of kb/ import one way only, and only kb/index/ imports Whoosh.

content → index → search → service → cite → (indexing, preview) → web → cli: a module may
import its own layer or a lower one, never a higher one, so no package imports one that
imports it. Read from the source with ast, so an import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KB = Path(__file__).resolve().parent.parent / "kb"

# Lower numbers are lower layers. Base modules hold values and limits every layer shares.
LAYERS = {
    "kb.limits": 0,
    "kb.config": 0,
    "kb.query_model": 0,
    "kb.content": 1,
    "kb.index": 2,
    "kb.search": 3,
    "kb.service": 4,
    "kb.cite": 5,
    "kb.indexing": 6,
    "kb.insights": 6,
    "kb.preview": 7,
    "kb.preview_state": 7,  # what the preview pages read of the preview's last check
    "kb.web": 8,
    "kb.cli": 9,
}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(KB.rglob("*.py")):
        parts = path.relative_to(KB.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def imports(path: Path) -> list[str]:
    """Every module name ``path`` imports, at any depth of the file."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def layer_of(name: str) -> str | None:
    """The LAYERS key that ``name`` belongs to, the longest that matches."""
    matches = [key for key in LAYERS if name == key or name.startswith(key + ".")]
    return max(matches, key=len) if matches else None


def test_every_kb_module_belongs_to_a_layer():
    unplaced = [name for name, _ in modules() if name != "kb" and layer_of(name) is None]
    assert unplaced == [], "add these to LAYERS in tests/test_layers.py"


@pytest.mark.parametrize("name,path", modules(), ids=[name for name, _ in modules()])
def test_imports_point_down(name, path):
    own = layer_of(name)
    if own is None:
        return
    upward = sorted(
        {
            target
            for target in imports(path)
            if (layer := layer_of(target)) and layer != own and LAYERS[layer] > LAYERS[own]
        }
    )
    assert upward == [], f"{name} (layer {own}) imports higher layers"


def test_only_the_index_package_imports_whoosh():
    outside = [
        name
        for name, path in modules()
        if not (name == "kb.index" or name.startswith("kb.index."))
        and any(target.split(".")[0] == "whoosh" for target in imports(path))
    ]
    assert outside == []


def test_no_blueprint_imports_another():
    """A blueprint module shares code through helper modules, never through a blueprint."""
    web = [(name, path) for name, path in modules() if name.startswith("kb.web.")]
    blueprints = {name for name, path in web if "Blueprint(" in path.read_text(encoding="utf-8")}
    crossing = sorted(
        (name, target)
        for name, path in web
        if name in blueprints
        for target in imports(path)
        if target in blueprints and target != name
    )
    assert crossing == []


def test_layering_check_sees_an_upward_import(tmp_path):
    """The check can fail: a content module importing the service is caught."""
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from kb.service import current_kb\n", encoding="utf-8")
    assert "kb.service" in imports(module)
    assert LAYERS[layer_of("kb.service")] > LAYERS[layer_of("kb.content.bad")]
