"""Two-way sync, the full circle over real HTTP: the Stripe and QuickBooks sandboxes on
loopback, each sending its signed webhooks to a served ledgerlink, and the shipped recipes
(``recipes/two-way/`` and the invoice-and-payment booking recipe) run by worker threads.

1. A Stripe invoice paid by card is booked into QuickBooks (invoice and payment); QuickBooks
   then tells of the payment ledgerlink wrote: that run is skipped as ``echo`` and nothing is
   written back to Stripe.
2. A Stripe invoice to be paid by transfer is created open in QuickBooks when finalized; a
   person records its payment straight in QuickBooks; ledgerlink marks the Stripe invoice
   paid out of band; Stripe tells of that: the booking run is skipped as ``echo`` and the
   payment is not booked twice.
3. A person's payment of an invoice that did not come from Stripe is skipped as
   ``not_linked``, not failed.
4. Stripe owns the customers (``[source_of_truth]``): QuickBooks follows a Stripe customer's
   change, and a person's later edit of it in QuickBooks is reported as a conflict, with
   both values, not overwritten.
5. Stripe owns the items too: a new Stripe product becomes a linked QuickBooks item, the
   item follows the product's rename (its webhook an echo), and a person's later rename of
   the item in QuickBooks is a conflict, reported once and not overwritten.

Each sandbox's requests are counted: what ledgerlink wrote, and nothing more.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

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
from books_month import qbo_client, qbo_config, write_config
import stripe_month as month
from two_way_circle import AMY, Late, Recorded, runs_of, settled, stored_events, stripe_invoice, stripe_post
from vendor_files import REPO

VERIFIER = "two-way-verifier-token"
TWO_WAY = REPO / "recipes" / "two-way"
SHIPPED = sorted(TWO_WAY.glob("*quickbooks*.json")) + [REPO / "recipes" / "stripe-invoice-paid-to-quickbooks-invoice-and-payment.json"]
#: the customer the Stripe sandbox and the QuickBooks company both know (QuickBooks' seeded customer 1)
def recipes_in(folder: Path, customer: str) -> Path:
    """The shipped recipes, the booking one enabled and its customers table naming the
    sandbox's customer (what an integrator edits)."""
    folder.mkdir()
    for path in SHIPPED:
        recipe = json.loads(path.read_text())
        recipe.pop("$schema", None)
        if recipe["id"] == "stripe-invoice-paid-to-quickbooks-invoice-and-payment":
            recipe["enabled"] = True
            recipe["lookups"]["customers"] = {customer: {"value": "1", "name": "Amy's Bird Sanctuary"}}
        (folder / path.name).write_text(json.dumps(recipe, indent=2))
    return folder


