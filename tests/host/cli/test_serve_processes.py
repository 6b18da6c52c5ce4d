"""``serve --processes N``: several serve processes on one port, each acknowledging and
storing deliveries on its own, all stopped by one SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import time

import httpx
import pytest

from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import ServeProcess
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, WEBHOOK_SECRET, recipes_dir, signed, write_config
from stripe_events import invoice_paid_event

ENV = {"LL_TEST_WHSEC": WEBHOOK_SECRET, "LL_TEST_QBO_TOKEN": QBO_TOKEN, "LEDGERLINK_ADMIN_TOKEN": ADMIN_TOKEN}

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="serve --processes forks")


def children(serve: ServeProcess, count: int, timeout: float = 30.0) -> list[int]:
    """The pids the serve processes print in their banners, once all have."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [int(p) for p in re.findall(r"\(process \d+ of \d+, pid (\d+)\)", serve.output())]
        if len(pids) == count:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"not every serve process started: {serve.output()}")


def deliver(url: str, first: int, count: int) -> None:
    for i in range(first, first + count):
        body, headers = signed(invoice_paid_event("usd", 1000 + i, event_id=f"evt_proc_{i}"))
        with httpx.Client(timeout=10.0) as client:  # a new connection each: any process may take it
            response = client.post(f"{url}/webhooks/stripe", content=body, headers=headers)
        assert response.status_code == 200 and response.json()["stored"] == 1, response.text


def test_each_process_acknowledges_and_stores_once_and_sigterm_stops_all(tmp_path):
    db = migrated_db(tmp_path)
    serve = ServeProcess(tmp_path, db, recipes_dir(tmp_path), write_config(tmp_path, "http://127.0.0.1:9"), ENV,
                         workers=0, extra=("--processes", "2"))
    try:
        serve.wait_healthy()
        pids = children(serve, 2)
        assert len(set(pids)) == 2 and serve.process.pid not in pids
        # each process alone on the port: the other is stopped, so every delivery is its own
        for n, (paused, _) in enumerate([(pids[0], pids[1]), (pids[1], pids[0])]):
            os.kill(paused, signal.SIGSTOP)
            try:
                deliver(serve.url, n * 10, 10)
            finally:
                os.kill(paused, signal.SIGCONT)
        body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_proc_0"))
        again = httpx.post(f"{serve.url}/webhooks/stripe", content=body, headers=headers)
        assert again.status_code == 200 and again.json()["duplicates"] == 1  # stored once, whichever answers
    finally:
        code = serve.terminate()
    assert code == 0, serve.output()
    for pid in pids:  # every child is gone, not orphaned
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    store = Store(db)
    assert store.count_events() == 20 and store.counts() == {"pending": 20}


def test_a_child_that_dies_stops_the_others(tmp_path):
    db = migrated_db(tmp_path)
    serve = ServeProcess(tmp_path, db, recipes_dir(tmp_path), write_config(tmp_path, "http://127.0.0.1:9"), ENV,
                         workers=0, extra=("--processes", "2"))
    try:
        serve.wait_healthy()
        pids = children(serve, 2)
        os.kill(pids[0], signal.SIGKILL)
        serve.process.wait(30)
    finally:
        serve.terminate()
    assert serve.process.returncode != 0 and "stopping the others" in serve.log_path.read_text()
    with pytest.raises(ProcessLookupError):
        os.kill(pids[1], 0)
