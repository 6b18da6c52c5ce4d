"""A Stripe loopback sandbox: Stripe's v1 API (2023-08-16) for invoicing and payments, in memory.

Built on the sandbox base (:mod:`ledgerlink.testing.sandbox`: rate window, idempotency keys,
the loopback runner; :mod:`ledgerlink.testing.sandbox_webhooks`: the signed webhook sender)
and written from Stripe's API reference (https://docs.stripe.com/api), never from the
connector. Serve it with the base's runner (``ledgerlink sandbox stripe`` serves it on a
fixed port)::

    from ledgerlink.testing.sandbox import running
    from ledgerlink_sandboxes.stripe import create_sandbox

    with running(create_sandbox(seed="demo")) as served:
        ...  # Authorization: Bearer sk_test_sandbox against served.url + "/v1/…"

Endpoints: customers (create, update, retrieve, list), products (create, update incl.
``active``, retrieve, list with ``active``), invoice items (create), invoices
(create, update, finalize, pay incl. ``paid_out_of_band``, void, mark_uncollectible,
retrieve, list), payment intents (create a succeeded card payment; retrieve, list), charges
(retrieve, list), refunds (full and partial), disputes (retrieve, list), balance transactions
(list with ``payout``, ``type``, ``source``, ``created``; retrieve), payouts (create, list,
retrieve), credit notes, events (list with ``type``/``types[]``, ``created``,
``delivery_success``; retrieve) and ``GET /v1/balance``. :mod:`.api` describes Stripe's HTTP
habits it keeps, :mod:`.ledger` and :mod:`.money` the money, :mod:`.store` lists and ids.

**Driven in-process.** ``app.sandbox.account`` is a :class:`~.business.Account` whose methods
(``create_customer``, ``create_product``, ``update_product``, ``create_invoice``,
``pay_invoice``, ``create_payment``, ``refund``, ``dispute``, ``close_dispute``, ``create_credit_note``, ``ledger.payout(…, automatic=True)``,
``ledger.settle``) are what the HTTP API calls; the simulated business (:mod:`.simulate`,
option ``simulate_days`` or ``POST /__sandbox/simulate``) calls them directly and moves
``app.sandbox.clock`` forward through each day. Every call records the same events
and balance transactions as the HTTP request would.

**Deterministic.** Ids come from the seed and a counter, timestamps from the sandbox clock
(by default fixed at ``start`` and moved only by ``clock.advance``), so the same seed and
calls give the same bytes.

Disputes cannot be opened through Stripe's API (a test card number does it in Stripe's test
mode); here ``Account.dispute`` opens one and ``Account.close_dispute`` ends it.
"""

from __future__ import annotations

from typing import Any

#: the options of :func:`create_sandbox`, one line each (``ledgerlink sandbox stripe --set``)
OPTIONS = {
    "seed": "what ids derive from (ledgerlink)",
    "api_keys": "secret keys accepted ([\"sk_test_sandbox\"])",
    "settlement_currency": "the account's settlement currency (usd)",
    "requests_per_second": "requests admitted per key in any second (25, Stripe's test mode)",
    "rate_limit": "enforce the rate (true); false only measures it",
    "start": "Unix time the sandbox clock starts at (1693526400, 2023-09-01)",
    "webhook_url": "where to POST every event, signed (none)",
    "webhook_secret": "the endpoint's signing secret (whsec_sandbox)",
    "webhook_retry_seconds": "retry schedule of unacknowledged webhooks (60, 300, 1800, 3600)",
    "simulate_days": "days of simulated business generated from seed and start at startup (0)",
}


def create_sandbox(**options: Any) -> Any:
    """A WSGI app imitating Stripe; ``app.sandbox`` is its :class:`~.app.StripeSandbox`.

    Options are :data:`OPTIONS` plus ``clock`` / ``wall_clock`` (functions returning
    seconds: rate window, and the business time objects are stamped with) and
    ``signing_clock`` (the ``t`` of webhook signatures, real time by default) for tests. Unknown options raise ``TypeError``, bad values ``ValueError``.
    """
    from .app import StripeSandbox, create_app

    if isinstance(options.get("api_keys"), list):
        options["api_keys"] = tuple(options["api_keys"])
    if isinstance(options.get("webhook_retry_seconds"), list):
        options["webhook_retry_seconds"] = tuple(options["webhook_retry_seconds"])
    return create_app(StripeSandbox(**options))


__all__ = ["OPTIONS", "create_sandbox"]
