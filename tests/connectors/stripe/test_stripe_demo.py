"""The Stripe connector's part in the demo's books, against its sandbox on loopback: the
sandbox options make it send every event of a simulated day, signed with the demo's secret,
to the demo's endpoint; the day's counts come back; ``pending`` falls to zero once every
event is acknowledged; ``balance`` is Stripe's, exact, per currency."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from ledgerlink.contract import Connection
from ledgerlink.errors import DemoError
from ledgerlink.testing.actions import over_http
from ledgerlink.testing.sandbox import running
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.stripe import create_sandbox
from ledgerlink_stripe.demo import DEMO_SOURCE, SANDBOX_KEY, balance, pending, sandbox_options, simulate
from ledgerlink_stripe.webhook import verify_webhook

import pytest

SECRET = "whsec_demo_test"
AUTH = {"Authorization": f"Bearer {SANDBOX_KEY}"}


class Endpoint:
    """A webhook endpoint that verifies each delivery as ledgerlink's Stripe connection does."""

    def __init__(self) -> None:
        self.verified: list[bytes] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        verify_webhook(headers, body, {"webhook_secret": SECRET}, time.time())  # raises unless signed so
        with self.lock:
            self.verified.append(body)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]


def test_the_demo_reaches_its_sandbox_with_the_key_it_accepts():
    assert DEMO_SOURCE.settings == {"api_key": SANDBOX_KEY} and DEMO_SOURCE.address_setting == "api_base"
    assert DEMO_SOURCE.simulate is simulate and DEMO_SOURCE.balance is balance and DEMO_SOURCE.pending is pending


def test_a_simulated_day_is_sent_signed_and_stripe_s_balance_is_read_exactly():
    endpoint = Endpoint()
    with background(endpoint) as served:
        app = create_sandbox(**sandbox_options(f"{served.url}/webhooks/stripe", SECRET))
        try:
            with running(app) as stripe:
                connection = Connection("stripe", "stripe", {"api_base": stripe.url})
                made = over_http(simulate(connection, 1), AUTH).value
                assert made["customers"] > 0 and made["invoices paid"] > 0 and made["payout paid"] == 1
                assert sum(count for kind, count in made.items() if kind.startswith("payment")) >= 10
                assert made["payment after the payout"] == 1
                deadline = time.monotonic() + 60  # waited for, not timed
                while over_http(pending(connection), AUTH).value and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert over_http(pending(connection), AUTH).value == 0
                assert len(endpoint.verified) == len(app.sandbox.account.store.objects["event"]) > 50

                # the day was paid out: what is left is the payment after the payout, in EUR
                # settled in USD, net of its fee (its charge and balance transaction made through
                # Stripe's own API), and a payment more adds its net, exactly
                ledger = app.sandbox.account.ledger
                [after] = [t for t in ledger.transactions() if t["id"] not in ledger.payout_of
                           and t["type"] not in ("payout", "payout_failure")]
                assert after["exchange_rate"] is not None and 0 < after["net"] < after["amount"]
                assert over_http(balance(connection), AUTH).value == {"usd": (Decimal(after["net"]).scaleb(-2), "USD")}
                app.sandbox.account.create_payment({"amount": 123457, "currency": "kwd", "description": "x"})
                net = sum(t["net"] for t in ledger.transactions())
                assert net > after["net"]
                assert over_http(balance(connection), AUTH).value == {"usd": (Decimal(net).scaleb(-2), "USD")}
        finally:
            app.sandbox.stop()


def test_a_refusal_of_the_sandbox_is_a_demo_error_saying_what_was_asked():
    with running(create_sandbox()) as stripe:
        connection = Connection("stripe", "stripe", {"api_base": stripe.url})
        with pytest.raises(DemoError, match="answered 401 to GET /v1/balance"):
            over_http(balance(connection), {"Authorization": "Bearer sk_test_not_a_key"})
