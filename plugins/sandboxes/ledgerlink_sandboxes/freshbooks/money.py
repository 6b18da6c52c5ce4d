"""Money as FreshBooks writes it: a decimal string and an upper-case ISO 4217 code
(``{"amount": "12.34", "code": "USD"}``, https://www.freshbooks.com/api/invoices).

Amounts are :class:`~decimal.Decimal`, never floats. FreshBooks keeps every amount "to two
decimal places", whatever the currency (https://www.freshbooks.com/api/invoices,
https://www.freshbooks.com/api/payments). The sandbox's places for a currency are therefore its
own (0 for JPY, from CLDR through Babel) but never more than two (:data:`FRESHBOOKS_PLACES`: a
dinar is kept to the hundredth, not the fils). An amount sent with more places is refused, as
one with more places than its currency has is; an amount arithmetic makes (a quantity, a tax
percentage) is rounded half up to those places. Whether FreshBooks itself refuses or rounds a
third decimal is UNVERIFIED: refusing makes a client that would lose a fils fail loudly here.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_precision

from . import errors
from .errors import Problem

CODE = re.compile(r"^[A-Z]{3}$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
#: the decimal places FreshBooks keeps of any amount
FRESHBOOKS_PLACES = 2


def places(code: str) -> int:
    """The places FreshBooks keeps of an amount in ``code``: the currency's, at most two."""
    return min(int(get_currency_precision(code)), FRESHBOOKS_PLACES)


def rounded(value: Decimal, code: str) -> Decimal:
    """``value`` at ``code``'s places, half up."""
    return value.quantize(Decimal(1).scaleb(-places(code)), rounding=ROUND_HALF_UP)


def text(value: Decimal, code: str) -> str:
    return str(rounded(value, code))


def money(value: Decimal, code: str) -> dict[str, str]:
    return {"amount": text(value, code), "code": code}


def decimal(value: Any, field: str, what: str, problems: list[Problem], *, max_places: int | None = None,
            positive: bool = False) -> Decimal | None:
    """``value`` (a decimal string, or a JSON number read exactly) as a Decimal; a problem
    naming ``field`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)) or not NUMBER.match(str(value).strip()):
        problems.append(Problem(errors.INVALID_FIELD, f"{field} must be a decimal number.", field, what, str(value)))
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        problems.append(Problem(errors.INVALID_FIELD, f"{field} must be a decimal number.", field, what, str(value)))
        return None
    if max_places is not None and -number.as_tuple().exponent > max_places:  # type: ignore[operator]
        problems.append(Problem(errors.INVALID_FIELD, f"{field} has more than {max_places} decimal places.",
                                field, what, str(value)))
        return None
    if positive and number <= 0:
        problems.append(Problem(errors.INVALID_FIELD, f"{field} must be more than zero.", field, what, str(value)))
        return None
    return number


def amount_of(value: Any, field: str, what: str, currency: str, problems: list[Problem]) -> Decimal | None:
    """A money object ``{"amount"[, "code"]}`` in ``currency`` (its code, when given, must be
    that currency) as a Decimal at most the currency's places."""
    if not isinstance(value, dict) or "amount" not in value:
        problems.append(Problem(errors.INVALID_FIELD, f"{field} must be an object with an amount.", field, what))
        return None
    code = value.get("code")
    if code is not None and str(code).upper() != currency:
        problems.append(Problem(errors.INVALID_FIELD, f"{field}.code must be {currency}.", f"{field}.code", what,
                                str(code)))
        return None
    return decimal(value["amount"], f"{field}.amount", what, problems, max_places=places(currency))


def currency_of(value: Any, default: str, what: str, problems: list[Problem]) -> str:
    code = str(value or default).upper()
    if not CODE.match(code):
        problems.append(Problem(errors.INVALID_FIELD, "currency_code must be an ISO 4217 code.", "currency_code",
                                what, str(value)))
    return code


__all__ = ["FRESHBOOKS_PLACES", "amount_of", "currency_of", "decimal", "money", "places", "rounded", "text"]
