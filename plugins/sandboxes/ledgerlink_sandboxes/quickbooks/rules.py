"""QBO's write rules, one check each, as :class:`~.company.Company` applies them in order.

Every check raises the :class:`~.faults.QboFault` QBO answers with (the stages and their
codes are listed in :mod:`.company`); none changes the company.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import babel.numbers

from . import faults, xsd
from .entities import ADDING_LINES, DISCOUNT_LINE, ITEM_ACCOUNTS, REQUIRED, Kind

# --- the checks -------------------------------------------------------------------------

def check_sync_token(body: Mapping[str, Any], existing: Mapping[str, Any]) -> None:
    if str(body["SyncToken"]) != existing["SyncToken"]:
        raise faults.validation(
            "Stale Object Error", "5010",
            f"Stale Object Error : You and another user were working on this at the same "
            f"time. The other user finished before you did, so your work was not saved. "
            f"(SyncToken {body['SyncToken']} sent, {existing['SyncToken']} current)", "")


def check_xsd(name: str, body: Mapping[str, Any]) -> None:
    problems = xsd.check(name, body)
    if not problems:
        return
    errors = []
    for problem in problems[:10]:
        pointer, _, _ = problem.partition(": ")
        element = ".".join(part for part in pointer.strip("/").split("/") if not part.isdigit())
        errors.append(faults.error("Request has invalid or unsupported property", "2010",
                                   f"Property Name:{problem} specified is unsupported or invalid",
                                   element))
    raise faults.QboFault(400, "ValidationFault", errors)


def as_qbo_reads(name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` as QBO reads a request before validating it (a copy).

    - Leaves are read leniently, as QBO's JSON reader does: numbers sent as strings, strings
      sent as numbers, empty strings for optional dates, numbers, booleans and enumerations
      (:func:`ledgerlink_sandboxes.quickbooks.xsd.coerce` gives each rule and its source).
    - A line's ``LineNum`` of 0 is no line number: QBO numbers the lines itself. Source:
      python-quickbooks' ``DetailLine`` defaults ``LineNum`` to 0 and its integration tests
      create deposits and refund receipts with it against an Intuit sandbox company; the
      XSD's ``positiveInteger`` still refuses a negative one.
    """
    read = xsd.coerce(name, body)
    lines = read.get("Line")
    for line in lines if isinstance(lines, list) else []:
        number = line.get("LineNum") if isinstance(line, dict) else None
        if number == 0 and not isinstance(number, bool):
            del line["LineNum"]
    return read


def inactive_reference(element: str, kind: str, target: Mapping[str, Any]) -> faults.QboFault:
    """HTTP 400 code 2500: a reference to a list entity (account, customer, item …) made
    inactive. Code, Message and the Detail's words are QBO's own, from a real response quoted
    in intuit/QuickBooks-V3-PHP-SDK issue 110 and Intuit's "Handling common errors" page
    (developer.intuit.com …/troubleshooting/handling-common-errors: "usually caused by
    references to inactive name list objects … in transaction requests"); the entity named
    in parentheses is the sandbox's addition."""
    name = target.get("DisplayName") or target.get("Name")
    return faults.validation(
        "Invalid Reference Id", "2500",
        f"Invalid Reference Id : Something you're trying to use has been made inactive. Check "
        f"the fields with accounts, customers, items, vendors or employees. ({kind} "
        f"{name!r} Id={target['Id']} is inactive)", element)


def check_currency_places(kind: Kind, body: Mapping[str, Any], home: str = "USD") -> None:
    """Every line ``Amount`` (and a Payment's ``TotalAmt``, a Transfer's ``Amount``) has at
    most the decimals of the transaction's currency (ISO 4217 through CLDR: USD 2, JPY 0,
    KWD 3); the company's ``home`` currency when no ``CurrencyRef`` is given. QBO keeps amounts in the currency's
    minor unit, so 10.001 USD cannot be booked; the code (6000) and wording are inferred,
    as Intuit publishes no fault for it. Trailing zeros are fine (10.000 USD is 10.00)."""
    currency_ref = body.get("CurrencyRef")
    code = currency_ref.get("value") if isinstance(currency_ref, Mapping) else None
    code = code.upper() if isinstance(code, str) and code else home
    places = babel.numbers.get_currency_precision(code)
    amounts = [(f"Line {index} Amount", "Line.Amount", line.get("Amount"))
               for index, line in enumerate(body.get("Line") or []) if isinstance(line, Mapping)]
    if kind.name == "Payment":
        amounts.append(("TotalAmt", "TotalAmt", body.get("TotalAmt")))
    if kind.name == "Transfer":
        amounts.append(("Amount", "Amount", body.get("Amount")))
    for what, element, value in amounts:
        if not isinstance(value, (int, Decimal)) or isinstance(value, bool):
            continue
        amount = Decimal(value)
        if amount.is_finite() and _decimal_places(amount) > places:
            raise faults.business(f"{what} {amount} has more decimal places than {code} has "
                                  f"({places}); round it to the currency's minor unit", element)


def _decimal_places(amount: Decimal) -> int:
    """The decimals ``amount`` really has: 10.000 has none, 10.001 three (no arithmetic, so
    no context limits even for 1E+2000)."""
    sign, digits, exponent = amount.as_tuple()
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if trailing == len(digits):
        return 0  # zero
    return max(0, -(exponent + trailing))


