"""A recipe's text as the Recipes page shows it: numbered lines, the lines a problem's JSON
pointer names marked with the problem (its message and its fix) beside them, and a unified
diff's lines each with the class that marks it added, removed or context.

Where a pointer lands is the host's :func:`ledgerlink.recipes.text.pointer_lines`; text that
is not JSON has its problem at the line the JSON reader gave. Marks are classes the
stylesheet colours (no inline style: the console's CSP forbids it), and each line keeps its
``+``/``-`` or its number, so nothing is said by colour alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ledgerlink.errors import Problem
from ledgerlink.recipes.text import pointer_lines

__all__ = ["Line", "Note", "diff_lines", "highlighted", "numbered", "problem_files"]

#: where a problem of text that is not JSON says it is
_AT_LINE = re.compile(r"\bat line (\d+), column \d+")


@dataclass
class Note:
    """A problem as shown beside its lines: where, what, and the fix when the message names one."""

    pointer: str
    message: str
    fix: str | None
    #: False when the text lacks what the pointer names: the lines are those of its nearest part
    exact: bool = True
    found: str = ""


@dataclass
class Line:
    number: int
    text: str
    marked: bool = False
    #: the problems shown after this line (the last line of their range)
    notes: list[Note] = field(default_factory=list)


def split_fix(message: str) -> tuple[str, str | None]:
    """``"unknown trigger 'x'; `ledgerlink connectors` lists the triggers"`` → the message and
    its fix (what follows its last ``"; "``); a message naming no fix keeps it whole."""
    what, sep, fix = message.rpartition("; ")
    return (what, fix) if sep and what and fix else (message, None)


def numbered(text: str) -> list[Line]:
    """``text`` as numbered lines, none marked."""
    return [Line(n, line) for n, line in enumerate(text.splitlines() or [""], 1)]


def _range(text: str, problem: Problem) -> tuple[int, int, bool, str]:
    """The lines (first, last) of ``text`` that ``problem`` names, whether exactly, and how much
    of its pointer was found."""
    if not problem.pointer or problem.pointer == "/":
        found = _AT_LINE.search(problem.message)
        line = int(found.group(1)) if found else 1
        return line, line, True, ""  # the whole recipe, or a syntax error: the line it is about
    try:
        where = pointer_lines(text, problem.pointer)
    except ValueError:
        return 1, 1, False, ""
    return where.first, where.last, where.exact, where.found


def highlighted(text: str, problems: list[Problem]) -> list[Line]:
    """``text`` as numbered lines, each line a problem names marked, and each problem as a
    :class:`Note` after the last line it names."""
    lines = numbered(text)
    for problem in problems:
        first, last, exact, found = _range(text, problem)
        first, last = max(1, min(first, len(lines))), max(1, min(last, len(lines)))
        for line in lines[first - 1:last]:
            line.marked = True
        what, fix = split_fix(problem.message)
        lines[last - 1].notes.append(Note(problem.pointer or "/", what, fix, exact, found))
    return lines


def problem_files(problems: list[Problem], texts: dict[str, str]) -> list[dict[str, Any]]:
    """The problems grouped by file, in their order: each file's name, its lines marked when
    its text is known, and the problems of a file whose text is not (each a :class:`Note`)."""
    files: dict[str, list[Problem]] = {}
    for problem in problems:
        files.setdefault(problem.file, []).append(problem)
    shown = []
    for file, found in files.items():
        text = texts.get(file)
        if text is not None:
            shown.append({"file": file, "lines": highlighted(text, found), "notes": [], "count": len(found)})
        else:
            shown.append({"file": file, "lines": [], "count": len(found),
                          "notes": [Note(p.pointer or "/", *split_fix(p.message)) for p in found]})
    return shown


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """A unified diff's lines, each with its class: ``file``, ``hunk``, ``added``,
    ``removed`` or ``same``."""
    shown = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "added"
        elif line.startswith("-"):
            kind = "removed"
        else:
            kind = "same"
        shown.append((kind, line))
    return shown
