"""The sandbox's imports: no cycle inside it (TYPE_CHECKING imports count), nothing from afc but clock and errors."""

from __future__ import annotations

import ast
from pathlib import Path

import afc.sandbox

PACKAGE = Path(afc.sandbox.__file__).parent


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("afc", "sandbox", *path.relative_to(PACKAGE).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported(path: Path, modules: dict[str, Path]) -> set[str]:
    """Dotted names a module imports; `from pkg import sub` counts as importing `pkg.sub`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            subs = {f"{node.module}.{alias.name}" for alias in node.names} & set(modules)
            found |= subs if len(subs) == len(node.names) else {node.module} | subs
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(path, modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle among the graph's own modules, or [] (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = 1
        path.append(name)
        for target in sorted(graph[name] & set(graph)):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[name] = 2
        path.pop()
        return []

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return []


def test_no_import_cycle_inside_the_sandbox():
    graph = _graph()
    assert len(graph) > 30 and "afc.sandbox.truth" in graph["afc.sandbox.views"]
    assert _cycle(graph) == []


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_sandbox_uses_nothing_of_afc_but_clock_and_errors():
    outside = {name for imports in _graph().values() for name in imports
               if name.startswith("afc.") and not name.startswith("afc.sandbox")}
    assert outside == {"afc.clock", "afc.errors"}
