"""The built-in Xero connector: an ordinary ledgerlink plugin.

It is listed under the ``ledgerlink`` entry-point group (``xero = "ledgerlink_xero"``) and
registers, through the same hooks a third-party package uses, the ``xero`` connector and its
actions: ``find_contact``, ``find_or_create_contact``, ``update_contact``, ``create_invoice``,
``create_credit_note``, ``allocate_credit_note``, ``create_payment``,
``create_manual_journal``, ``create_bank_transaction``, ``create_bank_transfer``,
``void_invoice``, ``find_account``, ``find_item`` and ``find_tax_rate``.

Modules:

- :mod:`.settings` (a connection's settings and Xero's addresses), :mod:`.oauth` (consent
  with PKCE, the organisation chosen from ``GET /connections``, the headers of every
  request), :mod:`.limits` (Xero's limits and the counts its answers say are left),
  :mod:`.organisation` (what ``ledgerlink check`` says: base currency, enabled currencies,
  lock dates) and :mod:`.references` (whether the account codes, tax types and items a
  recipe names exist, are active and of the kind needed);
- :mod:`.errors` (Xero's answers read into retry, reconnect or give up) and :mod:`.api`
  (envelopes, idempotency keys, unit decimals, dates and filters: the sans-I/O client);
- the actions: :mod:`.contacts` (a source customer's contact: linked, by ContactNumber, or
  created; :mod:`.contact_update` sets its name and email), :mod:`.invoice` (sales invoices and credit notes, voiding), :mod:`.allocation`
  (a credit note applied), :mod:`.payment`, :mod:`.manual_journal` (balanced journals),
  :mod:`.bank` (spend or receive money, transfers; :mod:`.legs` a transfer between currencies
  as two legs at Stripe's rate) and :mod:`.lookups` (accounts, items,
  tax rates by code), on :mod:`.fields` (currencies and rates, amounts, codes) and
  :mod:`.undo` (deleting or voiding by status);
- the trigger side: :mod:`.webhook` (signed deliveries, Intent to Receive), :mod:`.triggers`
  (invoices, contacts and credit notes created or updated, each fetched whole),
  :mod:`.polling` (the same events without webhooks) and :mod:`.history` (their past, for
  ``ledgerlink backfill``); :mod:`.examples` (deliveries as Xero posts them, for the
  conformance suite);
- :mod:`.reconcile`: a period's documents as neutral records and the clearing account's
  balance, for ``ledgerlink reconcile``.
"""

from __future__ import annotations

from dataclasses import replace

from ledgerlink import hookimpl
from ledgerlink.contract import Connector
from ledgerlink.contract.entries import read_entry

from .allocation import ACTION as ALLOCATE_CREDIT_NOTE
from .api import IDEMPOTENCY_KEY_LIFETIME
from .bank import CREATE_BANK_TRANSACTION, CREATE_BANK_TRANSFER
from .contact_update import UPDATE_CONTACT
from .contacts import FIND_CONTACT, FIND_OR_CREATE_CONTACT
from .invoice import ACTION as CREATE_INVOICE
from .invoice import CREATE_CREDIT_NOTE, VOID_INVOICE
from .lookups import LOOKUPS
from .manual_journal import ACTION as CREATE_MANUAL_JOURNAL
from .limits import limits, limits_for, read_remaining
from .oauth import AUTH_SETTINGS, OAUTH, auth_headers
from .organisation import check_company
from .payment import ACTION as CREATE_PAYMENT
from .reconcile import RECONCILE
from .references import check_references
from .settings import DEFAULT_SETTINGS, SECRET_SETTINGS, SETTINGS_SCHEMA
from . import examples, links, polling, triggers, webhook

CONNECTOR = Connector(
    name="xero",
    summary="Xero (Accounting API 2.0): one organisation's contacts, invoices, payments and "
            "journals, exact to the last digit.",
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=SECRET_SETTINGS,
    default_settings=DEFAULT_SETTINGS,
    oauth=OAUTH,
    check_company=check_company,
    check_references=check_references,
    auth=auth_headers,
    auth_settings=AUTH_SETTINGS,
    webhook=webhook.WEBHOOK,
    examples=examples.examples,
    poll=polling.POLL,
    # Xero's per-organisation limits: 60 calls a minute, 5 in progress at once, 5,000 a day
    # or 1,000 on the Starter tier (the connection's daily_limit), narrowed to what each
    # answer says is left (https://developer.xero.com/documentation/guides/oauth2/limits)
    limits=limits(),
    limits_for=limits_for,
    read_remaining=read_remaining,
    # Xero keeps an Idempotency-Key about 6 minutes
    # (https://developer.xero.com/documentation/guides/idempotent-requests/idempotency): past it,
    # a write whose answer was lost is looked up (find_existing) before it is sent again
    idempotency_key_lifetime=IDEMPOTENCY_KEY_LIFETIME,
    # ledgerlink reconcile: a period's documents, the clearing account's balance
    reconcile=RECONCILE,
    entity_url=links.entity_url,
)


@hookimpl
def ledgerlink_register_connectors(register):
    """Register the ``xero`` connector."""
    register(CONNECTOR)


ACTIONS = (FIND_CONTACT, FIND_OR_CREATE_CONTACT, UPDATE_CONTACT, CREATE_INVOICE, CREATE_CREDIT_NOTE,
           ALLOCATE_CREDIT_NOTE, CREATE_PAYMENT, CREATE_MANUAL_JOURNAL, CREATE_BANK_TRANSACTION,
           CREATE_BANK_TRANSFER, VOID_INVOICE, *LOOKUPS)


#: what ``ledgerlink export`` shows of a booking: the step's date and currency (a manual
#: journal's: the base currency its answer names), Xero's total
BOOKED = read_entry(date=("Date",), amount=("total", "amount"), currency=("CurrencyCode", "currency"))


@hookimpl
def ledgerlink_register_actions(register):
    """Register the Xero actions."""
    for action in ACTIONS:
        register(replace(action, entry=BOOKED) if action.name.startswith("xero.create_") else action)


#: the triggers register through the hook of their own module
ledgerlink_register_triggers = triggers.ledgerlink_register_triggers
