"""JSON in and out without floats: numbers are read as ``Decimal`` and written exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import json

import simplejson


class JSONDecodeError(ValueError):
    """Bad JSON, with the 1-based ``line`` and ``column`` of the problem."""

    def __init__(self, msg: str, line: int, column: int) -> None:
        super().__init__(f"{msg} (line {line}, column {column})")
        self.msg = msg
        self.line = line
        self.column = column


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """Parse JSON; every non-integer number becomes a ``Decimal``; NaN, Infinity and nesting
    deeper than the parser's recursion limit are refused.

    The standard library's C scanner reads; only numbers with a fraction or exponent are
    handed to ``Decimal``.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise JSONDecodeError(exc.msg, exc.lineno, exc.colno) from None
    except ValueError as exc:  # NaN / Infinity
        raise JSONDecodeError(str(exc), 1, 1) from None
    except RecursionError:  # arrays or objects nested deeper than the parser goes
        raise JSONDecodeError("arrays and objects nest too deeply", 1, 1) from None


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Serialise to JSON; ``Decimal`` values are written as exact numbers (``12.50`` stays ``12.50``)."""
    return simplejson.dumps(value, use_decimal=True, indent=indent, sort_keys=sort_keys,
                            ensure_ascii=False, separators=None if indent else (",", ":"),
                            default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


__all__ = ["Decimal", "JSONDecodeError", "dumps", "loads"]
