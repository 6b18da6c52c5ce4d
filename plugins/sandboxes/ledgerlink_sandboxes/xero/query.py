"""Xero's ``where`` filter, as far as a connector uses it.

https://developer.xero.com/documentation/api/accounting/requests-and-responses#retrieving-a-filtered-set-of-records:
``where=Name=="ABC Limited"``, ``ContactNumber=="cus_123" AND EmailAddress=="a@b.test"``,
``Contact.ContactID==Guid("…")``, ``Type=="ACCREC"``, ``AmountDue>=10``, ``IsCustomer==true``,
``Name.Contains("Acme")``, ``Name.StartsWith("A")``, ``Name.EndsWith("d")``, ``Name.ToLower()=="abc"``,
``Date>=DateTime(2026,11,01)`` (a date field, ``/Date(ms+0000)/``, compared by its day),
grouped with parentheses and joined by ``AND``/``&&``/``OR``/``||``.
A string is in double quotes, a ``"`` or ``\\`` inside escaped with a backslash. Comparing
strings with ``==`` ignores case, as Xero does. Anything else is Xero's 400
``QueryParseException`` (:class:`QueryError`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

TOKEN = re.compile(r'''\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>==|!=|>=|<=|>|<|&&|\|\||[().,])
                      |(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>-?\d+(?:\.\d+)?))''', re.VERBOSE)


class QueryError(ValueError):
    """A ``where`` Xero cannot parse; its message is Xero's."""


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None:
            raise QueryError(f"Operator '{text[position:].strip()[:1]}' incompatible with operand types")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _field(entity: dict[str, Any], path: list[str]) -> Any:
    value: Any = entity
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def _day(value: Any) -> datetime.date | None:
    """The day of a date field as Xero stores it (``/Date(ms+0000)/`` or ISO 8601)."""
    if not isinstance(value, str):
        return None
    found = _MS_DATE.match(value)
    if found:
        return datetime.datetime.fromtimestamp(int(found.group(1)) / 1000, datetime.timezone.utc).date()
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _compare(left: Any, op: str, right: Any) -> bool:
    if isinstance(right, datetime.date):
        left = _day(left)
    if isinstance(right, str) and isinstance(left, str):
        left, right = left.lower(), right.lower()
    elif isinstance(right, Decimal):
        try:
            left = Decimal(str(left))
        except (InvalidOperation, ValueError):
            return False
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if left is None or right is None:
        return False
    try:
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]
    except TypeError:
        return False


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (value and token[1] != value):
            raise QueryError("Syntax error: expected "
                             f"{value or kind or 'more'}" + (f", found '{token[1]}'" if token else ""))
        self.index += 1
        return token

    def expression(self) -> Predicate:
        left = self.term()
        while (token := self.peek()) is not None and token[1].upper() in ("AND", "&&", "OR", "||"):
            self.index += 1
            right = self.term()
            if token[1].upper() in ("AND", "&&"):
                left = (lambda a, b: lambda e: a(e) and b(e))(left, right)
            else:
                left = (lambda a, b: lambda e: a(e) or b(e))(left, right)
        return left

    def term(self) -> Predicate:
        if self.peek() == ("op", "("):
            self.take("op", "(")
            inner = self.expression()
            self.take("op", ")")
            return inner
        path = [self.take("word")[1]]
        while self.peek() == ("op", "."):
            self.take("op", ".")
            name = self.take("word")[1]
            if name in ("Contains", "StartsWith", "EndsWith"):
                self.take("op", "(")
                needle = _unquote(self.take("string")[1]).lower()
                self.take("op", ")")
                test = {"Contains": str.__contains__, "StartsWith": str.startswith,
                        "EndsWith": str.endswith}[name]
                return lambda e, p=list(path): isinstance(_field(e, p), str) and test(_field(e, p).lower(), needle)
            if name in ("ToLower", "ToUpper"):
                self.take("op", "(")
                self.take("op", ")")
                continue  # case is ignored in every string comparison
            path.append(name)
        op = self.take("op")[1]
        if op not in ("==", "!=", ">", "<", ">=", "<="):
            raise QueryError(f"Syntax error: unexpected '{op}'")
        value = self.value()
        return lambda e: _compare(_field(e, path), op, value)

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return _unquote(text)
        if kind == "number":
            return Decimal(text)
        if kind == "word" and text in ("true", "false"):
            return text == "true"
        if kind == "word" and text == "null":
            return None
        if kind == "word" and text == "DateTime":
            self.take("op", "(")
            parts = [self.take("number")[1]]
            while self.peek() == ("op", ","):
                self.take("op", ",")
                parts.append(self.take("number")[1])
            self.take("op", ")")
            try:
                return datetime.date(*(int(part) for part in parts[:3]))
            except (TypeError, ValueError):
                raise QueryError(f"DateTime({', '.join(parts)}) is not a date") from None
        if kind == "word" and text == "Guid":
            self.take("op", "(")
            guid = _unquote(self.take("string")[1]).lower()
            self.take("op", ")")
            return guid
        raise QueryError(f"No property or field '{text}' exists")


def where(text: str) -> Predicate:
    """The predicate ``where=text`` means (``QueryError`` when Xero could not parse it)."""
    parser = _Parser(_tokens(text))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise QueryError(f"Syntax error: unexpected '{parser.peek()[1]}'")  # type: ignore[index]
    return predicate


__all__ = ["QueryError", "where"]
