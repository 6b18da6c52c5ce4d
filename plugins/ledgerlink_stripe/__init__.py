"""The built-in Stripe connector: signed webhooks in, its triggers, its API actions, ``stripe.money``.

An ordinary ledgerlink plugin (entry point ``stripe`` in the ``ledgerlink`` group); it uses
nothing a third-party package could not.

- Connector ``stripe``: verifies ``Stripe-Signature`` (:mod:`ledgerlink_stripe.signature`)
  and parses the event in the body (:mod:`ledgerlink_stripe.webhook`).
- Triggers ``stripe.<event type>`` for :data:`EVENT_TYPES`. Each has a JSON Schema
  (``schemas/<type>.json``) that accepts the 2023-08-16 and the Basil (2025-03-31.basil
  and later) shapes, and a sample event (``samples/<type>.json``, derived from Stripe's
  MIT-licensed OpenAPI fixtures; licence in ``samples/LICENSE.stripe-openapi.txt``).
  An event of a type not in :data:`EVENT_TYPES` is still accepted, stored and ignored.
- Actions ``stripe.mark_invoice_paid``, ``stripe.add_invoice_note``,
  ``stripe.retrieve_invoice`` and ``stripe.list_balance_transactions``
  (:mod:`ledgerlink_stripe.actions`), on Stripe's API (:mod:`ledgerlink_stripe.api`: the
  key, ``Stripe-Version``, ``Stripe-Account``, form bodies, pages, errors).
- Transform ``stripe.money``: minor units to a ``Decimal`` by Stripe's own currency
  exponents (:mod:`ledgerlink_stripe.money`).
- Its part in ``ledgerlink demo``: example deliveries (:mod:`ledgerlink_stripe.examples`) and a
  simulated day on its sandbox (:mod:`ledgerlink_stripe.demo`).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ledgerlink import hookimpl, jsonio
from ledgerlink.contract import Connector, Transform, Trigger, Webhook

from . import api, examples, money, polling
from . import enrich, history, links
from .actions import ACTIONS
from .webhook import parse_webhook, verify_webhook
from .demo import DEMO_SOURCE
from .reconcile import RECONCILE

#: Stripe event types registered as triggers, with each trigger's summary
EVENT_TYPES: dict[str, str] = {
    "invoice.paid": "An invoice was paid in full.",
    "invoice.finalized": "A draft invoice was finalized and is open for payment.",
    "invoice.payment_failed": "A payment attempt on an invoice failed.",
    "credit_note.created": "A credit note was issued against an invoice.",
    "charge.refunded": "A charge was refunded, in full or in part.",
    "payout.paid": "A payout is expected to be available in the bank account.",
    "payout.failed": "A payout failed; its amount returns to the Stripe balance.",
    "invoice.voided": "An invoice was voided and can no longer be paid.",
    "invoice.marked_uncollectible": "An invoice was marked uncollectible (a bad debt).",
    "charge.succeeded": "A payment succeeded, with or without an invoice.",
    "charge.dispute.created": "A customer disputed a charge (a chargeback or an inquiry).",
    "charge.dispute.funds_withdrawn": "The disputed amount and the dispute fee left the Stripe balance.",
    "charge.dispute.funds_reinstated": "Funds withdrawn for a won dispute came back to the Stripe balance.",
    "charge.dispute.closed": "A dispute was closed: won, lost or a closed inquiry.",
    "customer.created": "A customer was created.",
    "customer.updated": "A customer's details changed (data.previous_attributes holds the old values).",
    "product.created": "A product was created.",
    "product.updated": "A product's details changed (data.previous_attributes holds the old values).",
}

#: what makes one occurrence of each trigger (``Trigger.occurrence_path``): the object the
#: event is about where Stripe sends one such event per object, the refund for
#: charge.refunded (a charge may be refunded several times); absent: every event its own
OCCURRENCE_PATHS: dict[str, str] = {
    **{kind: "$.data.object.id" for kind in (
        "invoice.paid", "invoice.finalized", "invoice.voided", "invoice.marked_uncollectible",
        "credit_note.created", "charge.succeeded", "charge.dispute.created",
        "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated", "charge.dispute.closed",
        "payout.paid", "payout.failed", "customer.created", "product.created")},
    "charge.refunded": "$.refund.id",
}

#: what an enriched trigger's events carry (said in its summary)
ENRICHMENT = {
    "invoice.paid": "With an api_key: $.event.balance_transaction (fee, net, exchange rate of the payment).",
    "charge.succeeded": "With an api_key: $.event.balance_transaction (fee, net, exchange rate).",
    "charge.refunded": "With an api_key: $.event.refund and its $.event.balance_transaction.",
    "payout.paid": "With an api_key: $.event.balance_transactions (every one paid out) and $.event.summary.",
}
#: why a trigger without history has none (said in its summary)
NO_HISTORY = ("No backfill: Stripe keeps an object's present state only, not each change or "
              "failed attempt, so its past events cannot be listed.")

API_BASE = api.API_BASE
#: Stripe's test-mode limit, 25 requests a second (docs.stripe.com/rate-limits), for a
#: connection whose key is not known to be live; a live key gets :data:`api.LIVE_LIMITS`
LIMITS = api.TEST_LIMITS
DEFAULT_TOLERANCE = 300

SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Stripe connection settings",
    "type": "object",
    "properties": {
        "webhook_secret": {
            "type": "string",
            "minLength": 1,
            "description": "The webhook endpoint's signing secret (whsec_…), written as an "
                           "${ENV_VAR} reference, e.g. \"${STRIPE_WEBHOOK_SECRET}\". Required to "
                           "receive webhooks: unsigned Stripe webhooks are never accepted.",
            "examples": ["${STRIPE_WEBHOOK_SECRET}"],
        },
        "webhook_secrets": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "description": "More signing secrets, each an ${ENV_VAR} reference, accepted while a "
                           "secret is being rolled: a request is genuine when it matches any of "
                           "these or webhook_secret.",
            "examples": [["${STRIPE_WEBHOOK_SECRET_OLD}", "${STRIPE_WEBHOOK_SECRET_NEW}"]],
        },
        "tolerance_seconds": {
            "type": "integer",
            "minimum": 1,
            "default": DEFAULT_TOLERANCE,
            "description": "How many seconds a signature stays valid: a request whose timestamp "
                           "is further in the past, or in the future, than this is refused. "
                           "Stripe's own default is 300.",
        },
        "api_key": {
            "type": "string",
            "minLength": 1,
            "description": "A Stripe secret key (sk_live_…/sk_test_…) or restricted key "
                           "(rk_live_…/rk_test_…) as an ${ENV_VAR} reference, for the Stripe "
                           "actions, enrichment, polling and backfill (docs.stripe.com/keys). Sent "
                           "as Authorization: Bearer, redacted everywhere ledgerlink shows a request; "
                           "any other value (a publishable pk_ key) is refused. Not needed to receive "
                           "webhooks (without it, events are not enriched). A restricted key needs "
                           "read access to events, invoices, charges, payment intents, refunds, "
                           "disputes, balance transactions, payouts, customers, products and credit notes, "
                           "and write access to invoices for the write actions. "
                           "Requests are kept under Stripe's limits (docs.stripe.com/rate-limits): "
                           "100 per second for a live key (sk_live_…/rk_live_…), 25 for a test key; "
                           "[connections.NAME.limits] in ledgerlink.toml overrides them (e.g. "
                           "requests = 50, per_seconds = 1.0 to leave room for other apps).",
            "examples": ["${STRIPE_API_KEY}"],
        },
        "api_version": {
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}(\\.[a-z]+)?$",
            "default": api.DEFAULT_API_VERSION,
            "description": "The Stripe-Version header of every request of this connection, which "
                           "pins the shape of Stripe's answers (docs.stripe.com/api/versioning); "
                           f"default {api.DEFAULT_API_VERSION}.",
        },
        "stripe_account": {
            "type": "string",
            "pattern": "^acct_",
            "description": "A connected account (acct_…) to act on, sent as the Stripe-Account "
                           "header (docs.stripe.com/connect/authentication); unset: the key's own "
                           "account.",
        },
        "poll_since": {
            "type": "string",
            "pattern": polling.SINCE_PATTERN,
            "description": "Where the first poll of /v1/events starts when the connection polls "
                           "(poll_seconds): an ISO date or date-time, UTC unless it names an "
                           "offset, e.g. \"2026-11-01\". Unset: the first poll starts now and "
                           "replays nothing (ledgerlink backfill imports history). Stripe lists "
                           "the last 30 days of events only (docs.stripe.com/api/events/list); "
                           "an older start is reported with the backfill that covers the rest.",
            "examples": ["2026-11-01", "2026-11-01T09:00:00Z"],
        },
        "api_base": {
            "type": "string",
            "pattern": "^https?://",
            "default": API_BASE,
            "description": "Base URL of the Stripe API (default https://api.stripe.com); "
                           "change it only to point at a sandbox on loopback "
                           "(ledgerlink sandbox stripe) or stripe-mock.",
        },
    },
    "additionalProperties": False,
}


def _resource(folder: str, name: str) -> bytes:
    return resources.files(__name__).joinpath(folder, name).read_bytes()


@cache
def _schema(event_type: str) -> dict[str, Any]:
    return json.loads(_resource("schemas", f"{event_type}.json"))


def event_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a Stripe event of ``event_type``, e.g. ``"invoice.paid"``.

    A new copy each call, so callers may change it. ``KeyError`` for a type without a trigger.
    """
    if event_type not in EVENT_TYPES:
        raise KeyError(f"no Stripe trigger for event type {event_type!r}; "
                       f"known: {', '.join(EVENT_TYPES)}")
    return json.loads(json.dumps(_schema(event_type)))


