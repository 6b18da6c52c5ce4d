"""The built-in QuickBooks Online connector: an ordinary ledgerlink plugin.

It is listed under the ``ledgerlink`` entry-point group (``quickbooks =
"ledgerlink_quickbooks"``) and registers, through the same hooks a third-party package
uses, the ``quickbooks`` connector and its actions: ``create_journal_entry``,
``create_invoice``, ``create_payment``, ``create_credit_memo``, ``create_refund_receipt``,
``create_deposit``, ``create_transfer``, ``create_purchase``, ``create_sales_receipt``,
``find_customer``, ``find_or_create_customer``, ``find_item``,
``find_or_create_item``, ``find_account``, ``void_invoice``, ``update_invoice``,
``update_customer`` and ``update_item``.

Modules: :mod:`.api` (pinned minor version, URLs, fault classification),
:mod:`.journal_entry`, :mod:`.sales_forms` (invoice, credit memo, refund receipt),
:mod:`.payment`, :mod:`.deposit`, :mod:`.transfer`, :mod:`.purchase` and
:mod:`.sales_receipt` (the actions; :mod:`.account_currencies` checks the currencies of their
accounts), :mod:`.books` (the closed books date), :mod:`.customers`, :mod:`.items` and
:mod:`.accounts` (finding list entities), :mod:`.updates` and :mod:`.item_updates` (void and
sparse updates) on
:mod:`.synctoken` (read the SyncToken, write, on a stale one read again and retry once);
QuickBooks' own rules on top of :mod:`ledgerlink.contract` are :mod:`.fields` (reading an
input: amounts, text, currency, references), :mod:`.queries` (the query language, matching
a stored entity) and :mod:`.creates` (the one shape of a create action); :mod:`.demo` (its
part in ``ledgerlink demo``: a connection to its sandbox, the amount a refused input was to
book).

Its loopback sandbox is a separate distribution, ``ledgerlink-sandboxes``
(``ledgerlink_sandboxes.quickbooks``), written from Intuit's documentation alone, so the
connector and the imitation it is tested against cannot share a mistake.
"""

from __future__ import annotations

from dataclasses import replace

from ledgerlink import hookimpl
from ledgerlink.contract import Connector, Limits
from ledgerlink.contract.entries import read_entry
from ledgerlink.contract.reconcile import CLEARING_TIMEZONE_SCHEMA, CLEARING_TIMEZONE_SETTING

from .api import DEFAULT_BASE_URL, MINORVERSION, auth_headers
from .fields import DEFAULT_HOME_CURRENCY
from .demo import DEMO
from .deposit import ACTION as CREATE_DEPOSIT
from .links import entity_url as ENTITY_URL
from .journal_entry import ACTION as CREATE_JOURNAL_ENTRY
from .payment import ACTION as CREATE_PAYMENT
from .purchase import ACTION as CREATE_PURCHASE
from .sales_receipt import ACTION as CREATE_SALES_RECEIPT
from .transfer import ACTION as CREATE_TRANSFER
from .sales_forms import CREATE_CREDIT_MEMO, CREATE_INVOICE, CREATE_REFUND_RECEIPT
from .customers import FIND_CUSTOMER, FIND_OR_CREATE_CUSTOMER
from .items import FIND_ITEM, FIND_OR_CREATE_ITEM
from .accounts import ACTION as FIND_ACCOUNT
from .item_updates import UPDATE_ITEM
from .updates import UPDATE_CUSTOMER, UPDATE_INVOICE, VOID_INVOICE
from .changes import POLL, TRIGGERS, VERIFIER_SETTING, WEBHOOK
from .oauth import OAUTH
from .references import check_references
from .books import check_company
from .reconcile import RECONCILE

