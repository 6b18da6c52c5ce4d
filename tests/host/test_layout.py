"""The host's layout explains the architecture: rooms by job, small documented modules, no
import cycle (checked by the kit's :mod:`ledgerlink.testing.layout`, as connectors check theirs)."""

from __future__ import annotations

import ast

from ledgerlink.testing.layout import import_cycles, long_modules, modules, silent_modules


def test_no_module_is_over_400_lines():
    assert long_modules("ledgerlink") == {}


def test_no_import_cycle():
    assert import_cycles("ledgerlink") == []


def test_every_module_says_what_it_holds():
    assert silent_modules("ledgerlink") == []


def test_every_room_says_what_it_is_for():
    """Each subpackage's face opens with a docstring: the folder names and these lines are
    how a newcomer finds the room for a change."""
    rooms = {name for name, path in modules("ledgerlink").items()
             if path.name == "__init__.py" and name.count(".") == 1}
    assert len(rooms) >= 8
    assert [room for room in sorted(rooms)
            if not ast.get_docstring(ast.parse(modules("ledgerlink")[room].read_text("utf-8")))] == []
