"""Intuit's XSD simple types, as :mod:`.xsd` checks JSON leaves against them and as QBO's
JSON reader takes them leniently (:func:`coerce_simple`).

A simple type is reduced once to a :class:`Simple`: its builtin kind (``decimal``,
``integer``, ``date`` …), its enumeration and whether a facet beyond those needs the
XSD library to decide (:func:`simple_type`); :func:`check_simple` then checks a value.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xmlschema

XS = "{http://www.w3.org/2001/XMLSchema}"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTEGER_TYPES = {"integer", "int", "long", "short", "byte", "nonNegativeInteger",
                  "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedLong",
                  "unsignedInt", "unsignedShort", "unsignedByte"}


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "the boolean " + str(value).lower()
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, float):
        return f"the float {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {value!r}"


def type_name(component: Any) -> str:
    """A type's name for messages: ``Line``, ``xs:decimal``, or ``anonymous type``."""
    name = getattr(component, "name", None)
    if not name:
        return "anonymous type"
    return name.replace(XS, "xs:").rsplit("}", 1)[-1]


# --- simple types -------------------------------------------------------------------------

@dataclass(frozen=True)
class Simple:
    """What a JSON leaf of one XSD simple type must be."""

    xsd: Any
    #: "decimal", "integer", "double", "boolean", "date", "dateTime", "string", "union", "list"
    kind: str
    enumeration: tuple[str, ...] | None
    #: False when the checks here already cover every facet, so xmlschema need not run
    validate: bool = True


def _builtin_chain(stype: Any) -> list[str]:
    """Local names of the built-in types this simple type derives from, nearest first."""
    names = []
    current = stype
    seen = 0
    while current is not None and seen < 50:
        name = getattr(current, "name", None)
        if name and name.startswith(XS):
            names.append(name[len(XS):])
        current = getattr(current, "base_type", None)
        seen += 1
    return names


def _enumeration(stype: Any) -> tuple[str, ...] | None:
    current = stype
    while current is not None:
        values = getattr(current, "enumeration", None)
        if values:
            return tuple(str(v) for v in values)
        current = getattr(current, "base_type", None)
    return None


_COVERED_FACETS = {None, XS + "whiteSpace", XS + "enumeration"}


def _needs_xsd(stype: Any, kind: str) -> bool:
    """Whether a value of this type must also pass xmlschema's own facet checks."""
    if kind in ("integer", "double", "dateTime"):
        return True  # ranges and lexical forms that the type check here does not cover
    current = stype
    while current is not None:
        if set(getattr(current, "facets", None) or {}) - _COVERED_FACETS:
            return True  # length, pattern, bounds …
        current = getattr(current, "base_type", None)
    return False


def simple_type(stype: Any) -> Simple:
    if stype.is_union():
        return Simple(stype, "union", None)
    if stype.is_list():
        return Simple(stype, "list", None)
    chain = _builtin_chain(stype)
    kind = "string"
    for name in chain:
        if name in _INTEGER_TYPES:
            kind = "integer"
            break
        if name in ("decimal", "boolean", "date", "dateTime"):
            kind = name
            break
        if name in ("double", "float"):
            kind = "double"
            break
        if name in ("string", "anyURI", "anySimpleType", "anyAtomicType", "time", "duration",
                    "base64Binary", "hexBinary", "QName", "gYear", "gYearMonth", "gMonth",
                    "gMonthDay", "gDay"):
            kind = "string"
            break
    return Simple(stype, kind, _enumeration(stype), _needs_xsd(stype, kind))


