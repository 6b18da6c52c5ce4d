"""A transfer between bank accounts of two currencies, at the rate Stripe settled at.

Xero's ``BankTransfer`` cannot carry a rate: its ``CurrencyRate`` is read-only in Xero's
Accounting API spec, and the create takes only the accounts, ``Amount``, ``Date`` and
``Reference`` (https://developer.xero.com/documentation/api/accounting/banktransfers), so a
transfer between currencies would be booked at Xero's rate of the day — never what Stripe
converted at. ``xero.create_bank_transfer`` books one as two legs instead, in one
``PUT /BankTransactions`` without ``summarizeErrors`` (so Xero saves both or neither):

- **SPEND** ``Amount`` from the from-account, in its currency, with its ``CurrencyRate``;
- **RECEIVE** ``ToAmount`` into the to-account, in its currency, with its ``CurrencyRate``;

both coded to ``TransitAccountCode`` (an account of the base currency, e.g. "Funds in
transit") and naming ``ContactID``. Both legs are worth the same base amount ``V``: ``Amount``
when the from-account is in the base currency, ``ToAmount`` when the to-account is, else
``Amount × exchange_rate`` (base units per one unit of the from-currency, Stripe's). Each
leg's ``CurrencyRate`` is the 6-place rate that carries its amount to exactly ``V`` at Xero's
2 places, so the transit account is left at zero to the cent; a transfer no such rate can
carry is refused before sending. Found again by ``Reference`` (the SPEND on the from-account
and the RECEIVE on the to-account, amounts and date matching); undone by deleting both legs.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, answer_decimal, unreadable_write
from ledgerlink.contract.money import amount, exponent, is_currency
from ledgerlink.contract.problems import Problems
from ledgerlink.errors import VendorError

from . import api
from .errors import VENDOR, classify, element_problems, fixes
from .fields import DEFAULT_BASE_CURRENCY, GUID, MONEY, RATE_PLACES, amount_in_xero, code, string

#: the inputs a transfer between currencies adds
LEG_INPUTS = {
    "ToCurrencyCode": string("The to-account's currency, ISO 4217; when it differs from CurrencyCode the "
                             "transfer is booked as two legs at Stripe's rate.", pattern="^[A-Za-z]{3}$"),
    "ToAmount": {**MONEY, "description": "Between currencies: the amount the to-account receives, in "
                                         "ToCurrencyCode (what Stripe paid out)."},
    "exchange_rate": {**MONEY, "description": "Between currencies, when neither account is in the base currency: "
                                              "base-currency units one unit of CurrencyCode is worth (Stripe's)."},
    "ContactID": string("Between currencies: the contact both legs name (e.g. Stripe).", pattern=GUID),
    "TransitAccountCode": string("Between currencies: the base-currency account both legs pass through "
                                 "(e.g. Funds in transit); left at zero."),
}
#: how many steps of 0.000001 either side of the nearest rate are tried for an exact leg
NUDGES = 3
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Legs:
    """The two bank transactions of a transfer between currencies, and what they are worth."""

    spend: dict[str, Any]
    receive: dict[str, Any]
    base: Decimal


def base_value(amount_: Decimal, rate: Decimal) -> Decimal:
    """What ``amount_`` at Xero's ``CurrencyRate`` ``rate`` (units per base unit) is in the base
    currency, at Xero's 2 places."""
    with localcontext() as ctx:
        ctx.prec = 40
        return (amount_ / rate).quantize(_CENT, rounding=ROUND_HALF_UP)


def exact_rate(amount_: Decimal, base: Decimal) -> Decimal | None:
    """A ``CurrencyRate`` of 6 places carrying ``amount_`` to exactly ``base``, the nearest
    first; None when none within :data:`NUDGES` steps does."""
    step = Decimal(1).scaleb(-RATE_PLACES)
    with localcontext() as ctx:
        ctx.prec = 40
        nearest = (amount_ / base).quantize(step, rounding=ROUND_HALF_UP)
    for offset in sorted(range(-NUDGES, NUDGES + 1), key=abs):
        rate = nearest + offset * step
        if rate > 0 and base_value(amount_, rate) == base:
            return rate
    return None


def _leg(kind: str, account: str | None, currency: str, rate: Decimal | None, amount_: Decimal,
         data: Mapping[str, Any], date: str | None, reference: str | None, transit: str | None,
         other: str | None) -> dict[str, Any]:
    where = "to" if kind == "SPEND" else "from"
    leg: dict[str, Any] = {"Type": kind, "Contact": {"ContactID": str(data.get("ContactID", ""))},
                           "BankAccount": {"Code": account}, "Date": date, "Reference": reference,
                           "CurrencyCode": currency, "LineAmountTypes": "NoTax", "Status": "AUTHORISED",
                           "LineItems": [{"Description": f"Transfer {where} {other} ({reference})",
                                          "Quantity": Decimal(1), "UnitAmount": amount_, "AccountCode": transit}]}
    if rate is not None:
        leg["CurrencyRate"] = rate
    return leg


