"""Scale-out on PostgreSQL: N processes, one database, still exactly once.

Runs only when the suite runs against PostgreSQL (``make test-pg``). The server restart
needs ``LEDGERLINK_TEST_PG_RESTART``, a command that restarts the test server
(``make test-pg`` sets it to ``.ci/pg-server restart``).
"""

from __future__ import annotations

import collections
import os
import re
import shlex
import subprocess
import threading
import time

import httpx
import pytest

from ledgerlink.testing.databases import ON_POSTGRES
from ledgerlink.store import Store
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, WEBHOOK_SECRET, recipes_dir, signed, write_config
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import SandboxProcess, ServeProcess, deliver_until_acknowledged
from stripe_events import invoice_paid_event

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="scale-out runs on PostgreSQL (make test-pg)")

REALM = "9130350000000000"
RESTART = os.environ.get("LEDGERLINK_TEST_PG_RESTART", "")


@pytest.fixture
def start_sandbox():
    """Start sandboxes in their own processes; every one is stopped after the test, even a
    failed one."""
    started: list[SandboxProcess] = []

    def start(*settings: str) -> SandboxProcess:
        started.append(SandboxProcess("quickbooks", *settings))
        return started[-1]

    yield start
    for sandbox in started:
        sandbox.stop()


def wait_for(store: Store, expected: int, deadline: float) -> dict[str, int]:
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        try:
            counts = store.counts()
        except Exception:  # the server is restarting
            time.sleep(0.2)
            continue
        if sum(counts.values()) >= expected and set(counts) == {"succeeded"}:
            return counts
        time.sleep(0.2)
    return counts


@pytest.mark.skipif(not RESTART, reason="needs LEDGERLINK_TEST_PG_RESTART to restart the server")
def test_four_workers_and_serve_on_one_postgres_survive_kill_9_and_a_server_restart(tmp_path, start_sandbox):
    events_total = int(os.environ.get("LEDGERLINK_TEST_SCALE_EVENTS", "5000"))
    sandbox = start_sandbox("rate_limit=false")
    env = {"LL_TEST_WHSEC": WEBHOOK_SECRET, "LL_TEST_QBO_TOKEN": QBO_TOKEN, "LEDGERLINK_ADMIN_TOKEN": ADMIN_TOKEN}
    db = migrated_db(tmp_path)
    recipes = recipes_dir(tmp_path)
    config = write_config(tmp_path, sandbox.url)
    with config.open("a") as f:  # this test is about exactly once, not QuickBooks' 500 a minute
        f.write("\n[connections.quickbooks.limits]\nrequests = 1000000\nper_seconds = 60.0\n")
    serve = ServeProcess(tmp_path, db, recipes, config, env, workers=0, lease=5.0)
    workers = [ServeProcess(tmp_path, db, recipes, config, env, workers=3, lease=5.0, command="worker")
               for _ in range(4)]
    store = Store(db)
    acknowledged: set[str] = set()
    lock = threading.Lock()
    deadline = time.monotonic() + 420
    try:
        serve.wait_healthy()
        events = [invoice_paid_event("usd", 1000 + i, event_id=f"evt_scale_{i:05d}") for i in range(events_total)]

        def send(chunk):
            deliver_until_acknowledged(f"{serve.url}/webhooks/stripe", chunk, acknowledged, lock, deadline, signed)

        senders = [threading.Thread(target=send, args=(events[i::8],)) for i in range(8)]
        for thread in senders:
            thread.start()

        def succeeded() -> int:
            try:
                return store.counts().get("succeeded", 0)
            except Exception:
                return 0

        while succeeded() < events_total // 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers[0].kill9()  # mid-run: its leased runs are taken over when the leases expire
        killed_at = succeeded()
        while succeeded() < events_total * 2 // 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        restarted_at = succeeded()
        restart = subprocess.run(shlex.split(RESTART), capture_output=True, text=True, timeout=120)
        assert restart.returncode == 0, restart.stderr
        for thread in senders:
            thread.join(max(1.0, deadline - time.monotonic()))
        assert len(acknowledged) == events_total
        counts = wait_for(store, events_total, deadline)
        assert counts == {"succeeded": events_total}, (counts, workers[1].output())
        with store.engine.connect() as conn:
            stored = {row[0] for row in conn.exec_driver_sql("SELECT event_id FROM events")}
        assert acknowledged <= stored  # every 2xx was stored
        for process in workers[1:]:
            assert process.process.poll() is None, process.output()  # the workers rode out the restart
    finally:
        for process in [serve, *workers]:
            process.terminate()
        store.dispose()
    entries = sandbox.get(f"/__sandbox/entities/{REALM}/journalentry")
    stats = sandbox.get("/__sandbox/stats")
    sandbox.stop()
    per_event = collections.Counter(re.search(r"event (evt_scale_\d+)", e["PrivateNote"]).group(1) for e in entries)
    assert len(per_event) == events_total, f"missing: {events_total - len(per_event)}"
    assert max(per_event.values()) == 1, [k for k, v in per_event.items() if v > 1][:5]
    assert 0 < killed_at < restarted_at < events_total
    print(f"scale-out: {events_total} events, 4 workers + serve on PostgreSQL; worker killed at {killed_at} "
          f"succeeded runs, server restarted at {restarted_at}; {stats['replayed']} requestid replays; "
          f"one entry per event")


