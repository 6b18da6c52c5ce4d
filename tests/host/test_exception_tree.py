"""One exception tree: every public exception of ledgerlink is drawn in ``errors.py``'s docstring.

The drawing is checked against the classes: each name in it is a class of
:mod:`ledgerlink.errors` whose parent is the one drawn above it, and every public exception
class defined in any ledgerlink module is in the drawing, or named in the docstring as kept
outside the tree on purpose.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import ledgerlink
from ledgerlink import errors

#: modules that run something when imported: the CLI entry point, the migration environment
NOT_IMPORTED = ("ledgerlink.__main__", "ledgerlink.store.migrations")
#: public exceptions that are not LedgerlinkErrors; each is named in the docstring with its reason
OUTSIDE_THE_TREE = {"ledgerlink.jsonio.JSONDecodeError", "ledgerlink.engine.retry.Retry",
                    "ledgerlink.engine.retry.Fail", "ledgerlink.engine.retry.LeaseLost",
                    "ledgerlink.engine.retry.Skipped", "ledgerlink.engine.review_steps.ShownAgain",
                    "ledgerlink.io.http_pool.NotSent", "ledgerlink.io.http_pool.AnswerLost",
                    "ledgerlink.io.http_wire.Broken"}
#: one line of the drawing: the branches, then a class name at four columns a level
_NODE = re.compile(r"(?P<branches>[ │├└─]*)(?P<name>[A-Z]\w+)\s")


def drawn_tree() -> dict[str, str | None]:
    """``{class name: parent name}`` as ``errors.py``'s docstring draws it (root: None)."""
    doc = errors.__doc__ or ""
    block = doc.split("The tree::", 1)[1].split("\n\n", 2)[1]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []  # (depth, name) of the open branches
    for line in block.splitlines():
        match = _NODE.match(line[4:])  # the block is indented by four spaces
        assert match, f"not a line of the tree: {line!r}"
        depth = len(match["branches"]) // 4
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((depth, match["name"]))
    return parents


def public_exceptions() -> dict[str, type[BaseException]]:
    """Every public exception class defined in a ledgerlink module, by dotted name."""
    found = {}
    for module_info in pkgutil.walk_packages(ledgerlink.__path__, "ledgerlink."):
        if module_info.name.startswith(NOT_IMPORTED):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, BaseException)
                    and value.__module__ == module.__name__ and not name.startswith("_")):
                found[f"{module.__name__}.{name}"] = value
    return found


def test_the_drawn_tree_is_the_class_tree():
    tree = drawn_tree()
    assert tree["LedgerlinkError"] is None and len(tree) > 10
    for name, parent in tree.items():
        cls = getattr(errors, name)
        assert issubclass(cls, BaseException), name
        expected = getattr(errors, parent) if parent else Exception
        assert cls.__bases__ == (expected,), f"{name} is drawn under {parent}"


def test_every_public_exception_is_in_the_tree():
    tree = drawn_tree()
    doc = " ".join((errors.__doc__ or "").split())
    for dotted, cls in public_exceptions().items():
        if dotted in OUTSIDE_THE_TREE:
            assert f":class:`{dotted}`" in doc, f"say in errors.py why {dotted} is outside the tree"
            continue
        assert dotted.startswith("ledgerlink.errors."), f"{dotted}: define it in ledgerlink.errors"
        assert issubclass(cls, errors.LedgerlinkError), dotted
        assert cls.__name__ in tree, f"{dotted}: draw it in errors.py's tree"
    assert set(OUTSIDE_THE_TREE) <= set(public_exceptions())
