"""The built-in FreshBooks connector: an ordinary ledgerlink plugin.

It is listed under the ``ledgerlink`` entry-point group (``freshbooks =
"ledgerlink_freshbooks"``) and registers, through the same hooks a third-party package uses,
the ``freshbooks`` connector, its triggers and its actions: ``find_or_create_client``,
``update_client``, ``create_invoice``, ``mark_invoice_sent``, ``create_payment``, ``create_credit_note``,
``create_expense`` and ``create_other_income``.

Modules:

- :mod:`.settings` (a connection's settings, FreshBooks' addresses and the default rate),
  :mod:`.oauth` (consent, the business chosen from ``users/me``, the bearer, the limits),
  :mod:`.business` and :mod:`.references` (what ``ledgerlink check`` says: the business, its
  currency, and whether the clients, invoices and categories a recipe names exist);
- :mod:`.errors` (FreshBooks' three error shapes read into retry, reconnect, gone or give up)
  and :mod:`.api` (account paths, envelopes, money, searches, pages: the sans-I/O client);
- the actions: :mod:`.clients` (a source customer's client: linked, by its note, or created;
  never two; :mod:`.client_update` sets its names and email), :mod:`.invoice` (invoices, marked sent), :mod:`.payment`, :mod:`.credit_note`,
  :mod:`.expense` (a payout's fees) and :mod:`.other_income` (money without an invoice), on
  :mod:`.fields` (ids, currencies, lines with their taxes) and :mod:`.records` (the source id
  kept on each object and looked up when an answer is lost — FreshBooks has no idempotency
  key — and the undo by ``vis_state``);
- the trigger side: :mod:`.webhook` (callbacks: the handshake, the signature over the form
  fields, the events), :mod:`.callbacks` (the callbacks ``ledgerlink webhooks register``
  makes), :mod:`.triggers` (payments, invoices and clients, each fetched whole),
  :mod:`.polling` (the same events without callbacks) and :mod:`.history` (the payments'
  past, for ``ledgerlink backfill``), on :mod:`.reads`; :mod:`.examples` (callback
  deliveries as FreshBooks posts them, for the conformance suite);
- :mod:`.reconcile`: a period's documents as neutral records, for ``ledgerlink reconcile``.
"""

from __future__ import annotations

from dataclasses import replace

from ledgerlink import hookimpl
from ledgerlink.contract import Connector, Limits
from ledgerlink.contract.entries import read_entry

from .business import check_company
from .client_update import UPDATE_CLIENT
from .clients import FIND_OR_CREATE_CLIENT
from .credit_note import CREATE_CREDIT_NOTE
from .expense import CREATE_EXPENSE
from .invoice import CREATE_INVOICE, MARK_INVOICE_SENT
from .other_income import CREATE_OTHER_INCOME
from .payment import CREATE_PAYMENT
from .reconcile import RECONCILE
from .references import check_references
from .oauth import AUTH_SETTINGS, OAUTH, auth_headers, limits_for
from .settings import (DEFAULT_CONCURRENT, DEFAULT_REQUESTS_PER_MINUTE, DEFAULT_SETTINGS,
                       SECRET_SETTINGS, SETTINGS_SCHEMA)
from . import examples, links, polling, triggers, webhook

CONNECTOR = Connector(
    name="freshbooks",
    summary="FreshBooks: one business's clients, invoices, payments, credit notes, expenses and other income, "
            "exact to the last digit.",
    settings_schema={**SETTINGS_SCHEMA, "properties": {**SETTINGS_SCHEMA["properties"], **polling.SETTINGS}},
    secret_settings=SECRET_SETTINGS,
    default_settings=DEFAULT_SETTINGS,
    oauth=OAUTH,
    check_company=check_company,
    check_references=check_references,
    auth=auth_headers,
    auth_settings=AUTH_SETTINGS,
    # FreshBooks publishes no limits: a conservative default per business (settings.py),
    # which a connection's requests_per_minute replaces
    limits=Limits(DEFAULT_REQUESTS_PER_MINUTE, 60.0, concurrent=DEFAULT_CONCURRENT),
    limits_for=limits_for,
    webhook=webhook.WEBHOOK,
    examples=examples.examples,
    poll=polling.POLL,
    # ledgerlink reconcile: a period's documents (FreshBooks keeps no clearing account)
    reconcile=RECONCILE,
    entity_url=links.entity_url,
)


@hookimpl
def ledgerlink_register_connectors(register):
    """Register the ``freshbooks`` connector."""
    register(CONNECTOR)


ACTIONS = (FIND_OR_CREATE_CLIENT, UPDATE_CLIENT, CREATE_INVOICE, MARK_INVOICE_SENT, CREATE_PAYMENT, CREATE_CREDIT_NOTE,
           CREATE_EXPENSE, CREATE_OTHER_INCOME)


#: what ``ledgerlink export`` shows of a booking: its date, FreshBooks' amount, its currency
BOOKED = read_entry(date=("date", "create_date"), amount=("amount",), currency=("currency_code",))


@hookimpl
def ledgerlink_register_actions(register):
    """Register the FreshBooks actions."""
    for action in ACTIONS:
        register(replace(action, entry=BOOKED) if action.name.startswith("freshbooks.create_") else action)


#: the triggers register through the hook of their own module
ledgerlink_register_triggers = triggers.ledgerlink_register_triggers