def linked_invoices(line: Any) -> list[str]:
    """The ids of the invoices a Payment line applies to (its ``LinkedTxn`` of type Invoice)."""
    if not isinstance(line, Mapping) or not isinstance(line.get("LinkedTxn"), list):
        return []
    return [str(txn.get("TxnId")) for txn in line["LinkedTxn"]
            if isinstance(txn, Mapping) and txn.get("TxnType") == "Invoice"]


NAME_KEY = "name"


def entity_key(entity: str, key: str) -> str:
    """The field holding ``key``: a list entity's name is ``DisplayName`` or ``Name``."""
    if key != NAME_KEY:
        return key
    return "DisplayName" if entity in ("customer", "vendor") else "Name"


def index_key(key: str, value: str) -> str:
    """Names are unique regardless of case; document numbers exactly."""
    return value.lower() if key == NAME_KEY else value


def display_name(body: Mapping[str, Any]) -> str:
    if isinstance(body.get("DisplayName"), str) and body["DisplayName"].strip():
        return body["DisplayName"]
    parts = [body.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
    name = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    return name or (body.get("CompanyName") or "")


def check_required(kind: Kind, body: Mapping[str, Any]) -> None:
    for key in REQUIRED.get(kind.name, ()):
        value = body.get(key)
        if value is None or value == [] or value == "":
            raise faults.required(key)
    if kind.name in ("Customer", "Vendor") and not display_name(body):
        raise faults.required("DisplayName")
    if kind.name == "Account" and not (body.get("AccountType") or body.get("AccountSubType")):
        raise faults.required("AccountType")
    if kind.name == "Item":
        for key in ITEM_ACCOUNTS.get(body.get("Type") or "Service", ()):
            if not body.get(key):
                raise faults.required(key)
    for line in body.get("Line") or []:
        detail_type = line.get("DetailType")
        # a Payment line is Amount + LinkedTxn, and so is a Deposit line depositing a payment
        # (Intuit's Deposit reference: "LinkedTxn … Required for deposit of a payment")
        if not detail_type and kind.name != "Payment" and not (
                kind.name == "Deposit" and line.get("LinkedTxn")):
            raise faults.required("Line.DetailType")
        if line.get("Amount") is None and detail_type not in ("SubTotalLineDetail",
                                                               "DescriptionOnly"):
            raise faults.required("Line.Amount")
        if kind.name == "JournalEntry":
            if detail_type != "JournalEntryLineDetail":
                raise faults.validation(
                    "Request has invalid or unsupported property", "2010",
                    f"Property Name:Line.DetailType {detail_type} specified is unsupported or "
                    f"invalid; a JournalEntry line is a JournalEntryLineDetail", "Line.DetailType")
            detail = line.get("JournalEntryLineDetail")
            if not isinstance(detail, Mapping):
                raise faults.required("Line.JournalEntryLineDetail")
            for key in ("PostingType", "AccountRef"):
                if not detail.get(key):
                    raise faults.required(f"Line.JournalEntryLineDetail.{key}")
        elif detail_type == "SalesItemLineDetail" and kind.name in ("Invoice", "CreditMemo",
                                                                    "RefundReceipt", "SalesReceipt"):
            detail = line.get("SalesItemLineDetail")
            if not isinstance(detail, Mapping) or not detail.get("ItemRef"):
                raise faults.required("Line.SalesItemLineDetail.ItemRef")


def ref_table(key: str) -> str:
    if key.endswith("AccountRef"):
        return "account"
    return {"CustomerRef": "customer", "ItemRef": "item", "VendorRef": "vendor",
            "TaxCodeRef": "taxcode"}[key]


REF_KEYS = ("CustomerRef", "ItemRef", "VendorRef", "TaxCodeRef")


def references_in(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """Every (path, key, reference) in ``value`` that points at a list entity."""
    if isinstance(value, list):
        for item in value:
            yield from references_in(item, path)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key.endswith("AccountRef") or key in REF_KEYS or (
                key in ("Entity", "EntityRef") and isinstance(item, Mapping)):
            yield path, key, item
        elif isinstance(item, (dict, list)):
            yield from references_in(item, path + (key,))


def to_amount(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        return Decimal(0)
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    return Decimal(str(value))


def entity_total(name: str, entity: Mapping[str, Any]) -> Decimal:
    lines = entity.get("Line") or []
    if name == "JournalEntry":
        return sum((to_amount(line.get("Amount")) for line in lines
                    if (line.get("JournalEntryLineDetail") or {}).get("PostingType") == "Debit"),
                   Decimal(0))
    if name == "Payment":
        return to_amount(entity.get("TotalAmt"))
    if name in ("Deposit", "Purchase"):
        return sum((to_amount(line.get("Amount")) for line in lines), Decimal(0))
    total = Decimal(0)
    for line in lines:
        if line.get("DetailType") in ADDING_LINES:
            total += to_amount(line.get("Amount"))
        elif line.get("DetailType") == DISCOUNT_LINE:
            total -= to_amount(line.get("Amount"))
    return total


__all__ = ["NAME_KEY", "REF_KEYS", "as_qbo_reads", "check_currency_places", "check_required",
           "check_sync_token", "check_xsd", "display_name", "entity_key", "entity_total",
           "inactive_reference", "index_key", "linked_invoices", "ref_table", "references_in",
           "to_amount"]
