"""Two-way sync with FreshBooks, the full circle over real HTTP: the Stripe and FreshBooks
sandboxes on loopback, Stripe sending its signed webhooks and FreshBooks its signed callbacks
(registered by ledgerlink through FreshBooks' events API, each verified with its code) to a
served ledgerlink, whose trigger reads each payment by id; the shipped recipes
(``recipes/two-way/`` FreshBooks ones and the per-transaction booking recipe) run by worker
threads.

1. A Stripe invoice paid by card is booked into FreshBooks (client, invoice, sent, payment);
   FreshBooks then tells of the payment ledgerlink recorded: that run is skipped as ``echo``
   (FreshBooks' ``updated``, US/Eastern, compared with ledgerlink's write) and nothing is
   written back to Stripe.
2. A Stripe invoice to be paid by transfer is created open in FreshBooks when finalized; a
   person records its payment straight in FreshBooks; ledgerlink marks the Stripe invoice
   paid out of band, once; Stripe's webhook about that books nothing twice.
3. A person's payment of an invoice that did not come from Stripe is skipped as
   ``not_linked``, not failed.
4. Stripe owns the customers (``[source_of_truth]``): FreshBooks' client follows a Stripe
   customer's change, and a person's later edit of it in FreshBooks is reported as a
   conflict, with both values, and left as the person made it.

Each sandbox's requests are counted: what ledgerlink wrote, and nothing more.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from fb_sandbox import ACCOUNT, call, result
from freshbooks_books import freshbooks_config
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.io.secrets import new_key
from ledgerlink.io.subscriptions import register
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.freshbooks import create_sandbox as freshbooks_sandbox
from ledgerlink_sandboxes.stripe import create_sandbox as stripe_sandbox
from books_month import write_config
import stripe_month as month
from two_way_circle import AMY, Late, Recorded, runs_of, settled, stored_events, stripe_invoice, stripe_post
from vendor_files import REPO

TWO_WAY = REPO / "recipes" / "two-way"
SHIPPED = sorted(TWO_WAY.glob("*freshbooks*.json")) + [
    REPO / "recipes" / "freshbooks" / "mode-1-per-transaction" / "stripe-invoice-paid-to-freshbooks-invoice-and-payment.json"]
PAID = "freshbooks-payment-to-stripe-invoice-paid"
BOOKED = "stripe-invoice-paid-to-freshbooks-invoice-and-payment"
FOLLOWS = "stripe-customer-updated-to-freshbooks-client"
CHECKED = "freshbooks-client-updated-checked-against-stripe"


def recipes_in(folder: Path) -> Path:
    folder.mkdir()
    for path in SHIPPED:
        recipe = json.loads(path.read_text())
        recipe.pop("$schema", None)
        (folder / path.name).write_text(json.dumps(recipe, indent=2))
    return folder


def callbacks_pending(books: Any) -> bool:
    return any(callback["pending"] for callback in books.callbacks.stats().values())


def settle(runtime: Any, stripe: Any, books: Any, runs: int) -> dict[str, int]:
    return settled(runtime, stripe, lambda: not callbacks_pending(books), runs)


def documents(loop: Any, path: str, key: str) -> list[dict[str, Any]]:
    return result(call(loop, "GET", path, params={"per_page": 100}))[key]


def person_pays(loop: Any, invoice: dict[str, Any]) -> dict[str, Any]:
    """A payment entered by a person in FreshBooks (its API, as its app does) of ``invoice`` in full."""
    body = {"payment": {"invoiceid": invoice["id"], "amount": {"amount": invoice["outstanding"]["amount"]},
                        "date": "2026-11-30", "type": "Check"}}
    return result(call(loop, "POST", "payments/payments", body))["payment"]


@pytest.fixture
def circle(tmp_path, keys, monkeypatch):
    """Both sandboxes, each recorded; Stripe's webhooks and FreshBooks' callbacks (registered
    and verified) reach a served ledgerlink whose workers run. Yields (runtime, Stripe
    sandbox, its record, FreshBooks sandbox, its record, its loopback, a Stripe API client,
    the Stripe customer)."""
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    endpoint_app = Late()
    with background(endpoint_app) as endpoint:
        stripe_app = stripe_sandbox(rate_limit=False, wall_clock=time.time,
                                    webhook_url=f"{endpoint.url}/webhooks/stripe",
                                    webhook_secret=month.WHSEC, webhook_retry_seconds=[0.05])
        books_app = freshbooks_sandbox(rate_limit=False, concurrent=10, wall_clock=time.time,
                                       callback_retry_seconds=[0.05])
        stripe_seen, books_seen = Recorded(stripe_app.wsgi_app), Recorded(books_app.wsgi_app)
        stripe_app.wsgi_app, books_app.wsgi_app = stripe_seen, books_seen
        try:
            with running(stripe_app) as stripe, running(books_app) as books, \
                    httpx.Client(base_url=f"{stripe.url}/v1", auth=(month.KEY, "")) as api:
                config = write_config(tmp_path / "ledgerlink.toml", stripe.url, freshbooks_config(books.url)
                                      + ["[source_of_truth]", 'customers = "stripe"', ""])
                customer = stripe_post(api, "/customers", **AMY)
                runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_in(tmp_path / "recipes"),
                                        config_file=str(config), settings=Settings(backoff_base=0.05, backoff_cap=0.2))
                endpoint_app.app = create_app(runtime=runtime)
                done = register(runtime.connections, "freshbooks", f"{endpoint.url}/webhooks/freshbooks",
                                {"freshbooks.payment.created", "freshbooks.client.updated"}, wait=30)
                assert [each.done for each in done] == ["confirmed", "confirmed"], done
                pool = WorkerPool(runtime, 2)
                pool.start()
                try:
                    yield (runtime, stripe_app.sandbox, stripe_seen, books_app.sandbox, books_seen, books, api,
                           customer["id"])
                finally:
                    pool.stop()
                    runtime.close()
        finally:
            stripe_app.sandbox.stop()
            books_app.sandbox.callbacks.reset()


def test_the_freshbooks_circle_writes_nothing_back_and_books_nothing_twice(circle):
    runtime, stripe, stripe_seen, books, books_seen, loop, api, customer = circle
    registered = len(books_seen.writes())  # the callbacks, and their verification

    # 1. paid by card in Stripe -> booked in FreshBooks -> FreshBooks' callback -> nothing back to Stripe
    card = stripe_invoice(api, customer, 12500)
    stripe_post(api, f"/invoices/{card['id']}/pay")
    settle(runtime, stripe, books, runs=2)
    [booked] = runs_of(runtime, BOOKED)
    assert booked["status"] == "succeeded", booked["last_error"]
    [echo] = runs_of(runtime, PAID)
    assert (echo["status"], echo["skipped_as"]) == ("skipped", "echo"), echo["last_error"] or echo["skip_reason"]
    [ours] = documents(loop, "payments/payments", "payments")
    assert f"payment {ours['id']} of connection 'freshbooks' was written by ledgerlink (run {booked['id']}" \
        in echo["skip_reason"]
    assert stripe_seen.writes() == []  # ledgerlink only read Stripe (the payment's balance transaction)
    written = [path.split("/accounting/account/")[-1] for _, path in books_seen.writes()[registered:]]
    assert sorted(written) == sorted([f"{ACCOUNT}/users/clients", f"{ACCOUNT}/invoices/invoices",
                                      f"{ACCOUNT}/invoices/invoices/{ours['invoiceid']}",
                                      f"{ACCOUNT}/payments/payments"])

    # 2. to be paid by transfer: open in FreshBooks; a person records the payment there;
    #    ledgerlink marks the Stripe invoice paid once; Stripe's webhook books nothing twice
    transfer = stripe_invoice(api, customer, 4200, collection_method="send_invoice", days_until_due=30)
    settle(runtime, stripe, books, runs=3)
    [opened] = runs_of(runtime, "stripe-invoice-finalized-to-freshbooks-open-invoice")
    assert opened["status"] == "succeeded", opened["last_error"]
    [open_invoice] = [i for i in documents(loop, "invoices/invoices", "invoices") if i["po_number"] == transfer["id"]]
    assert (open_invoice["outstanding"]["amount"], open_invoice["v3_status"]) == ("42.00", "sent")
    before = len(books_seen.writes())
    by_hand = person_pays(loop, open_invoice)
    settle(runtime, stripe, books, runs=4)
    marked = [r for r in runs_of(runtime, PAID) if r["status"] == "succeeded"]
    assert len(marked) == 1
    assert stripe_seen.writes() == [("POST", f"/v1/invoices/{transfer['id']}/pay")]
    paid = api.get(f"/invoices/{transfer['id']}").json()
    assert (paid["status"], paid["paid_out_of_band"]) == ("paid", True)
    again = [r for r in runs_of(runtime, BOOKED) if r["id"] != booked["id"]]
    assert all((r["status"], r["skipped_as"]) == ("skipped", "echo") for r in again), again
    payments = documents(loop, "payments/payments", "payments")
    assert sorted(p["id"] for p in payments) == sorted([ours["id"], by_hand["id"]])  # none booked twice
    assert books_seen.writes()[before:] == []  # ledgerlink wrote nothing more to FreshBooks

    # 3. a person's payment of an invoice that did not come from Stripe: skipped, not failed
    client = result(call(loop, "POST", "users/clients", {"client": {"email": "walk-in@example.com"}}))["client"]
    own = result(call(loop, "POST", "invoices/invoices", {"invoice": {
        "customerid": client["id"], "create_date": "2026-11-30",
        "lines": [{"name": "Consulting", "qty": "1", "unit_cost": {"amount": "10.00"}}]}}))["invoice"]
    person_pays(loop, own)
    settle(runtime, stripe, books, runs=5)
    assert [r["status"] for r in runtime.store.list_runs() if r["status"] not in ("succeeded", "skipped")] == []
    [unlinked] = [r for r in runs_of(runtime, PAID) if r["skipped_as"] == "not_linked"]
    assert f"pays invoice {own['id']}, which did not come from a Stripe invoice" in unlinked["skip_reason"]
    assert len(stripe_seen.writes()) == 1
    assert [r["skipped_as"] for r in runs_of(runtime, PAID)].count("echo") == 1


def test_freshbooks_follows_the_source_of_truth_and_a_persons_edit_there_is_reported_not_overwritten(circle):
    """customers = "stripe": a Stripe customer's new name reaches its FreshBooks client (whose
    callback about it is an echo); a person's later edit of that client in FreshBooks is a
    conflict, reported with both values and raised as ledgerlink.sync.conflict, and left as
    the person made it."""
    runtime, stripe, stripe_seen, books, books_seen, loop, api, customer = circle
    stripe_invoice(api, customer, 4200, collection_method="send_invoice", days_until_due=30)
    settle(runtime, stripe, books, runs=1)  # booked for the customer: its client is linked to it
    [client] = [c for c in documents(loop, "users/clients", "clients") if customer in str(c.get("note"))]
    stripe_post(api, f"/customers/{customer}", name="Amy's Bird Sanctuary Ltd")
    settle(runtime, stripe, books, runs=3)
    [followed] = runs_of(runtime, FOLLOWS)
    assert followed["status"] == "succeeded", followed["last_error"] or followed["skip_reason"]
    amy = result(call(loop, "GET", f"users/clients/{client['id']}"))["client"]
    assert (amy["organization"], amy["email"]) == ("Amy's Bird Sanctuary Ltd", "birds@intuit.com")
    [check] = runs_of(runtime, CHECKED)
    assert (check["status"], check["skipped_as"]) == ("skipped", "echo"), check["last_error"] or check["skip_reason"]
    assert f"client {client['id']} of connection 'freshbooks' was written by ledgerlink (run {followed['id']}" \
        in check["skip_reason"]

    books.clock.advance(600)  # ten minutes later, a person renames the client in FreshBooks
    before = len(books_seen.writes())
    call(loop, "PUT", f"users/clients/{client['id']}", {"client": {"organization": "Amy B."}})
    settle(runtime, stripe, books, runs=4)
    [conflict] = [r for r in runs_of(runtime, CHECKED) if r["skipped_as"] == "conflict"]
    assert ('organization "Amy B." and email "birds@intuit.com" in FreshBooks; name "Amy\'s Bird Sanctuary Ltd" '
            f'and email "birds@intuit.com" in Stripe (customer {customer})') in conflict["skip_reason"]
    steps = runtime.store.run(conflict["id"])["steps"]
    assert [(step["step_id"], step["status"]) for step in steps] == [("stripe", "succeeded")]  # read only
    raised = [e for e in stored_events(runtime) if e["trigger"] == "ledgerlink.sync.conflict"]
    assert [e["event_id"] for e in raised] == [f"sync.conflict:{conflict['id']}"]
    amy = result(call(loop, "GET", f"users/clients/{client['id']}"))["client"]
    assert amy["organization"] == "Amy B."  # not overwritten
    assert books_seen.writes()[before:] == [] and stripe_seen.writes() == []
    assert api.get(f"/customers/{customer}").json()["name"] == "Amy's Bird Sanctuary Ltd"
