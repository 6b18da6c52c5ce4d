"""Crash test: kill -9 `serve` mid-stream, restart it: every event has exactly one entry.

Stripe resends a webhook until it gets a 2xx; the sender here does the same. Every event
that got a 2xx must be in the inbox, and every event ends with exactly one journal entry in
the QuickBooks sandbox: none twice, none missing.
"""

from __future__ import annotations

import collections
import re
import threading
import time


from ledgerlink.web.servers import background
from ledgerlink.store import Store
from ledgerlink_sandboxes.quickbooks import create_sandbox
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, WEBHOOK_SECRET, recipes_dir, signed, write_config
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import ServeProcess, deliver_until_acknowledged
from stripe_events import invoice_paid_event

EVENTS = 500
REALM = "9130350000000000"


def test_kill_9_mid_stream_loses_nothing_and_writes_nothing_twice(tmp_path):
    sandbox_app = create_sandbox(rate_limit=False)
    env = {"LL_TEST_WHSEC": WEBHOOK_SECRET, "LL_TEST_QBO_TOKEN": QBO_TOKEN, "LEDGERLINK_ADMIN_TOKEN": ADMIN_TOKEN}
    with background(sandbox_app, threads=16) as sandbox:
        db = migrated_db(tmp_path)
        recipes = recipes_dir(tmp_path)
        config = write_config(tmp_path, sandbox.url)
        first = ServeProcess(tmp_path, db, recipes, config, env, workers=2, lease=2.0)
        first.wait_healthy()
        port = first.port  # the second serve, after the kill, takes the same one
        # in the sandbox company's home currency (USD): an event in another currency would be
        # refused for want of an ExchangeRate, and this test is about exactly one entry each
        events = [invoice_paid_event("usd", 1000 + i, event_id=f"evt_crash_{i:04d}") for i in range(EVENTS)]
        acknowledged: set[str] = set()
        lock = threading.Lock()
        deadline = time.monotonic() + 120

        def send(chunk):
            deliver_until_acknowledged(f"http://127.0.0.1:{port}/webhooks/stripe", chunk, acknowledged, lock,
                                       deadline, signed)

        threads = [threading.Thread(target=send, args=(events[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        while len(acknowledged) < EVENTS // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        first.kill9()
        killed_at = len(acknowledged)
        time.sleep(0.5)
        second = ServeProcess(tmp_path, db, recipes, config, env, port=port, workers=2, lease=2.0)
        try:
            second.wait_healthy()
            for thread in threads:
                thread.join(150)
            assert len(acknowledged) == EVENTS
            store = Store(db)
            while time.monotonic() < deadline:
                counts = store.counts()
                if sum(counts.values()) == EVENTS and set(counts) == {"succeeded"}:
                    break
                time.sleep(0.2)
            assert store.counts() == {"succeeded": EVENTS}, (store.counts(), second.output())
            with store.engine.connect() as conn:
                stored = {row[0] for row in conn.exec_driver_sql("SELECT event_id FROM events")}
            assert acknowledged <= stored  # every 2xx was stored
        finally:
            second.terminate()
        entries = sandbox_app.sandbox.entities(REALM, "journalentry")
        per_event = collections.Counter(re.search(r"event (evt_crash_\d+)", e["PrivateNote"]).group(1)
                                        for e in entries)
        assert len(per_event) == EVENTS, f"missing: {EVENTS - len(per_event)}"
        assert max(per_event.values()) == 1, [k for k, v in per_event.items() if v > 1][:5]
        assert 0 < killed_at < EVENTS
        replays = sum(1 for r in sandbox_app.sandbox.requests() if r.get("replayed"))
        print(f"killed after {killed_at} acks; {replays} requestid replays answered without a twin")
