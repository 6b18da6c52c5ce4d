"""Build Stripe events for tests, in either API shape, with amounts that add up.

Not a test module. Other tests import it (``from stripe_events import invoice_paid_event``)
to drive recipes with Stripe events in any currency: ``invoice.paid``,
``credit_note.created``, ``charge.refunded`` and ``payout.paid``.

- ``shape="2023-08-16"`` starts from ``tests/vendor/stripe/events/<type>.json``, the
  event files derived from Stripe's 2023-08-16 fixtures;
- ``shape="latest"`` wraps the object of ``tests/vendor/stripe/fixtures3.latest.json`` (the
  Basil-and-later shape: no ``paid``/``charge``/``payment_intent``/``tax``/
  ``total_tax_amounts`` on invoices; ``parent``, ``total_taxes``, ``amount_overpaid``,
  ``issuer`` instead) in the same envelope, with ``api_version`` :data:`LATEST_API_VERSION`.

The fixtures hold stripe-mock filler (random amounts such as ``amount_overpaid:
149300825``); the builders overwrite every amount with consistent values: totals equal
the amount, line amounts sum to it, currency (lower case) is set everywhere, no tax.
Numbers are ``int`` (JSON read with :func:`ledgerlink.jsonio.loads`, never ``float``).
"""

from __future__ import annotations

import hashlib

import copy
import time
from collections.abc import Sequence
from functools import cache
from typing import Any

from ledgerlink import jsonio
from ledgerlink.testing.sandbox_webhooks import hmac_signature
from vendor_files import STRIPE

SHAPES = ("2023-08-16", "latest")
#: api_version written into "latest" events: the first Basil release
LATEST_API_VERSION = "2025-03-31.basil"
TEST_SECRET = "whsec_test_secret"

_EVENT_CREATED = 1700000000
_FINALIZED_AT = 1699999940
#: 2023-11-14T00:00:00Z: Stripe dates a payout's arrival at midnight UTC of the day
_ARRIVAL_DATE = 1699920000


@cache
def _event_text(event_type: str) -> bytes:
    return (STRIPE / "events" / f"{event_type}.json").read_bytes()


@cache
def _latest_fixtures() -> dict[str, Any]:
    return jsonio.loads((STRIPE / "fixtures3.latest.json").read_bytes())["resources"]


def event_file(event_type: str) -> dict[str, Any]:
    """A fresh copy of ``events/<event_type>.json`` (2023-08-16 shape)."""
    return jsonio.loads(_event_text(event_type))


def latest_object(name: str) -> dict[str, Any]:
    """A fresh copy of the ``name`` object (``"invoice"``, ``"charge"``…) of fixtures3.latest.json."""
    return copy.deepcopy(_latest_fixtures()[name])


def wrap_event(event_type: str, obj: dict[str, Any], *, api_version: str = LATEST_API_VERSION,
               event_id: str | None = None, created: int = _EVENT_CREATED) -> dict[str, Any]:
    """``obj`` in the envelope of a Stripe event of ``event_type`` (as Stripe delivers it)."""
    return {
        "id": event_id or f"evt_test_{event_type.replace('.', '_')}",
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def _check(currency: str, amount: int, shape: str,
           line_amounts: Sequence[int] | None) -> tuple[str, list[int]]:
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, not {shape!r}")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"currency must be a 3-letter code, not {currency!r}")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int in minor units, not {amount!r}")
    lines = [amount] if line_amounts is None else list(line_amounts)
    if not lines or any(isinstance(a, bool) or not isinstance(a, int) for a in lines):
        raise TypeError(f"line_amounts must be a non-empty list of ints, not {line_amounts!r}")
    if sum(lines) != amount:
        raise ValueError(f"line_amounts {lines} sum to {sum(lines)}, not to the amount {amount}")
    return currency.lower(), lines


