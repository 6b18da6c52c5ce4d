"""A payout without fees, booked per transaction into FreshBooks: nothing to book, skipped
cleanly, and reconciliation takes it as accounted for.

FreshBooks' per-transaction mode books a payout as the expense of the fees Stripe kept from
what it paid out. A payout of a won dispute's reinstated funds carries no fee (Stripe keeps
the dispute fee it took with the withdrawal), so its run books nothing: the recipe's ``skip``
rule closes it as ``skipped`` (``no_fees``), not failed and no expense of 0 sent. Then
``ledgerlink reconcile`` does not report that payout ``not_booked``: the run of the recipe
that books payouts, skipped by its rule, accounts for it.

Real parts: the Stripe sandbox's business (a charge, its dispute withdrawn, then won; two
automatic payouts) with its signed events delivered to ledgerlink's inbox, a real worker,
the FreshBooks sandbox over loopback and SQLite.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from books_month import work_off, write_config
from freshbooks_books import FRESHBOOKS, counts, recipe
from ledgerlink import jsonio
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.reconcile import reconcile
from ledgerlink.engine.runtime import Settings
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox as stripe_sandbox
from ledgerlink_stripe.examples import sign_webhook
import stripe_month as month

FEES = "stripe-payout-paid-to-freshbooks-fees-expense"
DAY = 86400
START = 1693526400  # 2023-09-01, UTC


def _payout(sandbox) -> dict:
    """An automatic payout of what became available, paid at once."""
    ledger = sandbox.account.ledger
    paid = ledger.payout({"description": "STRIPE PAYOUT"}, automatic=True)
    return ledger.settle(paid["id"])


def _deliver(runtime, sandbox) -> None:
    """Every event the sandbox made, signed as Stripe signs it, into the inbox; worked off."""
    for event in month.sandbox_events(sandbox):
        body = jsonio.dumps(event).encode()
        headers = sign_webhook(body, {"webhook_secret": month.WHSEC}, time.time())
        runtime.inbox.receive("stripe", headers, body)
    work_off(runtime)


def test_a_payout_without_fees_is_skipped_and_reconciles(tmp_path: Path, keys) -> None:
    app = stripe_sandbox(seed="zero-fee", start=START, rate_limit=False)
    sandbox = app.sandbox
    account, clock = sandbox.account, sandbox.account.clock
    with running(FRESHBOOKS.sandbox()) as books, running(app) as stripe:
        folder = tmp_path / "recipes"
        folder.mkdir()
        shutil.copy(recipe(FEES), folder)
        config = write_config(tmp_path / "ledgerlink.toml", stripe.url, FRESHBOOKS.config(books.url))
        runtime = build_runtime(db=migrated_db(tmp_path), recipes=folder, config_file=str(config),
                                settings=Settings(backoff_base=0.05, backoff_cap=0.2))
        try:
            charge = account.create_charge({"amount": "10000", "currency": "usd", "source": "tok_visa"})
            clock.advance(3 * DAY)
            with_fees = _payout(sandbox)  # the charge, less its card fee
            dispute = account.dispute(charge["id"])
            clock.advance(3 * DAY)
            withdrawn = _payout(sandbox)  # the withdrawal and the dispute fee: negative
            account.close_dispute(dispute["id"], won=True)
            clock.advance(3 * DAY)
            reinstated = _payout(sandbox)  # the funds reinstated, no fee
            assert reinstated["amount"] == 10000 and withdrawn["amount"] < 0 < with_fees["amount"]

            _deliver(runtime, sandbox)

            runs = {run["event"]["data"]["object"]["id"]: run for run in _runs(runtime)}
            assert set(runs) == {with_fees["id"], withdrawn["id"], reinstated["id"]}
            assert runs[with_fees["id"]]["status"] == runs[withdrawn["id"]]["status"] == "succeeded"
            skipped = runs[reinstated["id"]]
            assert (skipped["status"], skipped["skipped_as"]) == ("skipped", "no_fees"), skipped
            assert reinstated["id"] in skipped["skip_reason"] and "nothing to book" in skipped["skip_reason"]
            assert counts(books)["expenses/expenses"] == 2  # the two payouts with fees, nothing for the third

            report = reconcile(runtime, "2023-09-01", "2023-09-30")
            assert report.listed["stripe"] >= 3 and report.booked == 2
            assert report.ok, [(d.problem, d.id, d.expected, d.found) for d in report.discrepancies]
        finally:
            runtime.close()
            sandbox.stop()


def _runs(runtime) -> list[dict]:
    """Each run of the fees recipe with its event's payload and how it ended."""
    listed = runtime.store.list_runs(recipe_id=FEES, limit=100)
    payloads = runtime.store.payloads("stripe", (run["event_id"] for run in listed))
    return [{**run, "event": jsonio.loads(payloads[run["event_id"]])} for run in listed]
