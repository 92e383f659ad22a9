"""The layers of docs/architecture.md hold: no import runs up, no engine test outside the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS = [
    ("pipeline.core",),
    ("pipeline.data", "pipeline.demo"),
    ("features", "models"),
    ("pipeline.cohorts",),
    ("pipeline.training", "pipeline.scoring", "pipeline.retention"),
    ("pipeline.tracking",),
    ("pipeline.engine",),
    ("pipeline.stages",),
    ("pipeline.cli",),
]


def layer_of(module: str) -> int | None:
    for rank, packages in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in packages):
            return rank
    return None


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in ("pipeline", "features", "models"):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if name != "pipeline":  # the top package's docstring, above every layer
                found.append((name, path))
    return found


def imported(tree: ast.AST, module: str) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if layer_of(name) is not None and name != module}


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_no_module_imports_a_layer_above_its_own(module, path):
    own = layer_of(module)
    assert own is not None, f"{module} belongs to no layer of docs/architecture.md"
    upward = sorted(
        name for name in imported(ast.parse(path.read_text()), module) if layer_of(name) > own
    )
    assert not upward, f"{module} (layer {own}) imports from above: {upward}"


def test_the_layer_check_can_fail():
    tree = ast.parse("from pipeline.stages.train import train_stage\n")
    assert layer_of("pipeline.data.reader") < min(
        layer_of(name) for name in imported(tree, "pipeline.data.reader")
    )


def engine_kind_tests(tree: ast.AST) -> list[int]:
    """Return the lines comparing ``<...>.engine.kind`` (or ``engine.kind``) with anything."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                is_kind = isinstance(side, ast.Attribute) and side.attr == "kind"
                owner = getattr(side, "value", None)
                named_engine = (isinstance(owner, ast.Attribute) and owner.attr == "engine") or (
                    isinstance(owner, ast.Name) and owner.id == "engine"
                )
                if is_kind and named_engine:
                    lines.append(node.lineno)
    return lines


def test_only_the_engine_package_tests_engine_kind():
    found = {
        module: lines
        for module, path in modules()
        if not module.startswith("pipeline.engine")
        and (lines := engine_kind_tests(ast.parse(path.read_text())))
    }
    assert not found, f"engine.kind tested outside pipeline/engine: {found}"
    assert engine_kind_tests(ast.parse("if params.engine.kind == 'dask': pass"))
