"""The fields FreshBooks' documents share, read from an action's input: ids, currencies, lines.

A line (an invoice's, a credit note's) is ``qty`` × ``unit_cost`` with up to two taxes by name
and percentage (``taxName1`` / ``taxAmount1``, ``taxName2`` / ``taxAmount2``: FreshBooks
applies the percentage, up to 3 decimals, to the line's amount;
https://www.freshbooks.com/api/invoices). Amounts are read exactly (a decimal string or a
Decimal, never a float) and must fit the currency's decimals — and FreshBooks' own: it keeps
every amount "to two decimal places" (https://www.freshbooks.com/api/invoices,
https://www.freshbooks.com/api/payments), so a dinar amount with a third decimal, which
FreshBooks would round, is refused before a request instead (:func:`money_in`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerlink.contract.money import Sign, amount, amount_in, exact, is_currency
from ledgerlink.contract.problems import Problems, text

from . import api

#: FreshBooks takes two taxes a line (taxName1/taxAmount1, taxName2/taxAmount2)
MAX_TAXES = 2
LINE_KEYS = ("name", "description", "qty", "unit_cost", "taxes")

_STRING_AMOUNT = {"type": ["string", "number"], "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}

#: the ``lines`` of an invoice or a credit note
LINES_SCHEMA: dict[str, Any] = {
    "type": "array", "minItems": 1, "description": "The document's lines.",
    "items": {
        "type": "object", "required": ["name", "unit_cost"], "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 255, "description": "The line's item."},
            "description": {"type": "string", "description": "What the line is for."},
            "qty": {**_STRING_AMOUNT, "description": "The quantity, a decimal (a string or a Decimal; default 1)."},
            "unit_cost": {**_STRING_AMOUNT,
                          "description": "The price of one, a decimal in the document's currency with at most "
                                         "its decimals (negative for a discount line)."},
            "taxes": {"type": "array", "maxItems": MAX_TAXES,
                      "description": "Up to two taxes on the line, by name and percentage.",
                      "items": {"type": "object", "required": ["name", "percent"], "additionalProperties": False,
                                "properties": {
                                    "name": {"type": "string", "minLength": 1,
                                             "description": "The tax's name, as the business names it."},
                                    "percent": {"type": ["string", "number"], "pattern": r"^[0-9]+(\.[0-9]{1,3})?$",
                                                "description": "The rate in percent, up to 3 decimals."}}}},
        },
    },
}


def money_in(value: object, code: str, where: str, what: str, problems: Problems, *,
             sign: Sign = "positive") -> Decimal | None:
    """An exact amount in ``code``: with at most the currency's decimals and at most the two
    FreshBooks keeps (:data:`~.api.FRESHBOOKS_PLACES`); None after a problem."""
    if not code:
        return None
    read = amount_in(value, code, where, what, problems, ledger="FreshBooks", sign=sign)
    if read is not None and read != read.quantize(Decimal(1).scaleb(-api.FRESHBOOKS_PLACES)):
        problems.add(where, f"{what} {read} {code} has a third decimal, but FreshBooks keeps amounts to two "
                            f"decimal places and would round it; round it to {api.FRESHBOOKS_PLACES} places in "
                            f"the recipe (a \"$as\": \"round\"), or book this currency's fils elsewhere")
        return None
    return read


def positive_id(value: object, where: str, problems: Problems) -> int | None:
    """A FreshBooks id (a positive integer, or its digits) from an input."""
    text_value = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not text_value.isdigit() or int(text_value) < 1:
        problems.add(where, f"must be a FreshBooks id (a positive integer), got {value!r}")
        return None
    return int(text_value)


def currency(value: object, problems: Problems, where: str = "/currency_code") -> str:
    """An upper-case ISO 4217 code from an input; ``""`` after a problem."""
    if not (isinstance(value, str) and value.isupper() and is_currency(value)):
        problems.add(where, f"must be an ISO 4217 code such as USD, got {value!r}")
        return ""
    return value


def line_body(line: Mapping[str, Any], where: str, code: str, problems: Problems) -> tuple[dict[str, Any], Decimal]:
    """One line as FreshBooks takes it, and its net amount (qty × unit_cost, exact)."""
    qty = amount(line.get("qty", "1"), f"{where}/qty", "qty", problems)
    cost = money_in(line.get("unit_cost"), code, f"{where}/unit_cost", "unit_cost", problems, sign="any")
    body: dict[str, Any] = {"type": 0, "name": text(line.get("name"), f"{where}/name", "name", 255, problems,
                                                     keeper="FreshBooks")}
    if line.get("description"):
        body["description"] = text(line["description"], f"{where}/description", "description", 5000, problems,
                                   keeper="FreshBooks")
    taxes = line.get("taxes") or []
    if not isinstance(taxes, list) or len(taxes) > MAX_TAXES:
        problems.add(f"{where}/taxes", f"FreshBooks takes at most {MAX_TAXES} taxes a line, as a list")
        taxes = []
    for number, tax in enumerate(taxes, 1):
        place = f"{where}/taxes/{number - 1}"
        if not isinstance(tax, Mapping) or not tax.get("name"):
            problems.add(place, "a tax is {\"name\", \"percent\"}")
            continue
        rate = amount(tax.get("percent"), f"{place}/percent", "percent", problems, sign="nonnegative")
        if rate is not None and (rate > 100 or rate != rate.quantize(Decimal("0.001"))):
            problems.add(f"{place}/percent", f"FreshBooks keeps a tax rate from 0 to 100 with at most 3 decimals, "
                                             f"got {rate}")
        body[f"taxName{number}"] = str(tax["name"])
        body[f"taxAmount{number}"] = f"{rate:f}" if rate is not None else ""
    if qty is None or cost is None:
        return body, Decimal(0)
    body["qty"] = f"{qty:f}"
    body["unit_cost"] = api.money(cost, code)
    return body, exact(lambda: qty * cost) or Decimal(0)


__all__ = ["LINES_SCHEMA", "LINE_KEYS", "MAX_TAXES", "currency", "line_body", "money_in", "positive_id"]
