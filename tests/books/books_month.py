"""One booking mode's shipped recipes, run on the Stripe sandbox's simulated month into a
ledger's sandbox (QuickBooks here; Xero in :mod:`xero_books`), and the books read back as an
accountant reads them.

:func:`book_the_month` starts both sandboxes on loopback (the ledger's home currency USD),
creates the accounts the mode's recipes name the way an integrator does (through the ledger's
API) and points the recipes' lookups at them, then lets the Stripe sandbox simulate its month
(:mod:`stripe_month`'s seed) while it sends every event, signed, to ledgerlink's webhook
endpoint, which loses an acknowledgement now and then (so Stripe sends that event again).
What differs between ledgers is a :class:`Ledger`: :data:`QUICKBOOKS` is QuickBooks'
(:data:`xero_books.XERO` is Xero's). The books are then read only through the ledger's API
(:mod:`ledger_reading`, :mod:`xero_books`); :func:`stripe_transactions` and
:func:`stripe_balance` are what Stripe says.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from ledgerlink import jsonio
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.quickbooks import DEFAULT_REALM, create_sandbox as quickbooks_sandbox
from ledgerlink_sandboxes.stripe import create_sandbox as stripe_sandbox
from ledgerlink_stripe.examples import sign_webhook
import stripe_month as month
from vendor_files import REPO

QBO_TOKEN = "sandbox-access-token"
MODES = {"clearing": REPO / "recipes" / "mode-1-clearing",
         "payout-summary": REPO / "recipes" / "mode-2-payout-summary"}
#: the lines of ledgerlink.toml for the Stripe connection to the sandbox at {url}
STRIPE_CONFIG = ["[connections.stripe]", 'connector = "stripe"', 'api_base = "{url}"',
                 'api_key = "${{LL_TEST_STRIPE_KEY}}"', 'webhook_secret = "${{LL_TEST_STRIPE_WHSEC}}"',
                 "[connections.stripe.limits]", "requests = 100000", "per_seconds = 1.0", ""]
#: the accounts the modes' recipes name that a new QuickBooks company lacks: name -> (type, subtype)
NEW_ACCOUNTS = {
    "Stripe USD": ("Bank", "Checking"),
    "Stripe Fees": ("Expense", "BankCharges"),
    "Tax on Stripe Fees": ("Expense", "OtherMiscellaneousServiceCost"),
    "Chargebacks": ("Expense", "OtherMiscellaneousServiceCost"),
    "Stripe Failed Payouts": ("Other Current Asset", "OtherCurrentAssets"),
}

Obj = dict[str, Any]


def qbo_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=f"{url}/v3/company/{DEFAULT_REALM}",
                        headers={"Authorization": f"Bearer {QBO_TOKEN}", "Accept": "application/json"},
                        params={"minorversion": "75"}, timeout=30)


def create_accounts(qbo: httpx.Client) -> dict[str, str]:
    """Every account of :data:`NEW_ACCOUNTS`, created; name -> QuickBooks Id (the seeded
    accounts the recipes name too)."""
    ids = {}
    for name, (kind, subtype) in NEW_ACCOUNTS.items():
        answer = qbo.post("/account", json={"Name": name, "AccountType": kind, "AccountSubType": subtype})
        assert answer.status_code == 200, answer.text
        ids[name] = answer.json()["Account"]["Id"]
    for account in query(qbo, "Account"):
        ids.setdefault(account["Name"], account["Id"])
    return ids


def mapped_recipes(shipped: Path, ids: dict[str, str], folder: Path, enabled: dict[str, bool] | None = None) -> Path:
    """The recipes of the folder ``shipped`` with each account reference of their lookups
    (``{"value", "name"}``) pointed at the company's account of that name (what an integrator
    edits), in ``folder``; ``enabled`` turns recipes (by id) on or off, as an integrator picks
    one of two alternatives."""
    folder.mkdir(parents=True, exist_ok=True)

    def point(node: Any) -> Any:
        if isinstance(node, dict):
            if isinstance(node.get("name"), str) and node.get("name") in ids and "value" in node:
                return {**node, "value": ids[node["name"]]}
            return {key: point(value) for key, value in node.items()}
        return node

    for path in sorted(shipped.glob("*.json")):
        recipe = json.loads(path.read_text())
        recipe["lookups"] = point(recipe.get("lookups", {}))
        if recipe["id"] in (enabled or {}):
            recipe["enabled"] = enabled[recipe["id"]]
        recipe.pop("$schema", None)
        (folder / path.name).write_text(json.dumps(recipe, indent=2))
    return folder


def qbo_config(qbo_url: str) -> list[str]:
    """The lines of ledgerlink.toml for the QuickBooks connection to the sandbox at ``qbo_url``."""
    return ["[connections.quickbooks]", 'connector = "quickbooks"', f'base_url = "{qbo_url}"',
            f'realm_id = "{DEFAULT_REALM}"', 'access_token = "${LL_TEST_QBO_TOKEN}"', 'home_currency = "USD"',
            "[connections.quickbooks.limits]", "requests = 100000", "per_seconds = 1.0", "concurrent = 10", ""]


def write_config(path: Path, stripe_url: str, ledger_lines: list[str]) -> Path:
    """ledgerlink.toml: the Stripe connection to its sandbox, then the ledger's lines."""
    path.write_text("\n".join([line.format(url=stripe_url) for line in STRIPE_CONFIG] + ledger_lines))
    return path