def build_legs(data: Mapping[str, Any], settings: Mapping[str, Any], body: Mapping[str, Any], moved: Decimal | None,
               code_: str, problems: Problems) -> Legs | None:
    """The two legs of a transfer from ``code_`` into ``ToCurrencyCode`` (``body`` is the
    transfer as read so far: accounts, date, reference); None after a problem."""
    to_code = str(data.get("ToCurrencyCode", "")).upper()
    base = str(settings.get("base_currency") or DEFAULT_BASE_CURRENCY).upper()
    if not is_currency(to_code):
        problems.add("/ToCurrencyCode", f"must be an ISO 4217 currency code such as \"USD\", "
                                        f"got {data.get('ToCurrencyCode')!r}")
        return None
    for key in ("ToAmount", "ContactID", "TransitAccountCode"):
        if key not in data:
            problems.add(f"/{key}", f"is required for a transfer from {code_} into {to_code}")
    received = amount_in_xero(data.get("ToAmount"), to_code, "/ToAmount", "ToAmount", problems) \
        if "ToAmount" in data else None
    transit = code(data.get("TransitAccountCode"), "/TransitAccountCode", "TransitAccountCode", problems,
                   limit=10) if "TransitAccountCode" in data else None
    rate_given = "exchange_rate" in data
    if base not in (code_, to_code) and not rate_given:
        problems.add("/exchange_rate", f"is required: neither {code_} nor {to_code} is the organisation's base "
                                       f"currency {base}; give base units per one {code_} (Stripe's rate)")
    elif base in (code_, to_code) and rate_given:
        problems.add("/exchange_rate", f"must be left out: the {base} side of the transfer is its value")
    if moved is None or received is None or transit is None or problems.count():
        return None
    if code_ == base:
        value = moved
    elif to_code == base:
        value = received
    else:
        rate = amount(data["exchange_rate"], "/exchange_rate", "exchange_rate", problems)
        if rate is None:
            return None
        value = (moved * rate).quantize(Decimal(1).scaleb(-min(exponent(base), 2)), rounding=ROUND_HALF_UP)
    rates = {}
    for currency, leg_amount, where in ((code_, moved, "/Amount"), (to_code, received, "/ToAmount")):
        if currency == base:
            continue
        rates[currency] = exact_rate(leg_amount, value)
        if rates[currency] is None:
            problems.add(where, f"no {RATE_PLACES}-place CurrencyRate carries {leg_amount} {currency} to exactly "
                                f"{value} {base} at Xero's 2 places; book the transfer in smaller parts")
    if problems.count():
        return None
    from_account, to_account = body["FromBankAccount"]["Code"], body["ToBankAccount"]["Code"]
    spend = _leg("SPEND", from_account, code_, rates.get(code_), moved, data, body["Date"], body["Reference"],
                 transit, to_account)
    receive = _leg("RECEIVE", to_account, to_code, rates.get(to_code), received, data, body["Date"],
                   body["Reference"], transit, from_account)
    return Legs(spend=spend, receive=receive, base=value)


def request(legs: Legs, ctx: ActionContext, action: str) -> Request:
    """One keyed ``PUT /BankTransactions`` of both legs: without ``summarizeErrors`` Xero
    refuses the batch whole when either leg is refused."""
    return Request("PUT", api.url(ctx, "BankTransactions"), json={"BankTransactions": [legs.spend, legs.receive]},
                   params={"unitdp": "4"}, headers={**api.JSON_HEADERS, "Idempotency-Key": api.idempotency_key(ctx, action)})


def output(spend: Mapping[str, Any], receive: Mapping[str, Any], legs: Legs) -> dict[str, Any]:
    """The step's output: the SPEND leg's id (what undo takes), the RECEIVE leg's, both amounts."""
    sent = answer_decimal(spend.get("Total"))
    received = answer_decimal(receive.get("Total"))
    return {"id": str(spend["BankTransactionID"]), "received_id": str(receive["BankTransactionID"]),
            "amount": str(sent if sent is not None else legs.spend["LineItems"][0]["UnitAmount"]),
            "to_amount": str(received if received is not None else legs.receive["LineItems"][0]["UnitAmount"]),
            "base_amount": str(legs.base)}


def read(response: Response, legs: Legs) -> dict[str, Any]:
    """The output from Xero's answer to :func:`request`."""
    error = classify(response)
    if error is not None:
        raise error
    listed = response.json.get("BankTransactions") if isinstance(response.json, Mapping) else None
    if not isinstance(listed, list) or len(listed) != 2 or not all(isinstance(leg, Mapping) for leg in listed):
        raise unreadable_write(response, VENDOR, "pair of bank transactions")
    found = [message for index, leg in enumerate(listed)
             for message in element_problems(leg, f"/BankTransactions/{index}")]
    if found:
        raise VendorError("Xero refused the transfer's legs: " + "; ".join(found + fixes(found)), kind="permanent",
                          status=response.status, vendor_code="ValidationException")
    if not all(leg.get("BankTransactionID") for leg in listed):
        raise unreadable_write(response, VENDOR, "pair of bank transactions")
    return output(listed[0], listed[1], legs)


def _is(stored: Mapping[str, Any], leg: Mapping[str, Any]) -> bool:
    amounts = [answer_decimal(line.get("LineAmount")) for line in stored.get("LineItems") or []
               if isinstance(line, Mapping)]
    return (stored.get("Type") == leg["Type"] and stored.get("Status") not in ("DELETED", "VOIDED")
            and (stored.get("BankAccount") or {}).get("Code") == leg["BankAccount"]["Code"]
            and str(api.xero_date(stored.get("Date"))) == leg["Date"]
            and amounts == [leg["LineItems"][0]["UnitAmount"]])


def lookup(legs: Legs, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    """The pairs of stored legs of the same ``Reference`` that are this transfer's."""
    where = api.where_all([("Reference", legs.spend["Reference"])])
    stored = api.elements((yield api.read(ctx, "BankTransactions", where=where, page="1")), "BankTransactions",
                          "bank transaction")
    spends = [leg for leg in stored if _is(leg, legs.spend)]
    receives = [leg for leg in stored if _is(leg, legs.receive)]
    return [{"SPEND": spends[0], "RECEIVE": receives[0]}] if spends and receives else []


__all__ = ["LEG_INPUTS", "Legs", "base_value", "build_legs", "exact_rate", "lookup", "output", "read", "request"]
