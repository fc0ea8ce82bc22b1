"""The package's folders are its layers: nothing imports upward and no imports go round in a loop.

Every afc module's imports are read with `ast` (function-level and TYPE_CHECKING imports too); the
layer order below is the one in docs/architecture.md, top to bottom.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "afc"

# Top to bottom; a unit may import units of its own layer or of layers below it, never above.
LAYERS: list[tuple[str, ...]] = [
    ("afc.__main__", "afc.cli", "afc.demo"),
    ("afc.backfill", "afc.live", "afc.coverage", "afc.rehearse", "afc.export"),
    ("afc.jobs",),
    ("afc.ops", "afc.mcp", "afc.notify"),
    ("afc.collect",),
    ("afc.marts",),
    ("afc.config",),
    ("afc.api", "afc.transform", "afc.db"),
    ("afc.sandbox",),
    ("afc", "afc.errors", "afc.clock", "afc.resources", "afc.redact", "afc.words"),
]
# Packages that must import nothing else from afc but the layers below them.
KNOWN_LOOPS: list[list[str]] = []
PURE = {"afc.transform": {"afc.transform", "afc.errors", "afc.words"},
        "afc.api": {"afc.api", "afc.clock", "afc.errors", "afc.redact", "afc.words", "afc"}}


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module under `root`, by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _targets(name: str, known: dict[str, Path]) -> list[str]:
    """The modules importing `name` runs: itself (or its nearest module) and its parent packages."""
    while name not in known and "." in name:
        name = name.rpartition(".")[0]
    return [*_ancestors(name), name] if name in known else []


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The afc modules `name` imports anywhere in its body, parent packages included."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.update(_targets(alias.name, known))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            found.update(_targets(base, known))
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    found.add(f"{base}.{alias.name}")
    # Its own parent packages are already initialised when a module runs: not an edge.
    return {m for m in found if m.startswith("afc") and m != name and m not in _ancestors(name)}


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the afc modules it imports."""
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def unit(module: str) -> str:
    """The layer unit a module belongs to (`afc.collect.step` → `afc.collect`, `afc.errors` → itself)."""
    return ".".join(module.split(".")[:2])


def layer(module: str) -> int:
    """The index of the module's layer in LAYERS (0 = top)."""
    for index, units in enumerate(LAYERS):
        if unit(module) in units:
            return index
    raise AssertionError(f"{module}: its unit {unit(module)} is in no layer of LAYERS (tests/test_layers.py)")


def upward(edges: dict[str, set[str]]) -> list[str]:
    """Every import that runs to a higher layer."""
    return sorted(f"{a} -> {b}" for a, targets in edges.items() for b in targets if layer(b) < layer(a))


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def unit_edges(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph collapsed to layer units (`afc.collect`, `afc.marts`, ...)."""
    collapsed: dict[str, set[str]] = {}
    for a, targets in edges.items():
        collapsed.setdefault(unit(a), set()).update(unit(b) for b in targets if unit(b) != unit(a))
    return collapsed


def test_every_module_has_a_layer():
    assert [m for m in graph() if not any(unit(m) in units for units in LAYERS)] == []


def test_nothing_imports_upward():
    assert upward(graph()) == []


def test_no_module_import_loops():
    assert [loop for loop in cycles(graph()) if loop not in KNOWN_LOOPS] == []


def test_no_package_import_loops():
    assert cycles(unit_edges(graph())) == []


def test_transform_and_api_stay_pure():
    edges = graph()
    leaks = sorted(f"{a} -> {b}" for a, targets in edges.items() if unit(a) in PURE
                   for b in targets if unit(b) not in PURE[unit(a)])
    assert leaks == []


def test_one_module_owns_the_job_runs_sql():
    writers = sorted(name for name, path in modules().items()
                     if re.search(r"(FROM|INTO|UPDATE)\s+ops\.job_runs\b", path.read_text()))
    assert writers == ["afc.collect.runs"]


def test_the_checks_catch_an_upward_import_and_a_loop():
    edges = {"afc.db.x": {"afc.marts.y"}, "afc.marts.y": {"afc.db.x"}, "afc.cli.z": {"afc.db.x"}}
    assert upward(edges) == ["afc.db.x -> afc.marts.y"]
    assert cycles(edges) == [["afc.db.x", "afc.marts.y"]]
    assert cycles(unit_edges(edges)) == [["afc.db", "afc.marts"]]


def test_function_level_and_relative_imports_count(tmp_path):
    pkg = tmp_path / "afc"
    (pkg / "db").mkdir(parents=True)
    (pkg / "marts").mkdir()
    for init in ("__init__.py", "db/__init__.py", "marts/__init__.py"):
        (pkg / init).write_text("")
    (pkg / "marts" / "common.py").write_text("X = 1\n")
    (pkg / "db" / "write.py").write_text("def f():\n    from afc.marts.common import X\n    from . import read\n")
    (pkg / "db" / "read.py").write_text("")
    found = graph(pkg)
    assert found["afc.db.write"] == {"afc.marts", "afc.marts.common", "afc.db.read"}


def test_loading_the_transforms_pulls_in_no_database_mart_or_http_module():
    code = ("import sys, afc.transform as t; t.has_transform('fixtures'); "
            "print(sorted(m for m in sys.modules if m.startswith(('afc.db', 'afc.marts', 'httpx', 'psycopg'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
