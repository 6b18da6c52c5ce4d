"""The QuickBooks connector and its sandbox in modules by job: small, documented, no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import ledgerlink_quickbooks
import ledgerlink_sandboxes.quickbooks
import pytest

#: a module longer than this is doing more than one job (the host keeps the same bound)
MAX_LINES = 400

PACKAGES = {"ledgerlink_quickbooks": Path(ledgerlink_quickbooks.__file__).parent,
            "ledgerlink_sandboxes.quickbooks": Path(ledgerlink_sandboxes.quickbooks.__file__).parent}


def _modules(package: str) -> dict[str, Path]:
    """The modules of ``package`` (its own folder, not its subpackages), by dotted name."""
    folder = PACKAGES[package]
    return {package if path.stem == "__init__" else f"{package}.{path.stem}": path
            for path in sorted(folder.glob("*.py"))}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of the same package that ``name`` imports, wherever the import stands."""
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in modules and module != name}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_module_is_over_400_lines(package):
    long = {name: n for name, path in _modules(package).items()
            if (n := len(path.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_module_says_what_it_holds(package):
    silent = [name for name, path in _modules(package).items()
              if not ast.get_docstring(ast.parse(path.read_text("utf-8")))]
    assert silent == []


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycle(package):
    modules = _modules(package)
    # the package's face importing its own modules is how it is loaded, not a cycle
    graph = {name: {m for m in _imports(name, path, modules) if name != package}
             for name, path in modules.items()}
    cycles: list[list[str]] = []
    state: dict[str, str] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node)
    assert cycles == []
