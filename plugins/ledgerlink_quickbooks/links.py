"""Where a person sees a QuickBooks Online entity: its page in the QuickBooks web app
(``Connector.entity_url``, :mod:`ledgerlink.contract.deeplinks`).

A connection to Intuit's production API (``base_url`` https://quickbooks.api.intuit.com)
links to https://app.qbo.intuit.com; any other (Intuit's sandbox companies, a loopback
sandbox) to https://sandbox.qbo.intuit.com, where sandbox companies are opened. The page of a
transaction is ``/app/<page>?txnId=<Id>``, of a customer ``/app/customerdetail?nameId=<Id>``;
QuickBooks opens it in the company the person last signed in to. Items have no page of their
own: an item links to the products and services list; an account, to its register. A step
of an action that finds (a customer, an item, an account) is linked by the kind it finds.
"""

from __future__ import annotations

from ledgerlink.contract.deeplinks import EntityRef, url_table

from .api import DEFAULT_BASE_URL

PRODUCTION_APP = "https://app.qbo.intuit.com"
SANDBOX_APP = "https://sandbox.qbo.intuit.com"

#: the page of each entity kind the actions and triggers name (``Action.entity``)
PAGES = {
    "Invoice": "/app/invoice?txnId={id}",
    "Payment": "/app/recvpayment?txnId={id}",
    "JournalEntry": "/app/journal?txnId={id}",
    "Deposit": "/app/deposit?txnId={id}",
    "CreditMemo": "/app/creditmemo?txnId={id}",
    "RefundReceipt": "/app/refundreceipt?txnId={id}",
    "SalesReceipt": "/app/salesreceipt?txnId={id}",
    "Purchase": "/app/expense?txnId={id}",
    "Transfer": "/app/transfer?txnId={id}",
    "Customer": "/app/customerdetail?nameId={id}",
    "Vendor": "/app/vendordetail?nameId={id}",
    "Item": "/app/items",
    "Account": "/app/register?accountId={id}",
}
#: the actions that declare no ``entity`` (they find, or find or create): the kind of their id
ACTION_KINDS = {"quickbooks.find_customer": "Customer", "quickbooks.find_or_create_customer": "Customer",
                "quickbooks.find_item": "Item", "quickbooks.find_or_create_item": "Item",
                "quickbooks.find_account": "Account"}
PAGES.update({action: PAGES[kind] for action, kind in ACTION_KINDS.items()})


def app_address(ref: EntityRef) -> str:
    """The QuickBooks web app that shows the connection's company."""
    base = str(ref.settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
    return PRODUCTION_APP if base == DEFAULT_BASE_URL else SANDBOX_APP


entity_url = url_table(app_address, PAGES)
