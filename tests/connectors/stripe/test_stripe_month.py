"""The sandbox's simulated month (fixed seed) through ledgerlink: by webhooks, then by polling alone.

Each way runs the real runtime on a fresh SQLite database with the recipes of
:mod:`stripe_month` (one per Stripe trigger the month produces, each reading from the same
Stripe sandbox) and asserts the same things (:func:`stripe_month.check_month`): every event
of a handled type stored once, exactly one run per (event, recipe) whose filter accepts it,
none failed. Runs are worked off once the month has been generated, so the sandbox's ids
stay the seed's. Selected with ``-m stripe_month``; nothing reaches beyond loopback and
nothing is timed (the sandbox clock is moved by the simulation).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

import ledgerlink_stripe
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import Worker, WorkerPool
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.stripe import create_sandbox
import stripe_month as month

pytestmark = pytest.mark.stripe_month

HANDLED = set(ledgerlink_stripe.EVENT_TYPES)
SETTINGS = Settings(backoff_base=0.05, backoff_cap=0.2)


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("LL_TEST_STRIPE_KEY", month.KEY)
    monkeypatch.setenv("LL_TEST_STRIPE_WHSEC", month.WHSEC)


class Relay:
    """The webhook endpoint Stripe's sandbox posts to: passes each delivery to ledgerlink's
    app, but answers every ``lose_every``-th one with a 503 after ledgerlink stored it (the
    acknowledgement lost on the way), so the sandbox sends that event again."""

    def __init__(self, lose_every: int) -> None:
        self.app: Any = None
        self.lose_every = lose_every
        self.posts = 0
        self.lost = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Any:
        with self._lock:
            self.posts += 1
            lose = self.posts % self.lose_every == 0
        if not lose:
            return self.app(environ, start_response)
        body = b"".join(self.app(environ, lambda status, headers, exc_info=None: None))
        assert body  # ledgerlink answered; the answer is dropped
        with self._lock:
            self.lost += 1
        start_response("503 Service Unavailable", [("Content-Length", "0")])
        return [b""]


def enriched_types(runtime: Any) -> set[str]:
    """Event types whose trigger enriches the event (has ``fetch``)."""
    return {name.removeprefix("stripe.") for name, trigger in runtime.catalog.triggers.items()
            if name.startswith("stripe.") and trigger.fetch is not None}


def finish(runtime: Any, sandbox: Any, url: str) -> dict[str, int]:
    """Work off every run, then check the month (and enrichment where there is any)."""
    expected = month.expected_runs(sandbox)
    assert len(expected) > 400
    pool = WorkerPool(runtime, 2)
    pool.start()
    try:
        month.wait_until_settled(runtime, runs=len(expected))
    finally:
        pool.stop()
    counts = month.check_month(runtime, sandbox, HANDLED)
    enriched = enriched_types(runtime)
    if enriched:
        with httpx.Client(base_url=f"{url}/v1", headers={"Authorization": f"Bearer {month.KEY}"}) as api:
            assert month.check_enrichment(runtime, sandbox, api, enriched) > 0
    return counts


def test_the_month_through_signed_webhooks_runs_each_event_once_per_recipe(tmp_path, keys):
    relay = Relay(lose_every=97)
    with background(relay) as endpoint:
        app = create_sandbox(seed=month.SEED, start=month.START, rate_limit=False,
                             webhook_url=f"{endpoint.url.rstrip('/')}/webhooks/stripe", webhook_secret=month.WHSEC,
                             webhook_retry_seconds=[0.0])
        sandbox = app.sandbox
        try:
            with running(app) as stripe:
                config = month.write_config(tmp_path / "ledgerlink.toml", stripe.url)
                runtime = build_runtime(db=migrated_db(tmp_path), recipes=month.write_recipes(tmp_path / "recipes"),
                                        config_file=str(config), settings=SETTINGS)
                try:
                    relay.app = create_app(runtime=runtime)
                    made = sandbox.simulate(month.SEED, month.START, month.DAYS)
                    assert made.counts["payments"] >= 300 and made.counts["payouts"] == month.DAYS
                    emitter = sandbox.emitter
                    deadline = time.monotonic() + 240  # every event acknowledged (waited for, not timed)
                    while emitter.pending() and time.monotonic() < deadline:
                        time.sleep(0.05)
                    assert emitter.pending() == 0
                    assert emitter.stats["notified"] == len(month.sandbox_events(sandbox))
                    assert relay.lost > 5 and emitter.stats["failed_attempts"] == relay.lost
                    counts = finish(runtime, sandbox, stripe.url)
                    # every event Stripe sent is stored once, those of other types too
                    assert counts["events"] == len(month.sandbox_events(sandbox))
                    assert runtime.metrics.values["events_duplicate"] == relay.lost
                finally:
                    runtime.close()
        finally:
            sandbox.stop()


def force_due(runtime: Any) -> None:
    with runtime.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE cursors SET due_at = 0 WHERE name LIKE 'poll:%'"))


def test_the_month_through_polling_alone_runs_each_event_once_per_recipe(tmp_path, keys):
    app = create_sandbox(seed=month.SEED, start=month.START, rate_limit=False)
    sandbox = app.sandbox
    with running(app) as stripe:
        config = month.write_config(tmp_path / "ledgerlink.toml", stripe.url, poll_since="2023-09-01")
        runtime = build_runtime(db=migrated_db(tmp_path), recipes=month.write_recipes(tmp_path / "recipes"),
                                config_file=str(config), settings=SETTINGS)
        try:
            worker = Worker(runtime)
            polled: list[int] = []

            def poll_each_morning(day: int) -> None:  # the host polls through the month
                force_due(runtime)
                polled.append(worker.poll("stripe"))

            sandbox.simulate(month.SEED, month.START, month.DAYS, on_day=poll_each_morning)
            force_due(runtime)
            assert worker.poll("stripe") == 1 and set(polled) == {1} and len(polled) > month.DAYS
            [row] = runtime.store.polls()
            assert row["last_error"] is None
            counts = finish(runtime, sandbox, stripe.url)
            # only the handled types are asked for: nothing else is stored
            assert counts["events"] == sum(1 for e in month.sandbox_events(sandbox) if e["type"] in HANDLED)
            # polled again: nothing new, nothing stored twice
            force_due(runtime)
            assert worker.poll("stripe") == 1 and len(month.stored(runtime)) == counts["events"]
        finally:
            runtime.close()
    sandbox.stop()
