"""``quickbooks.create_sales_receipt``: a sale paid on the spot, without an invoice.

The booking of a Stripe charge that no invoice stands behind (a Checkout or Payment Link
charge): the customer, item lines and the money deposited straight into the Stripe
clearing account (``DepositToAccountRef``), at the charge's currency and Stripe's rate. QBO's
``SalesReceipt``
(https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/salesreceipt)
is a sales form like an invoice, so the input is the sales forms' (:mod:`.sales_forms`: item
lines with ``Amount = Qty × UnitPrice`` exactly, one discount, tax codes, ``Total``) plus
``DepositToAccountRef``, ``PaymentMethodRef`` and ``PaymentRefNum``; ``CustomerRef`` is
optional, as in QuickBooks.

``DepositToAccountRef`` may declare the account's currency (:mod:`.account_currencies`):
an account in neither the home currency nor the receipt's is refused before any request.

``perform`` yields one ``POST …/salesreceipt?minorversion=…&requestid=<key>``;
``find_existing`` queries the sales receipts of the customer, date and number and matches
note, currency, deposit account and lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from . import creates, fields, sales_forms

SALES_RECEIPT = sales_forms.Form(
    "quickbooks.create_sales_receipt", "SalesReceipt", "salesreceipt", "a QuickBooks sales receipt",
    customer_required=False, extra=("DepositToAccountRef", "PaymentMethodRef", "PaymentRefNum"),
    required=("DepositToAccountRef",))
NAME = SALES_RECEIPT.action


def build_body(data: Mapping[str, Any],
               home_currency: str = fields.DEFAULT_HOME_CURRENCY) -> tuple[dict[str, Any], Decimal]:
    """The QBO ``SalesReceipt`` body for an input, and its total (Σ item lines − discount).

    Raises :class:`ledgerlink.errors.InputError` listing every problem with its JSON pointer
    (a declared deposit account in a third currency before the form is read).
    """
    return sales_forms.build_body(SALES_RECEIPT, data, home_currency)


def matches(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    """Whether a stored sales receipt is the one ``body`` creates."""
    return sales_forms.matches(SALES_RECEIPT, stored, body, home)


ACTION = creates.create_action(
    action=NAME, entity="SalesReceipt", endpoint="salesreceipt", what=SALES_RECEIPT.what,
    summary="Record a sale paid on the spot in QuickBooks Online (e.g. a Stripe charge without "
            "an invoice), deposited to the Stripe clearing account.",
    build=build_body, query_keys=("CustomerRef", "TxnDate", "DocNumber"), matches=matches)
perform = ACTION.perform
find_existing = ACTION.find_existing

__all__ = ["ACTION", "NAME", "SALES_RECEIPT", "build_body", "find_existing", "matches", "perform"]