def sample_event(event_type: str) -> dict[str, Any]:
    """The sample event of ``event_type`` (numbers as ``int``/``Decimal``), a new copy each call:
    the event as Stripe delivers it (``samples/<type>.json``) with, for a trigger that
    enriches its events, the keys its ``fetch`` adds (``samples/enriched/<type>.json``)."""
    if event_type not in EVENT_TYPES:
        raise KeyError(f"no Stripe trigger for event type {event_type!r}; "
                       f"known: {', '.join(EVENT_TYPES)}")
    sample = jsonio.loads(_resource("samples", f"{event_type}.json"))
    if event_type in enrich.FETCHES:
        sample.update(jsonio.loads(_resource("samples", f"enriched/{event_type}.json")))
    return sample


@hookimpl
def ledgerlink_register_connectors(register):
    """Register the ``stripe`` connector and its webhook callbacks."""
    register(Connector(
        name="stripe",
        summary="Stripe: signed webhook events about invoices, payments, refunds, disputes, payouts, "
                "customers and products; its API to read balance transactions and mark invoices paid.",
        settings_schema=SETTINGS_SCHEMA,
        secret_settings=("webhook_secret", "webhook_secrets", "api_key"),
        default_settings={"api_base": API_BASE, "tolerance_seconds": DEFAULT_TOLERANCE},
        webhook=Webhook(verify=verify_webhook, parse=parse_webhook, sign=examples.sign_webhook),
        examples=examples.examples,
        auth=api.auth,
        check_credentials=api.check_credentials,
        limits=LIMITS,
        limits_for=api.limits_for,
        poll=polling.stripe_poll(lambda: list(EVENT_TYPES)),
        demo_source=DEMO_SOURCE,
        reconcile=RECONCILE,
        entity_url=links.entity_url,
    ))


