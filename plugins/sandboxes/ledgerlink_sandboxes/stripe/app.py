"""The Stripe sandbox as a WSGI app: ``/v1`` to :class:`~.api.Api`, signed webhooks, test hooks.

Webhooks (https://docs.stripe.com/webhooks): each event is POSTed alone, as JSON, to the
configured endpoint with ``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"t.body" keyed with the endpoint secret>`` (https://docs.stripe.com/webhooks#verify-manually),
in order, held until acknowledged with a 2xx and retried (the base's
:class:`~ledgerlink.testing.sandbox_webhooks.WebhookEmitter`). ``t`` is the time of sending
(``signing_clock``, real time by default), not the simulated business time the event's
``created`` carries: receivers refuse a signature older than five minutes (stripe-python's
default tolerance), and Stripe signs each attempt when it sends it.

Test hooks, never authenticated or rate-limited: ``POST /__sandbox/advance``
(``{"seconds"}``), ``POST /__sandbox/simulate`` (``{"seed", "start", "days"}``: a
simulated business, :mod:`.simulate`; answers its counts and every payout with the balance
right after it), ``GET /__sandbox/stats`` (requests, throttled, replayed and the webhooks
posted, acknowledged, failed, notified and still ``pending``: not yet acknowledged).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from flask import Flask, Response, request

from ledgerlink import jsonio
from ledgerlink.testing.sandbox_flask import add_clock_routes, response as _send
from ledgerlink.testing.sandbox import RateWindow, SandboxClock
from ledgerlink.testing.sandbox_webhooks import WebhookEmitter, hmac_signature

from . import money
from .api import Api
from .business import Account
from .simulate import Simulation, simulate


def stripe_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Stripe-Signature`` header of ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},v1={hmac_signature(secret, signed)}"


class StripeSandbox:
    """The account, its API and its webhook sender: ``app.sandbox``."""

    def __init__(self, *, seed: str = "ledgerlink", api_keys: tuple[str, ...] = ("sk_test_sandbox",),
                 settlement_currency: str = "usd", requests_per_second: int = 25,
                 rate_limit: bool = True, start: int = 1693526400,
                 webhook_url: str | None = None, webhook_secret: str = "whsec_sandbox",
                 webhook_retry_seconds: tuple[float, ...] = (60.0, 300.0, 1800.0, 3600.0),
                 simulate_days: int = 0, clock: Any = None, wall_clock: Any = None,
                 signing_clock: Any = time.time) -> None:
        if not all(isinstance(key, str) and key.startswith(("sk_test_", "rk_test_"))
                   for key in api_keys):
            raise ValueError("api_keys must be test-mode secret keys (sk_test_…)")
        if isinstance(requests_per_second, bool) or not isinstance(requests_per_second, int) \
                or requests_per_second < 1:
            raise ValueError("requests_per_second must be a positive integer")
        if not isinstance(settlement_currency, str) or not money.supported(settlement_currency):
            raise ValueError(f"settlement_currency must be one of {', '.join(sorted(money.USD_VALUE))}")
        wall = wall_clock or (lambda: float(start))
        self.clock = SandboxClock(clock, wall) if clock else SandboxClock(wall_clock=wall)
        self.account = Account(str(seed), self.clock, settlement_currency.lower())
        rate = RateWindow(self.clock, requests_per_second, 1.0, 10_000, enforce=rate_limit)
        self.api = Api(self.account, tuple(api_keys), rate)
        self.webhook_secret = webhook_secret
        self.signing_clock = signing_clock
        self.emitter: WebhookEmitter[dict[str, Any]] | None = None
        if webhook_url:
            self.emitter = WebhookEmitter(webhook_url, self._render, self._sign,
                                          retry_schedule=tuple(webhook_retry_seconds))
            self.account.store.on_event = self.emitter.notify
            self.account.store.delivered = lambda: self.emitter.stats["notified"] if self.emitter else 0
        self.seed = str(seed)
        #: the last simulated business generated (None: none yet)
        self.simulation: Simulation | None = None
        if isinstance(simulate_days, bool) or not isinstance(simulate_days, int) or simulate_days < 0:
            raise ValueError("simulate_days must be a whole number of days")
        if simulate_days:
            self.simulate(self.seed, start, simulate_days)

    def simulate(self, seed: str, start: int | None, days: int,
                 on_day: Callable[[int], None] | None = None) -> Simulation:
        """Generate a simulated business (:mod:`.simulate`) on the account; ``on_day(day)``
        runs as each day begins (a test reads the API as the business happens)."""
        self.simulation = simulate(self.account, seed, start, days, on_day=on_day)
        return self.simulation

    def _render(self, events: list[dict[str, Any]]) -> bytes:
        event = events[0]
        return jsonio.dumps({**event, "pending_webhooks": 1}, indent=2).encode("utf-8")

    def _sign(self, body: bytes) -> dict[str, str]:
        return {"Stripe-Signature": stripe_signature(self.webhook_secret,
                                                     int(self.signing_clock()), body),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}

    def stop(self) -> None:
        if self.emitter is not None:
            self.emitter.stop()


def create_app(sandbox: StripeSandbox) -> Flask:
    """The WSGI app serving ``sandbox``; ``app.sandbox`` is ``sandbox``."""
    app = Flask("ledgerlink_sandboxes.stripe")
    app.sandbox = sandbox  # type: ignore[attr-defined]

    @app.route("/v1/<path:path>", methods=["GET", "POST", "DELETE"])
    def v1(path: str) -> Response:
        response = _send(sandbox.api.handle(request.method, path,
                                            request.query_string.decode("utf-8", "replace"),
                                            request.get_data(), dict(request.headers)))
        # Stripe's clock, as every HTTP server states it: here the sandbox clock
        response.headers["Date"] = formatdate(sandbox.clock.wall(), usegmt=True)
        return response

    def advance(seconds: Any) -> dict[str, int]:
        sandbox.clock.advance(0 if seconds is None else seconds)
        return {"now": int(sandbox.clock.wall())}

    add_clock_routes(app, advance)

    @app.post("/__sandbox/simulate")
    def simulated() -> Response:
        data = request.get_json(silent=True, force=True) or {}
        try:
            made = sandbox.simulate(str(data.get("seed", sandbox.seed)), data.get("start"),
                                    data.get("days", 30))
        except ValueError as exc:
            return Response(jsonio.dumps({"error": str(exc)}), 400, content_type="application/json")
        return Response(jsonio.dumps(made.as_json()), content_type="application/json")

    @app.get("/__sandbox/stats")
    def stats() -> Response:
        emitter = sandbox.emitter
        return Response(jsonio.dumps({"requests": sandbox.api.requests,
                                      "throttled": sandbox.api.rate.throttled,
                                      "replayed": sandbox.api.idempotency.replayed,
                                      "webhooks": {**emitter.stats, "pending": emitter.pending()}
                                      if emitter else None}),
                        content_type="application/json")

    return app


__all__ = ["StripeSandbox", "create_app", "stripe_signature"]
