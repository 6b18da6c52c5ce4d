"""The host's own transforms, registered as the plugin ``core``.

A recipe applies one with ``"$as": "<name>"`` beside an expression; the other keys of the
expression object are the transform's parameters (expressions themselves). Every
transform is a pure function of its value and parameters and raises
:class:`ledgerlink.errors.TransformError` with a message saying what it received and
what it expects. Money never passes through ``float``.

``money`` is :func:`ledgerlink.contract.money.minor_to_major` by the currency's ISO 4217
exponent (:func:`ledgerlink.contract.money.currency_exponent`). A source system whose amounts
follow other rules registers its own money transform on top of the same functions.
"""

from __future__ import annotations

import datetime as dt
from decimal import (ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_EVEN,
                     ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation)
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledgerlink import hookimpl
from ledgerlink.contract import Transform
from ledgerlink.contract.money import currency_exponent, minor_to_major
from ledgerlink.errors import TransformError, quoted

ROUNDING = {
    "half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "half_down": ROUND_HALF_DOWN,
    "up": ROUND_UP, "down": ROUND_DOWN, "ceiling": ROUND_CEILING, "floor": ROUND_FLOOR,
}
_CURRENCY = {"type": "string", "pattern": "^[A-Za-z]{3}$",
             "description": "ISO 4217 code, upper or lower case"}
_TIMEZONE = {"type": "string", "description": "IANA time zone, e.g. Europe/Paris; defaults to the recipe's timezone"}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return f"{type(value).__name__} {quoted(value)}"


def to_integer(value: Any) -> int:
    """An exact integer from an int, an integral Decimal or a string of digits."""
    if isinstance(value, bool) or value is None:
        raise TransformError(f"expected an integer, got {_describe(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise TransformError(f"expected an integer, got the float {quoted(value)}; floats are never used for money")
    dec = to_decimal(value)
    if dec != dec.to_integral_value():
        raise TransformError(f"expected an integer, got {quoted(value)}, which has a fraction")
    return int(dec)


def to_decimal(value: Any) -> Decimal:
    """An exact Decimal from an int, a Decimal or a numeric string (never from a float)."""
    if isinstance(value, bool) or value is None:
        raise TransformError(f"expected a number, got {_describe(value)}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise TransformError(f"expected a number, got the string {quoted(value)}") from None
    else:
        raise TransformError(f"expected a number, got {_describe(value)}")
    if not result.is_finite():
        raise TransformError(f"expected a finite number, got {quoted(value)}")
    return result


def _money(value: Any, params: Mapping[str, Any]) -> Decimal:
    places = params.get("exponent")
    if places is None:
        places = currency_exponent(params.get("currency"), transform="money")
    return minor_to_major(value, places, transform="money")


def _zone(params: Mapping[str, Any]) -> dt.tzinfo:
    name = params.get("timezone") or "UTC"
    if not isinstance(name, str):
        raise TransformError(f"timezone must be an IANA name such as Europe/Paris, got {_describe(name)}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TransformError(f"unknown time zone {quoted(name)}; use an IANA name such as Europe/Paris") from None


def _to_datetime(value: Any, params: Mapping[str, Any]) -> dt.datetime:
    zone = _zone(params)
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        seconds = to_decimal(value)
        try:
            return dt.datetime.fromtimestamp(int(seconds), tz=dt.timezone.utc).astimezone(zone)
        except (OverflowError, OSError, ValueError):
            raise TransformError(f"Unix time {quoted(value)} is out of range") from None
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise TransformError(f"expected a Unix time or an ISO 8601 date/time, got the string {quoted(value)}") from None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=zone)
        return parsed.astimezone(zone)
    raise TransformError(f"expected a Unix time or an ISO 8601 date/time, got {_describe(value)}")


def _date(value: Any, params: Mapping[str, Any]) -> str:
    return _to_datetime(value, params).date().isoformat()


def _datetime(value: Any, params: Mapping[str, Any]) -> str:
    return _to_datetime(value, params).isoformat()


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TransformError(f"{name} needs a string, got {_describe(value)}; apply \"string\" first")
    return value


def _string(value: Any, params: Mapping[str, Any]) -> str:
    if value is None:
        raise TransformError("cannot make a string of null; add \"$default\" to the expression")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TransformError(f"cannot make a string of a {type(value).__name__}; pick one field with a path")
    return str(value)


def _round(value: Any, params: Mapping[str, Any]) -> Decimal:
    places = params.get("places")
    if places is None:
        if params.get("currency") is None:
            raise TransformError("round needs \"places\" or \"currency\" to know the precision")
        places = currency_exponent(params["currency"], transform="round")
    mode = ROUNDING[params["rounding"]]
    return to_decimal(value).quantize(Decimal(1).scaleb(-int(places)), rounding=mode)


def _abs(value: Any) -> int | Decimal:
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value)
    return abs(to_decimal(value))


def _obj(properties: dict[str, Any], required: list[str] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


CORE = (
    Transform("money", "Minor units (integer) to a Decimal amount by the currency's ISO 4217 exponent.",
              _money, _obj({"currency": _CURRENCY,
                            "exponent": {"type": "integer", "minimum": 0, "maximum": 4,
                                         "description": "overrides the ISO 4217 exponent"}},
                           ["currency"])),
    Transform("date", "Unix time or ISO 8601 date/time to a YYYY-MM-DD date in the recipe's time zone.",
              _date, _obj({"timezone": _TIMEZONE}), recipe_defaults=("timezone",)),
    Transform("datetime", "Unix time or ISO 8601 date/time to an ISO 8601 date-time with offset in the recipe's time zone.",
              _datetime, _obj({"timezone": _TIMEZONE}), recipe_defaults=("timezone",)),
    Transform("upper", "Upper-cases a string.", lambda v, p: _text(v, "upper").upper(), _obj({})),
    Transform("lower", "Lower-cases a string.", lambda v, p: _text(v, "lower").lower(), _obj({})),
    Transform("string", "Writes a number or boolean as a string; a string stays as it is.", _string, _obj({})),
    Transform("integer", "An exact integer from an integer, an integral decimal or a string of digits.",
              lambda v, p: to_integer(v), _obj({})),
    Transform("decimal", "An exact Decimal from an integer, a decimal or a numeric string.",
              lambda v, p: to_decimal(v), _obj({})),
    Transform("abs", "The magnitude of an exact number (an integer stays an integer): a ledger line's "
              "positive amount, its side chosen apart, e.g. by \"$if\" on the sign.",
              lambda v, p: _abs(v), _obj({})),
    Transform("round", "Rounds a number to a target's precision with an explicit rounding mode.",
              _round, _obj({"places": {"type": "integer", "minimum": 0, "maximum": 8,
                                       "description": "digits after the point"},
                            "currency": {**_CURRENCY, "description": "round to this currency's ISO 4217 exponent"},
                            "rounding": {"enum": sorted(ROUNDING), "description": "rounding mode; no default, say which"}},
                           ["rounding"])),
)


@hookimpl
def ledgerlink_register_transforms(register):
    for transform in CORE:
        register(transform)
