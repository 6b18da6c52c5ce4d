"""The Stripe connector's part in ``ledgerlink demo``: a simulated day on its loopback sandbox.

The sandbox (``ledgerlink sandbox stripe``) accepts the test key ``sk_test_sandbox``, sends
every event signed to the webhook endpoint it is given, and has test hooks beside Stripe's
API: ``POST /__sandbox/simulate`` makes days of business (customers, payments in several
currencies with Stripe's fees and exchange rates, refunds, automatic payouts; the demo adds a
payment after the last payout through Stripe's own ``POST /v1/payment_intents``) and
``GET /__sandbox/stats`` counts the webhooks not yet acknowledged. The balance is Stripe's own
``GET /v1/balance`` (https://docs.stripe.com/api/balance/balance_retrieve): available plus
pending, per currency, in Stripe's minor units (:mod:`.money`).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink.contract import Connection, DemoSource, Request, Response
from ledgerlink.errors import DemoError

from .api import API_BASE
from .money import to_major

#: the test key the sandbox always accepts
SANDBOX_KEY = "sk_test_sandbox"
#: the payment made after the simulated days' last payout: 49.00 EUR (minor units, currency)
AFTER_PAYOUT = (4900, "eur")


def _base(connection: Connection) -> str:
    return str(connection.settings.get("api_base") or API_BASE).rstrip("/")


def _answer(response: Response, what: str) -> Any:
    if response.status != 200 or not isinstance(response.json, dict):
        raise DemoError(f"the Stripe sandbox answered {response.status} to {what}: {response.text[:200]}")
    return response.json


def _noun(count: int, noun: str, after: str = "") -> str:
    """``payment in USD`` for one, ``payments in USD`` for any other count."""
    return f"{noun}{'' if count == 1 else 's'}{after}"


def sandbox_options(webhook_url: str, webhook_secret: str) -> Mapping[str, Any]:
    """Send every event to ``webhook_url`` signed with ``webhook_secret``; resend one not
    acknowledged after half a second (Stripe waits longer), and admit every request."""
    return {"webhook_url": webhook_url, "webhook_secret": webhook_secret,
            "webhook_retry_seconds": [0.5, 1.0, 2.0], "rate_limit": False}


def simulate(connection: Connection, days: int) -> Generator[Request, Response, Mapping[str, int]]:
    """``days`` of business from the sandbox clock's day, every payout of it paid, then one
    payment more (:data:`AFTER_PAYOUT`); what it made: customers, invoices paid, payments by
    currency, refunds, disputes, payouts paid and failed, the payment after the payout."""
    answer = _answer((yield Request("POST", f"{_base(connection)}/__sandbox/simulate", json={"days": days})),
                     "the simulation")
    counts = {str(kind): int(count) for kind, count in answer.get("counts", {}).items()}
    made = {_noun(counts.get("customers", 0), "customer"): counts.get("customers", 0),
            _noun(counts.get("invoices", 0), "invoice", " paid"): counts.get("invoices", 0)}
    for kind, count in counts.items():  # payments_usd … as "payments in USD"
        if kind.startswith("payments_") and len(kind) == 12:
            made[_noun(count, "payment", f" in {kind[-3:].upper()}")] = count
    for kind in ("refunds", "disputes", "payouts_paid", "payouts_failed"):
        if counts.get(kind):
            noun, _, how = kind.partition("_")
            made[_noun(counts[kind], noun[:-1], f" {how}" if how else "")] = counts[kind]
    # then a card payment after the last payout, through Stripe's own API (a test card that
    # succeeds at once: https://docs.stripe.com/api/payment_intents/create), so the balance
    # left to pay out next is not empty: a EUR payment settled in the account's currency
    answer = yield Request("POST", f"{_base(connection)}/v1/payment_intents", form=[
        ("amount", str(AFTER_PAYOUT[0])), ("currency", AFTER_PAYOUT[1]), ("confirm", "true"),
        ("payment_method", "pm_card_visa"), ("description", "Card payment after the payout")])
    _answer(answer, "POST /v1/payment_intents")
    made[_noun(1, "payment", " after the payout")] = 1
    return made


def pending(connection: Connection) -> Generator[Request, Response, int]:
    """Webhooks the sandbox has not had acknowledged yet."""
    answer = _answer((yield Request("GET", f"{_base(connection)}/__sandbox/stats")), "the stats")
    return int((answer.get("webhooks") or {}).get("pending", 0))


def balance(connection: Connection) -> Generator[Request, Response, dict[str, tuple[Decimal, str]]]:
    """Stripe's balance per currency: available plus pending, exact."""
    answer = _answer((yield Request("GET", f"{_base(connection)}/v1/balance")), "GET /v1/balance")
    minor: dict[str, int] = {}
    for row in [*answer.get("available", []), *answer.get("pending", [])]:
        currency = str(row["currency"]).lower()
        minor[currency] = minor.get(currency, 0) + int(row["amount"])
    return {currency: (to_major(amount, currency), currency.upper()) for currency, amount in minor.items()}


DEMO_SOURCE = DemoSource(settings={"api_key": SANDBOX_KEY}, address_setting="api_base",
                         sandbox_options=sandbox_options, simulate=simulate, pending=pending, balance=balance)
