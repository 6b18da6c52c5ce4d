"""Example Stripe deliveries for ``ledgerlink demo``, and signing them as Stripe would.

Built from the connector's own sample events (Stripe's published fixtures), with the
currency and amounts changed consistently: an invoice paid in USD, the demo company's home
currency, and invoices paid in JPY (no minor unit) and KWD (three decimals, last digit 0 as
Stripe requires), a duplicate delivery, a refunded charge in USD and a credit note in EUR.
The JPY, KWD and EUR deliveries carry no exchange rate (Stripe's invoice and credit note
events have none), so a recipe that maps none has them refused, never booked at a rate
QuickBooks picks.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

from ledgerlink import jsonio

from . import signature
from .webhook import signing_secrets


def _sample(event_type: str) -> dict[str, Any]:
    from . import sample_event

    return copy.deepcopy(sample_event(event_type))


def invoice_paid(currency: str, amount: int, event_id: str, number: str) -> dict[str, Any]:
    event = _sample("invoice.paid")
    event["id"] = event_id
    invoice = event["data"]["object"]
    invoice["id"] = "in_" + event_id[4:]
    invoice["number"] = number
    invoice["currency"] = currency
    for key in ("amount_due", "amount_paid", "total", "subtotal", "total_excluding_tax", "subtotal_excluding_tax"):
        if key in invoice:
            invoice[key] = amount
    invoice["amount_remaining"] = 0
    lines = invoice.get("lines", {}).get("data", [])
    for i, line in enumerate(lines):
        line["currency"] = currency
        line["amount"] = amount if i == 0 else 0
    return event


def charge_refunded(currency: str, amount: int, event_id: str) -> dict[str, Any]:
    event = _sample("charge.refunded")
    event["id"] = event_id
    charge = event["data"]["object"]
    charge["id"] = "ch_" + event_id[4:]
    charge.update(currency=currency, amount=amount, amount_refunded=amount, amount_captured=amount)
    return event


def credit_note_created(currency: str, amount: int, event_id: str, number: str) -> dict[str, Any]:
    event = _sample("credit_note.created")
    event["id"] = event_id
    note = event["data"]["object"]
    note["id"] = "cn_" + event_id[4:]
    note["number"] = number
    note["currency"] = currency
    for key in ("amount", "total", "subtotal", "total_excluding_tax", "subtotal_excluding_tax"):
        if key in note:
            note[key] = amount
    lines = note.get("lines", {}).get("data", [])
    for i, line in enumerate(lines):
        line["amount"] = amount if i == 0 else 0
    return event


def examples() -> list[tuple[str, bytes]]:
    """(label, raw body) pairs, in the order a demo sends them."""
    stamp = int(time.time())
    usd = jsonio.dumps(invoice_paid("usd", 123456, f"evt_demo_{stamp}_usd", "DEMO-0001")).encode()
    return [
        ("invoice paid, USD 1,234.56", usd),
        ("invoice paid, JPY 12,000 (no minor unit)",
         jsonio.dumps(invoice_paid("jpy", 12000, f"evt_demo_{stamp}_jpy", "DEMO-0002")).encode()),
        ("invoice paid, KWD 5.120 (three decimals)",
         jsonio.dumps(invoice_paid("kwd", 5120, f"evt_demo_{stamp}_kwd", "DEMO-0003")).encode()),
        ("the USD event delivered again (duplicate)", usd),
        ("charge refunded, USD 25.00", jsonio.dumps(charge_refunded("usd", 2500, f"evt_demo_{stamp}_refund")).encode()),
        ("credit note, EUR 10.00",
         jsonio.dumps(credit_note_created("eur", 1000, f"evt_demo_{stamp}_credit", "DEMO-CN-01")).encode()),
    ]


def sign_webhook(body: bytes, secrets: Mapping[str, Any], now: float) -> dict[str, str]:
    """The headers Stripe would send with ``body`` for this connection's first secret."""
    return {"Stripe-Signature": signature.sign(body, signing_secrets(secrets)[0], int(now)),
            "Content-Type": "application/json"}