def qbo_accounts(url: str) -> dict[str, str]:
    with qbo_client(url) as api:
        return create_accounts(api)


@dataclass(frozen=True)
class Ledger:
    """What :func:`book_the_month` needs of a ledger: its sandbox (``sandbox(**options)``, a
    WSGI app), the accounts an integrator creates in it (``prepare(url)`` → name → the id
    the recipes' lookups use), the configuration lines of its connection (``config(url)``),
    and its modes' recipe folders."""

    sandbox: Callable[..., Any]
    prepare: Callable[[str], dict[str, str]]
    config: Callable[[str], list[str]]
    modes: dict[str, Path]


QUICKBOOKS = Ledger(sandbox=lambda **options: quickbooks_sandbox(rate_limit=False, **options), prepare=qbo_accounts,
                    config=qbo_config, modes=MODES)


def query(qbo: httpx.Client, entity: str) -> list[Obj]:
    """Every ``entity`` of the company, page by page (QuickBooks answers 1000 at most)."""
    found: list[Obj] = []
    while True:
        text = f"select * from {entity} STARTPOSITION {len(found) + 1} MAXRESULTS 1000"
        answer = qbo.get("/query", params={"query": text})
        assert answer.status_code == 200, answer.text
        page = json.loads(answer.content, parse_float=Decimal)["QueryResponse"].get(entity, [])
        found += page
        if len(page) < 1000:
            return found


@dataclass
class Month:
    """What one run of the month left: the runtime (open), both sandboxes (the ledger's as
    ``ledger``, served at ``ledger_url``), the mapped ids."""

    runtime: Any
    stripe: Any
    stripe_url: str
    ledger: Any
    ledger_url: str
    accounts: dict[str, str]

    def redeliver_everything(self) -> None:
        """Every event of the month sent again, signed, as Stripe resends it; worked off."""
        for event in month.sandbox_events(self.stripe):
            body = jsonio.dumps(event).encode()
            headers = sign_webhook(body, {"webhook_secret": month.WHSEC}, time.time())
            self.runtime.inbox.receive("stripe", headers, body)
        work_off(self.runtime)


def work_off(runtime: Any) -> None:
    """Every fetch and run performed (waited for, not timed)."""
    pool = WorkerPool(runtime, 4)
    pool.start()
    try:
        month.wait_until_settled(runtime, runs=0, timeout=300)
    finally:
        pool.stop()


def worker_process(runtime: Any, recipes: Path, config: Path, log: Path) -> subprocess.Popen:
    """``ledgerlink worker`` (four threads) on the runtime's database, leases of one second."""
    return subprocess.Popen(
        [sys.executable, "-m", "ledgerlink", "worker", "--db", runtime.store.url, "--recipes", str(recipes),
         "--config", str(config), "--workers", "4", "--lease", "1"],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, env=dict(os.environ))


