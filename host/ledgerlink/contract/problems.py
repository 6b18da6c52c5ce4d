"""Reading an action's input exactly, and telling the integrator everything wrong at once.

An action turns its mapped input into the body of a vendor request. Every problem it finds
is recorded in a :class:`Problems` with the JSON pointer of the offending value, and
:meth:`Problems.raise_if_any` raises them all together as one
:class:`ledgerlink.errors.InputError` (``details["problems"]``: one ``"<pointer>: <message>"``
per problem) *before any request exists* — so a bad input never reaches the vendor, and an
integrator fixes a recipe in one pass instead of one error per run.

A reader takes ``(value, where, …, problems)`` and returns the value it read, or None after
adding a problem; the caller keeps reading the other fields::

    problems = begin("acme.create_invoice", "an invoice", input, ("Date", "Memo", "Lines"))
    body = {}
    if "Date" in input:
        body["Date"] = date(input["Date"], "/Date", problems)
    for index, where, line in line_objects(input.get("Lines"), ("Amount",), ("Amount",),
                                           problems, array_of="lines",
                                           line_is="an object with Amount"):
        ...
    problems.raise_if_any()

Money and currencies have their readers in :mod:`ledgerlink.contract.money`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ledgerlink.errors import InputError

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def show(value: object) -> str:
    """A value as a message names it: ``str '12'``, ``the boolean true``, ``null``."""
    if isinstance(value, bool):
        return "the boolean " + str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"the float {value!r}"
    return f"{type(value).__name__} {value!r}"


class Problems:
    """Collects every input problem of one action so the integrator sees them all at once.

    ``action`` is the action's name and ``what`` what the input is read into (``"a journal
    entry"``); both start the message of the error :meth:`raise_if_any` raises.
    """

    def __init__(self, action: str, what: str) -> None:
        self.action = action
        self.what = what
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        """Record ``message`` about the value at the JSON pointer ``where`` (``""``: the
        input itself); the same problem twice is recorded once."""
        item = f"{where or '/'}: {message}"
        if item not in self.items:
            self.items.append(item)

    def count(self) -> int:
        """How many problems are recorded (compare before and after reading a part)."""
        return len(self.items)

    def raise_if_any(self) -> None:
        """Raise :class:`~ledgerlink.errors.InputError` naming every problem, if there is one."""
        if self.items:
            raise InputError(f"{self.action}: the input cannot become {self.what}: "
                             + "; ".join(self.items), problems=list(self.items))


def unknown_keys(data: Mapping[str, Any], allowed: Iterable[str], where: str, what: str,
                 problems: Problems) -> None:
    """One problem per key of ``data`` not in ``allowed`` (``what``: "input", "line key" …),
    so a misspelt key is refused instead of silently dropped."""
    allowed = tuple(allowed)
    for key in sorted(set(data) - set(allowed), key=str):
        problems.add(f"{where}/{key}", f"unknown {what} {key!r}; {what}s are {', '.join(allowed)}")


def begin(action: str, what: str, data: object, inputs: Iterable[str] | None) -> Problems:
    """The :class:`Problems` of reading ``data`` into ``what``: raised at once when ``data``
    is not an object; each key not among ``inputs`` is one (unless ``inputs`` is None)."""
    problems = Problems(action, what)
    if not isinstance(data, Mapping):
        problems.add("/", f"the input must be an object, got {show(data)}")
        problems.raise_if_any()
    if inputs is not None:
        unknown_keys(data, inputs, "", "input", problems)
    return problems


def line_objects(raw_lines: object, keys: Iterable[str], required: Iterable[str],
                 problems: Problems, *, array_of: str, line_is: str,
                 field: str = "Lines") -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    """``(index, pointer, line)`` for each line of the input's ``field`` that is an object
    with only ``keys`` and every ``required`` key; every other line, and a ``field`` that is
    not a non-empty array, is a problem (``array_of``: "lines"; ``line_is``: "an object with
    …")."""
    if not isinstance(raw_lines, (list, tuple)) or not raw_lines:
        problems.add(f"/{field}", f"must be a non-empty array of {array_of}, got {show(raw_lines)}")
        return
    keys, required = tuple(keys), tuple(required)
    for index, raw in enumerate(raw_lines):
        where = f"/{field}/{index}"
        if not isinstance(raw, Mapping):
            problems.add(where, f"line {index} must be {line_is}, got {show(raw)}")
            continue
        start = problems.count()
        unknown_keys(raw, keys, where, "line key", problems)
        for key in required:
            if key not in raw:
                problems.add(where, f"line {index} lacks {key}")
        if problems.count() == start:
            yield index, where, raw


def text(value: object, where: str, what: str, limit: int, problems: Problems, *,
         keeper: str) -> str | None:
    """A string of at most ``limit`` characters, or None after a problem. ``keeper`` names
    who keeps only that many (the vendor: ``"Acme keeps at most 21"``), so the message says
    why it is refused rather than silently cut."""
    if not isinstance(value, str):
        problems.add(where, f"{what} must be a string, got {show(value)}")
        return None
    if len(value) > limit:
        problems.add(where, f"{what} is {len(value)} characters long; {keeper} keeps at most "
                            f"{limit}, so shorten it")
        return None
    return value


def date(value: object, where: str, problems: Problems) -> str | None:
    """A ``YYYY-MM-DD`` calendar date, or None after a problem."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        problems.add(where, f"must be a date written YYYY-MM-DD, got {show(value)}")
        return None
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        problems.add(where, f"{value!r} is not a calendar date")
        return None
    return value


__all__ = ["Problems", "begin", "date", "line_objects", "show", "text", "unknown_keys"]
