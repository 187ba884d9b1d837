"""The package's shape: rooms whose imports point one way, and modules a reader can hold.

`predictions_core` is layered (README, "How it is built"):

    ui, api, cli  →  demo  →  analysis, query, feedback, predict, sync  →  data  →  core

where core is the top-level modules (`errors`, `settings`, `flags`), and `demo` builds the
bundled data with the classifiers of `predict` (the CLI runs it). A room may import its own
modules and any layer below it, never a layer above nor a room beside it: the middle rooms
never import each other (what one needs from another is passed in by a caller above both).
Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "predictions_core"
CORE = "core"
LAYERS = {
    CORE: 0,
    "data": 1,
    "analysis": 2,
    "query": 2,
    "feedback": 2,
    "predict": 2,
    "sync": 2,
    "demo": 3,
    "ui": 4,
    "api": 4,
    "cli": 4,
}
MAX_MODULE_LINES = 500


def room_of(module: str) -> str:
    """`predictions_core.data.loading` → `data`; a top-level module is `core`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else CORE


def package_modules() -> list[tuple[str, Path]]:
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        modules.append((".".join(relative.parts).removesuffix(".__init__"), path))
    return modules


def imported_modules(path: Path) -> set[str]:
    """Every `predictions_core...` module a file imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("predictions_core.")}


def allowed(importer: str, imported: str) -> bool:
    return importer == imported or LAYERS[imported] < LAYERS[importer]


@pytest.mark.parametrize(("module", "path"), package_modules(), ids=lambda v: str(v))
def test_imports_point_down_the_layers(module, path):
    importer = room_of(module)
    wrong = sorted(
        name
        for name in imported_modules(path)
        if room_of(name) in LAYERS and not allowed(importer, room_of(name))
    )
    assert not wrong, f"{module} ({importer}) imports {wrong}: against the layering"


def test_the_rooms_exist_and_nothing_is_left_loose():
    rooms = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    assert rooms == set(LAYERS) - {CORE}
    loose = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    assert loose == {"errors", "settings", "flags"}


@pytest.mark.parametrize(("module", "path"), package_modules(), ids=lambda v: str(v))
def test_modules_stay_short_enough_to_read(module, path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines"


def test_the_checker_sees_a_wrong_import(tmp_path):
    # the rule itself must be able to fail: a data module importing the query room
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from predictions_core.query.engine import query_predictions\n")
    assert imported_modules(bad) >= {"predictions_core.query.engine"}
    assert not allowed("data", room_of("predictions_core.query.engine"))
    assert not allowed("analysis", room_of("predictions_core.feedback.store"))
    assert allowed("ui", room_of("predictions_core.analysis.evaluation"))
