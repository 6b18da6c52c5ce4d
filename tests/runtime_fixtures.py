"""What the tests of the service share: the repository's recipes, a config of the built-in
connectors, signed Stripe webhooks delivered to a runtime, the tokens they use, a runtime's
workers for a block and the wait until its runs settle, and the journal entries the
QuickBooks sandbox holds per event."""

from __future__ import annotations

import collections
import contextlib
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from ledgerlink.engine.runtime import Runtime
from ledgerlink.engine.worker import WorkerPool

from stripe_events import sign, to_body
from vendor_files import REPO

RECIPES = REPO / "recipes"

WEBHOOK_SECRET = "whsec_test_secret"
ADMIN_TOKEN = "admin-token-for-tests-3f9a"
QBO_TOKEN = "sandbox-access-token"
#: the QuickBooks sandbox's company
REALM = "9130350000000000"


def recipes_dir(tmp_path: Path, names=("stripe-invoice-paid-to-quickbooks-journal.json",
                                        "stripe-credit-note-to-quickbooks-journal.json")) -> Path:
    target = tmp_path / "recipes"
    target.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(RECIPES / name, target / name)
    return target


def write_config(tmp_path: Path, qbo_url: str = "http://127.0.0.1:9", realm: str = "9130350000000000") -> Path:
    path = tmp_path / "ledgerlink.toml"
    path.write_text(
        '[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
        f'[connections.quickbooks]\nconnector = "quickbooks"\nbase_url = "{qbo_url}"\nrealm_id = "{realm}"\n'
        'access_token = "${LL_TEST_QBO_TOKEN}"\n')
    return path


def signed(event: dict, secret: str = WEBHOOK_SECRET, timestamp=None) -> tuple[bytes, dict[str, str]]:
    body = to_body(event)
    return body, {"Stripe-Signature": sign(body, secret, timestamp), "Content-Type": "application/json"}


@contextlib.contextmanager
def working(runtime: Runtime, workers: int = 1) -> Iterator[WorkerPool]:
    """``runtime``'s pool of ``workers`` workers, running for the block and stopped after it."""
    pool = WorkerPool(runtime, workers)
    pool.start()
    try:
        yield pool
    finally:
        pool.stop()


def deliver(runtime: Runtime, *events: dict) -> None:
    """Stripe events, signed as Stripe signs them, received by ``runtime``'s inbox."""
    for event in events:
        body, headers = signed(event)
        runtime.inbox.receive("stripe", headers, body)


def wait_settled(runtime: Runtime, runs: int = 1, timeout: float = 30.0) -> dict[str, int]:
    """The runs by status once there are at least ``runs`` and none is pending, running or
    retrying (waited for, not timed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = runtime.store.counts()
        if sum(counts.values()) >= runs and not any(counts.get(s) for s in ("pending", "running", "retrying")):
            return counts
        time.sleep(0.02)
    raise AssertionError(f"runs did not settle: {runtime.store.counts()}")


def entries_by_event(sandbox_state, realm: str = REALM) -> collections.Counter:
    """How many journal entries the QuickBooks sandbox holds per Stripe event (named in their note)."""
    counts: collections.Counter = collections.Counter()
    for entry in sandbox_state.entities(realm, "journalentry"):
        match = re.search(r"event (evt_\w+)", entry.get("PrivateNote", ""))
        if match:
            counts[match.group(1)] += 1
    return counts


def entry_posts(sandbox_state) -> list[dict]:
    """The journal entries the QuickBooks sandbox was asked to create."""
    return [r for r in sandbox_state.requests() if r["method"] == "POST" and r["entity"] == "journalentry"]
