"""``quickbooks.create_purchase``: an expense paid from one of the company's accounts.

The booking of what Stripe keeps: a charge's fee (split by fee type where Stripe splits it:
``stripe_fee``, ``application_fee``, ``tax`` on fees to its own account), a dispute's
withdrawn amount and its dispute fee — each paid out of the Stripe clearing account, so the
clearing account follows Stripe's balance. QBO's ``Purchase`` with ``PaymentType`` ``Cash``
(https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/purchase):
``AccountRef`` is the account the money leaves, each line an
``AccountBasedExpenseLineDetail`` naming the expense account it goes to.

The input (``schemas/create_purchase.input.json``): ``AccountRef``, ``Lines`` of
``{Amount, AccountRef, Description?, ClassRef?, TaxCodeRef?}``, an optional vendor
``EntityRef`` (e.g. "Stripe"), ``PaymentType`` (default ``Cash``), ``Total`` (Σ lines must
equal it exactly, e.g. the balance transaction's ``fee``), ``TxnDate``, ``DocNumber``,
``PrivateNote``, ``CurrencyRef`` and ``ExchangeRate``. The paying account may declare its
currency (:mod:`.account_currencies`): it must be the transaction's; an expense account in
a third currency is refused before any request.

``perform`` yields one ``POST …/purchase?minorversion=…&requestid=<key>``; ``find_existing``
queries the purchases of the date and matches account, vendor, note, currency and lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import contract

from . import account_currencies, creates, fields, queries

NAME = "quickbooks.create_purchase"
WHAT = "a QuickBooks expense"
DETAIL = "AccountBasedExpenseLineDetail"
PAYMENT_TYPES = ("Cash", "Check", "CreditCard")
_INPUTS = ("AccountRef", "Lines", "EntityRef", "PaymentType", "Total", "TxnDate", "DocNumber",
           "PrivateNote", "CurrencyRef", "ExchangeRate")
_LINE_KEYS = ("Amount", "AccountRef", "Description", "ClassRef", "TaxCodeRef")


def build_body(data: Mapping[str, Any],
               home_currency: str = fields.DEFAULT_HOME_CURRENCY) -> tuple[dict[str, Any], Decimal]:
    """The QBO ``Purchase`` body for an input, and its total (Σ lines).

    Raises :class:`ledgerlink.errors.InputError` listing every problem with its JSON pointer.
    """
    problems = contract.begin(NAME, WHAT, data, _INPUTS)
    body: dict[str, Any] = {}
    code = fields.currency(data, home_currency, body, problems)
    paid_from: dict[str, str] | None = None
    declared: list[tuple[str, str | None]] = []
    if "AccountRef" in data:
        paid_from, currency = account_currencies.account_ref(data["AccountRef"], "/AccountRef",
                                                             "AccountRef", problems)
        account_currencies.must_be("/AccountRef", currency, code,
                                   "the account the expense is paid from", problems)
        declared.append(("/AccountRef", currency))
    else:
        problems.add("/AccountRef", "missing; give the account the expense is paid from (e.g. "
                                    "the Stripe clearing account)")
    payment_type = data.get("PaymentType", "Cash")
    if payment_type not in PAYMENT_TYPES:
        problems.add("/PaymentType", f"must be one of {', '.join(PAYMENT_TYPES)}, got "
                                     f"{contract.show(payment_type)}")
    if "EntityRef" in data:
        vendor = fields.ref(data["EntityRef"], "/EntityRef", "EntityRef", problems)
        if vendor is not None:
            body["EntityRef"] = {**vendor, "type": "Vendor"}
    fields.txn_fields(data, body, problems)

    lines: list[dict[str, Any]] = []
    amounts: list[Decimal] = []
    for _, where, raw in contract.line_objects(
            data.get("Lines"), _LINE_KEYS, ("Amount", "AccountRef"), problems,
            array_of="expense lines", line_is="an object with Amount and AccountRef"):
        start = problems.count()
        amount = fields.amount_in(raw["Amount"], code, f"{where}/Amount", "Amount", problems)
        account, currency = account_currencies.account_ref(raw["AccountRef"], f"{where}/AccountRef",
                                                           "AccountRef", problems)
        declared.append((f"{where}/AccountRef", currency))
        detail: dict[str, Any] = {"AccountRef": account}
        for key in ("ClassRef", "TaxCodeRef"):
            if key in raw:
                detail[key] = fields.ref(raw[key], f"{where}/{key}", key, problems)
        line: dict[str, Any] = {}
        fields.description(raw, where, line, problems)
        if problems.count() > start:
            continue
        if paid_from is not None and account["value"] == paid_from["value"]:
            problems.add(f"{where}/AccountRef", f"the expense would go to account "
                                                f"{account['value']}, the account it is paid "
                                                f"from; name the expense account (e.g. Stripe fees)")
            continue
        line.update({"Amount": amount, "DetailType": DETAIL, DETAIL: detail})
        lines.append(line)
        amounts.append(amount)
    account_currencies.third_currency(declared, code, home_currency, WHAT, problems)
    problems.raise_if_any()

    computed = contract.total(amounts)
    if "Total" in data:
        expected = fields.amount_in(data["Total"], code, "/Total", "Total", problems)
        if expected is not None and expected != computed:
            difference = contract.minus(computed, expected)
            problems.add("/Total", f"the lines add up to {computed} {code}, but Total is "
                                   f"{expected} {code}: the lines are {difference.copy_abs()} "
                                   f"{code} {'over' if difference > 0 else 'short'}; a fee type "
                                   f"is missing or counted twice")
    problems.raise_if_any()
    body.update({"AccountRef": paid_from, "PaymentType": payment_type, "Line": lines})
    return body, computed


def _signature(lines: Any) -> list[tuple[Decimal | None, str | None]]:
    out = []
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, Mapping) and line.get("DetailType") == DETAIL:
            detail = line.get(DETAIL) if isinstance(line.get(DETAIL), Mapping) else {}
            out.append((contract.answer_decimal(line.get("Amount")),
                        fields.ref_value(detail.get("AccountRef"))))
    return out


def matches(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    """Whether a stored purchase is the one ``body`` creates."""
    return stored.get("PaymentType", body["PaymentType"]) == body["PaymentType"] and \
        queries.same_fields(stored, body, home, refs=("AccountRef", "EntityRef"),
                            texts=("PrivateNote", "DocNumber")) and \
        _signature(stored.get("Line")) == _signature(body.get("Line"))


ACTION = creates.create_action(
    action=NAME, entity="Purchase", endpoint="purchase", what=WHAT,
    summary="Record an expense in QuickBooks Online paid from an account (e.g. Stripe fees or a "
            "dispute withdrawal out of the Stripe clearing account), by expense account.",
    build=build_body, query_keys=("TxnDate",), matches=matches)
perform = ACTION.perform
find_existing = ACTION.find_existing

__all__ = ["ACTION", "NAME", "PAYMENT_TYPES", "build_body", "find_existing", "matches", "perform"]