def _key(currency: str, amount: int, shape: str) -> str:
    """``usd_1000_20230816``: the part of test ids that names currency, amount and shape."""
    sign = "m" if amount < 0 else ""
    return f"{currency}_{sign}{abs(amount)}_{'latest' if shape == 'latest' else '20230816'}"


def invoice_paid_event(currency: str, amount: int, shape: str = "2023-08-16",
                       event_id: str | None = None, *,
                       line_amounts: Sequence[int] | None = None) -> dict[str, Any]:
    """An ``invoice.paid`` event for an invoice of ``amount`` minor units in ``currency``.

    The invoice is paid in full: ``status="paid"``, ``amount_due = amount_paid = total =
    subtotal = amount``, ``amount_remaining=0``, ``status_transitions.paid_at`` set. Its
    lines carry ``line_amounts`` (default: one line of ``amount``), which must sum to
    ``amount``. ``shape`` is ``"2023-08-16"`` or ``"latest"``. The event and invoice ids are
    derived from the arguments unless ``event_id`` is given.
    """
    currency, lines = _check(currency, amount, shape, line_amounts)
    key = _key(currency, amount, shape)
    invoice_id = f"in_test_{key}"
    number = "TEST-0001"
    if event_id:  # another event is another invoice, with its own number
        invoice_id = "in_" + event_id.removeprefix("evt_")
        number = "TEST-" + hashlib.sha1(event_id.encode()).hexdigest()[:8].upper()
    if shape == "2023-08-16":
        event = event_file("invoice.paid")
        invoice = event["data"]["object"]
        invoice["paid"] = True
        invoice["tax"] = None
        invoice["total_tax_amounts"] = []
        template = invoice["lines"]["data"][0]
    else:
        invoice = latest_object("invoice")
        event = wrap_event("invoice.paid", invoice)
        invoice.update({
            "amount_overpaid": 0, "parent": None, "from_invoice": None,
            "last_finalization_error": None, "shipping_cost": None, "customer_shipping": None,
            "shipping_details": None, "automatically_finalizes_at": None, "total_taxes": [],
            "total_pretax_credit_amounts": [],
        })
        template = invoice["lines"]["data"][0]
        template["parent"] = {
            "type": "invoice_item_details",
            "invoice_item_details": {"invoice_item": "ii_test_1", "proration": False,
                                     "proration_details": {"credited_items": None},
                                     "subscription": None},
            "subscription_item_details": None,
        }
        template["pretax_credit_amounts"] = []
        template["taxes"] = []
    event["id"] = event_id or f"evt_test_invoice_paid_{key}"
    event["created"] = _EVENT_CREATED
    invoice.update({
        "id": invoice_id, "currency": currency, "status": "paid", "number": number,
        "amount_due": amount, "amount_paid": amount, "amount_remaining": 0,
        "subtotal": amount, "subtotal_excluding_tax": amount, "total": amount,
        "total_excluding_tax": amount, "total_discount_amounts": [], "amount_shipping": 0,
        "attempted": True, "attempt_count": 1, "starting_balance": 0, "ending_balance": 0,
        "post_payment_credit_notes_amount": 0, "pre_payment_credit_notes_amount": 0,
    })
    invoice["status_transitions"].update({"finalized_at": _FINALIZED_AT,
                                          "paid_at": _EVENT_CREATED,
                                          "marked_uncollectible_at": None, "voided_at": None})
    invoice["lines"]["data"] = [_invoice_line(template, invoice_id, currency, line_amount, i, shape)
                                for i, line_amount in enumerate(lines)]
    invoice["lines"]["url"] = f"/v1/invoices/{invoice_id}/lines"
    return event