def _lexical(value: Any, simple: Simple, where: str, problems: list[str]) -> str | None:
    """The XML text of a JSON leaf, or None after recording why it cannot be one."""
    kind = simple.kind
    typename = type_name(simple.xsd)
    if isinstance(value, (dict, list, tuple)) or value is None:
        problems.append(f"{where}: expected a {typename} value, got {describe(value)}")
        return None
    if kind in ("decimal", "integer", "double"):
        if isinstance(value, bool) or isinstance(value, str):
            problems.append(f"{where}: expected a number ({typename}), got {describe(value)}")
            return None
        if isinstance(value, float) and kind != "double":
            problems.append(f"{where}: {describe(value)} is not allowed for {typename}; send a "
                            f"Decimal or an int so no digit is lost")
            return None
        if kind == "integer" and not isinstance(value, int):
            if not (isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()
                    and value.as_tuple().exponent == 0):
                problems.append(f"{where}: expected an integer ({typename}), got {describe(value)}")
                return None
        if isinstance(value, Decimal):
            if not value.is_finite():
                problems.append(f"{where}: {value} is not a finite number ({typename})")
                return None
            return format(value, "f")
        if isinstance(value, (int, float)):
            return repr(value) if isinstance(value, float) else str(value)
        problems.append(f"{where}: expected a number ({typename}), got {describe(value)}")
        return None
    if kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{where}: expected true or false ({typename}), got {describe(value)}")
            return None
        return "true" if value else "false"
    if not isinstance(value, str):
        problems.append(f"{where}: expected a string ({typename}), got {describe(value)}")
        return None
    if kind == "date":
        if not _DATE.fullmatch(value):
            problems.append(f"{where}: {value!r} is not a date; write YYYY-MM-DD")
            return None
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            problems.append(f"{where}: {value!r} is not a calendar date")
            return None
    return value


def check_simple(value: Any, simple: Simple, where: str, problems: list[str]) -> None:
    if simple.kind == "union":
        members = [simple_type(m) for m in simple.xsd.member_types]
        for member in members:
            trial: list[str] = []
            check_simple(value, member, where, trial)
            if not trial:
                return
        problems.append(f"{where}: {describe(value)} fits none of the member types of "
                        f"{type_name(simple.xsd)}")
        return
    text = _lexical(value, simple, where, problems)
    if text is None:
        return
    if simple.enumeration is not None and text not in simple.enumeration:
        problems.append(f"{where}: {text!r} is not one of {', '.join(simple.enumeration)}")
        return
    if not simple.validate:
        return
    try:
        simple.xsd.validate(text)
    except xmlschema.XMLSchemaValidationError as exc:
        reason = exc.reason or "invalid value"
        if simple.kind == "dateTime":
            reason = "not an ISO 8601 date-time such as 2024-03-15T10:30:00-07:00"
        problems.append(f"{where}: {text!r} is not a valid {type_name(simple.xsd)}: {reason}")
    except (xmlschema.XMLSchemaDecodeError, ValueError, TypeError) as exc:
        problems.append(f"{where}: {text!r} is not a valid {type_name(simple.xsd)}: {exc}")


# --- reading leniently, as QBO does ------------------------------------------------------

#: a JSON number's grammar (RFC 8259 §6), for numbers sent as strings
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
#: simple kinds whose empty string QBO reads as "not given"
_EMPTY_IS_ABSENT = {"decimal", "integer", "double", "boolean", "date", "dateTime"}
#: a leaf :func:`coerce` leaves out
ABSENT = object()


def coerce_simple(value: Any, simple: Simple) -> Any:
    """A JSON leaf as QBO's reader takes it for this simple type (``ABSENT``: not given)."""
    kind = simple.kind
    if kind in ("union", "list"):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text and (kind in _EMPTY_IS_ABSENT or simple.enumeration is not None):
            return ABSENT
        if kind in ("decimal", "integer", "double") and _JSON_NUMBER.fullmatch(text):
            number = Decimal(text)
            if kind != "integer":
                return number
            return int(number) if number == number.to_integral_value() else value
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
        return value
    if kind == "string" and simple.enumeration is None and not isinstance(value, bool) \
            and isinstance(value, (int, Decimal)):
        return str(value) if isinstance(value, int) else format(value, "f")
    return value


__all__ = ["ABSENT", "Simple", "XS", "check_simple", "coerce_simple", "describe", "escape",
           "simple_type", "type_name"]