def killed_midway(runtime: Any, recipes: Path, config: Path, log: Path) -> None:
    """The runs worked off by a ``ledgerlink worker`` process killed with SIGKILL once a third
    of them have succeeded (some are in flight then), then by a second one to the end."""
    first = worker_process(runtime, recipes, config, log)
    try:
        deadline = time.monotonic() + 300  # waited for, not timed
        while runtime.store.counts().get("succeeded", 0) < 150 and time.monotonic() < deadline:
            assert first.poll() is None, log.read_text()[-2000:]
            time.sleep(0.05)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    at_kill = runtime.store.counts()
    second = worker_process(runtime, recipes, config, log)
    try:
        month.wait_until_settled(runtime, runs=0, timeout=300)
    finally:
        second.terminate()
        second.wait(timeout=60)
    # midway: the second process had runs left to do
    assert runtime.store.counts()["succeeded"] > at_kill.get("succeeded", 0) + 100, at_kill


@contextmanager
def book_the_month(mode: str, tmp_path: Path, work: Callable[[Any, Path, Path, Path], None] | None = None,
                   enabled: dict[str, bool] | None = None, ledger: Ledger = QUICKBOOKS,
                   **ledger_options: Any) -> Iterator[Month]:
    """The simulated month booked by ``mode``'s recipes into ``ledger`` (keys in the
    environment, see the tests' ``keys`` fixture); the runtime is closed and the sandboxes
    stopped afterwards. ``work(runtime, recipes, config, log)`` works the runs off once the
    month is delivered (in this process by default); ``enabled`` picks recipes
    (:func:`mapped_recipes`); ``ledger_options`` are the ledger sandbox's
    (``multicurrency=True`` …)."""
    relay = month.Relay(lose_every=97)
    with running(ledger.sandbox(**ledger_options)) as books, background(relay) as endpoint:
        ids = ledger.prepare(books.url)
        app = stripe_sandbox(seed=month.SEED, start=month.START, rate_limit=False,
                             webhook_url=f"{endpoint.url.rstrip('/')}/webhooks/stripe",
                             webhook_secret=month.WHSEC, webhook_retry_seconds=[0.0])
        sandbox = app.sandbox
        try:
            with running(app) as stripe:
                config = write_config(tmp_path / "ledgerlink.toml", stripe.url, ledger.config(books.url))
                recipes = mapped_recipes(ledger.modes[mode], ids, tmp_path / "recipes", enabled)
                runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes, config_file=str(config),
                                        settings=Settings(backoff_base=0.05, backoff_cap=0.2))
                try:
                    relay.app = create_app(runtime=runtime)
                    made = sandbox.simulate(month.SEED, month.START, month.DAYS)
                    assert made.counts["payments"] >= 300 and made.counts.get("payouts_failed") == 1
                    deadline = time.monotonic() + 240  # every event acknowledged (waited for, not timed)
                    while sandbox.emitter.pending() and time.monotonic() < deadline:
                        time.sleep(0.05)
                    assert sandbox.emitter.pending() == 0 and relay.lost > 5
                    if work is None:
                        work_off(runtime)
                    else:
                        work(runtime, recipes, config, tmp_path / "worker.log")
                    yield Month(runtime, sandbox, stripe.url, books.sandbox, books.url, ids)
                finally:
                    runtime.close()
        finally:
            sandbox.stop()


def stripe_transactions(sandbox: Any) -> list[Obj]:
    """Every balance transaction of the Stripe sandbox's account."""
    return sandbox.account.ledger.transactions()


def stripe_balance(url: str) -> dict[str, int]:
    """``GET /v1/balance``: available + pending, per currency (minor units)."""
    with httpx.Client(base_url=f"{url}/v1", headers={"Authorization": f"Bearer {month.KEY}"}) as api:
        answer = api.get("/balance")
    assert answer.status_code == 200, answer.text
    balance: dict[str, int] = {}
    for row in answer.json()["available"] + answer.json()["pending"]:
        balance[row["currency"]] = balance.get(row["currency"], 0) + row["amount"]
    return balance