def _invoice_line(template: dict[str, Any], invoice_id: str, currency: str, amount: int,
                  index: int, shape: str) -> dict[str, Any]:
    line = copy.deepcopy(template)
    line.update({"id": f"il_test_{index + 1}", "amount": amount, "currency": currency,
                 "quantity": 1, "discount_amounts": [], "discounts": [],
                 "description": f"Test line {index + 1}"})
    if shape == "2023-08-16":
        line.update({"amount_excluding_tax": amount, "unit_amount_excluding_tax": str(amount),
                     "tax_amounts": [], "tax_rates": [], "invoice_item": f"ii_test_{index + 1}"})
        line["price"].update({"currency": currency, "unit_amount": amount,
                              "unit_amount_decimal": str(amount)})
    else:
        line.update({"invoice": invoice_id, "subtotal": amount, "quantity_decimal": "1"})
        line["pricing"]["unit_amount_decimal"] = str(amount)
        line["parent"]["invoice_item_details"]["invoice_item"] = f"ii_test_{index + 1}"
    return line


def credit_note_created_event(currency: str, amount: int, shape: str = "2023-08-16",
                              event_id: str | None = None, *,
                              line_amounts: Sequence[int] | None = None,
                              invoice_id: str | None = None) -> dict[str, Any]:
    """A ``credit_note.created`` event: an issued pre-payment credit note of ``amount``.

    ``amount = subtotal = total`` (no tax, no discount); the lines carry ``line_amounts``
    (default one line of ``amount``), which must sum to ``amount``. ``invoice_id`` defaults
    to the id :func:`invoice_paid_event` gives an invoice of the same currency, amount and
    shape.
    """
    currency, lines = _check(currency, amount, shape, line_amounts)
    key = _key(currency, amount, shape)
    credited = invoice_id or f"in_test_{key}"
    note_id = f"cn_test_{key}"
    if shape == "2023-08-16":
        event = event_file("credit_note.created")
        note = event["data"]["object"]
        note.update({"tax_amounts": [], "refund": None})
    else:
        note = latest_object("credit_note")
        event = wrap_event("credit_note.created", note)
        note.update({"pre_payment_amount": amount, "post_payment_amount": 0, "refunds": [],
                     "pretax_credit_amounts": [], "total_taxes": [], "shipping_cost": None})
    templates = note["lines"]["data"]
    event["id"] = event_id or f"evt_test_credit_note_created_{key}"
    event["created"] = _EVENT_CREATED + 10
    note.update({
        "id": note_id, "currency": currency, "invoice": credited, "status": "issued",
        "type": "pre_payment", "amount": amount, "subtotal": amount,
        "subtotal_excluding_tax": amount, "total": amount, "total_excluding_tax": amount,
        "discount_amount": 0, "discount_amounts": [], "amount_shipping": 0,
        "out_of_band_amount": None, "voided_at": None, "number": "TEST-0001-CN-01",
    })
    note["lines"]["data"] = [
        _credit_note_line(templates[min(i, len(templates) - 1)], amount_i, i, shape)
        for i, amount_i in enumerate(lines)]
    note["lines"]["url"] = f"/v1/credit_notes/{note_id}/lines"
    return event


def _credit_note_line(template: dict[str, Any], amount: int, index: int,
                      shape: str) -> dict[str, Any]:
    line = copy.deepcopy(template)
    line.update({"id": f"cnli_test_{index + 1}", "amount": amount, "quantity": 1,
                 "discount_amount": 0, "discount_amounts": [], "tax_rates": [],
                 "unit_amount": amount, "unit_amount_decimal": str(amount),
                 "description": f"Test credit line {index + 1}"})
    if line.get("type") == "invoice_line_item":
        line["invoice_line_item"] = f"il_test_{index + 1}"
    if shape == "2023-08-16":
        line.update({"amount_excluding_tax": amount, "unit_amount_excluding_tax": str(amount),
                     "tax_amounts": []})
    else:
        line.update({"taxes": [], "pretax_credit_amounts": []})
    return line


