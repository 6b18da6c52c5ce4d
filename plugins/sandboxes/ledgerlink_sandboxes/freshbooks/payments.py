"""Payments (``/accounting/account/{account_id}/payments/payments``), against an invoice
(https://www.freshbooks.com/api/payments; the answer's shape: get_payment_response.json).

A create needs ``invoiceid`` (a live invoice of the business), ``amount`` (``{"amount":
"10.00"}``: the currency is the invoice's; a ``code``, when given, must be it), ``date``
(YYYY-MM-DD) and ``type`` (one of :data:`TYPES`). The payment moves its invoice's ``paid``,
``outstanding`` and status (:func:`.invoices.settle`); deleting it (``vis_state: 1``) moves
them back. Each such change updates the invoice too: its ``invoice.update`` callback event
follows the payment's own. More than the invoice's outstanding amount is refused here: FreshBooks would keep
the excess as the client's credit (an overpayment), which the sandbox does not imitate.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import errors, invoices, resources
from .businesses import Business
from .errors import Problem
from .money import amount_of, money

#: the payment types FreshBooks takes (https://www.freshbooks.com/api/payments)
TYPES = ("Check", "Credit", "Credit Card", "Bank Transfer", "Debit", "PayPal", "2Checkout", "VISA",
         "MASTERCARD", "DISCOVER", "NOVA", "AMEX", "DINERS", "EUROCARD", "JCB", "ACH", "Cash", "Other")


def _invoice(business: Business, number: Any, problems: list[Problem]) -> dict[str, Any] | None:
    found = business.get("invoices", number) if isinstance(number, int) else None
    if found is None or found.get("vis_state") == 1:
        problems.append(Problem(errors.NOT_FOUND, "Invoice not found.", "invoiceid", "payment", str(number)))
        return None
    return found


def _checked(business: Business, fields: dict[str, Any], invoice: dict[str, Any], already: Decimal,
             problems: list[Problem]) -> Decimal | None:
    currency = invoice["currency_code"]
    amount = amount_of(fields.get("amount"), "amount", "payment", currency, problems)
    if amount is not None and amount <= 0:
        problems.append(Problem(errors.INVALID_FIELD, "amount must be more than zero.", "amount.amount", "payment",
                                str(amount)))
    elif amount is not None and amount > Decimal(invoice["outstanding"]["amount"]) + already:
        problems.append(Problem(errors.INVALID_FIELD, "The payment is more than the invoice's outstanding amount.",
                                "amount.amount", "payment", str(amount)))
    if "date" in fields and not resources.DATE.match(str(fields["date"])):
        problems.append(Problem(errors.INVALID_FIELD, "date must be YYYY-MM-DD.", "date", "payment", str(fields["date"])))
    if "type" in fields and fields["type"] not in TYPES:
        problems.append(Problem(errors.INVALID_FIELD, f"type must be one of {', '.join(TYPES)}.", "type", "payment",
                                str(fields["type"])))
    return amount


def create(business: Business, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    problems: list[Problem] = []
    invoice = _invoice(business, fields.get("invoiceid"), problems)
    for required in ("amount", "date", "type"):
        if required not in fields:
            problems.append(Problem(errors.INVALID_FIELD, f"{required} is required.", required, "payment"))
    amount = _checked(business, fields, invoice, Decimal(0), problems) if invoice is not None else None
    if problems or invoice is None or amount is None:
        return None, problems
    payment = {"accounting_systemid": business.account_id, "amount": money(amount, invoice["currency_code"]),
               "bulk_paymentid": None, "clientid": invoice["customerid"], "creditid": None, "date": fields["date"],
               "from_credit": False, "gateway": None, "invoiceid": invoice["id"], "note": fields.get("note", ""),
               "orderid": None, "overpaymentid": None,
               "send_client_notification": fields.get("send_client_notification"), "transactionid": None,
               "type": fields["type"], "updated": business.now(), "vis_state": 0}
    return business.add("payments", payment), []


def update(business: Business, payment: dict[str, Any], changes: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if "invoiceid" in changes and changes["invoiceid"] != payment["invoiceid"]:
        return [Problem(errors.INVALID_FIELD, "A payment cannot move to another invoice.", "invoiceid", "payment")]
    invoice = _invoice(business, payment["invoiceid"], problems)
    if invoice is None:
        return problems
    live = payment.get("vis_state", 0) != 1
    amount = _checked(business, {**changes, "amount": changes.get("amount", payment["amount"])}, invoice,
                      Decimal(payment["amount"]["amount"]) if live else Decimal(0), problems)
    if problems or amount is None:
        return problems
    payment.update({key: changes[key] for key in ("date", "type", "note") if key in changes})
    payment["amount"] = money(amount, invoice["currency_code"])
    return []


def _after(business: Business, payment: dict[str, Any]) -> list[tuple[str, int]]:
    """Settle the payment's invoice: it is updated (``invoice.update`` follows ``payment.*``)."""
    invoice = business.get("invoices", payment["invoiceid"])
    if invoice is None:
        return []
    invoices.settle(business, invoice)
    return [("invoices", invoice["id"])]


PAYMENTS = resources.register(resources.Kind(
    collection="payments", path="payments/payments", singular="payment", create_schema="PaymemtCreateObject",
    update_schema="PaymemtCreateObject", create=create, update=update, event="payment", after=_after))

__all__ = ["PAYMENTS", "TYPES"]