def person_pays(qbo: httpx.Client, invoice: dict[str, Any]) -> dict[str, Any]:
    """A payment entered by a person in QuickBooks (its API, as its app does), applied to ``invoice``."""
    body = {"CustomerRef": invoice["CustomerRef"], "TotalAmt": invoice["TotalAmt"], "TxnDate": invoice["TxnDate"],
            "Line": [{"Amount": invoice["TotalAmt"], "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]}
    answer = qbo.post("/payment", content=jsonio.dumps(body), headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    return jsonio.loads(answer.content)["Payment"]


def settle(runtime: Any, stripe: Any, books: Any, runs: int) -> dict[str, int]:
    return settled(runtime, stripe, lambda: not books.webhook_stats()["pending"], runs)


@pytest.fixture
def circle(tmp_path, keys, monkeypatch):
    """Both sandboxes, each recorded and sending its webhooks to a served ledgerlink whose
    workers run; yields (runtime, Stripe sandbox, its record, QuickBooks sandbox, its record,
    a Stripe API client, a QuickBooks API client, the Stripe customer)."""
    monkeypatch.setenv("LL_TEST_QBO_VERIFIER", VERIFIER)
    endpoint_app = Late()
    with background(endpoint_app) as endpoint:
        stripe_app = stripe_sandbox(rate_limit=False, wall_clock=time.time,
                                    webhook_url=f"{endpoint.url}/webhooks/stripe",
                                    webhook_secret=month.WHSEC, webhook_retry_seconds=[0.05])
        books_app = quickbooks_sandbox(rate_limit=False)
        stripe_seen, books_seen = Recorded(stripe_app.wsgi_app), Recorded(books_app.wsgi_app)
        stripe_app.wsgi_app, books_app.wsgi_app = stripe_seen, books_seen
        try:
            with running(stripe_app) as stripe, running(books_app) as books, \
                    httpx.Client(base_url=f"{stripe.url}/v1", auth=(month.KEY, "")) as api, \
                    qbo_client(books.url) as qbo:
                lines = qbo_config(books.url)
                lines.insert(lines.index("[connections.quickbooks.limits]"),
                             'webhook_verifier_token = "${LL_TEST_QBO_VERIFIER}"')
                lines += ["[source_of_truth]", 'customers = "stripe"', 'items = "stripe"', ""]
                config = write_config(tmp_path / "ledgerlink.toml", stripe.url, lines)
                customer = stripe_post(api, "/customers", **AMY)
                runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_in(tmp_path / "recipes", customer["id"]),
                                        config_file=str(config), settings=Settings(backoff_base=0.05, backoff_cap=0.2))
                endpoint_app.app = create_app(runtime=runtime)
                books_app.sandbox.webhooks(f"{endpoint.url}/webhooks/quickbooks", VERIFIER, retry_seconds=[0.05])
                pool = WorkerPool(runtime, 2)
                pool.start()
                try:
                    yield runtime, stripe_app.sandbox, stripe_seen, books_app.sandbox, books_seen, api, qbo, customer["id"]
                finally:
                    pool.stop()
                    books_app.sandbox.webhooks(None)
                    runtime.close()
        finally:
            stripe_app.sandbox.stop()


def test_the_circle_writes_nothing_back_and_books_nothing_twice(circle):
    runtime, stripe, stripe_seen, books, books_seen, api, qbo, customer = circle

    # 1. paid by card in Stripe -> booked in QuickBooks -> QuickBooks' webhook -> nothing back to Stripe
    card = stripe_invoice(api, customer, 12500)
    stripe_post(api, f"/invoices/{card['id']}/pay")
    settle(runtime, stripe, books, runs=2)
    [booked] = runs_of(runtime, "stripe-invoice-paid-to-quickbooks-invoice-and-payment")
    assert booked["status"] == "succeeded", booked["last_error"]
    [echo] = runs_of(runtime, "quickbooks-payment-to-stripe-invoice-paid")
    assert (echo["status"], echo["skipped_as"]) == ("skipped", "echo")
    [ours] = books.entities(DEFAULT_REALM, "payment")
    assert f"Payment {ours['Id']} of connection 'quickbooks' was written by ledgerlink (run {booked['id']}" \
        in echo["skip_reason"]
    assert stripe_seen.writes() == []  # ledgerlink only read Stripe (the payment's balance transaction)
    assert sorted(path.rsplit("/", 1)[-1] for _, path in books_seen.writes()) == ["invoice", "payment"]

    # 2. to be paid by transfer: open in QuickBooks; a person records the payment there;
    #    ledgerlink marks the Stripe invoice paid; Stripe's webhook books nothing twice
    transfer = stripe_invoice(api, customer, 4200, collection_method="send_invoice", days_until_due=30)
    settle(runtime, stripe, books, runs=3)
    [opened] = runs_of(runtime, "stripe-invoice-finalized-to-quickbooks-open-invoice")
    assert opened["status"] == "succeeded", opened["last_error"]
    open_invoice = next(i for i in books.entities(DEFAULT_REALM, "invoice") if transfer["id"] in i.get("PrivateNote", ""))
    assert open_invoice["Balance"] == Decimal("42.00")
    before = len(books_seen.writes())
    by_hand = person_pays(qbo, open_invoice)
    settle(runtime, stripe, books, runs=5)
    marked = [r for r in runs_of(runtime, "quickbooks-payment-to-stripe-invoice-paid") if r["status"] == "succeeded"]
    assert len(marked) == 1
    assert stripe_seen.writes() == [("POST", f"/v1/invoices/{transfer['id']}/pay")]
    paid = api.get(f"/invoices/{transfer['id']}").json()
    assert (paid["status"], paid["paid_out_of_band"]) == ("paid", True)
    echoed = [r for r in runs_of(runtime, "stripe-invoice-paid-to-quickbooks-invoice-and-payment")
              if r["id"] != booked["id"]]
    assert [(r["status"], r["skipped_as"]) for r in echoed] == [("skipped", "echo")]
    assert f"invoice {transfer['id']} of connection 'stripe' was written by ledgerlink (run {marked[0]['id']}" \
        in echoed[0]["skip_reason"]
    payments = books.entities(DEFAULT_REALM, "payment")
    assert sorted(p["Id"] for p in payments) == sorted([ours["Id"], by_hand["Id"]])  # none booked twice
    assert books_seen.writes()[before:] == []  # ledgerlink wrote nothing more to QuickBooks

    # 3. a person's payment of an invoice that did not come from Stripe: skipped, not failed
    own = qbo.post("/invoice", content=jsonio.dumps({
        "CustomerRef": {"value": "2"}, "Line": [{"Amount": Decimal("10.00"), "DetailType": "SalesItemLineDetail",
                                                 "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}),
        headers={"Content-Type": "application/json"})
    assert own.status_code == 200, own.text
    person_pays(qbo, jsonio.loads(own.content)["Invoice"])
    settle(runtime, stripe, books, runs=6)
    assert [r["status"] for r in runtime.store.list_runs() if r["status"] not in ("succeeded", "skipped")] == []
    [unlinked] = [r for r in runs_of(runtime, "quickbooks-payment-to-stripe-invoice-paid") if r["skipped_as"] == "not_linked"]
    assert "did not come from a Stripe invoice" in unlinked["skip_reason"]
    assert len(stripe_seen.writes()) == 1


def test_an_open_invoice_paid_in_stripe_instead_is_paid_in_quickbooks_not_created_again(circle):
    """The customer pays by card the invoice that was to be paid by transfer: the booking
    recipe pays the open QuickBooks invoice made when it was finalized ($.linked), and the
    payment's echo writes nothing back."""
    runtime, stripe, stripe_seen, books, books_seen, api, qbo, customer = circle
    transfer = stripe_invoice(api, customer, 4200, collection_method="send_invoice", days_until_due=30)
    settle(runtime, stripe, books, runs=1)
    invoices = [i["Id"] for i in books.entities(DEFAULT_REALM, "invoice")]
    stripe_post(api, f"/invoices/{transfer['id']}/pay")
    settle(runtime, stripe, books, runs=3)
    [booked] = runs_of(runtime, "stripe-invoice-paid-to-quickbooks-invoice-and-payment")
    steps = {step["step_id"]: step for step in runtime.store.run(booked["id"])["steps"]}
    assert (steps["invoice"]["status"], steps["payment"]["status"]) == ("skipped", "succeeded")
    assert [i["Id"] for i in books.entities(DEFAULT_REALM, "invoice")] == invoices  # none created again
    [payment] = books.entities(DEFAULT_REALM, "payment")
    [opened] = [i for i in books.entities(DEFAULT_REALM, "invoice") if transfer["id"] in i.get("PrivateNote", "")]
    assert payment["Line"][0]["LinkedTxn"][0]["TxnId"] == opened["Id"]
    assert payment["TotalAmt"] == opened["TotalAmt"] == Decimal("42.00")
    [echo] = runs_of(runtime, "quickbooks-payment-to-stripe-invoice-paid")
    assert echo["skipped_as"] == "echo" and stripe_seen.writes() == []


def test_the_ledger_follows_the_source_of_truth_and_a_persons_edit_there_is_reported_not_overwritten(circle):
    """customers = "stripe": a Stripe customer's new name reaches its QuickBooks customer (whose
    webhook about it is an echo); a person's later edit of that name in QuickBooks is a
    conflict, reported with both values and raised as ledgerlink.sync.conflict, and left as
    the person made it."""
    runtime, stripe, stripe_seen, books, books_seen, api, qbo, customer = circle
    stripe_invoice(api, customer, 4200, collection_method="send_invoice", days_until_due=30)
    settle(runtime, stripe, books, runs=1)  # booked for the customer: QuickBooks' Amy is linked to it
    stripe_post(api, f"/customers/{customer}", name="Amy's Bird Sanctuary Ltd")
    settle(runtime, stripe, books, runs=2)
    [followed] = runs_of(runtime, "stripe-customer-updated-to-quickbooks-customer")
    assert followed["status"] == "succeeded", followed["last_error"] or followed["skip_reason"]
    amy = next(c for c in books.entities(DEFAULT_REALM, "customer") if c["Id"] == "1")
    assert amy["DisplayName"] == "Amy's Bird Sanctuary Ltd"
    checks = runs_of(runtime, "quickbooks-customer-updated-checked-against-stripe")
    assert checks and all(run["skipped_as"] == "echo" for run in checks)

    books.advance(600)  # ten minutes later, a person renames the customer in QuickBooks
    edited = qbo.post("/customer", content=jsonio.dumps({
        "Id": "1", "SyncToken": amy["SyncToken"], "sparse": True, "DisplayName": "Amy B."}),
        headers={"Content-Type": "application/json"})
    assert edited.status_code == 200, edited.text
    settle(runtime, stripe, books, runs=len(checks) + 3)
    [conflict] = [r for r in runs_of(runtime, "quickbooks-customer-updated-checked-against-stripe")
                  if r["skipped_as"] == "conflict"]
    assert ('DisplayName "Amy B." and email "birds@intuit.com" in QuickBooks; name "Amy\'s Bird Sanctuary Ltd" '
            f'and email "birds@intuit.com" in Stripe (customer {customer})') in conflict["skip_reason"]
    steps = runtime.store.run(conflict["id"])["steps"]
    assert [(step["step_id"], step["status"]) for step in steps] == [("stripe", "succeeded")]  # read only
    raised = [e for e in stored_events(runtime) if e["trigger"] == "ledgerlink.sync.conflict"]
    assert len(raised) == 1 and f"sync.conflict:{conflict['id']}" == raised[0]["event_id"]
    amy = next(c for c in books.entities(DEFAULT_REALM, "customer") if c["Id"] == "1")
    assert amy["DisplayName"] == "Amy B."  # not overwritten
    assert stripe_seen.writes() == [] and api.get(f"/customers/{customer}").json()["name"] == "Amy's Bird Sanctuary Ltd"


def test_the_item_follows_the_stripe_product_and_a_persons_rename_there_is_a_conflict(circle):
    """items = "stripe": a new Stripe product becomes a QuickBooks item linked to it; the
    product's new name and description reach the item (whose webhook about it is an echo); a
    person's later rename of the item in QuickBooks is a conflict, reported with both values and
    raised once as ledgerlink.sync.conflict, and nothing is written back to either side."""
    runtime, stripe, stripe_seen, books, books_seen, api, qbo, customer = circle
    product = stripe_post(api, "/products", name="Bird seed", description="Seeds, 1 kg")
    settle(runtime, stripe, books, runs=1)
    [made] = runs_of(runtime, "stripe-product-created-to-quickbooks-item")
    assert made["status"] == "succeeded", made["last_error"] or made["skip_reason"]
    [item] = [i for i in books.entities(DEFAULT_REALM, "item") if i["Name"] == "Bird seed"]
    assert (item["Description"], item["Type"], item["IncomeAccountRef"]["value"]) == ("Seeds, 1 kg", "Service", "1")

    # a product created inactive: its item is made inactive too, and that write's webhook is an echo
    retired = stripe_post(api, "/products", name="Old feeder", active="false")
    settle(runtime, stripe, books, runs=3)
    [made_inactive] = [r for r in runs_of(runtime, "stripe-product-created-to-quickbooks-item") if r["id"] != made["id"]]
    assert [(s["step_id"], s["status"]) for s in runtime.store.run(made_inactive["id"])["steps"]] == [
        ("item", "succeeded"), ("inactive", "succeeded")]
    [old] = [i for i in books.entities(DEFAULT_REALM, "item") if i["Name"] == "Old feeder"]
    assert old["Active"] is False and retired["active"] is False

    stripe_post(api, f"/products/{product['id']}", name="Bird seed mix", description="Seeds, 2 kg")
    settle(runtime, stripe, books, runs=5)
    [followed] = runs_of(runtime, "stripe-product-updated-to-quickbooks-item")
    assert followed["status"] == "succeeded", followed["last_error"] or followed["skip_reason"]
    item = next(i for i in books.entities(DEFAULT_REALM, "item") if i["Id"] == item["Id"])
    assert (item["Name"], item["Description"], item["Active"]) == ("Bird seed mix", "Seeds, 2 kg", True)
    checks = runs_of(runtime, "quickbooks-item-updated-checked-against-stripe")
    assert checks and all(run["skipped_as"] == "echo" for run in checks)
    assert sorted(r["skip_reason"].split(" was written by ledgerlink (run ")[0] for r in checks) == sorted(
        [f"Item {item['Id']} of connection 'quickbooks'", f"Item {old['Id']} of connection 'quickbooks'"])
    assert any(f"(run {followed['id']}, step 'item')" in r["skip_reason"] for r in checks)

    books.advance(600)  # ten minutes later, a person renames the item in QuickBooks
    before = len(books_seen.writes())
    edited = qbo.post("/item", content=jsonio.dumps({
        "Id": item["Id"], "SyncToken": item["SyncToken"], "sparse": True, "Name": "House seed"}),
        headers={"Content-Type": "application/json"})
    assert edited.status_code == 200, edited.text
    settle(runtime, stripe, books, runs=len(checks) + 4)
    [conflict] = [r for r in runs_of(runtime, "quickbooks-item-updated-checked-against-stripe")
                  if r["skipped_as"] == "conflict"]
    assert (f'QuickBooks item {item["Id"]} was changed where Stripe owns items: Name "House seed" and '
            'Description "Seeds, 2 kg" in QuickBooks; name "Bird seed mix" and description "Seeds, 2 kg" '
            f'in Stripe (product {product["id"]})') in conflict["skip_reason"]
    steps = runtime.store.run(conflict["id"])["steps"]
    assert [(step["step_id"], step["status"]) for step in steps] == [("stripe", "succeeded")]  # read only
    raised = [e for e in stored_events(runtime) if e["trigger"] == "ledgerlink.sync.conflict"]
    assert len(raised) == 1 and f"sync.conflict:{conflict['id']}" == raised[0]["event_id"]
    assert next(i for i in books.entities(DEFAULT_REALM, "item") if i["Id"] == item["Id"])["Name"] == "House seed"
    assert books_seen.writes()[before:] == [] and stripe_seen.writes() == []
    assert api.get(f"/products/{product['id']}").json()["name"] == "Bird seed mix"
    assert len(runs_of(runtime, "stripe-product-updated-to-quickbooks-item")) == 1  # nothing went round again

    # an item that did not come from Stripe, renamed by a person: QuickBooks keeps it alone
    own = next(i for i in books.entities(DEFAULT_REALM, "item") if i["Id"] not in (item["Id"], old["Id"]))
    renamed = qbo.post("/item", content=jsonio.dumps({
        "Id": own["Id"], "SyncToken": own["SyncToken"], "sparse": True, "Description": "by hand"}),
        headers={"Content-Type": "application/json"})
    assert renamed.status_code == 200, renamed.text
    settle(runtime, stripe, books, runs=len(checks) + 5)
    [unlinked] = [r for r in runs_of(runtime, "quickbooks-item-updated-checked-against-stripe")
                  if r["skipped_as"] == "not_linked"]
    assert f"QuickBooks item {own['Id']} did not come from a Stripe product" in unlinked["skip_reason"]
    assert runtime.store.run(unlinked["id"])["steps"] == [] and stripe_seen.writes() == []
    assert len([e for e in stored_events(runtime) if e["trigger"] == "ledgerlink.sync.conflict"]) == 1

