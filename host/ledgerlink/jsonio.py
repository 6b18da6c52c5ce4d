"""JSON in and out without floats: numbers are read as ``Decimal`` and written exactly.

What is read is also bounded, so that every later step (storing, mapping, validating,
writing it out again) can handle it: objects and arrays nest at most :data:`MAX_DEPTH`
deep, and strings hold Unicode text only — a lone UTF-16 surrogate escape such as
``"\\ud800"`` is refused, as I-JSON requires (RFC 7493 §2.1), since it cannot be encoded
as UTF-8 nor stored in a PostgreSQL ``text`` or ``jsonb`` column.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import json

import msgspec
import orjson
import simplejson

#: how deep objects and arrays may nest in JSON that is read. Ruby's JSON parser stops at
#: 100 too (``max_nesting``); Stripe events and recipes nest about ten deep, and the limit
#: keeps every recursive step after parsing far from Python's recursion limit.
MAX_DEPTH = 100

#: a string, or one bracket: what nesting depth is counted from. The possessive ``*+``
#: never backtracks into a string, and an unterminated string runs to the end of the text
#: (it is bad JSON anyway), so each character is looked at once whatever the text holds
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.S)
#: an escape sequence: a surrogate pair (fine), a lone surrogate (group 1), or any other
_ESCAPE = re.compile(r"\\(?:u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
                     r"|(u[dD][89a-fA-F][0-9a-fA-F]{2})|.)", re.S)
#: a surrogate code point in decoded text (never part of valid UTF-8)
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONDecodeError(ValueError):
    """Bad JSON, with the 1-based ``line`` and ``column`` of the problem."""

    def __init__(self, msg: str, line: int, column: int) -> None:
        super().__init__(f"{msg} (line {line}, column {column})")
        self.msg = msg
        self.line = line
        self.column = column


#: JSON to Python with every number that has a fraction or an exponent a ``Decimal`` of its
#: exact text; integers of any size stay integers (a decoder is safe to share between threads)
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON; every non-integer number becomes a ``Decimal``; NaN and Infinity are refused.

    msgspec reads it (a Stripe event in less than half the standard library's time), handing
    each number with a fraction or exponent to ``Decimal`` as its exact text; when msgspec
    refuses the text, the standard library's C scanner reads it again and words the error
    (or reads what only it accepts: a lone surrogate escape, refused afterwards).

    Raises :class:`JSONDecodeError` (with the line and column) for bad JSON, for objects and
    arrays nested more than ``max_depth`` deep, for a lone surrogate in a string, and for an
    integer of more digits than Python converts; ``UnicodeDecodeError`` for bytes that are
    not UTF-8.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    _check_depth(text, max_depth)
    try:
        return _DECODER.decode(text)
    except (msgspec.DecodeError, UnicodeEncodeError):  # bad JSON, a surrogate: the standard library words it
        pass
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise JSONDecodeError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:  # only when called with a max_depth near the recursion limit
        raise JSONDecodeError("objects and arrays are nested too deeply to be read", 1, 1) from None
    except ValueError as exc:  # NaN / Infinity, or an integer of thousands of digits
        message = str(exc)
        if "integer string conversion" in message:
            message = "an integer has more digits than can be read (at most 4300)"
        raise JSONDecodeError(message, 1, 1) from None
    _check_unicode(text)
    return value


def _position(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of ``text[index]``."""
    line = text.count("\n", 0, index) + 1
    return line, index - text.rfind("\n", 0, index)


def _check_depth(text: str, max_depth: int) -> None:
    """JSONDecodeError where ``text`` first nests deeper than ``max_depth``."""
    if text.count("[") + text.count("{") <= max_depth:
        return  # too few brackets to nest that deep: nothing to count
    depth = 0
    for token in _TOKEN.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > max_depth:
                line, column = _position(text, token.start())
                raise JSONDecodeError(f"objects and arrays are nested more than {max_depth} deep",
                                      line, column)
        elif char in "]}":
            depth -= 1


def _encodable(text: str) -> bool:
    """True when ``text`` holds no surrogate code point (it encodes as UTF-8)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_unicode(text: str) -> None:
    """JSONDecodeError at the first lone surrogate, escaped or not, in parsed JSON ``text``."""
    # a surrogate code point is the one thing UTF-8 cannot encode: the C encoder answers
    # "none" for a webhook's kilobytes in ~1 µs, where the pattern's scan took ~20 µs
    raw = None if _encodable(text) else _SURROGATE.search(text)
    if raw is not None:
        line, column = _position(text, raw.start())
        raise JSONDecodeError(f"the text holds the surrogate code point U+{ord(raw.group()):04X}, "
                              f"which is not a Unicode character", line, column)
    if "\\u" not in text:
        return
    for escape in _ESCAPE.finditer(text):
        if escape.group(1):
            line, column = _position(text, escape.start())
            raise JSONDecodeError(f"a string holds \\{escape.group(1)}, a lone UTF-16 surrogate: it "
                                  f"is not a Unicode character, so it cannot be stored or sent "
                                  f"as UTF-8 (RFC 7493 §2.1)", line, column)


#: what orjson writes itself stays as simplejson wrote it; what it would write its own way
#: (a dataclass, a date or time, a subclass of str, int, dict or list) comes to
#: :func:`_fragment` instead
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Serialise to JSON; ``Decimal`` values are written as exact numbers (``12.50`` stays ``12.50``).

    Compact JSON is written by orjson (a tenth of simplejson's CPU for a step's log record);
    indented JSON, and what orjson refuses (a key that is not a string, an integer beyond 64
    bits, a lone surrogate), by simplejson, with the same text or the same error."""
    if indent is None:
        quick = _orjson(value, sort_keys)
        if quick is not None:
            return quick.decode()
    return _simplejson(value, indent, sort_keys)


def dumpb(value: Any) -> bytes:
    """:func:`dumps` as UTF-8 bytes, compact (what goes on the wire or into a file)."""
    quick = _orjson(value, False)
    return quick if quick is not None else _simplejson(value, None, False).encode("utf-8")


def _orjson(value: Any, sort_keys: bool) -> bytes | None:
    """Compact JSON by orjson; None for what it refuses (simplejson writes it or says why)."""
    try:
        return orjson.dumps(value, default=_fragment,
                            option=_ORJSON_OPTIONS | orjson.OPT_SORT_KEYS if sort_keys else _ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return None


def _simplejson(value: Any, indent: int | None, sort_keys: bool) -> str:
    return simplejson.dumps(value, use_decimal=True, indent=indent, sort_keys=sort_keys,
                            ensure_ascii=False, separators=None if indent else (",", ":"),
                            default=_default)


def _fragment(value: Any) -> Any:
    """What orjson hands back: a ``Decimal`` as its exact digits, and what simplejson writes
    of a subclass of a JSON type (a str, int or float subclass as its plain value)."""
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return orjson.Fragment(int.__repr__(value))
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return _default(value)


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


__all__ = ["MAX_DEPTH", "Decimal", "JSONDecodeError", "dumpb", "dumps", "loads"]
