"""What the two-way circle tests share (QuickBooks, Xero, FreshBooks): the sandboxes' request
records, the webhook endpoint started before its app, Stripe invoices made through the
Stripe sandbox's API, and waiting until a circle has settled."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import sqlalchemy as sa

from ledgerlink.store.schema import events

AMY = {"name": "Amy's Bird Sanctuary", "email": "birds@intuit.com"}


class Recorded:
    """WSGI middleware: each request a sandbox receives, as (method, path, from ledgerlink)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, bool]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Any:
        ours = environ.get("HTTP_USER_AGENT", "").startswith("ledgerlink")
        with self._lock:
            self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], ours))
        return self.app(environ, start_response)

    def writes(self) -> list[tuple[str, str]]:
        """The writes ledgerlink sent (every method but GET)."""
        with self._lock:
            return [(method, path) for method, path, ours in self.seen if ours and method != "GET"]


class Late:
    """The webhook endpoint, started before the ledgerlink app it passes deliveries to exists."""

    app: Any = None

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if self.app is None:  # not yet: the vendor sends it again
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        return self.app(environ, start_response)


def stripe_post(api: httpx.Client, path: str, **form: Any) -> dict[str, Any]:
    answer = api.post(path, data=form)
    assert answer.status_code == 200, answer.text
    return answer.json()


def stripe_invoice(api: httpx.Client, customer: str, cents: int, **params: Any) -> dict[str, Any]:
    """A finalized Stripe invoice of one line of ``cents`` US cents."""
    stripe_post(api, "/invoiceitems", customer=customer, amount=cents, currency="usd")
    draft = stripe_post(api, "/invoices", customer=customer, currency="usd",
                        pending_invoice_items_behavior="include", **params)
    return stripe_post(api, f"/invoices/{draft['id']}/finalize")


def settled(runtime: Any, stripe: Any, ledger_quiet: Callable[[], bool], runs: int) -> dict[str, int]:
    """Wait (not measure) until the Stripe sandbox and the ledger's (``ledger_quiet``) delivered
    every webhook, every fetch is done and at least ``runs`` runs ended; the runs per status."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        quiet = not stripe.emitter.pending() and ledger_quiet()
        counts = runtime.store.counts()
        if quiet and not runtime.store.fetch_counts().get("pending") and sum(counts.values()) >= runs \
                and not any(counts.get(s) for s in ("pending", "running", "retrying")):
            return counts
        time.sleep(0.05)
    raise AssertionError(f"not settled: runs {runtime.store.counts()}, fetches {runtime.store.fetch_counts()}")


def runs_of(runtime: Any, recipe: str) -> list[dict[str, Any]]:
    return runtime.store.list_runs(recipe_id=recipe)


def stored_events(runtime: Any) -> list[dict[str, Any]]:
    """Every stored event, in the order it was stored (PostgreSQL returns rows in no order
    unless asked)."""
    with runtime.store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.select(events).order_by(events.c.id))]
