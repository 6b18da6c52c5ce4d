"""Approved runs survive a kill -9: `serve` is killed while it sends the runs a person
approved, a second `serve` finishes them, and every event has exactly one journal entry in
the QuickBooks sandbox, the one reviewed; no approved run is shown for review again."""

from __future__ import annotations

import collections
import json
import re
import threading
import time

from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import ServeProcess, deliver_until_acknowledged
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.quickbooks import create_sandbox
from review_recipe import ENTRY_RECIPE
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, WEBHOOK_SECRET, signed, write_config
from stripe_events import invoice_paid_event

EVENTS = 30
REALM = "9130350000000000"


def wait_counts(store: Store, expected: dict[str, int], process: ServeProcess, deadline: float) -> None:
    while time.monotonic() < deadline and store.counts() != expected:
        time.sleep(0.1)
    assert store.counts() == expected, (store.counts(), process.output())


def test_approved_runs_killed_midway_are_sent_once_as_reviewed(tmp_path):
    # every request takes a while, so that the kill lands while approved runs are being sent
    sandbox_app = create_sandbox(rate_limit=False, latency=0.1)
    env = {"LL_TEST_WHSEC": WEBHOOK_SECRET, "LL_TEST_QBO_TOKEN": QBO_TOKEN, "LEDGERLINK_ADMIN_TOKEN": ADMIN_TOKEN}
    with background(sandbox_app, threads=8) as sandbox:
        db = migrated_db(tmp_path)
        recipes = tmp_path / "recipes"
        recipes.mkdir()
        (recipes / "entry.json").write_text(json.dumps(ENTRY_RECIPE))
        config = write_config(tmp_path, sandbox.url)
        store = Store(db)
        deadline = time.monotonic() + 120
        first = ServeProcess(tmp_path, db, recipes, config, env, workers=2, lease=2.0)
        first.wait_healthy()
        port = first.port  # the second serve, after the kill, takes the same one
        events = [invoice_paid_event("usd", 1000 + i, event_id=f"evt_kill_{i:03d}") for i in range(EVENTS)]
        acknowledged: set[str] = set()
        deliver_until_acknowledged(f"http://127.0.0.1:{port}/webhooks/stripe", events, acknowledged,
                                   threading.Lock(), deadline, signed)
        wait_counts(store, {"awaiting_review": EVENTS}, first, deadline)
        assert booked(sandbox_app) == []  # nothing is sent before a person approves it
        approved = store.approve(store.awaiting_review(ENTRY_RECIPE["id"]), "ada")
        assert all(decided for decided, _ in approved.values()) and len(approved) == EVENTS
        while time.monotonic() < deadline and len(booked(sandbox_app)) < EVENTS // 4:
            time.sleep(0.01)
        first.kill9()
        killed_at = len(booked(sandbox_app))
        second = ServeProcess(tmp_path, db, recipes, config, env, port=port, workers=2, lease=2.0)
        try:
            second.wait_healthy()
            wait_counts(store, {"succeeded": EVENTS}, second, deadline)
        finally:
            second.terminate()
    per_event = collections.Counter(booked(sandbox_app))
    assert len(per_event) == EVENTS and max(per_event.values()) == 1, per_event
    assert 0 < killed_at < EVENTS
    for run_id in range(1, EVENTS + 1):
        run = store.run(run_id)
        assert run["review_note"] is None  # none was shown again: what was approved was sent
        (sent,) = [s for s in run["steps"] if s["status"] == "succeeded"]
        assert sent["request"] == run["review_plan"]["steps"][0]["request"]
    store.dispose()


def booked(sandbox_app) -> list[str]:
    """The event of each journal entry the sandbox holds for this test's events."""
    found = (re.search(r"event (evt_kill_\d+)", e.get("PrivateNote", ""))
             for e in sandbox_app.sandbox.entities(REALM, "journalentry"))
    return [match.group(1) for match in found if match]
