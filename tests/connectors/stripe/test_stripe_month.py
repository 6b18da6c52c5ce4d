"""The sandbox's simulated month (fixed seed) through ledgerlink: by webhooks, then by polling alone.

Each way runs the real runtime on a fresh SQLite database with the recipes of
:mod:`stripe_month` (one per Stripe trigger the month produces, each reading from the same
Stripe sandbox) and asserts the same things (:func:`stripe_month.check_month`): every event
of a handled type stored once, exactly one run per (event, recipe) whose filter accepts it,
none failed. Polling runs each simulated morning, except for ten days the host is down (the
poll after them catches up over several pages). Runs are worked off once the month has been generated, so the sandbox's ids
stay the seed's. Selected with ``-m stripe_month``; nothing reaches beyond loopback and
nothing is timed (the sandbox clock is moved by the simulation).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

import ledgerlink_stripe
from ledgerlink import jsonio
from ledgerlink.engine.worker import Worker, WorkerPool
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.stripe import create_sandbox
from ledgerlink_stripe.examples import sign_webhook
import stripe_month as month

pytestmark = pytest.mark.stripe_month

HANDLED = set(ledgerlink_stripe.EVENT_TYPES)


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("LL_TEST_STRIPE_KEY", month.KEY)
    monkeypatch.setenv("LL_TEST_STRIPE_WHSEC", month.WHSEC)


def test_the_month_through_signed_webhooks_runs_each_event_once_per_recipe(tmp_path, keys):
    relay = month.Relay(lose_every=97)
    with background(relay) as endpoint:
        app = create_sandbox(seed=month.SEED, start=month.START, rate_limit=False,
                             webhook_url=f"{endpoint.url.rstrip('/')}/webhooks/stripe", webhook_secret=month.WHSEC,
                             webhook_retry_seconds=[0.0])
        sandbox = app.sandbox
        try:
            with running(app) as stripe:
                config = month.write_config(tmp_path / "ledgerlink.toml", stripe.url)
                runtime = month.runtime(tmp_path, config)
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
                    counts = month.finish(runtime, sandbox, stripe.url, HANDLED)
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
        runtime = month.runtime(tmp_path, config)
        try:
            worker = Worker(runtime)
            polled: list[int] = []

            def poll_each_morning(day: int) -> None:  # the host polls through the month,
                if 10 <= day < 20:  # but is down for ten days: the next poll catches up (pages)
                    return
                force_due(runtime)
                polled.append(worker.poll("stripe"))

            sandbox.simulate(month.SEED, month.START, month.DAYS, on_day=poll_each_morning)
            force_due(runtime)
            assert worker.poll("stripe") == 1 and set(polled) == {1} and len(polled) > month.DAYS - 10
            [row] = runtime.store.polls()
            assert row["last_error"] is None
            counts = month.finish(runtime, sandbox, stripe.url, HANDLED)
            # only the handled types are asked for: nothing else is stored
            assert counts["events"] == sum(1 for e in month.sandbox_events(sandbox) if e["type"] in HANDLED)
            # polled again: nothing new, nothing stored twice
            force_due(runtime)
            assert worker.poll("stripe") == 1 and len(month.stored(runtime)) == counts["events"]
        finally:
            runtime.close()
    sandbox.stop()


def test_check_enrichment_accepts_the_sandboxs_transactions_and_catches_a_wrong_one(tmp_path, keys):
    """The helper the enriched month relies on, given payloads enriched by hand from the
    sandbox's own objects: it passes on them and fails on one wrong fee."""
    app = create_sandbox(seed="enriched", start=month.START, rate_limit=False)
    sandbox = app.sandbox
    sandbox.simulate("enriched", month.START, 6)
    store = sandbox.account.store
    txn = lambda ident: store.served(store.get("balance_transaction", ident)) if ident else None  # noqa: E731
    enriched = {"invoice.paid", "charge.succeeded", "charge.refunded", "payout.paid"}
    items = []
    for event in month.sandbox_events(sandbox):
        payload, obj = dict(event), event["data"]["object"]
        if event["type"] == "invoice.paid":
            charge = store.get("charge", obj["charge"]) if obj["charge"] else None
            payload["balance_transaction"] = txn(charge and charge["balance_transaction"])
        elif event["type"] == "charge.succeeded":
            payload["balance_transaction"] = txn(obj["balance_transaction"])
        elif event["type"] == "charge.refunded":
            refund = next(r for r in store.objects["refund"].values()
                          if r["charge"] == obj["id"] and r["created"] == event["created"])
            payload["refund"], payload["balance_transaction"] = refund, txn(refund["balance_transaction"])
        elif event["type"] == "payout.paid":
            members = sandbox.account.ledger.in_payout(obj["id"])
            listed = [txn(t["id"]) for t in reversed(sandbox.account.ledger.transactions())
                      if t["id"] in members and t["source"] != obj["id"]]
            payload["balance_transactions"] = listed
            nets: dict[tuple[str, str], int] = {}
            for t in listed:
                nets[(t["type"], t["currency"])] = nets.get((t["type"], t["currency"]), 0) + t["net"]
            payload["summary"] = {"by_type": [{"type": k, "currency": c, "net": n}
                                              for (k, c), n in nets.items()]}
        else:
            continue
        items.append((event["id"], f"stripe.{event['type']}", jsonio.dumps(payload), []))
    with running(app) as stripe:
        runtime = month.runtime(tmp_path, month.write_config(tmp_path / "ledgerlink.toml", stripe.url))
        try:
            runtime.store.ingest("stripe", items)
            with httpx.Client(base_url=f"{stripe.url}/v1", headers={"Authorization": f"Bearer {month.KEY}"}) as api:
                assert month.check_enrichment(runtime, sandbox, api, enriched) == len(items) > 50
                pk, payload = next((row["id"], jsonio.loads(row["payload"])) for row in month.stored(runtime)
                                   if row["trigger"] == "stripe.charge.succeeded")
                payload["balance_transaction"]["fee"] += 1
                with runtime.store.engine.begin() as conn:
                    conn.execute(sa.text("UPDATE events SET payload = :p WHERE id = :id"),
                                 {"p": jsonio.dumps(payload), "id": pk})
                with pytest.raises(AssertionError):
                    month.check_enrichment(runtime, sandbox, api, enriched)
        finally:
            runtime.close()
    sandbox.stop()


