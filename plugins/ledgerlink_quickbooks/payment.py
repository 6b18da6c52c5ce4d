"""``quickbooks.create_payment``: a customer payment applied to the invoice(s) it pays.

The input (``schemas/create_payment.input.json``): ``CustomerRef``, ``TotalAmt`` and either
``InvoiceId`` (the whole amount applied to one invoice, e.g. ``$.steps.invoice.id``) or
``Lines`` of ``{InvoiceId, Amount}`` (several invoices; Σ Amount may not exceed
``TotalAmt``, the rest stays unapplied as the customer's credit). Each applied amount
becomes ``Line[{Amount, LinkedTxn: [{TxnId, TxnType: "Invoice"}]}]``. ``DepositToAccountRef``
names the account the money goes to (Undeposited Funds until a deposit moves it to the bank).

``perform`` yields one ``POST …/payment?minorversion=…&requestid=<key>``; ``find_existing``
queries the customer's payments of the date and matches amount, note, reference and links.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import Problems

from . import account_currencies, creates, fields, queries

NAME = "quickbooks.create_payment"
WHAT = "a QuickBooks payment"
_INPUTS = ("CustomerRef", "TotalAmt", "InvoiceId", "Lines", "DepositToAccountRef",
           "PaymentMethodRef", "PaymentRefNum", "TxnDate", "PrivateNote", "CurrencyRef",
           "ExchangeRate")
_LINE_KEYS = ("InvoiceId", "Amount")


def _invoice_id(value: Any, where: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.add(where, f"InvoiceId must be the QuickBooks Id of the invoice as a non-empty "
                            f"string, e.g. {{\"$path\": \"$.steps.invoice.id\"}}, got "
                            f"{contract.show(value)}")
        return None
    return value


def _linked(amount: Decimal, invoice_id: str) -> dict[str, Any]:
    return {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}


def build_body(data: Mapping[str, Any],
               home_currency: str = fields.DEFAULT_HOME_CURRENCY) -> tuple[dict[str, Any], Decimal]:
    """The QBO ``Payment`` body for an input, and its ``TotalAmt``.

    Raises :class:`ledgerlink.errors.InputError` listing every problem with its JSON pointer.
    """
    data = account_currencies.undeclared(data, ("DepositToAccountRef",), home_currency, WHAT, NAME)
    problems = contract.begin(NAME, WHAT, data, _INPUTS)
    body: dict[str, Any] = {}
    code = fields.currency(data, home_currency, body, problems)
    fields.ref_field(data, "CustomerRef", body, problems,
                     missing="a payment needs the customer who paid (the invoice's customer)")
    amount = None
    if "TotalAmt" in data:
        amount = fields.amount_in(data["TotalAmt"], code, "/TotalAmt", "TotalAmt", problems)
    else:
        problems.add("/TotalAmt", "missing; give the amount received, e.g. the Stripe invoice's "
                                  "amount_paid through \"$as\": \"stripe.money\"")
    if amount is not None:
        body["TotalAmt"] = amount
    fields.payment_fields(data, body, problems)
    fields.txn_fields(data, body, problems, doc_number=False)

    lines: list[dict[str, Any]] = []
    if "InvoiceId" in data and "Lines" in data:
        problems.add("/InvoiceId", "InvoiceId cannot be used together with Lines; give one "
                                   "invoice as InvoiceId (it receives the whole TotalAmt) or "
                                   "several as Lines of {InvoiceId, Amount}")
    elif "InvoiceId" in data:
        invoice = _invoice_id(data["InvoiceId"], "/InvoiceId", problems)
        if invoice is not None and amount is not None:
            lines.append(_linked(amount, invoice))
    elif "Lines" in data:
        seen: dict[str, int] = {}
        applied: list[Decimal] = []
        for index, where, raw in contract.line_objects(
                data["Lines"], _LINE_KEYS, _LINE_KEYS, problems, array_of="{InvoiceId, Amount}",
                line_is="{\"InvoiceId\": …, \"Amount\": …}"):
            invoice = _invoice_id(raw["InvoiceId"], f"{where}/InvoiceId", problems)
            value = fields.amount_in(raw["Amount"], code, f"{where}/Amount", "Amount", problems)
            if invoice is None or value is None:
                continue
            if invoice in seen:
                problems.add(f"{where}/InvoiceId", f"invoice {invoice} is already paid by line "
                                                   f"{seen[invoice]}; give one line per invoice")
                continue
            seen[invoice] = index
            applied.append(value)
            lines.append(_linked(value, invoice))
        if amount is not None and applied and contract.total(applied) > amount:
            problems.add("/Lines", f"the lines apply {contract.total(applied)} {code}, more than "
                                   f"TotalAmt {amount} {code}; a payment cannot apply more than "
                                   f"it received")
    else:
        problems.add("/InvoiceId", "missing; give the invoice the payment pays (InvoiceId, e.g. "
                                   "{\"$path\": \"$.steps.invoice.id\"}) or Lines of {InvoiceId, "
                                   "Amount}")
    problems.raise_if_any()
    body["Line"] = lines
    return body, amount


def _links(lines: Any) -> list[tuple[str, Decimal | None]]:
    out = []
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, Mapping):
            continue
        for link in line.get("LinkedTxn") or []:
            if isinstance(link, Mapping) and link.get("TxnType") == "Invoice":
                out.append((str(link.get("TxnId")), contract.answer_decimal(line.get("Amount"))))
    return sorted(out, key=lambda pair: pair[0])


def matches(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    """Whether a stored payment is the one ``body`` creates."""
    return contract.answer_decimal(stored.get("TotalAmt")) == body["TotalAmt"] and \
        queries.same_fields(stored, body, home, refs=("CustomerRef", "DepositToAccountRef"),
                            texts=("PrivateNote", "PaymentRefNum")) and \
        _links(stored.get("Line")) == _links(body.get("Line"))


ACTION = creates.create_action(
    action=NAME, entity="Payment", endpoint="payment", what=WHAT,
    summary="Record a customer payment in QuickBooks Online, applied to the invoice(s) it pays "
            "(LinkedTxn), exact to the last digit.",
    build=build_body, query_keys=("CustomerRef", "TxnDate"), matches=matches)
perform = ACTION.perform
find_existing = ACTION.find_existing

__all__ = ["ACTION", "NAME", "build_body", "find_existing", "matches", "perform"]