def _event_of(shape: str, event_type: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh ``event_type`` event in ``shape`` and its object (``name`` in the fixtures)."""
    if shape == "2023-08-16":
        event = event_file(event_type)
        return event, event["data"]["object"]
    obj = latest_object(name)
    return wrap_event(event_type, obj), obj


def charge_refunded_event(currency: str, amount_refunded: int, shape: str = "2023-08-16",
                          event_id: str | None = None, *, amount: int | None = None,
                          customer: str | None = None) -> dict[str, Any]:
    """A ``charge.refunded`` event: a captured charge of ``amount`` minor units in
    ``currency`` (default: ``amount_refunded``, a full refund) of which ``amount_refunded``
    has been refunded, on ``customer`` (default none).

    ``refunded`` is true only when the whole charge is refunded; the refunds list stays
    empty, as in a webhook (Stripe no longer expands it). ``shape`` is ``"2023-08-16"`` or
    ``"latest"``.
    """
    currency, _ = _check(currency, amount_refunded, shape, None)
    amount = amount_refunded if amount is None else amount
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int in minor units, not {amount!r}")
    if not 0 < amount_refunded <= amount:
        raise ValueError(f"amount_refunded {amount_refunded} must be more than 0 and at most "
                         f"the charge's amount {amount}")
    key = _key(currency, amount_refunded, shape)
    charge_id = f"ch_test_{key}"
    event, charge = _event_of(shape, "charge.refunded", "charge")
    event["id"] = event_id or f"evt_test_charge_refunded_{key}"
    event["created"] = _EVENT_CREATED + 20
    charge.update({
        "id": charge_id, "currency": currency, "amount": amount, "amount_captured": amount,
        "amount_refunded": amount_refunded, "captured": True, "paid": True,
        "refunded": amount_refunded == amount, "status": "succeeded", "customer": customer,
        "created": _FINALIZED_AT, "disputed": False,
    })
    charge["refunds"] = {"object": "list", "data": [], "has_more": False,
                         "url": f"/v1/charges/{charge_id}/refunds"}
    return event


def payout_paid_event(currency: str, amount: int, shape: str = "2023-08-16",
                      event_id: str | None = None) -> dict[str, Any]:
    """A ``payout.paid`` event: an automatic payout of ``amount`` minor units in ``currency``
    that has reached the bank (``status="paid"``, arrival at midnight UTC as Stripe dates it).
    ``shape`` is ``"2023-08-16"`` or ``"latest"``.
    """
    currency, _ = _check(currency, amount, shape, None)
    key = _key(currency, amount, shape)
    event, payout = _event_of(shape, "payout.paid", "payout")
    event["id"] = event_id or f"evt_test_payout_paid_{key}"
    event["created"] = _EVENT_CREATED + 30
    payout.update({
        "id": f"po_test_{key}", "currency": currency, "amount": amount, "status": "paid",
        "automatic": True, "created": _FINALIZED_AT, "arrival_date": _ARRIVAL_DATE,
        "failure_code": None, "failure_message": None, "failure_balance_transaction": None,
        "reversed_by": None, "original_payout": None,
    })
    return event


def to_body(event: dict[str, Any]) -> bytes:
    """``event`` as a webhook body (UTF-8 JSON bytes; ``Decimal`` numbers written exactly)."""
    return jsonio.dumps(event, indent=2).encode("utf-8")


def sign(body: bytes, secret: str = TEST_SECRET, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``body`` (``timestamp`` defaults to now), signed as
    Stripe's documentation says (docs.stripe.com/webhooks#verify-manually): ``v1`` is the hex
    HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with the endpoint secret. Signed with the
    sandbox base, not the connector's own code, so a mistake there cannot sign its own tests."""
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={stamp},v1={hmac_signature(secret, str(stamp).encode('ascii') + b'.' + body)}"


__all__ = ["LATEST_API_VERSION", "SHAPES", "TEST_SECRET",
           "charge_refunded_event", "credit_note_created_event", "event_file",
           "invoice_paid_event", "latest_object", "payout_paid_event", "sign", "to_body",
           "wrap_event"]