def object_key(sandbox: Any) -> month.Key:
    """What makes one occurrence however its event came: the object the event is about (the
    refund, for charge.refunded). A Stripe event of the sandbox names a refund only through
    its charge and time, so that is how its refund is found."""
    refunds = list(sandbox.account.store.objects["refund"].values())

    def key(event: Any) -> str:
        obj = event["data"]["object"]
        if event["type"] != "charge.refunded":
            return obj["id"]
        if event.get("refund"):
            return event["refund"]["id"]
        [refund] = [r for r in refunds if r["charge"] == obj["id"] and r["created"] == event["created"]]
        return refund["id"]
    return key


def test_the_month_through_backfill_runs_each_object_once_per_recipe(tmp_path, keys, run_cli):
    """No webhook, no poll: after the month, ``ledgerlink backfill`` of every recipe plans one
    run per object its filter accepts (the range reaches past the month's last day: the last
    payout is created two days after it, and backfill selects by creation); each run reads
    its object back and the enriched events match the sandbox's balance transactions; run
    again, it plans nothing more."""
    app = create_sandbox(seed=month.SEED, start=month.START, rate_limit=False)
    sandbox = app.sandbox
    made = sandbox.simulate(month.SEED, month.START, month.DAYS)
    assert made.counts["payments"] >= 300 and made.counts["payouts"] == month.DAYS
    with running(app) as stripe:
        config = month.write_config(tmp_path / "ledgerlink.toml", stripe.url)
        runtime = month.runtime(tmp_path, config)
        try:
            db, folder = runtime.store.url, str(tmp_path / "recipes")
            for again in (False, True):
                planned = 0
                for recipe in month.RECIPES:
                    code, out, err = run_cli("backfill", recipe, "--since", "2023-09-01", "--until", "2023-10-05",
                                             "--json", "--db", db, "--recipes", folder, "--config", str(config))
                    assert code == 0, err
                    counts = jsonio.loads(out)
                    planned += counts["runs_planned"]
                    if again:
                        assert counts["runs_planned"] == 0 and counts["already_planned"] > 0, (recipe, counts)
                if not again:
                    key = object_key(sandbox)
                    assert planned == len(month.expected_runs(sandbox, key))
                    # backfill stores the objects it plans runs for (a filter's "no" stores
                    # nothing), so what is checked is the runs: one per accepted object
                    counts = month.finish(runtime, sandbox, stripe.url, set(), key=key)
                    # then the first week's webhooks arrive late: each is stored, enriched
                    # where its trigger enriches, and plans nothing its object already ran
                    late = [e for e in month.sandbox_events(sandbox) if e["created"] < month.START + 7 * 86400]
                    late_keys = {(f"stripe.{e['type']}", key(e)) for e in late if e["type"] in HANDLED}
                    already = [run for run in month.expected_runs(sandbox, key) if run[0] in late_keys]
                    assert len(already) > 50
                    for event in late:
                        body = jsonio.dumps(event).encode()
                        headers = sign_webhook(body, {"webhook_secret": month.WHSEC}, time.time())
                        runtime.inbox.receive("stripe", headers, body)
                    pool = WorkerPool(runtime, 2)
                    pool.start()
                    try:
                        month.wait_until_settled(runtime, runs=counts["runs"])
                    finally:
                        pool.stop()
                    assert sum(runtime.store.counts().values()) == counts["runs"]
                    assert runtime.metrics.values["runs_deduplicated"] == len(already)
        finally:
            runtime.close()
    sandbox.stop()
