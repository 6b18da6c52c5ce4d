"""The Stripe connector's part in ``ledgerlink demo``: a simulated day on its loopback sandbox.

The sandbox (``ledgerlink sandbox stripe``) accepts the test key ``sk_test_sandbox``, sends
every event signed to the webhook endpoint it is given, and has test hooks beside Stripe's
API: ``POST /__sandbox/simulate`` makes days of business (customers, payments in several
currencies with Stripe's fees and exchange rates, refunds, automatic payouts) and
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


def _base(connection: Connection) -> str:
    return str(connection.settings.get("api_base") or API_BASE).rstrip("/")


def _answer(response: Response, what: str) -> Any:
    if response.status != 200 or not isinstance(response.json, dict):
        raise DemoError(f"the Stripe sandbox answered {response.status} to {what}: {response.text[:200]}")
    return response.json


def sandbox_options(webhook_url: str, webhook_secret: str) -> Mapping[str, Any]:
    """Send every event to ``webhook_url`` signed with ``webhook_secret``; resend one not
    acknowledged after half a second (Stripe waits longer), and admit every request."""
    return {"webhook_url": webhook_url, "webhook_secret": webhook_secret,
            "webhook_retry_seconds": [0.5, 1.0, 2.0], "rate_limit": False}


def simulate(connection: Connection, days: int) -> Generator[Request, Response, Mapping[str, int]]:
    """``days`` of business from the sandbox clock's day; what it made: customers, invoices
    paid, payments by currency, refunds, disputes, payouts paid and failed."""
    answer = _answer((yield Request("POST", f"{_base(connection)}/__sandbox/simulate", json={"days": days})),
                     "the simulation")
    counts = {str(kind): int(count) for kind, count in answer.get("counts", {}).items()}
    made = {"customers": counts.get("customers", 0), "invoices paid": counts.get("invoices", 0)}
    for kind, count in counts.items():  # payments_usd … as "payments in USD"
        if kind.startswith("payments_") and len(kind) == 12:
            made[f"payments in {kind[-3:].upper()}"] = count
    for kind in ("refunds", "disputes", "payouts_paid", "payouts_failed"):
        if counts.get(kind):
            made[kind.replace("_", " ")] = counts[kind]
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
