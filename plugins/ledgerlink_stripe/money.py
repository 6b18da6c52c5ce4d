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

Which codes exist, and the exact conversion, are the host's (:mod:`ledgerlink.contract.money`:
ISO 4217 codes from CLDR through babel), so a typo such as ``"usx"`` is refused instead of
being read as a two-decimal currency; only the number of decimals is Stripe's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from ledgerlink.contract import currency_code, minor_to_major, show
from ledgerlink.errors import TransformError

#: currencies whose Stripe amounts are whole units
ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
#: currencies whose Stripe amounts are thousandths
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())

#: the transform's name, which starts its messages
NAME = "stripe.money"
#: what Stripe sends, for a message about a value that is not minor units
EXAMPLE = "Stripe sends 1050 for 10.50 USD"

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


def exponent(currency: Any) -> int:
    """The number of decimal places of ``currency`` in Stripe amounts (0, 2 or 3).

    ``currency`` is a 3-letter code in either case; it must be an ISO 4217 code
    (:func:`ledgerlink.contract.currency_code`), then Stripe's tables decide. Raises
    :class:`~ledgerlink.errors.TransformError` for anything that is not a known currency code.
    """
    if currency is None:
        raise TransformError(f"{NAME} needs a currency parameter: the 3-letter code Stripe "
                             f"sends beside the amount, e.g. \"usd\"")
    code = currency_code(currency, transform=NAME)
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_major(amount: Any, currency: Any) -> Decimal:
    """A Stripe amount in minor units as an exact ``Decimal`` in major units.

    The result has exactly as many decimal places as the currency has in Stripe:
    ``to_major(1000, "usd") == Decimal("10.00")``, ``to_major(1000, "jpy") ==
    Decimal("1000")``, ``to_major(5120, "kwd") == Decimal("5.120")``,
    ``to_major(100, "isk") == Decimal("1.00")``. Never passes through ``float``
    (:func:`ledgerlink.contract.minor_to_major` with Stripe's exponent).
    """
    return minor_to_major(amount, exponent(currency), transform=NAME, example=EXAMPLE)


def apply(value: Any, params: Mapping[str, Any]) -> Decimal:
    """The ``stripe.money`` transform: ``value`` in minor units of ``params["currency"]``."""
    if not isinstance(params, Mapping):
        raise TransformError(f"{NAME}: parameters must be an object with a currency, "
                             f"got {show(params)}")
    unknown = sorted(set(params) - {"currency"})
    if unknown:
        raise TransformError(f"{NAME} takes only the parameter 'currency', "
                             f"not {', '.join(repr(k) for k in unknown)}")
    return to_major(value, params.get("currency"))


__all__ = ["EXAMPLE", "NAME", "PARAMS_SCHEMA", "THREE_DECIMAL", "ZERO_DECIMAL", "apply",
           "exponent", "to_major"]