def test_four_processes_share_the_governor_and_see_no_429(tmp_path, start_sandbox):
    """QuickBooks' 500 a minute and 10 at once, compressed 12 times to 500 per 5 s (as in
    test_runtime.py): four worker processes together stay inside the limits the sandbox
    enforces, counted in one window through the database."""
    events_total = 1500
    sandbox = start_sandbox("rate_limit=true", "requests_per_window=500", "window_seconds=5.0", "concurrent=10",
                      "latency=0.002")
    env = {"LL_TEST_WHSEC": WEBHOOK_SECRET, "LL_TEST_QBO_TOKEN": QBO_TOKEN, "LEDGERLINK_ADMIN_TOKEN": ADMIN_TOKEN}
    db = migrated_db(tmp_path)
    recipes = recipes_dir(tmp_path)
    config = write_config(tmp_path, sandbox.url)
    with config.open("a") as f:
        f.write("\n[connections.quickbooks.limits]\nrequests = 500\nper_seconds = 5.0\nconcurrent = 10\n")
    serve = ServeProcess(tmp_path, db, recipes, config, env, workers=0, lease=30.0)
    store = Store(db)
    workers = []
    try:
        serve.wait_healthy()
        with httpx.Client(timeout=10) as client:
            for i in range(events_total):
                body, headers = signed(invoice_paid_event("usd", 1000 + i, event_id=f"evt_gov_{i:04d}"))
                assert client.post(f"{serve.url}/webhooks/stripe", content=body, headers=headers).status_code == 200
        started = time.monotonic()
        workers = [ServeProcess(tmp_path, db, recipes, config, env, workers=4, lease=30.0, command="worker")
                   for _ in range(4)]
        counts = wait_for(store, events_total, time.monotonic() + 120)
        elapsed = time.monotonic() - started
        assert counts == {"succeeded": events_total}, counts
    finally:
        for process in [serve, *workers]:
            process.terminate()
        store.dispose()
    stats = sandbox.get("/__sandbox/stats")
    sandbox.stop()
    share = events_total / elapsed / 100.0
    print(f"shared governor: {events_total} requests from 4 processes in {elapsed:.1f} s = "
          f"{events_total / elapsed:.1f}/s of 100/s allowed ({share:.0%}, process start-up included); "
          f"429s: {stats['throttled']}; "
          f"busiest window {stats['per_window_max'][REALM]}; most at once {stats['max_concurrent_seen'][REALM]}")
    assert stats["throttled"] == 0 and stats["by_status"].get("429", 0) == 0
    assert stats["per_window_max"][REALM] <= 500 and stats["max_concurrent_seen"][REALM] <= 10
