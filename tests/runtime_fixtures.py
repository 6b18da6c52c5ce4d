"""What the tests of the service share: the repository's recipes, a config of the built-in
connectors, signed Stripe webhooks, the tokens they use, a runtime's workers for a block."""

from __future__ import annotations

import contextlib
import shutil
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
