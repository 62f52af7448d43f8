"""The packages import each other downward only, and no two of them import each other.

``contracts`` holds what the others agree on (the token dataset format, the tokenizer's ranks file, file
I/O and atomic writes, run locks, configuration errors, run accounting) and imports nothing of ours;
``model`` builds on it; ``pipeline`` builds on it; ``training`` builds on it and on ``model``. A change of
a contract then touches one module, and a package can be installed and tested without those above it.

The rules are read from the source with ``ast`` (imports inside functions count: a lazy import is still
a dependency, it only fails later), so the test needs none of the packages' dependencies.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Which of our packages each package may import (besides itself). Everything else is a violation.
ALLOWED: dict[str, set[str]] = {
    "contracts": set(),
    "model": {"contracts"},
    "pipeline": {"contracts"},
    "training": {"contracts", "model"},
}
PACKAGES = tuple(ALLOWED)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, relative ones resolved.

    ``importlib.import_module("x.y")`` with a literal name counts as an import of ``x.y``.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


def package_imports(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[tuple[str, str], list[str]]:
    """(importing package, imported package) -> ``file:line`` of each import between two of ``packages``."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            module = _module_name(path, root)
            for line, target in imported_modules(path.read_text(encoding="utf-8"), module,
                                                 path.name == "__init__.py"):
                top = target.split(".", 1)[0]
                if top in packages and top != package:
                    edges[(package, top)].append(f"{path.relative_to(root)}:{line} imports {target}")
    return dict(edges)


def package_cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Every strongly connected group of more than one package (each holds an import cycle), sorted."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
        graph.setdefault(b, set())
    reach = {node: _reachable(graph, node) for node in graph}
    groups = {tuple(sorted(n for n in graph if n in reach[node] and node in reach[n]) or [node])
              for node in graph}
    return sorted(list(group) for group in groups if len(group) > 1)


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


@pytest.fixture(scope="module")
def edges() -> dict[tuple[str, str], list[str]]:
    missing = [p for p in PACKAGES if not (REPO / p / "__init__.py").is_file()]
    assert not missing, f"packages {missing} not found under {REPO}"
    return package_imports(REPO)


def test_no_import_cycle_between_packages(edges: dict[tuple[str, str], list[str]]) -> None:
    cycles = package_cycles(set(edges))
    detail = "\n".join(f"  {a} -> {b}: {where}" for (a, b), sites in sorted(edges.items())
                       for where in sites if any(a in c and b in c for c in cycles))
    assert not cycles, f"packages import each other: {cycles}\n{detail}"


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_the_layers_below(edges: dict[tuple[str, str], list[str]], package: str) -> None:
    bad = {(a, b): sites for (a, b), sites in edges.items() if a == package and b not in ALLOWED[package]}
    lines = "\n".join(f"  {site}" for sites in bad.values() for site in sites)
    assert not bad, (f"{package} may import only {sorted(ALLOWED[package]) or 'nothing of ours'}; move the "
                     f"shared part into contracts/ (or the layer below) instead:\n{lines}")


# ------------------------------------------------------------------ the checker itself

def test_checker_finds_relative_lazy_and_importlib_imports(tmp_path: Path) -> None:
    (tmp_path / "pipeline" / "stages").mkdir(parents=True)
    (tmp_path / "training").mkdir()
    (tmp_path / "pipeline" / "__init__.py").write_text("")
    (tmp_path / "pipeline" / "stages" / "__init__.py").write_text("from .. import fsio\n")
    (tmp_path / "pipeline" / "stages" / "tok.py").write_text(
        "import os\n\ndef f():\n    from training.dataset import X\n")
    (tmp_path / "training" / "__init__.py").write_text("")
    (tmp_path / "training" / "load.py").write_text(
        "import importlib\nm = importlib.import_module('pipeline.fsio')\n")
    edges = package_imports(tmp_path, ("pipeline", "training"))
    assert edges == {("pipeline", "training"): ["pipeline/stages/tok.py:4 imports training.dataset"],
                     ("training", "pipeline"): ["training/load.py:2 imports pipeline.fsio"]}
    assert imported_modules("from .. import fsio\n", "pipeline.stages", True) == [(1, "pipeline")]
    assert imported_modules("from .base import X\n", "pipeline.readers.jsonl", False) == [
        (1, "pipeline.readers.base")]


def test_checker_finds_cycles_through_any_number_of_packages() -> None:
    assert package_cycles({("a", "b"), ("b", "c")}) == []
    assert package_cycles({("a", "b"), ("b", "a"), ("c", "a")}) == [["a", "b"]]
    assert package_cycles({("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")}) == [["a", "b", "c"]]
