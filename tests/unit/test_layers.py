"""The package's import graph has no cycles, and its layers import downward only.

Every ``import`` in ``dsc_engine`` counts, those inside functions too (a deferred import does not
make a cycle acceptable); only imports under ``if TYPE_CHECKING:`` are left out. The layers, lowest
first, are the ones ``docs/architecture.md`` draws.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import dsc_engine

PACKAGE = Path(dsc_engine.__file__).parent

#: Lowest first: a unit may import only from units of a lower or equal rank (equal: itself).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("models",),
    ("wire",),
    ("query",),
    ("store", "api"),
    ("io", "sample", "sql"),
    ("engine", "replay", "strategies", "pull"),
    ("server",),
    ("testdata",),
    ("mocking",),
    ("testing",),
    ("cli",),
    ("__init__", "__main__"),
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def _unit(module: str) -> str | None:
    """The layer unit of a dotted ``dsc_engine`` module name (its first component below the root)."""
    parts = module.split(".")
    if parts[0] != "dsc_engine":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for child in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # a submodule, or a name of the module itself
                submodule = f"{node.module}.{alias.name}"
                yield submodule if _exists(submodule) else node.module


def _exists(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def graph() -> dict[str, set[str]]:
    """Unit -> the units it imports (itself left out)."""
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        unit = _unit(_module_name(path))
        assert unit is not None
        targets = edges.setdefault(unit, set())
        for imported in _imports(path):
            other = _unit(imported)
            if other is not None and other != unit:
                targets.add(other)
    return edges


def test_every_unit_has_a_layer() -> None:
    assert set(graph()) <= set(RANK), sorted(set(graph()) - set(RANK))


def test_layers_import_downward_only() -> None:
    upward = sorted(
        f"{unit} imports {other}"
        for unit, targets in graph().items()
        for other in targets
        if RANK[other] > RANK[unit] or (RANK[other] == RANK[unit] and other != unit)
    )
    assert upward == []


def test_the_import_graph_has_no_cycle() -> None:
    edges = graph()
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(unit: str, path: list[str]) -> None:
        seen[unit] = 1
        for other in sorted(edges.get(unit, ())):
            if seen.get(other) == 1:
                cycle = path[path.index(other):] + [other] if other in path else [unit, other]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if other not in seen:
                visit(other, [*path, other])
        seen[unit] = 2

    for unit in sorted(edges):
        if unit not in seen:
            visit(unit, [unit])
