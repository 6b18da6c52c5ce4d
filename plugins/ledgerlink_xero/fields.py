"""Xero's own rules for reading an action's input, on top of :mod:`ledgerlink.contract`.

- **Currencies.** A document in a currency other than the organisation's base currency (the
  connection's ``base_currency``) always carries both ``CurrencyCode`` and ``CurrencyRate``:
  without a rate Xero takes XE.com's rate of the day, not the rate Stripe settled at
  (https://developer.xero.com/documentation/api/accounting/invoices, ``CurrencyRate``).
- **The rate's direction.** The input's ``exchange_rate`` is what one unit of the document's
  currency is worth in the base currency — Stripe's balance transaction ``exchange_rate``
  when it settles in the base currency (amount × exchange_rate = settled amount). Xero's
  ``CurrencyRate`` is the other way round, units of the document's currency per one unit of
  the base currency, as Xero's currency settings show it ("1 USD = 0.92 EUR" in a USD
  organisation). :func:`xero_rate` turns one into the other at Xero's 6 decimal places
  ([spec] ``CurrencyRate`` "max length = [18].[6]"); ``test_xero_invoice.py`` pins it.
- **Unit amounts** are read with up to 4 decimal places (sent with ``unitdp=4``); a line's
  amount, quantity × unit amount, must be exact in the currency's decimals, so Xero never
  rounds what Stripe booked.
- **Amounts have at most 2 decimal places** in Xero, whatever the currency: a line, a
  payment, a journal line or a transfer is rounded to the cent (Xero's ``LineAmount`` and
  ``Total`` carry 2 places; its unit prices 4 with ``unitdp=4``), so a 3-decimal currency
  such as KWD is booked exactly only when its amounts end in 0 (:func:`amount_in_xero`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from ledgerlink.contract.money import amount, exact, exponent, fit_currency, foreign_currency, is_currency
from ledgerlink.contract.problems import Problems, line_objects, text

LEDGER = "Xero"
#: the decimal places Xero keeps of an amount, in every currency
AMOUNT_PLACES = 2
#: a Xero id's form, for input schemas
GUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
#: an input amount: a Decimal or a decimal string, never a float
MONEY = {"type": ["string", "number"], "description": "A decimal amount, e.g. \"12.50\" (never a float)."}
DEFAULT_BASE_CURRENCY = "USD"
#: decimal places Xero keeps of a unit amount (with unitdp=4) and of a quantity
UNIT_PLACES = 4
#: decimal places Xero keeps of a CurrencyRate
RATE_PLACES = 6


def string(description: str, **more: Any) -> dict[str, Any]:
    """A string property of an input or output schema, described."""
    return {"type": "string", "description": description, **more}


def currency(data: Mapping[str, Any], settings: Mapping[str, Any],
             problems: Problems) -> tuple[str, Decimal | None]:
    """The document's ``CurrencyCode`` and the ``CurrencyRate`` to send with it (None in the
    base currency)."""
    code = str(data.get("CurrencyCode", "")).upper()
    if not is_currency(code):
        problems.add("/CurrencyCode", f"must be an ISO 4217 currency code such as \"USD\", got {data.get('CurrencyCode')!r}")
        return code, None
    base = str(settings.get("base_currency") or DEFAULT_BASE_CURRENCY).upper()
    given = "exchange_rate" in data
    rate = amount(data["exchange_rate"], "/exchange_rate", "exchange_rate", problems) if given else None
    rate = foreign_currency(code, base, rate, problems, ledger=LEDGER, rate_given=given,
                            currency_field="CurrencyCode", home_setting="base_currency",
                            rate_example="Stripe's balance transaction exchange_rate")
    return code, xero_rate(rate) if rate is not None else None


def xero_rate(base_per_unit: Decimal) -> Decimal:
    """Xero's ``CurrencyRate`` (units of the document's currency per one base unit) from the
    base units one unit of the document's currency is worth, at Xero's 6 decimal places."""
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(1) / base_per_unit).quantize(Decimal(1).scaleb(-RATE_PLACES), rounding=ROUND_HALF_EVEN)


def unit_amount(value: object, where: str, what: str, problems: Problems) -> Decimal | None:
    """A unit amount or quantity Xero keeps: at most 4 decimal places."""
    read = amount(value, where, what, problems, sign="nonnegative")
    if read is None:
        return None
    if read.as_tuple().exponent < -UNIT_PLACES:  # type: ignore[operator]
        problems.add(where, f"{what} {read} has more than {UNIT_PLACES} decimal places, which Xero keeps at most "
                            f"(unitdp=4); round it yourself")
        return None
    return read


def fit_xero(value: Decimal | None, code: str, where: str, what: str, problems: Problems) -> Decimal | None:
    """``value`` exact in the currency's decimals and in Xero's 2 places; None after a problem."""
    fitted = fit_currency(value, code, where, what, problems, ledger=LEDGER)
    if fitted is None or fitted.as_tuple().exponent >= -AMOUNT_PLACES:  # type: ignore[operator]
        return fitted
    cents = fitted.quantize(Decimal(1).scaleb(-AMOUNT_PLACES))
    if cents != fitted:
        problems.add(where, f"{what} {fitted} has more than the {AMOUNT_PLACES} decimal places Xero keeps of an "
                            f"amount in any currency ({code} has {exponent(code)}); Xero would round it, so it "
                            f"cannot be booked exactly there")
        return None
    return cents


def amount_in_xero(value: object, code: str, where: str, what: str, problems: Problems) -> Decimal | None:
    """A positive amount in ``code`` that Xero keeps exactly (:func:`fit_xero`)."""
    return fit_xero(amount(value, where, what, problems), code, where, what, problems)


def line_amount(quantity: Decimal, unit: Decimal, code: str, where: str, problems: Problems) -> Decimal | None:
    """``quantity × unit`` exact in the currency's decimals and Xero's (else Xero would round it)."""
    product = exact(lambda: quantity * unit)
    return fit_xero(product, code, where, "the line amount (Quantity × UnitAmount)", problems)


LINE_KEYS = ("Description", "Quantity", "UnitAmount", "AccountCode", "ItemCode", "TaxType")


def line_items(raw_lines: object, code_: str, problems: Problems,
               array_of: str) -> tuple[list[dict[str, Any]], list[Decimal]]:
    """The ``LineItems`` of an invoice or bank transaction, and each line's amount (exact in
    the currency ``code_``): Description, Quantity (default 1), UnitAmount, and the codes."""
    lines, amounts = [], []
    for index, where, raw in line_objects(raw_lines, LINE_KEYS, ("Description", "UnitAmount"), problems,
                                          array_of=array_of, field="LineItems",
                                          line_is="an object with Description and UnitAmount"):
        quantity = unit_amount(raw.get("Quantity", "1"), f"{where}/Quantity", "Quantity", problems)
        unit = unit_amount(raw.get("UnitAmount"), f"{where}/UnitAmount", "UnitAmount", problems)
        line: dict[str, Any] = {"Description": text(raw.get("Description"), f"{where}/Description", "Description",
                                                    4000, problems, keeper=LEDGER),
                                "Quantity": quantity, "UnitAmount": unit}
        for key in ("AccountCode", "ItemCode", "TaxType"):
            if key in raw:
                line[key] = code(raw[key], f"{where}/{key}", key, problems)
        if quantity is not None and unit is not None:
            amount = line_amount(quantity, unit, code_, where, problems)
            if amount is not None:
                amounts.append(amount)
        lines.append(line)
    return lines, amounts


def line_schema(purpose: str) -> dict[str, Any]:
    """The input schema of one line of ``line_items``."""
    return {"type": "object", "additionalProperties": False, "required": ["Description", "UnitAmount"],
            "properties": {
                "Description": string("What the line is for (at most 4000 characters)."),
                "Quantity": {**MONEY, "description": "Quantity, at most 4 decimals (default 1)."},
                "UnitAmount": {**MONEY, "description": "Unit amount, at most 4 decimals."},
                "AccountCode": string(f"The {purpose} account's code (else the item's account).",
                                      **{"x-ledgerlink-ref": "Account"}),
                "ItemCode": string("An item's code, for its defaults and inventory.", **{"x-ledgerlink-ref": "Item"}),
                "TaxType": string("A tax rate's TaxType (e.g. OUTPUT2, NONE).", **{"x-ledgerlink-ref": "TaxRate"}),
            }}


def code(value: object, where: str, what: str, problems: Problems, limit: int = 50) -> str | None:
    """A code Xero names a thing by (an account code, item code or tax type)."""
    read = text(value, where, what, limit, problems, keeper=LEDGER)
    if read is not None and not read.strip():
        problems.add(where, f"{what} is empty")
        return None
    return read


__all__ = ["DEFAULT_BASE_CURRENCY", "GUID", "LEDGER", "MONEY", "amount_in_xero", "fit_xero", "line_items", "line_schema", "string", "code", "currency", "line_amount", "unit_amount", "xero_rate"]
