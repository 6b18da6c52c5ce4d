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

from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink.catalog import Action, ActionContext, Request, Response

from . import common
from .api import deleter
from .common import Problems

NAME = "quickbooks.create_payment"
WHAT = "a QuickBooks payment"
_INPUTS = ("CustomerRef", "TotalAmt", "InvoiceId", "Lines", "DepositToAccountRef",
           "PaymentMethodRef", "PaymentRefNum", "TxnDate", "PrivateNote", "CurrencyRef",
           "ExchangeRate")
_LINE_KEYS = ("InvoiceId", "Amount")

INPUT_SCHEMA = common.load("schemas/create_payment.input.json")
OUTPUT_SCHEMA = common.load("schemas/create_payment.output.json")
SAMPLE = common.load("samples/create_payment.input.json")
SAMPLE_RESPONSE = common.load("samples/create_payment.response.json")


def _invoice_id(value: Any, where: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.add(where, f"InvoiceId must be the QuickBooks Id of the invoice as a non-empty "
                            f"string, e.g. {{\"$path\": \"$.steps.invoice.id\"}}, got "
                            f"{common.show(value)}")
        return None
    return value


def _linked(amount: Decimal, invoice_id: str) -> dict[str, Any]:
    return {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}


def build_body(data: Mapping[str, Any],
               home_currency: str = common.DEFAULT_HOME_CURRENCY) -> tuple[dict[str, Any], Decimal]:
    """The QBO ``Payment`` body for an input, and its ``TotalAmt``.

    Raises :class:`ledgerlink.errors.InputError` listing every problem with its JSON pointer.
    """
    problems = Problems(NAME, WHAT)
    if not isinstance(data, Mapping):
        problems.add("/", f"the input must be an object, got {common.show(data)}")
        problems.raise_if_any()
    common.unknown_keys(data, _INPUTS, "", "input", problems)
    body: dict[str, Any] = {}
    code = common.currency(data, home_currency, body, problems)
    if "CustomerRef" in data:
        customer = common.ref(data["CustomerRef"], "/CustomerRef", "CustomerRef", problems)
        if customer is not None:
            body["CustomerRef"] = customer
    else:
        problems.add("/CustomerRef", "missing; a payment needs the customer who paid (the "
                                     "invoice's customer)")
    amount = None
    if "TotalAmt" in data:
        amount = common.fit_currency(common.money(data["TotalAmt"], "/TotalAmt", "TotalAmt",
                                                  problems),
                                     code, "/TotalAmt", "TotalAmt", problems)
    else:
        problems.add("/TotalAmt", "missing; give the amount received, e.g. the Stripe invoice's "
                                  "amount_paid through \"$as\": \"stripe.money\"")
    if amount is not None:
        body["TotalAmt"] = amount
    for key in ("DepositToAccountRef", "PaymentMethodRef"):
        if key in data:
            value = common.ref(data[key], f"/{key}", key, problems)
            if value is not None:
                body[key] = value
    if "PaymentRefNum" in data:
        value = common.text(data["PaymentRefNum"], "/PaymentRefNum", "PaymentRefNum",
                            common.MAX_DOC_NUMBER, problems)
        if value:
            body["PaymentRefNum"] = value
    common.txn_fields(data, body, problems, doc_number=False)

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
        raw_lines = data["Lines"]
        if not isinstance(raw_lines, (list, tuple)) or not raw_lines:
            problems.add("/Lines", f"must be a non-empty array of {{InvoiceId, Amount}}, got "
                                   f"{common.show(raw_lines)}")
            raw_lines = []
        seen: dict[str, int] = {}
        applied: list[Decimal] = []
        for index, raw in enumerate(raw_lines):
            where = f"/Lines/{index}"
            if not isinstance(raw, Mapping):
                problems.add(where, f"line {index} must be {{\"InvoiceId\": …, \"Amount\": …}}, "
                                    f"got {common.show(raw)}")
                continue
            start = problems.count()
            common.unknown_keys(raw, _LINE_KEYS, where, "line key", problems)
            for key in _LINE_KEYS:
                if key not in raw:
                    problems.add(where, f"line {index} lacks {key}")
            if problems.count() > start:
                continue
            invoice = _invoice_id(raw["InvoiceId"], f"{where}/InvoiceId", problems)
            value = common.fit_currency(common.money(raw["Amount"], f"{where}/Amount", "Amount",
                                                     problems),
                                        code, f"{where}/Amount", "Amount", problems)
            if invoice is None or value is None:
                continue
            if invoice in seen:
                problems.add(f"{where}/InvoiceId", f"invoice {invoice} is already paid by line "
                                                   f"{seen[invoice]}; give one line per invoice")
                continue
            seen[invoice] = index
            applied.append(value)
            lines.append(_linked(value, invoice))
        if amount is not None and applied and common.total(applied) > amount:
            problems.add("/Lines", f"the lines apply {common.total(applied)} {code}, more than "
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
                out.append((str(link.get("TxnId")), common.decimal(line.get("Amount"))))
    return sorted(out, key=lambda pair: pair[0])


def matches(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    """Whether a stored payment is the one ``body`` creates."""
    if common.ref_value(stored.get("CustomerRef")) != body["CustomerRef"]["value"]:
        return False
    if common.decimal(stored.get("TotalAmt")) != body["TotalAmt"]:
        return False
    if "DepositToAccountRef" in body and \
            common.ref_value(stored.get("DepositToAccountRef")) != body["DepositToAccountRef"]["value"]:
        return False
    for key in ("PrivateNote", "PaymentRefNum"):
        if not common.same_text(stored.get(key), body.get(key)):
            return False
    if not common.same_currency(stored, body, home):
        return False
    return _links(stored.get("Line")) == _links(body.get("Line"))


def perform(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Create the payment: yield one POST (requestid = the step's idempotency key), receive
    QBO's answer, return the output. Input problems raise before any request."""
    body, amount = build_body(input, common.home_currency(ctx))
    return (yield from common.post(ctx, NAME, "payment", "Payment", body, amount))


def find_existing(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any] | None]:
    """Look the payment this step created up (read-only): the customer's payments of the
    same date, matched on amount, note, reference, deposit account and linked invoices."""
    home = common.home_currency(ctx)
    body, amount = build_body(input, home)
    where = [f"CustomerRef = {common.quote(body['CustomerRef']['value'])}"]
    if body.get("TxnDate"):
        where.append(f"TxnDate = {common.quote(body['TxnDate'])}")
    found = yield from common.query(ctx, "Payment", where)
    for stored in found:
        if matches(stored, body, home):
            return common.read_output(Response(status=200, json={"Payment": stored}), "Payment",
                                      body, amount)
    return None


ACTION = Action(
    name=NAME,
    summary="Record a customer payment in QuickBooks Online, applied to the invoice(s) it pays "
            "(LinkedTxn), exact to the last digit.",
    input_schema=INPUT_SCHEMA,
    output_schema=OUTPUT_SCHEMA,
    sample=SAMPLE,
    perform=perform,
    sample_response=SAMPLE_RESPONSE,
    status="stable",
    idempotency="key",
    find_existing=find_existing,
    undo=deleter("Payment", "payment"),
)

__all__ = ["ACTION", "NAME", "build_body", "find_existing", "matches", "perform"]
