"""Stripe amounts: how many decimal places each currency has *in Stripe's API*.

Stripe sends every amount as an integer in the currency's minor unit, but its idea of
the minor unit is its own, not ISO 4217's. The tables below follow Stripe's currencies
page, https://docs.stripe.com/currencies ("Minor units in API amounts"; sections
"Zero-decimal currencies", "Three-decimal currencies" and "Special cases"), and
https://support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-refunds:

- zero-decimal: BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF
  (``1000`` JPY is ¥1000);
- three-decimal: BHD JOD KWD OMR TND (``5120`` KWD is 5.120 KWD; Stripe makes the last
  digit 0 when it charges);
- every other currency is two-decimal (``1000`` USD is $10.00). That includes:

  - ISK, two-decimal in the API although ISO 4217 gives it 0 digits: ``100`` is 1 ISK and
    Stripe refuses charges that are not multiples of 100;
  - HUF and TWD, two-decimal for charges (only payouts must be whole units).

Where Stripe and ISO 4217 agree on zero digits (UGX) or disagree (MGA: ISO 2, Stripe 0;
ISK: ISO 0, Stripe 2), these tables win: they describe the integers Stripe sends.
Stripe also refuses some amounts (fractional ISK, three-decimal amounts not ending in 0)
when *charging*; an amount that arrives in an event is converted as it is.

Which codes exist is taken from CLDR through babel (the host's own currency data), so a
typo such as ``"usx"`` is refused instead of being read as a two-decimal currency.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Mapping

import functools

import babel.numbers

from ledgerlink.errors import TransformError

#: currencies whose Stripe amounts are whole units
ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
#: currencies whose Stripe amounts are thousandths
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())

_CODE = re.compile(r"^[A-Za-z]{3}$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")

#: the JSON Schema of the transform's parameters
PARAMS_SCHEMA = {
    "type": "object",
    "properties": {
        "currency": {
            "type": "string",
            "pattern": "^[A-Za-z]{3}$",
            "description": "The amount's 3-letter currency code as Stripe sends it (lower case, "
                           "e.g. \"usd\"); upper case is accepted too. Usually the currency field "
                           "of the same Stripe object.",
        },
    },
    "required": ["currency"],
    "additionalProperties": False,
}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return f"{type(value).__name__} {value!r}"


@functools.lru_cache(maxsize=512)
def _is_currency(code: str) -> bool:
    return babel.numbers.is_currency(code)


def exponent(currency: Any) -> int:
    """The number of decimal places of ``currency`` in Stripe amounts (0, 2 or 3).

    ``currency`` is a 3-letter code in either case. Raises
    :class:`~ledgerlink.errors.TransformError` for anything that is not a known currency code.
    """
    if currency is None:
        raise TransformError("stripe.money needs a currency parameter: the 3-letter code Stripe "
                             "sends beside the amount, e.g. \"usd\"")
    if not isinstance(currency, str) or not _CODE.fullmatch(currency):
        raise TransformError(f"stripe.money: currency must be a 3-letter code such as \"usd\", "
                             f"got {_describe(currency)}")
    code = currency.upper()
    if not _is_currency(code):
        raise TransformError(f"stripe.money: unknown currency {currency!r}; expected a currency "
                             f"code Stripe uses, such as \"usd\", \"eur\" or \"jpy\"")
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def minor_units(value: Any) -> int:
    """``value`` as an exact integer number of minor units.

    Accepts an ``int``, an integral ``Decimal`` or a string of digits with an optional sign.
    Refuses booleans, floats, ``None``, fractions and anything else with a
    :class:`~ledgerlink.errors.TransformError` saying what it got.
    """
    expected = "expected an integer amount in minor units (Stripe sends 1050 for 10.50 USD)"
    if isinstance(value, bool) or value is None:
        raise TransformError(f"stripe.money {expected}, got {_describe(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise TransformError(f"stripe.money {expected}, got the float {value!r}; floats are "
                             f"never used for money")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TransformError(f"stripe.money {expected}, got {value}")
        if value != value.to_integral_value():
            raise TransformError(f"stripe.money {expected}, got {value}, which has a fraction; "
                                 f"Stripe amounts are already in minor units")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        raise TransformError(f"stripe.money {expected}, got {_describe(value)}, which is not "
                             f"a whole number")
    raise TransformError(f"stripe.money {expected}, got {_describe(value)}")


def to_major(amount: Any, currency: Any) -> Decimal:
    """A Stripe amount in minor units as an exact ``Decimal`` in major units.

    The result has exactly as many decimal places as the currency has in Stripe:
    ``to_major(1000, "usd") == Decimal("10.00")``, ``to_major(1000, "jpy") ==
    Decimal("1000")``, ``to_major(5120, "kwd") == Decimal("5.120")``,
    ``to_major(100, "isk") == Decimal("1.00")``. Never passes through ``float``.
    """
    places = exponent(currency)
    minor = minor_units(amount)
    digits = tuple(int(d) for d in str(abs(minor)))
    return Decimal((1 if minor < 0 else 0, digits, -places))


def apply(value: Any, params: Mapping[str, Any]) -> Decimal:
    """The ``stripe.money`` transform: ``value`` in minor units of ``params["currency"]``."""
    if not isinstance(params, Mapping):
        raise TransformError(f"stripe.money: parameters must be an object with a currency, "
                             f"got {_describe(params)}")
    unknown = sorted(set(params) - {"currency"})
    if unknown:
        raise TransformError(f"stripe.money takes only the parameter 'currency', "
                             f"not {', '.join(repr(k) for k in unknown)}")
    return to_major(value, params.get("currency"))


__all__ = ["PARAMS_SCHEMA", "THREE_DECIMAL", "ZERO_DECIMAL", "apply", "exponent",
           "minor_units", "to_major"]