@hookimpl
def ledgerlink_register_triggers(register):
    """Register one trigger per entry of :data:`EVENT_TYPES`: on a connection with an
    ``api_key``, four enrich their events (:mod:`ledgerlink_stripe.enrich`); each names what
    makes one occurrence (:data:`OCCURRENCE_PATHS`) and all but three list their past for
    backfill (:mod:`ledgerlink_stripe.history`). ``docs/stripe.md`` lists them all."""
    for event_type, summary in EVENT_TYPES.items():
        fetch = enrich.FETCHES.get(event_type)
        listing = history.LISTINGS.get(event_type)
        register(Trigger(
            name=f"stripe.{event_type}",
            summary=" ".join(part for part in (summary, ENRICHMENT.get(event_type),
                                               None if listing else NO_HISTORY) if part),
            event_schema=event_schema(event_type),
            sample=sample_event(event_type),
            status="stable",
            source_id_path="$.data.object.id",
            entity=event_type.rsplit(".", 1)[0], changed_at_path="$.created",
            fetch=fetch,
            fetch_for=enrich.fetch_for if fetch else None,
            occurrence_path=OCCURRENCE_PATHS.get(event_type, ""),
            history=history.history_of(event_type) if listing else None,
        ))


@hookimpl
def ledgerlink_register_actions(register):
    """Register the Stripe actions (:mod:`ledgerlink_stripe.actions`)."""
    for action in ACTIONS:
        register(action)


@hookimpl
def ledgerlink_register_transforms(register):
    """Register ``stripe.money``."""
    register(Transform(
        name="stripe.money",
        summary="A Stripe amount in minor units to a Decimal, by Stripe's own currency "
                "exponents (JPY 0, KWD 3, ISK 2, most others 2).",
        apply=money.apply,
        params_schema=money.PARAMS_SCHEMA,
    ))


__all__ = ["API_BASE", "EVENT_TYPES", "LIMITS", "NO_HISTORY", "OCCURRENCE_PATHS", "SETTINGS_SCHEMA",
           "event_schema", "sample_event"]
