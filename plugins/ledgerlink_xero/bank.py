"""``xero.create_bank_transaction`` (spend or receive money: Stripe's fees) and
``xero.create_bank_transfer`` (clearing account → bank: Stripe's payouts), exactly once.

- ``PUT /BankTransactions?summarizeErrors=false&unitdp=4``
  (https://developer.xero.com/documentation/api/accounting/banktransactions): ``Type``
  ``SPEND`` or ``RECEIVE``, the ``BankAccount`` by code, a ``Contact`` (Xero requires one),
  lines as an invoice's, the currency rule of :mod:`.fields`. Found again by ``Reference``
  and type, matched on account, date and line amounts; undone with ``Status: DELETED``.
- ``PUT /BankTransfers`` (https://developer.xero.com/documentation/api/accounting/banktransfers):
  ``FromBankAccount`` and ``ToBankAccount`` by code, ``Amount`` in the from-account's
  currency, ``Date``, ``Reference`` (the payout's id). Found again by ``Reference``, matched
  on the accounts, date and amount; undone with ``POST /BankTransfers/{id}`` ``Status:
  DELETED``. (Xero takes no ``summarizeErrors`` or ``unitdp`` here.) Between accounts of two
  currencies (``ToCurrencyCode`` differs) Xero's transfer would take its own rate of the day,
  so the transfer is booked as two legs at Stripe's rate instead (:mod:`.legs`).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, answer_decimal, total
from ledgerlink.contract.problems import begin, date, text
from ledgerlink.contract.writes import CreateSteps, Schemas, create_action

from . import api
from .errors import classify
from . import legs as two_legs
from .fields import GUID, MONEY, amount_in_xero, code, currency, line_items, line_schema, string
from .invoice import LINE_AMOUNT_TYPES
from .undo import current, status_undo

TYPES = ("SPEND", "RECEIVE")
CURRENCY = string("ISO 4217 currency of the bank account.", pattern="^[A-Za-z]{3}$")
RATE = {**MONEY, "description": "Base-currency units one unit of CurrencyCode is worth (Stripe's exchange_rate); "
                                "required outside the base currency, sent as Xero's CurrencyRate (its inverse)."}


@dataclass(frozen=True)
class Built:
    body: dict[str, Any]
    total: Decimal
    #: a transfer between currencies: its two legs (then ``body`` is the transfer as read)
    legs: two_legs.Legs | None = None


# --- spend and receive money ------------------------------------------------------------

TRANSACTION_INPUT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "money spent from or received into a Xero bank account",
    "type": "object",
    "required": ["Type", "ContactID", "BankAccountCode", "Date", "Reference", "CurrencyCode", "LineItems"],
    "additionalProperties": False,
    "properties": {
        "Type": {"enum": list(TYPES), "description": "SPEND (money out, e.g. Stripe's fees) or RECEIVE (money in)."},
        "ContactID": string("Who it was spent with or received from (e.g. Stripe as a contact).", pattern=GUID),
        "BankAccountCode": string("The code of the bank account (e.g. the Stripe clearing account).",
                                  **{"x-ledgerlink-ref": "BankAccount"}),
        "Date": string("The date, YYYY-MM-DD.", format="date"),
        "Reference": string("The source's id (e.g. Stripe's txn_…): how it is found again.", minLength=1,
                            maxLength=255),
        "CurrencyCode": CURRENCY,
        "exchange_rate": RATE,
        "LineAmountTypes": {"enum": list(LINE_AMOUNT_TYPES),
                            "description": "Whether unit amounts exclude tax, include it or carry none (default NoTax)."},
        "LineItems": {"type": "array", "minItems": 1, "description": "The lines.", "items": line_schema("expense")},
    },
}

TRANSACTION_OUTPUT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["id"],
    "properties": {"id": string("The Xero BankTransactionID."), "total": string("Its Total, as Xero answered it."),
                   "status": string("Its Status in Xero.")},
}

TRANSACTION_SAMPLE = {"Type": "SPEND", "ContactID": "5b96e86b-418e-48e8-8949-308c14aec278", "BankAccountCode": "610",
                      "Date": "2026-11-30", "Reference": "txn_3QFzvY2eZvKYlo2C1", "CurrencyCode": "USD",
                      "LineItems": [{"Description": "Stripe processing fees", "UnitAmount": "3.20",
                                     "AccountCode": "404"}]}


def build_transaction(data: Mapping[str, Any], ctx: ActionContext) -> Built:
    problems = begin("xero.create_bank_transaction", "a Xero bank transaction", data, TRANSACTION_INPUT["properties"])
    code_, rate = currency(data, ctx.connection.settings, problems)
    body: dict[str, Any] = {"Type": data.get("Type"), "Contact": {"ContactID": str(data.get("ContactID", ""))},
                            "BankAccount": {"Code": code(data.get("BankAccountCode"), "/BankAccountCode",
                                                         "BankAccountCode", problems, limit=10)},
                            "Date": date(data.get("Date"), "/Date", problems),
                            "Reference": text(data.get("Reference"), "/Reference", "Reference", 255, problems,
                                              keeper="Xero"),
                            "CurrencyCode": code_, "LineAmountTypes": data.get("LineAmountTypes", "NoTax"),
                            "Status": "AUTHORISED"}
    if body["Type"] not in TYPES:
        problems.add("/Type", "must be SPEND or RECEIVE")
    if body["LineAmountTypes"] not in LINE_AMOUNT_TYPES:
        problems.add("/LineAmountTypes", f"must be one of {', '.join(LINE_AMOUNT_TYPES)}")
    if rate is not None:
        body["CurrencyRate"] = rate
    body["LineItems"], amounts = line_items(data.get("LineItems"), code_, problems, "bank transaction lines")
    problems.raise_if_any()
    return Built(body=body, total=total(amounts))


def _transaction_output(stored: Mapping[str, Any], built: Built) -> dict[str, Any]:
    answered = answer_decimal(stored.get("Total"))
    return {"id": str(stored["BankTransactionID"]), "total": str(answered if answered is not None else built.total),
            "status": str(stored.get("Status") or "AUTHORISED")}


def _transactions_like(built: Built, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    where = api.where_all([("Type", built.body["Type"]), ("Reference", built.body["Reference"])])
    return api.elements((yield api.read(ctx, "BankTransactions", where=where, page="1")), "BankTransactions",
                        "bank transaction")


def _same_transaction(stored: Mapping[str, Any], built: Built, ctx: ActionContext) -> bool:
    amounts = [answer_decimal(line.get("LineAmount")) for line in stored.get("LineItems") or []
               if isinstance(line, Mapping)]
    return (stored.get("Status") not in ("DELETED", "VOIDED")
            and (stored.get("BankAccount") or {}).get("Code") == built.body["BankAccount"]["Code"]
            and str(api.xero_date(stored.get("Date"))) == built.body["Date"]
            and None not in amounts and total(amounts) == built.total)  # type: ignore[arg-type]


# Xero's spec requires Type, BankAccount and LineItems on every BankTransaction written, a
# status change too: they are sent back as read
TRANSACTION_UNDO = status_undo(
    "BankTransactions", "BankTransactionID", "bank transaction", target=lambda status: "DELETED",
    body=lambda transaction_id, status, read: {"BankTransactions": [{
        "BankTransactionID": transaction_id, "Type": read.get("Type"), "BankAccount": dict(read.get("BankAccount") or {}),
        "LineItems": list(read.get("LineItems") or []), "Status": status}]})


CREATE_BANK_TRANSACTION = create_action(
    name="xero.create_bank_transaction",
    summary="Records money spent from or received into a Xero bank account (e.g. Stripe's fees), exactly once.",
    what="a Xero bank transaction", lookup_keys="Type and Reference",
    schemas=Schemas(input=TRANSACTION_INPUT, output=TRANSACTION_OUTPUT, sample=TRANSACTION_SAMPLE,
                    sample_response={"Id": "2b4c6a1e-0000-4000-8000-000000000040", "Status": "OK",
                                     "BankTransactions": [{"BankTransactionID": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                                                           "Total": "3.20", "Status": "AUTHORISED",
                                                           "StatusAttributeString": "OK"}]}),
    steps=CreateSteps(build=build_transaction,
                      request=lambda built, ctx: api.create(ctx, "BankTransactions", built.body,
                                                            "xero.create_bank_transaction"),
                      classify=classify,
                      read=lambda response, built: _transaction_output(
                          api.created(response, "BankTransactions", "bank transaction", "BankTransactionID"), built),
                      read_stored=_transaction_output, lookup=_transactions_like, matches=_same_transaction),
    undo=TRANSACTION_UNDO,
)


# --- transfers between bank accounts ----------------------------------------------------

TRANSFER_INPUT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "a transfer between two Xero bank accounts",
    "type": "object",
    "required": ["FromBankAccountCode", "ToBankAccountCode", "Amount", "Date", "Reference", "CurrencyCode"],
    "additionalProperties": False,
    "properties": {
        "FromBankAccountCode": string("The code of the account the money leaves (e.g. the Stripe clearing account).",
                                      **{"x-ledgerlink-ref": "BankAccount"}),
        "ToBankAccountCode": string("The code of the account it reaches (the bank account a payout lands in).",
                                    **{"x-ledgerlink-ref": "BankAccount"}),
        "Amount": {**MONEY, "description": "The amount, in the from-account's currency (\"96.80\")."},
        "Date": string("The date, YYYY-MM-DD.", format="date"),
        "Reference": string("The source's id (e.g. Stripe's po_…): how the transfer is found again.", minLength=1,
                            maxLength=255),
        "CurrencyCode": string("The from-account's currency, ISO 4217 (checks the amount's decimals).",
                               pattern="^[A-Za-z]{3}$"),
        **two_legs.LEG_INPUTS,
    },
}

TRANSFER_OUTPUT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["id"],
    "properties": {"id": string("The Xero BankTransferID; between currencies the SPEND leg's BankTransactionID."),
                   "amount": string("The amount Xero recorded."),
                   "received_id": string("Between currencies: the RECEIVE leg's BankTransactionID."),
                   "to_amount": string("Between currencies: the amount the to-account received."),
                   "base_amount": string("Between currencies: what both legs are worth in the base currency.")},
}

TRANSFER_SAMPLE = {"FromBankAccountCode": "610", "ToBankAccountCode": "090", "Amount": "96.80", "Date": "2026-11-30",
                   "Reference": "po_1QFzvY2eZvKYlo2C", "CurrencyCode": "USD"}


def build_transfer(data: Mapping[str, Any], ctx: ActionContext) -> Built:
    problems = begin("xero.create_bank_transfer", "a Xero bank transfer", data, TRANSFER_INPUT["properties"])
    code_ = str(data.get("CurrencyCode", "")).upper()
    moved = amount_in_xero(data.get("Amount"), code_, "/Amount", "Amount", problems)
    body = {"FromBankAccount": {"Code": code(data.get("FromBankAccountCode"), "/FromBankAccountCode",
                                             "FromBankAccountCode", problems, limit=10)},
            "ToBankAccount": {"Code": code(data.get("ToBankAccountCode"), "/ToBankAccountCode", "ToBankAccountCode",
                                           problems, limit=10)},
            "Amount": moved, "Date": date(data.get("Date"), "/Date", problems),
            "Reference": text(data.get("Reference"), "/Reference", "Reference", 255, problems, keeper="Xero")}
    if data.get("FromBankAccountCode") == data.get("ToBankAccountCode"):
        problems.add("/ToBankAccountCode", "a transfer moves money between two different accounts")
    legs = None
    if str(data.get("ToCurrencyCode", code_)).upper() != code_:
        legs = two_legs.build_legs(data, ctx.connection.settings, body, moved, code_, problems)
    else:
        for key in ("exchange_rate", "ContactID", "TransitAccountCode"):
            if key in data:
                problems.add(f"/{key}", f"is only for a transfer between two currencies; both accounts are {code_}")
        if "ToAmount" in data and amount_in_xero(data["ToAmount"], code_, "/ToAmount", "ToAmount", problems) != moved:
            problems.add("/ToAmount", "must be the Amount: both accounts are in one currency")
    problems.raise_if_any()
    return Built(body=body, total=moved or Decimal(0), legs=legs)


def _transfer_request(built: Built, ctx: ActionContext) -> Request:
    if built.legs is not None:
        return two_legs.request(built.legs, ctx, "xero.create_bank_transfer")
    return api.create(ctx, "BankTransfers", built.body, "xero.create_bank_transfer")


def _transfer_read(response: Response, built: Built) -> dict[str, Any]:
    if built.legs is not None:
        return two_legs.read(response, built.legs)
    return _transfer_output(api.created(response, "BankTransfers", "bank transfer", "BankTransferID"), built)


def _transfer_output(stored: Mapping[str, Any], built: Built) -> dict[str, Any]:
    if built.legs is not None:  # a pair of legs found again (see _transfers_like)
        return two_legs.output(stored["SPEND"], stored["RECEIVE"], built.legs)
    answered = answer_decimal(stored.get("Amount"))
    return {"id": str(stored["BankTransferID"]), "amount": str(answered if answered is not None else built.total)}


def _transfers_like(built: Built, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    if built.legs is not None:
        return (yield from two_legs.lookup(built.legs, ctx))
    where = api.where_all([("Reference", built.body["Reference"])])
    return api.elements((yield api.read(ctx, "BankTransfers", where=where)), "BankTransfers", "bank transfer")


def _same_transfer(stored: Mapping[str, Any], built: Built, ctx: ActionContext) -> bool:
    if built.legs is not None:
        return True  # the lookup pairs only legs that match
    return (stored.get("Status") != "DELETED"
            and (stored.get("FromBankAccount") or {}).get("Code") == built.body["FromBankAccount"]["Code"]
            and (stored.get("ToBankAccount") or {}).get("Code") == built.body["ToBankAccount"]["Code"]
            and str(api.xero_date(stored.get("Date"))) == built.body["Date"]
            and answer_decimal(stored.get("Amount")) == built.total)


# POST /BankTransfers/{id} takes {"Status": "DELETED"} ([spec] BankTransferDeleteByUrlParam)
_DELETE_TRANSFER = status_undo("BankTransfers", "BankTransferID", "bank transfer", target=lambda status: "DELETED",
                               body=lambda transfer_id, status, read: {"Status": status})


def _undo_transfer(entity_id: str, ctx: ActionContext) -> Generator[Request, Response, dict[str, str]]:
    """Delete the transfer; between currencies (``entity_id`` is its SPEND leg) both legs."""
    answer = yield api.read(ctx, "BankTransactions", entity_id)
    spend = current(answer, "BankTransactions") if answer.status == 200 else {}
    if spend.get("Type") != "SPEND":
        return (yield from _DELETE_TRANSFER(entity_id, ctx))
    transit = [line.get("AccountCode") for line in spend.get("LineItems") or [] if isinstance(line, Mapping)]
    where = api.where_all([("Reference", spend.get("Reference") or ""), ("Type", "RECEIVE")])
    partners = [leg for leg in api.elements((yield api.read(ctx, "BankTransactions", where=where, page="1")),
                                            "BankTransactions", "bank transaction")
                if leg.get("Date") == spend.get("Date") and leg.get("BankTransactionID")
                and [line.get("AccountCode") for line in leg.get("LineItems") or []] == transit]
    for partner in partners[:1]:
        yield from TRANSACTION_UNDO(str(partner["BankTransactionID"]), ctx)
    return (yield from TRANSACTION_UNDO(entity_id, ctx))


CREATE_BANK_TRANSFER = create_action(
    name="xero.create_bank_transfer",
    summary="Moves money between two Xero bank accounts (e.g. a Stripe payout: clearing → bank), exactly once.",
    what="a Xero bank transfer", lookup_keys="Reference",
    schemas=Schemas(input=TRANSFER_INPUT, output=TRANSFER_OUTPUT, sample=TRANSFER_SAMPLE,
                    sample_response={"BankTransfers": [{"BankTransferID": "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918",
                                                        "Amount": "96.80"}]}),
    steps=CreateSteps(build=build_transfer, request=_transfer_request, classify=classify, read=_transfer_read,
                      read_stored=_transfer_output, lookup=_transfers_like, matches=_same_transfer),
    undo=_undo_transfer,
)
