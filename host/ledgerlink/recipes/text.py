"""A recipe as text a person reads: two stored versions compared line by line, and where in
a recipe's text a JSON pointer lands, so a page can highlight the lines a validation
problem names.

:func:`version_diff` is a unified diff (:mod:`difflib`) of the two versions pretty-printed
the same way (:func:`pretty`), so a diff shows what changed, not how the files were spaced.
:func:`pointer_lines` reads the text as written, with its own positions: a small JSON
scanner records where each value (and each member's key) starts and ends, and the pointer's
tokens are unescaped as RFC 6901 says (``~1`` is ``/``, ``~0`` is ``~``).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from ledgerlink import jsonio

__all__ = ["LineRange", "pointer_lines", "pretty", "version_diff"]

_WHITESPACE = " \t\n\r"


def pretty(body: str) -> str:
    """``body`` (a recipe's JSON) with two-space indents and its keys in their order, exact
    numbers kept, and a final newline."""
    return jsonio.dumps(jsonio.loads(body), indent=2) + "\n"


def version_diff(recipe_id: str, old: tuple[int, str], new: tuple[int, str], context: int = 3) -> str:
    """The unified diff from ``old`` to ``new``, each ``(version, body)``; empty when the
    two pretty-print alike."""
    (a, old_body), (b, new_body) = old, new
    return "".join(difflib.unified_diff(pretty(old_body).splitlines(keepends=True),
                                        pretty(new_body).splitlines(keepends=True),
                                        f"{recipe_id} version {a}", f"{recipe_id} version {b}", n=context))


@dataclass(frozen=True)
class LineRange:
    """Lines ``first`` to ``last`` (1-based, inclusive) of a text. ``exact`` is False when
    the pointer names something the text lacks (a missing property) and the range is that
    of the nearest thing it holds on the way (the object that lacks it)."""

    first: int
    last: int
    exact: bool = True
    #: how much of the pointer was found, as a pointer
    found: str = ""


def _tokens(pointer: str) -> list[str]:
    if pointer in ("", "#"):
        return []
    if pointer.startswith("#"):
        pointer = pointer[1:]
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/', not {pointer[:20]!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class _Scanner:
    """Finds the span (start, end offsets) of the value at a path of tokens, reading no more
    than it must."""

    def __init__(self, text: str) -> None:
        self.text = text

    def skip(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in _WHITESPACE:
            i += 1
        return i

    def string_end(self, i: int) -> int:
        """The offset after the string starting at ``i`` (its opening quote)."""
        i += 1
        while i < len(self.text):
            c = self.text[i]
            if c == "\\":
                i += 2
                continue
            if c == '"':
                return i + 1
            i += 1
        raise ValueError("a string is not closed")

    def value_end(self, i: int) -> int:
        """The offset after the value starting at ``i``."""
        c = self.text[i] if i < len(self.text) else ""
        if c == '"':
            return self.string_end(i)
        if c in "{[":
            return self.members(i)[1]
        j = i
        while j < len(self.text) and self.text[j] not in ",]}" + _WHITESPACE:
            j += 1
        if j == i:
            raise ValueError(f"no value at offset {i}")
        return j

    def members(self, i: int) -> tuple[list[tuple[str, int, int, int]], int]:
        """The members of the object or array at ``i``, each (key or index, where the member
        starts (its key), where its value starts, where it ends), and the offset after its
        closing bracket."""
        closing = "}" if self.text[i] == "{" else "]"
        i = self.skip(i + 1)
        found = []
        while i < len(self.text) and self.text[i] != closing:
            start = i
            if closing == "}":
                key_end = self.string_end(i)
                key = json.loads(self.text[i:key_end])
                i = self.skip(key_end)
                if self.text[i:i + 1] != ":":
                    raise ValueError(f"':' expected at offset {i}")
                i = self.skip(i + 1)
            else:
                key = str(len(found))
            end = self.value_end(i)
            found.append((key, start, i, end))
            i = self.skip(end)
            if self.text[i:i + 1] == ",":
                i = self.skip(i + 1)
        return found, i + 1


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def pointer_lines(text: str, pointer: str) -> LineRange:
    """The lines of ``text`` (a JSON document as written) holding what ``pointer`` names: a
    member's key through the end of its value (with a repeated key, the last, as a JSON
    reader keeps it). Raises ``ValueError`` when ``text`` is not JSON or ``pointer`` is not
    a JSON pointer."""
    tokens = _tokens(pointer)
    jsonio.loads(text)  # not JSON: say so (with its position) before scanning
    scanner = _Scanner(text)
    value_start = first = scanner.skip(0)
    value_end = scanner.value_end(value_start)
    found = ""
    for token in tokens:
        match = None
        if text[value_start] in "{[":
            for key, member_start, member_value, member_end in scanner.members(value_start)[0]:
                if key == token:
                    match = (member_start, member_value, member_end)
        if match is None:
            return LineRange(_line(text, first), _line(text, value_end - 1), False, found)
        first, value_start, value_end = match
        found += "/" + _escape(token)
    return LineRange(_line(text, first), _line(text, value_end - 1), True, found)
