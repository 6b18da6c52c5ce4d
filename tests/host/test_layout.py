"""The host's layout explains the architecture: rooms by job, small modules, no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import ledgerlink

HOST = Path(ledgerlink.__file__).resolve().parent
#: a module longer than this is doing more than one job
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(HOST.rglob("*.py")):
        rel = path.relative_to(HOST.parent).with_suffix("")
        parts = list(rel.parts)
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The ledgerlink modules ``name`` imports, wherever the import stands (an import inside a
    function only hides a cycle), except under ``if TYPE_CHECKING:``."""
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
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m in modules and m != name}


def test_no_module_is_over_400_lines():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_cycle():
    modules = _modules()
    graph = {name: _imports(path, name, modules) for name, path in modules.items()}
    # a package's face importing its own modules is how a package is loaded, not a cycle
    for name in graph:
        graph[name] = {m for m in graph[name] if not (m.startswith(name + ".") and modules[name].name == "__init__.py")}
    cycles, state, stack = [], {}, []

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

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert cycles == []


def test_every_room_says_what_it_is_for():
    """Each subpackage's face opens with a docstring: the folder names and these lines are
    how a newcomer finds the room for a change."""
    missing = [path.parent.name for path in sorted(HOST.glob("*/__init__.py"))
               if path.parent.name not in ("migrations", "versions")
               and not ast.get_docstring(ast.parse(path.read_text("utf-8")))]
    assert missing == []
