"""Two-way sync with Xero, the full circle over real HTTP: the Stripe and Xero sandboxes on
loopback, each sending its signed webhooks to a served ledgerlink (Xero's carry ids only:
each invoice is fetched by id before its runs are planned), and the shipped recipes — the
two-way ones for Xero and the clearing mode's invoice booking — run by worker threads.

1. A Stripe invoice paid by card is booked into Xero (contact, invoice, payment, fee); Xero
   then tells of the invoice the payment paid: that run is skipped as ``echo`` (the payment's
   step recorded its invoice as written) and nothing is written back to Stripe.
2. A Stripe invoice to be paid by transfer is created open in Xero when finalized; a person
   records its payment straight in Xero a minute later; ledgerlink marks the Stripe invoice paid out of band
   once; Stripe tells of that: the clearing mode's booking recipe plans nothing (no money
   reached the Stripe balance) and nothing is booked twice in Xero.
3. A person's payment of a Xero invoice that did not come from Stripe is skipped as
   ``not_linked``, not failed; a person's edit of the contact kept for Stripe itself (the
   fees' payee) is skipped as ``not_a_customer``.
4. Stripe owns the customers (``[source_of_truth]``): the Xero contact follows a Stripe
   customer's change, and a person's later edit of it in Xero is reported as a conflict,
   with both values, and left as the person made it.

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
from ledgerlink_sandboxes.stripe import create_sandbox as stripe_sandbox
from books_month import write_config
import stripe_month as month
from two_way_circle import AMY, Late, Recorded, runs_of, settled, stored_events, stripe_invoice, stripe_post
from vendor_files import REPO
from xero_books import XERO, client, create_accounts, xero_config

KEY = "xero-two-way-webhook-key"
TWO_WAY = REPO / "recipes" / "two-way"
SHIPPED = [TWO_WAY / "xero-invoice-paid-to-stripe-invoice-paid.json",
           TWO_WAY / "stripe-invoice-finalized-to-xero-open-invoice.json",
           TWO_WAY / "stripe-customer-updated-to-xero-contact.json",
           TWO_WAY / "xero-contact-updated-checked-against-stripe.json",
           REPO / "recipes" / "xero" / "mode-1-clearing" / "stripe-invoice-paid-to-xero-payment-into-clearing.json"]
BOOKING = "stripe-invoice-paid-to-xero-payment-into-clearing"
MARKING = "xero-invoice-paid-to-stripe-invoice-paid"
FOLLOWS = "stripe-customer-updated-to-xero-contact"
CHECKED = "xero-contact-updated-checked-against-stripe"


def recipes_in(folder: Path) -> Path:
    """The shipped recipes as an integrator copies them, the booking one enabled."""
    folder.mkdir()
    for path in SHIPPED:
        recipe = json.loads(path.read_text())
        recipe.pop("$schema", None)
        if recipe["id"] == BOOKING:
            recipe["enabled"] = True
        (folder / path.name).write_text(json.dumps(recipe, indent=2))
    return folder


def person_pays(xero: httpx.Client, invoice_id: str, amount: Decimal) -> dict[str, Any]:
    """A payment entered by a person in Xero (its API, as its app does) into the bank account 090."""
    answer = xero.put("/Payments", content=jsonio.dumps({
        "Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"},
        "Date": time.strftime("%Y-%m-%d", time.gmtime()), "Amount": amount}),
        headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    return jsonio.loads(answer.content)["Payments"][0]


def invoices(xero: httpx.Client) -> list[dict[str, Any]]:
    answer = xero.get("/Invoices")
    assert answer.status_code == 200, answer.text
    return jsonio.loads(answer.content)["Invoices"]


def settle(runtime: Any, stripe: Any, books: Any, runs: int) -> dict[str, int]:
    return settled(runtime, stripe, lambda: not books.stats()["webhooks_pending"], runs)


@pytest.fixture
def circle(tmp_path, keys, monkeypatch):
    """Both sandboxes, each recorded and sending its signed webhooks to a served ledgerlink
    whose workers run; yields (runtime, Stripe sandbox, its record, Xero sandbox, its record,
    a Stripe API client, a Xero API client (a person), the Stripe customer)."""
    monkeypatch.setenv("LL_TEST_XERO_WEBHOOK_KEY", KEY)
    endpoint_app = Late()
    with background(endpoint_app) as endpoint:
        stripe_app = stripe_sandbox(rate_limit=False, wall_clock=time.time,
                                    webhook_url=f"{endpoint.url}/webhooks/stripe",
                                    webhook_secret=month.WHSEC, webhook_retry_seconds=[0.05])
        books_app = XERO.sandbox(wall_clock=time.time)
        stripe_seen, books_seen = Recorded(stripe_app.wsgi_app), Recorded(books_app.wsgi_app)
        stripe_app.wsgi_app, books_app.wsgi_app = stripe_seen, books_seen
        try:
            with running(stripe_app) as stripe, running(books_app) as books, \
                    httpx.Client(base_url=f"{stripe.url}/v1", auth=(month.KEY, "")) as api, \
                    client(books.url) as xero:
                create_accounts(xero)
                lines = xero_config(books.url)
                lines.insert(lines.index("[connections.xero.limits]"), 'webhook_key = "${LL_TEST_XERO_WEBHOOK_KEY}"')
                config = write_config(tmp_path / "ledgerlink.toml", stripe.url,
                                      lines + ["[source_of_truth]", 'customers = "stripe"', ""])
                customer = stripe_post(api, "/customers", **AMY)
                runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_in(tmp_path / "recipes"),
                                        config_file=str(config), settings=Settings(backoff_base=0.05, backoff_cap=0.2))
                endpoint_app.app = create_app(runtime=runtime)
                books_app.sandbox.set_webhooks(f"{endpoint.url}/webhooks/xero", KEY, retry_schedule=(0.05,))
                pool = WorkerPool(runtime, 2)
                pool.start()
                try:
                    yield runtime, stripe_app.sandbox, stripe_seen, books_app.sandbox, books_seen, api, xero, \
                        customer["id"]
                finally:
                    pool.stop()
                    books_app.sandbox.set_webhooks(None, None)
                    runtime.close()
        finally:
            stripe_app.sandbox.stop()


def test_the_xero_circle_writes_nothing_back_and_books_nothing_twice(circle):
    runtime, stripe, stripe_seen, books, books_seen, api, xero, customer = circle

    # 1. paid by card in Stripe -> booked in Xero -> Xero's webhook about the paid invoice -> nothing back
    card = stripe_invoice(api, customer, 12500)
    stripe_post(api, f"/invoices/{card['id']}/pay")
    settle(runtime, stripe, books, runs=2)
    [booked] = runs_of(runtime, BOOKING)
    assert booked["status"] == "succeeded", booked["last_error"]
    [ours] = [i for i in invoices(xero) if i["Reference"] == card["id"]]
    assert (ours["Status"], ours["AmountDue"]) == ("PAID", Decimal("0"))
    [echo] = runs_of(runtime, MARKING)
    assert (echo["status"], echo["skipped_as"]) == ("skipped", "echo")
    assert f"Invoice {ours['InvoiceID']} of connection 'xero' was written by ledgerlink (run {booked['id']}, " \
           f"step 'payment')" in echo["skip_reason"]
    assert stripe_seen.writes() == []  # ledgerlink only read Stripe (the payment's balance transaction)
    booked_in_xero = sorted(path.rsplit("/", 1)[-1] for _, path in books_seen.writes())
    assert booked_in_xero == ["BankTransactions", "Contacts", "Contacts", "Invoices", "Payments"]

    # 2. to be paid by transfer: open in Xero; a person records the payment there; ledgerlink
    #    marks the Stripe invoice paid once; Stripe's webhook books nothing twice in Xero
    transfer = stripe_invoice(api, customer, 4200, collection_method="send_invoice", days_until_due=30)
    settle(runtime, stripe, books, runs=3)
    [opened] = runs_of(runtime, "stripe-invoice-finalized-to-xero-open-invoice")
    assert opened["status"] == "succeeded", opened["last_error"]
    [open_invoice] = [i for i in invoices(xero) if i["Reference"] == transfer["id"]]
    assert (open_invoice["Status"], open_invoice["AmountDue"]) == ("AUTHORISED", Decimal("42.00"))
    before = len(books_seen.writes())
    # the person pays a minute after ledgerlink created the invoice (Xero's clock moved on, not
    # the test's): a change more than the clocks' skew after ledgerlink's write is news
    books.clock.advance(60)
    by_hand = person_pays(xero, open_invoice["InvoiceID"], Decimal("42.00"))
    settle(runtime, stripe, books, runs=4)
    marked = [r for r in runs_of(runtime, MARKING) if r["status"] == "succeeded"]
    assert len(marked) == 1, runs_of(runtime, MARKING)
    assert stripe_seen.writes() == [("POST", f"/v1/invoices/{transfer['id']}/pay")]
    paid = api.get(f"/invoices/{transfer['id']}").json()
    assert (paid["status"], paid["paid_out_of_band"]) == ("paid", True)
    # Stripe told of it: its invoice.paid arrived, and (paid out of band: no balance
    # transaction, so no money reached the clearing account) the booking recipe books nothing
    told = [e for e in stored_events(runtime) if e["trigger"] == "stripe.invoice.paid"]
    assert len(told) == 2 and transfer["id"] in told[-1]["payload"]
    assert [r["id"] for r in runs_of(runtime, BOOKING)] == [booked["id"]]
    assert books_seen.writes()[before:] == []  # ledgerlink wrote nothing more to Xero
    payments = jsonio.loads(xero.get("/Payments").content)["Payments"]
    on_transfer = [p for p in payments if p["Invoice"]["InvoiceID"] == open_invoice["InvoiceID"]]
    assert [p["PaymentID"] for p in on_transfer] == [by_hand["PaymentID"]]  # none booked twice

    # 3. a person's payment of an invoice that did not come from Stripe: skipped, not failed
    contact = jsonio.loads(xero.get("/Contacts").content)["Contacts"][0]
    own = xero.put("/Invoices", content=jsonio.dumps({
        "Type": "ACCREC", "Contact": {"ContactID": contact["ContactID"]}, "Date": time.strftime("%Y-%m-%d"),
        "DueDate": time.strftime("%Y-%m-%d"), "Status": "AUTHORISED", "LineAmountTypes": "NoTax",
        "LineItems": [{"Description": "Consulting", "Quantity": 1, "UnitAmount": Decimal("10.00"),
                       "AccountCode": "200", "TaxType": "NONE"}]}), headers={"Content-Type": "application/json"})
    assert own.status_code == 200, own.text
    person_pays(xero, jsonio.loads(own.content)["Invoices"][0]["InvoiceID"], Decimal("10.00"))
    settle(runtime, stripe, books, runs=5)
    assert [r["status"] for r in runtime.store.list_runs() if r["status"] not in ("succeeded", "skipped")] == []
    [unlinked] = [r for r in runs_of(runtime, MARKING) if r["skipped_as"] == "not_linked"]
    assert "did not come from a Stripe invoice" in unlinked["skip_reason"]
    assert len(stripe_seen.writes()) == 1

    # the contact the booking recipe keeps for Stripe itself (the fees' payee), edited by a
    # person: linked to "stripe", no Stripe customer, so no conflict to check
    [payee] = [c for c in jsonio.loads(xero.get("/Contacts").content)["Contacts"] if c["Name"] == "Stripe"]
    books.clock.advance(600)
    edited = xero.post(f"/Contacts/{payee['ContactID']}", content=jsonio.dumps({"Contacts": [
        {"ContactID": payee["ContactID"], "EmailAddress": "billing@stripe.example"}]}),
        headers={"Content-Type": "application/json"})
    assert edited.status_code == 200, edited.text
    settle(runtime, stripe, books, runs=len(runtime.store.list_runs()) + 1)
    [payee_checked] = runs_of(runtime, CHECKED)
    assert (payee_checked["status"], payee_checked["skipped_as"]) == ("skipped", "not_a_customer"), payee_checked
    assert "stands for stripe, not a Stripe customer" in payee_checked["skip_reason"]
    assert runtime.store.run(payee_checked["id"])["steps"] == []  # Stripe not even read
    assert books_seen.writes()[before:] == []


def contact(xero: httpx.Client, contact_id: str) -> dict[str, Any]:
    answer = xero.get(f"/Contacts/{contact_id}")
    assert answer.status_code == 200, answer.text
    return jsonio.loads(answer.content)["Contacts"][0]


def test_xero_follows_the_source_of_truth_and_a_persons_edit_there_is_reported_not_overwritten(circle):
    """customers = "stripe": a Stripe customer's new name reaches its Xero contact (whose
    webhook about it is an echo); a person's later edit of that contact in Xero is a conflict,
    reported with both values and raised as ledgerlink.sync.conflict, and left as the person
    made it."""
    runtime, stripe, stripe_seen, books, books_seen, api, xero, customer = circle
    transfer = stripe_invoice(api, customer, 4200, collection_method="send_invoice", days_until_due=30)
    settle(runtime, stripe, books, runs=1)  # booked for the customer: its contact is linked to it
    [opened] = [i for i in invoices(xero) if i["Reference"] == transfer["id"]]
    amy_id = opened["Contact"]["ContactID"]
    stripe_post(api, f"/customers/{customer}", name="Amy's Bird Sanctuary Ltd")
    settle(runtime, stripe, books, runs=2)
    [followed] = runs_of(runtime, FOLLOWS)
    assert followed["status"] == "succeeded", followed["last_error"] or followed["skip_reason"]
    amy = contact(xero, amy_id)
    assert (amy["Name"], amy["EmailAddress"]) == ("Amy's Bird Sanctuary Ltd", "birds@intuit.com")
    wait_for_checks(runtime, stripe, books)
    checks = runs_of(runtime, CHECKED)
    assert checks and all(run["skipped_as"] == "echo" for run in checks), checks
    assert any(f"Contact {amy_id} of connection 'xero' was written by ledgerlink (run {followed['id']}"
               in run["skip_reason"] for run in checks)

    books.clock.advance(600)  # ten minutes later, a person renames the contact in Xero
    before = len(books_seen.writes())
    edited = xero.post(f"/Contacts/{amy_id}", content=jsonio.dumps({"Contacts": [{"ContactID": amy_id, "Name": "Amy B."}]}),
                       headers={"Content-Type": "application/json"})
    assert edited.status_code == 200, edited.text
    settle(runtime, stripe, books, runs=len(runtime.store.list_runs()) + 1)
    [conflict] = [r for r in runs_of(runtime, CHECKED) if r["skipped_as"] == "conflict"]
    assert ('Name "Amy B." and email "birds@intuit.com" in Xero; name "Amy\'s Bird Sanctuary Ltd" '
            f'and email "birds@intuit.com" in Stripe (customer {customer})') in conflict["skip_reason"]
    steps = runtime.store.run(conflict["id"])["steps"]
    assert [(step["step_id"], step["status"]) for step in steps] == [("stripe", "succeeded")]  # read only
    raised = [e for e in stored_events(runtime) if e["trigger"] == "ledgerlink.sync.conflict"]
    assert [e["event_id"] for e in raised] == [f"sync.conflict:{conflict['id']}"]
    assert contact(xero, amy_id)["Name"] == "Amy B."  # not overwritten
    assert books_seen.writes()[before:] == [] and stripe_seen.writes() == []
    assert api.get(f"/customers/{customer}").json()["name"] == "Amy's Bird Sanctuary Ltd"


def wait_for_checks(runtime: Any, stripe: Any, books: Any) -> None:
    """Xero's webhook about ledgerlink's rename arrives after the run that made it: wait for its check."""
    deadline = time.monotonic() + 30  # waited for, not timed
    while not runs_of(runtime, CHECKED) and time.monotonic() < deadline:
        time.sleep(0.05)
    settle(runtime, stripe, books, runs=len(runtime.store.list_runs()))