SETTINGS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "QuickBooks Online connection settings",
    "description": "One QuickBooks Online company (realm) reached through Intuit's Accounting "
                   "API v3. Secrets are written as ${ENV_VAR} references; OAuth tokens normally "
                   "come from `ledgerlink connect NAME` and are stored encrypted, not configured.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "base_url": {
            "type": "string",
            "format": "uri",
            "pattern": "^https?://",
            "default": DEFAULT_BASE_URL,
            "description": "API root. Production: https://quickbooks.api.intuit.com; Intuit's "
                           "sandbox companies: https://sandbox-quickbooks.api.intuit.com; tests: "
                           "a loopback sandbox such as http://127.0.0.1:8766.",
        },
        "realm_id": {
            "type": "string",
            "minLength": 1,
            "description": "The company's realm id (Company ID), returned as realmId by the OAuth "
                           "callback and shown in QuickBooks under Settings > Account and "
                           "settings > Billing & subscription. Learned from the consent "
                           "redirect when the connection is made with `ledgerlink connect`.",
        },
        "authorize_url": {
            "type": "string",
            "pattern": "^https?://",
            "default": OAUTH.authorize_url,
            "description": "Intuit's consent screen; a loopback sandbox's /connect/oauth2 in tests.",
        },
        "token_url": {
            "type": "string",
            "pattern": "^https?://",
            "default": OAUTH.token_url,
            "description": "Intuit's token endpoint; a loopback sandbox's /oauth2/v1/tokens/bearer in tests.",
        },
        "home_currency": {
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "default": DEFAULT_HOME_CURRENCY,
            "description": "The company's home currency as an ISO 4217 code (QuickBooks: "
                           "Settings > Account and settings > Advanced > Currency), e.g. \"USD\", "
                           "\"GBP\", \"CAD\". Invoices, payments, credit memos, refund receipts "
                           "and deposits in any other currency must carry an explicit "
                           "ExchangeRate; they are refused without one, never booked at 1:1. "
                           "Default: USD.",
        },
        "clearing_account": {
            "type": "string",
            "minLength": 1,
            "description": "The account Stripe's money is booked into (the clearing bank account "
                           "\"Stripe USD\" of the clearing mode), by its name or Id: `ledgerlink "
                           "reconcile` compares its balance (the TrialBalance report) with Stripe's at "
                           "each payout. Unset (the payout-summary mode): no balance is compared.",
        },
        CLEARING_TIMEZONE_SETTING: CLEARING_TIMEZONE_SCHEMA,
        "client_id": {
            "type": "string",
            "minLength": 1,
            "description": "OAuth 2.0 client id of the app from the Intuit developer portal "
                           "(Keys & credentials); used by `ledgerlink connect` and token refresh.",
        },
        "client_secret": {
            "type": "string",
            "description": "OAuth 2.0 client secret of the app, written as a ${ENV_VAR} "
                           "reference. Secret.",
        },
        "access_token": {
            "type": "string",
            "description": "An OAuth access token (valid 1 hour), written as a ${ENV_VAR} "
                           "reference; only for tests and scripts, since `ledgerlink connect` "
                           "stores and refreshes tokens itself. Secret.",
        },
        "refresh_token": {
            "type": "string",
            "description": "An OAuth refresh token (rolling, about 100 days), written as a "
                           "${ENV_VAR} reference, to seed a connection made outside "
                           "`ledgerlink connect`. Secret.",
        },
        VERIFIER_SETTING: {
            "type": "string",
            "description": "The app's webhook Verifier Token (Intuit developer portal > Webhooks; "
                           "not the client secret), written as a ${ENV_VAR} reference. Deliveries "
                           "to /webhooks/NAME are checked against it (intuit-signature). Secret.",
        },
        "cdc_since": {
            "type": "string",
            "format": "date-time",
            "description": "Where the first change data capture poll starts (ISO 8601 with an "
                           "offset, at most 30 days back), for connections that set poll_seconds. "
                           "Default: the moment polling starts, so history is not replayed.",
        },
    },
}

CONNECTOR = Connector(
    name="quickbooks",
    summary="QuickBooks Online (Intuit Accounting API v3, minorversion "
            f"{MINORVERSION}): journal entries, invoices, payments, credit memos, refund "
            f"receipts, deposits, transfers, expenses and sales receipts, exact to the last digit.",
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=("client_secret", "access_token", "refresh_token", VERIFIER_SETTING),
    oauth=OAUTH,
    check_references=check_references,
    check_company=check_company,
    reconcile=RECONCILE,
    entity_url=ENTITY_URL,
    default_settings={"base_url": DEFAULT_BASE_URL, "realm_id": "REALM_ID"},
    auth=auth_headers,
    demo=DEMO,
    # changes made in QuickBooks: webhooks (ids only; each trigger fetches the entity), and
    # change data capture as the fallback for connections that set poll_seconds
    webhook=WEBHOOK,
    poll=POLL,
    # QuickBooks Online's published per-realm (app + company) limits: 500 requests a minute,
    # batch requests included, and 10 at once; beyond either, HTTP 429 (Intuit blog 2016-08-08,
    # "QuickBooks Online API throttling changes"). The batch endpoint's own 40 batches a minute
    # is not modelled.
    limits=Limits(500, 60.0, concurrent=10),
    # how long QuickBooks keeps a requestid is not published (Intuit blog 2015-04-06, "Request
    # ID update"): assume a day, like Stripe's keys; after that a lost answer is looked up
    # before any resend
    idempotency_key_lifetime=24 * 3600.0,
)


@hookimpl
def ledgerlink_register_connectors(register):
    """Register the ``quickbooks`` connector."""
    register(CONNECTOR)


ACTIONS = (CREATE_JOURNAL_ENTRY, CREATE_INVOICE, CREATE_PAYMENT, CREATE_CREDIT_MEMO,
           CREATE_REFUND_RECEIPT, CREATE_DEPOSIT, CREATE_TRANSFER, CREATE_PURCHASE,
           CREATE_SALES_RECEIPT, FIND_CUSTOMER, FIND_OR_CREATE_CUSTOMER,
           FIND_ITEM, FIND_OR_CREATE_ITEM, FIND_ACCOUNT, VOID_INVOICE, UPDATE_INVOICE,
           UPDATE_CUSTOMER, UPDATE_ITEM)


@hookimpl
def ledgerlink_register_triggers(register):
    """Register the QuickBooks change triggers: payments, invoices and customers created,
    updated, deleted (and invoices voided, customers merged)."""
    for trigger in TRIGGERS:
        register(trigger)


#: what ``ledgerlink export`` shows of a booking: the date, total and currency QuickBooks answered
BOOKED = read_entry(date=("txn_date", "TxnDate"), amount=("total",), currency=("currency", "CurrencyRef"))


@hookimpl
def ledgerlink_register_actions(register):
    """Register the QuickBooks actions (journal entry, invoice, payment, credit memo,
    refund receipt, deposit, transfer, expense, sales receipt, lookups and updates)."""
    for action in ACTIONS:
        register(replace(action, entry=BOOKED) if action.name.startswith("quickbooks.create_") else action)
