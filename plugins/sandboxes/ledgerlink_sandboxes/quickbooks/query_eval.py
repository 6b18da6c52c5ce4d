"""Answering a parsed query (:class:`.query.Query`) over a company's stored entities.

Fields are read case-insensitively along their dotted path; a reference such as
``CustomerRef`` compares by its ``value``. Comparison: numbers numerically (Decimal),
booleans as booleans, ISO dates and date-times as instants (a date is midnight UTC; a time
without offset is UTC), other text exactly (``=``) or case-insensitively (``LIKE``). A field
an entity lacks matches nothing and sorts last. (That a list entity's query without an
``Active`` condition answers active entities only is applied by the caller,
:meth:`.v3.V3Api._query`.) Unknown field names are not reported (QBO reports them; the
sandbox has no list of queryable fields).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .query import Condition, Query

_MISSING = object()


def lookup(entity: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` (keys matched case-insensitively), or ``_MISSING``."""
    value: Any = entity
    for key in path:
        if not isinstance(value, Mapping):
            return _MISSING
        if key in value:
            value = value[key]
            continue
        lower = key.lower()
        found = next((k for k in value if isinstance(k, str) and k.lower() == lower), None)
        if found is None:
            return _MISSING
        value = value[found]
    if isinstance(value, Mapping) and "value" in value:  # a reference: compare by its id
        value = value["value"]
    return value


def _instant(text: str) -> dt.datetime | None:
    text = text.strip()
    if not re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _compare(actual: Any, literal: Any) -> int | None:
    """-1, 0 or 1 comparing an entity's value with a query literal; None if incomparable."""
    if actual is _MISSING or actual is None or isinstance(actual, (list, Mapping)):
        return None
    if isinstance(actual, bool) or isinstance(literal, bool):
        a = actual if isinstance(actual, bool) else {"true": True, "false": False}.get(str(actual).lower())
        b = literal if isinstance(literal, bool) else {"true": True, "false": False}.get(str(literal).lower())
        if a is None or b is None:
            return None
        return (a > b) - (a < b)
    if isinstance(actual, (int, Decimal)) or isinstance(literal, Decimal):
        a, b = _decimal(actual), _decimal(literal)
        if a is not None and b is not None:
            return (a > b) - (a < b)
        if isinstance(actual, (int, Decimal)):
            return None
    a_text, b_text = str(actual), str(literal)
    a_when, b_when = _instant(a_text), _instant(b_text)
    if a_when is not None and b_when is not None:
        return (a_when > b_when) - (a_when < b_when)
    return (a_text > b_text) - (a_text < b_text)


def _like(actual: Any, pattern: str) -> bool:
    if actual is _MISSING or actual is None or isinstance(actual, (list, Mapping)):
        return False
    text = str(actual).lower()  # booleans read "true" / "false"
    regex = ".*".join(re.escape(part) for part in pattern.lower().split("%"))
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


_TESTS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0, "<": lambda c: c < 0, ">": lambda c: c > 0,
    "<=": lambda c: c <= 0, ">=": lambda c: c >= 0,
}


def matches(entity: Mapping[str, Any], condition: Condition) -> bool:
    """True when ``entity`` satisfies ``condition``."""
    actual = lookup(entity, condition.path)
    if condition.op == "LIKE":
        return _like(actual, condition.values[0])
    if condition.op == "IN":
        return any(_compare(actual, v) == 0 for v in condition.values)
    result = _compare(actual, condition.values[0])
    return result is not None and _TESTS[condition.op](result)


def _absent(value: Any) -> bool:
    return value is _MISSING or value is None or isinstance(value, (list, Mapping))


def _sort_key(value: Any) -> tuple:
    """Orders booleans, then numbers, instants and text (absent values are put last apart)."""
    if _absent(value):
        return (5,)
    if isinstance(value, bool):
        return (0, value)
    number = _decimal(value) if isinstance(value, (int, Decimal)) else None
    if number is not None:
        return (1, number)
    if isinstance(value, str):
        number = _decimal(value)
        if number is not None:  # ids are numeric strings: "10" after "9"
            return (1, number)
        when = _instant(value)
        if when is not None:
            return (2, when)
        return (3, value.lower(), value)
    return (4, str(value))


def _project(entity: Mapping[str, Any], paths: list[tuple[str, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in paths:
        source: Any = entity
        target = out
        for depth, key in enumerate(path):
            if not isinstance(source, Mapping):
                break
            real = key if key in source else next(
                (k for k in source if isinstance(k, str) and k.lower() == key.lower()), None)
            if real is None:
                break
            if depth == len(path) - 1:
                target[real] = source[real]
            else:
                source = source[real]
                target = target.setdefault(real, {})
    out.setdefault("domain", "QBO")
    out["sparse"] = True
    return out


def run(query: Query, entities: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``QueryResponse`` object for ``query`` over ``entities`` (already of its entity).

    ``name`` of the entity key is ``query.entity`` as resolved by the caller.
    """
    found = [e for e in entities if all(matches(e, c) for c in query.where)]
    if query.count:
        return {"totalCount": len(found)}
    for path, descending in reversed(query.order):  # stable sorts, least significant first
        found.sort(key=lambda e, p=path: _sort_key(lookup(e, p)), reverse=descending)
        # entities without the field go last either way (a stable partition keeps the order)
        found.sort(key=lambda e, p=path: _absent(lookup(e, p)))
    page = found[query.start - 1:query.start - 1 + query.max_results]
    if not page:
        return {}
    if query.fields is not None:
        page = [_project(e, query.fields) for e in page]
    return {query.entity: page, "startPosition": query.start, "maxResults": len(page)}


__all__ = ["lookup", "matches", "run"]
