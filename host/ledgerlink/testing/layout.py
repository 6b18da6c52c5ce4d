"""A package's layout, checked: modules of one job each (short, documented), no import cycle.

The host's tests run it on ``ledgerlink``, a connector's on its own package and its
sandbox's; a third-party connector may do the same::

    from ledgerlink.testing.layout import import_cycles, long_modules, silent_modules

    def test_layout():
        assert long_modules("ledgerlink_acme") == {}
        assert silent_modules("ledgerlink_acme") == []
        assert import_cycles("ledgerlink_acme") == []
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

#: a module longer than this is doing more than one job
MAX_LINES = 400


def modules(package: str, skip: tuple[str, ...] = ("migrations",)) -> dict[str, Path]:
    """Every module of the importable ``package`` and its subpackages, by dotted name
    (a folder named in ``skip`` is left out: Alembic's revisions are not modules by job)."""
    root = Path(importlib.import_module(package).__file__).resolve().parent
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if any(part in skip for part in parts):
            continue
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([package, *parts])] = path
    return found


def long_modules(package: str, limit: int = MAX_LINES) -> dict[str, int]:
    """The modules of ``package`` longer than ``limit`` lines, with their length."""
    return {name: count for name, path in modules(package).items()
            if (count := len(path.read_text("utf-8").splitlines())) > limit}


def silent_modules(package: str) -> list[str]:
    """The modules of ``package`` without a docstring saying what they hold."""
    return [name for name, path in modules(package).items()
            if not ast.get_docstring(ast.parse(path.read_text("utf-8")))]


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules among ``known`` that ``name`` imports, wherever the import stands (one
    inside a function only hides a cycle), except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text("utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    typing_only = {id(n) for node in ast.walk(tree)
                   if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                   for child in node.body for n in ast.walk(child)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module in known and module != name}


def import_cycles(package: str) -> list[list[str]]:
    """Each import cycle among the modules of ``package``, as the path that closes it. A
    package's face importing its own modules is how the package loads, not a cycle."""
    known = modules(package)
    graph = {name: {m for m in _imports(name, path, known)
                    if not (path.name == "__init__.py" and m.startswith(name + "."))}
             for name, path in known.items()}
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
    return cycles


__all__ = ["MAX_LINES", "import_cycles", "long_modules", "modules", "silent_modules"]
