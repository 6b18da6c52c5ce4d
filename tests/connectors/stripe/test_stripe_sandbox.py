"""The Stripe sandbox over loopback HTTP: Stripe's objects, money, errors, lists, idempotency,
rate limit, events and signed webhooks, checked against Stripe's OpenAPI schemas and read by
the official ``stripe`` SDK.

Every test serves the sandbox with the kit's ``running`` on loopback; nothing reaches beyond
it, and no test measures time (the sandbox clock is moved, never waited for).
"""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from typing import Any

import httpx
import jsonschema
import pytest
import stripe
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox
from vendor_files import STRIPE

KEY = "sk_test_sandbox"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def served():
    app = create_sandbox(seed="tests", rate_limit=False)  # measured only: see the 429 test
    with running(app) as loopback:
        yield loopback
    app.sandbox.stop()


@pytest.fixture
def api(served) -> httpx.Client:
    with httpx.Client(base_url=f"{served.url}/v1", headers=AUTH) as client:
        yield client


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def paid_invoice(api: httpx.Client, currency: str, amount: int, **invoice: str) -> dict[str, Any]:
    customer = ok(api.post("/customers", data={"name": "Ada", "email": "ada@example.com"}))
    created = ok(api.post("/invoices", data={"customer": customer["id"], "currency": currency, **invoice}))
    ok(api.post("/invoiceitems", data={"customer": customer["id"], "invoice": created["id"],
                                       "amount": str(amount)}))
    return ok(api.post(f"/invoices/{created['id']}/pay"))


def charge_txn(api: httpx.Client, charge_id: str) -> dict[str, Any]:
    return ok(api.get(f"/charges/{charge_id}", params={"expand[]": "balance_transaction"}))["balance_transaction"]


# --- Stripe's HTTP habits ----------------------------------------------------------------------

@pytest.mark.parametrize("headers,code", [({}, None), ({"Authorization": "Bearer sk_test_wrong_key_123"}, "api_key_invalid")])
def test_a_request_without_a_valid_key_is_refused_in_stripes_shape(served, headers, code):
    response = httpx.get(f"{served.url}/v1/customers", headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error.get("code") == code
    assert "sk_test_wrong_key_123" not in error["message"]


def test_errors_name_the_parameter_as_stripe_does(api):
    unknown = api.post("/customers", data={"nmae": "typo"})
    assert unknown.status_code == 400
    error = unknown.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "parameter_unknown", "nmae")
    missing = api.post("/invoices", data={})
    assert missing.json()["error"]["code"] == "parameter_missing" and missing.json()["error"]["param"] == "customer"
    absent = api.get("/invoices/in_nothing")
    assert absent.status_code == 404
    assert absent.json()["error"] == absent.json()["error"] | {
        "type": "invalid_request_error", "code": "resource_missing", "param": "id",
        "message": "No such invoice: 'in_nothing'"}
    assert api.get("/customers", params={"limit": "0"}).status_code == 400
    assert api.get("/customers", params={"limit": "101"}).status_code == 400
    assert api.get("/nowhere").status_code == 404


def test_form_encoded_metadata_is_kept_and_unset_with_an_empty_value(api):
    customer = ok(api.post("/customers", data={"metadata[order]": "7", "metadata[desk]": "b"}))
    assert customer["metadata"] == {"order": "7", "desk": "b"}
    updated = ok(api.post(f"/customers/{customer['id']}", data={"metadata[desk]": ""}))
    assert updated["metadata"] == {"order": "7"}


def test_the_same_idempotency_key_replays_and_other_parameters_are_refused(served, api):
    first = api.post("/customers", data={"name": "Ada"}, headers={"Idempotency-Key": "k1"})
    again = api.post("/customers", data={"name": "Ada"}, headers={"Idempotency-Key": "k1"})
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(served.sandbox.account.store.objects["customer"]) == 1
    other = api.post("/customers", data={"name": "Bob"}, headers={"Idempotency-Key": "k1"})
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"


def test_over_the_rate_window_stripe_answers_429_and_changes_nothing():
    app = create_sandbox(requests_per_second=2, clock=lambda: 0.0)
    with running(app) as loopback, httpx.Client(base_url=f"{loopback.url}/v1", headers=AUTH) as api:
        assert [api.post("/customers").status_code for _ in range(3)] == [200, 200, 429]
        error = api.post("/customers").json()["error"]
        assert error["code"] == "rate_limit"
        assert len(loopback.sandbox.account.store.objects["customer"]) == 2


def test_lists_page_newest_first_like_stripe(api):
    ids = [ok(api.post("/customers", data={"name": f"c{n}"}))["id"] for n in range(25)]
    newest_first = ids[::-1]
    first = ok(api.get("/customers"))
    assert first["object"] == "list" and first["url"] == "/v1/customers" and first["has_more"]
    assert [c["id"] for c in first["data"]] == newest_first[:10]
    seen, cursor = [], None
    while True:
        page = ok(api.get("/customers", params={"limit": "7", **({"starting_after": cursor} if cursor else {})}))
        seen += [c["id"] for c in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["data"][-1]["id"]
    assert seen == newest_first
    before = ok(api.get("/customers", params={"limit": "3", "ending_before": newest_first[5]}))
    assert [c["id"] for c in before["data"]] == newest_first[2:5] and before["has_more"]


# --- money -------------------------------------------------------------------------------------

@pytest.mark.parametrize("currency,amount,settled,rate,fee", [
    ("usd", 10000, 10000, None, 320),     # 2.9% of 100.00 + 0.30
    ("eur", 1250, 1356, "1.0845", 83),    # 12.50 x 1.0845 = 13.55625; 3.9% of 13.56 = 0.53 + 0.30
    ("jpy", 1000, 671, "0.006712", 56),   # ¥1000 x 0.006712 = 6.712; 3.9% of 6.71 = 0.26 + 0.30
    ("kwd", 5125, 1661, "3.2415", 95),    # 5.125 KWD x 3.2415 = 16.6127; 3.9% of 16.61 = 0.65 + 0.30
])
def test_a_card_payment_writes_stripes_balance_transaction(api, currency, amount, settled, rate, fee):
    invoice = paid_invoice(api, currency, amount)
    assert invoice["status"] == "paid" and invoice["amount_paid"] == amount
    txn = charge_txn(api, invoice["charge"])
    assert (txn["amount"], txn["fee"], txn["net"], txn["currency"]) == (settled, fee, settled - fee, "usd")
    assert txn["exchange_rate"] == (None if rate is None else float(Decimal(rate)))
    assert txn["fee_details"] == [{"amount": fee, "application": None, "currency": "usd",
                                   "description": "Stripe processing fees", "type": "stripe_fee"}]
    assert (txn["type"], txn["source"], txn["reporting_category"]) == ("charge", invoice["charge"], "charge")
    assert txn["available_on"] == txn["created"] + 2 * 86400  # the clock starts at midnight UTC


def test_refunds_disputes_and_an_automatic_payout_add_up(served, api):
    invoice = paid_invoice(api, "eur", 10000)
    refund = ok(api.post("/refunds", data={"charge": invoice["charge"], "amount": "2500"}))
    assert ok(api.get(f"/charges/{invoice['charge']}"))["amount_refunded"] == 2500
    too_much = api.post("/refunds", data={"charge": invoice["charge"], "amount": "7501"})
    assert too_much.json()["error"]["code"] == "amount_too_large"
    account = served.sandbox.account
    other = paid_invoice(api, "usd", 5000)
    dispute = account.dispute(other["charge"])
    account.close_dispute(dispute["id"], won=False)
    withdrawn = ok(api.get(f"/disputes/{dispute['id']}"))["balance_transactions"][0]
    assert (withdrawn["type"], withdrawn["amount"], withdrawn["fee"]) == ("adjustment", -5000, 1500)
    refund_txn = ok(api.get(f"/balance_transactions/{refund['balance_transaction']}"))
    assert (refund_txn["amount"], refund_txn["fee"], refund_txn["exchange_rate"]) == (-2711, 0, 1.0845)

    served.sandbox.clock.advance(3 * 86400)
    payout = account.ledger.payout({}, automatic=True)
    members = ok(api.get("/balance_transactions", params={"payout": payout["id"], "limit": "100"}))["data"]
    assert sum(t["net"] for t in members if t["type"] != "payout") == payout["amount"]
    assert [t["amount"] for t in members if t["type"] == "payout"] == [-payout["amount"]]
    assert ok(api.get("/balance"))["available"] == [{"amount": 0, "currency": "usd",
                                                    "source_types": {"card": 0}}]
    failed = account.ledger.settle(payout["id"], failed=True)
    assert failed["status"] == "failed"
    assert ok(api.get("/balance"))["available"][0]["amount"] == payout["amount"]
    refunds = ok(api.get("/balance_transactions", params={"type": "refund"}))["data"]
    assert [t["source"] for t in refunds] == [refund["id"]]
    expanded = ok(api.get("/balance_transactions", params={"source": refund["id"], "expand[]": "data.source"}))
    assert expanded["data"][0]["source"]["object"] == "refund"


def test_payments_without_an_invoice(api):
    waiting = ok(api.post("/payment_intents", data={"amount": "500", "currency": "usd"}))
    assert (waiting["status"], waiting["latest_charge"]) == ("requires_payment_method", None)
    intent = ok(api.post("/payment_intents", data={"amount": "500", "currency": "usd", "confirm": "true",
                                                   "payment_method": "pm_card_visa",
                                                   "expand[]": "latest_charge.balance_transaction"}))
    assert intent["status"] == "succeeded"
    assert intent["latest_charge"]["balance_transaction"]["net"] == 500 - 45
    legacy = ok(api.post("/charges", data={"amount": "200", "currency": "gbp", "source": "tok_visa"}))
    assert (legacy["status"], legacy["invoice"], legacy["paid"]) == ("succeeded", None, True)
    listed = ok(api.get("/charges", params={"payment_intent": intent["id"]}))["data"]
    assert [c["payment_intent"] for c in listed] == [intent["id"]]
    assert api.post("/customers", data={"currency": "usd"}).json()["error"]["code"] == "parameter_unknown"


def test_invoice_life_cycle_and_out_of_band_payment(api):
    customer = ok(api.post("/customers", data={"name": "Ada"}))
    def invoice() -> str:
        created = ok(api.post("/invoices", data={"customer": customer["id"], "currency": "usd"}))
        ok(api.post("/invoiceitems", data={"customer": customer["id"], "invoice": created["id"], "amount": "900"}))
        return ok(api.post(f"/invoices/{created['id']}/finalize"))["id"]
    paid = ok(api.post(f"/invoices/{invoice()}/pay", data={"paid_out_of_band": "true"}))
    assert (paid["status"], paid["paid_out_of_band"], paid["charge"]) == ("paid", True, None)
    again = api.post(f"/invoices/{paid['id']}/pay", data={"paid_out_of_band": "true"})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invoice_already_paid"
    assert ok(api.post(f"/invoices/{invoice()}/void"))["status"] == "void"
    assert ok(api.post(f"/invoices/{invoice()}/mark_uncollectible"))["status"] == "uncollectible"
    noted = ok(api.post(f"/invoices/{paid['id']}", data={"metadata[note]": "booked"}))
    assert noted["metadata"] == {"note": "booked"}
    note = ok(api.post("/credit_notes", data={"invoice": paid["id"], "amount": "300"}))
    assert (note["type"], note["total"]) == ("post_payment", 300)
    listed = ok(api.get("/invoices", params={"customer": customer["id"], "status": "paid"}))
    assert [i["id"] for i in listed["data"]] == [paid["id"]]


# --- events and webhooks -----------------------------------------------------------------------

def test_every_change_is_an_event_filtered_as_stripe_filters(served, api):
    invoice = paid_invoice(api, "usd", 700)
    events = ok(api.get("/events", params={"limit": "100"}))["data"]
    assert [e["type"] for e in events][:3] == ["invoice.paid", "invoice.payment_succeeded", "charge.succeeded"]
    assert all(e["api_version"] == "2023-08-16" and e["livemode"] is False for e in events)
    paid = ok(api.get("/events", params={"type": "invoice.paid"}))["data"]
    assert [e["data"]["object"]["id"] for e in paid] == [invoice["id"]]
    assert paid[0]["data"]["previous_attributes"]["status"] == "open"
    assert paid[0]["request"]["id"].startswith("req_")
    several = ok(api.get("/events", params={"types[]": ["invoice.paid", "charge.succeeded"]}))["data"]
    assert {e["type"] for e in several} == {"invoice.paid", "charge.succeeded"}
    assert len(ok(api.get("/events", params={"type": "invoice.*", "limit": "100"}))["data"]) == 4
    served.sandbox.clock.advance(60)
    later = ok(api.post("/customers"))
    recent = ok(api.get("/events", params={"created[gte]": str(later["created"])}))["data"]
    assert [e["type"] for e in recent] == ["customer.created"]
    assert ok(api.get(f"/events/{recent[0]['id']}"))["id"] == recent[0]["id"]


class Receiver:
    """A webhook endpoint on loopback: keeps each POST's body and headers; fails the first."""

    def __init__(self, fail_first: int = 0) -> None:
        self.sandbox: list[tuple[bytes, dict[str, str]]] = []
        self.fail_first = fail_first
        self.arrived = threading.Condition()

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        with self.arrived:
            if self.fail_first:
                self.fail_first -= 1
                start_response("500 Internal Server Error", [("Content-Length", "0")])
                return [b""]
            self.sandbox.append((body, {"Stripe-Signature": environ.get("HTTP_STRIPE_SIGNATURE", "")}))
            self.arrived.notify_all()
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    def wait_for(self, count: int) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.sandbox) >= count, timeout=30)


def test_webhooks_are_signed_as_stripe_signs_retried_and_listed(served):
    receiver = Receiver(fail_first=1)
    with running(receiver) as endpoint:
        app = create_sandbox(seed="hooks", webhook_url=endpoint.url, webhook_secret="whsec_test_secret",
                             webhook_retry_seconds=[0.0])
        with running(app) as sandbox, httpx.Client(base_url=f"{sandbox.url}/v1", headers=AUTH) as api:
            customer = ok(api.post("/customers", data={"name": "Ada"}))
            ok(api.post(f"/customers/{customer['id']}", data={"name": "Ada L."}))
            receiver.wait_for(2)
            # the default tolerance (five minutes): signed at sending time, not business time
            events = [stripe.Webhook.construct_event(body, headers["Stripe-Signature"],
                                                     "whsec_test_secret")
                      for body, headers in receiver.sandbox]
            assert [e["type"] for e in events] == ["customer.created", "customer.updated"]
            assert events[1]["data"]["previous_attributes"].to_dict() == {"name": "Ada"}
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.WebhookSignature.verify_header(receiver.sandbox[0][0].decode(),
                                                      receiver.sandbox[0][1]["Stripe-Signature"],
                                                      "whsec_other", tolerance=None)
            wanted = {e["id"] for e in events}
            for _ in range(600):  # the sandbox marks a delivery once it has read the receiver's answer
                delivered = ok(api.get("/events", params={"delivery_success": "true"}))["data"]
                if {e["id"] for e in delivered} == wanted:
                    break
                time.sleep(0.05)
            assert {e["id"] for e in delivered} == wanted
            assert all(e["pending_webhooks"] == 0 for e in delivered)
            assert app.sandbox.emitter.stats["failed_attempts"] == 1
        app.sandbox.stop()


# --- Stripe's OpenAPI and SDK ------------------------------------------------------------------

def _nullable_as_anyof(node: Any) -> Any:
    """OpenAPI 3.0 ``{…, nullable: true}`` → ``{anyOf: [{…}, {type: null}]}`` (SOURCES.md)."""
    if isinstance(node, dict):
        out = {key: _nullable_as_anyof(value) for key, value in node.items()}
        if isinstance(out.get("nullable"), bool) and out.pop("nullable"):
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_nullable_as_anyof(item) for item in node]
    return node


@pytest.fixture(scope="module")
def spec_errors():
    spec = _nullable_as_anyof(json.loads((STRIPE / "spec3.2023-08-16.schemas.json").read_bytes()))
    registry = Registry().with_resource("urn:stripe:spec3", Resource(contents=spec, specification=DRAFT4))

    def errors(component: str, instance: Any) -> list[str]:
        validator = jsonschema.Draft4Validator(
            {"$ref": f"urn:stripe:spec3#/components/schemas/{component}"}, registry=registry)
        return [f"{component}/{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(instance)]
    return errors


def business(served, api) -> None:
    """One of every object the sandbox serves."""
    invoice = paid_invoice(api, "jpy", 5000)
    ok(api.post("/refunds", data={"charge": invoice["charge"], "amount": "1000"}))
    ok(api.post("/credit_notes", data={"invoice": invoice["id"], "amount": "500", "reason": "duplicate"}))
    account = served.sandbox.account
    dispute = account.dispute(paid_invoice(api, "eur", 800)["charge"])
    account.close_dispute(dispute["id"], won=True)
    served.sandbox.clock.advance(3 * 86400)
    ok(api.post("/payouts", data={"amount": "100"}))
    account.ledger.settle(account.ledger.payout({}, automatic=True)["id"])
    ok(api.post(f"/invoices/{invoice['id']}", data={"metadata[k]": "v"}))


def test_every_object_served_validates_against_stripes_openapi(served, api, spec_errors):
    paid_invoice(api, "usd", 100000)  # enough balance for the manual payout in business()
    business(served, api)
    kinds = ["customers", "invoices", "charges", "payment_intents", "refunds", "disputes",
             "balance_transactions", "payouts", "credit_notes", "events"]
    errors, seen = [], set()
    for plural in kinds:
        for obj in ok(api.get(f"/{plural}", params={"limit": "100"}))["data"]:
            seen.add(obj["object"])
            one = ok(api.get(f"/{plural}/{obj['id']}"))
            errors += spec_errors(obj["object"], one)
            if obj["object"] == "event":
                errors += spec_errors(one["data"]["object"]["object"], one["data"]["object"])
    charge = ok(api.get("/charges", params={"limit": "1", "expand[]": ["data.balance_transaction",
                                                                           "data.payment_intent"]}))["data"][0]
    errors += spec_errors("charge", charge)
    assert sorted(set(errors)) == []
    assert seen == {"customer", "invoice", "charge", "payment_intent", "refund", "dispute",
                    "balance_transaction", "payout", "credit_note", "event"}


def test_stripe_python_reads_lists_creates_and_sees_the_replay(served):
    client = stripe.StripeClient(KEY, base_addresses={"api": served.url}, max_network_retries=0)
    customer = client.v1.customers.create({"name": "Ada", "metadata": {"crm": "42"}},
                                          {"idempotency_key": "sdk-1"})
    replay = client.v1.customers.create({"name": "Ada", "metadata": {"crm": "42"}},
                                        {"idempotency_key": "sdk-1"})
    assert replay.id == customer.id and replay.metadata["crm"] == "42"
    assert replay.last_response.headers["Idempotent-Replayed"] == "true"
    invoice = client.v1.invoices.create({"customer": customer.id, "currency": "kwd"})
    client.v1.invoice_items.create({"customer": customer.id, "invoice": invoice.id, "amount": 12345})
    paid = client.v1.invoices.pay(invoice.id)
    assert paid.status == "paid" and paid.amount_paid == 12345
    txn = client.v1.balance_transactions.retrieve(
        client.v1.charges.retrieve(paid.charge).balance_transaction)
    assert txn.currency == "usd" and txn.fee_details[0].type == "stripe_fee"
    for _ in range(12):
        client.v1.customers.create({"name": "more"})
    assert len(list(client.v1.customers.list({"limit": 5}).auto_paging_iter())) == 13
    events = client.v1.events.list({"type": "invoice.paid"})
    assert [e.data.object.id for e in events.data] == [invoice.id]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.invoices.retrieve("in_missing")
    assert refused.value.code == "resource_missing"


def test_the_same_seed_and_calls_give_the_same_bytes():
    def run() -> list[bytes]:
        app = create_sandbox(seed="same")
        with running(app) as loopback, httpx.Client(base_url=f"{loopback.url}/v1", headers=AUTH) as api:
            paid_invoice(api, "eur", 4321)
            return [api.get(f"/{plural}", params={"limit": "100"}).content
                    for plural in ("customers", "invoices", "charges", "balance_transactions", "events")]
    assert run() == run()


# --- layout ------------------------------------------------------------------------------------

def test_the_sandbox_is_in_small_documented_modules_without_a_cycle():
    from ledgerlink.testing.layout import import_cycles, long_modules, silent_modules

    package = "ledgerlink_sandboxes.stripe"
    assert (long_modules(package), silent_modules(package), import_cycles(package)) == ({}, [], [])


def test_the_sandbox_does_not_import_the_connector_it_tests():
    import ledgerlink_sandboxes.stripe as package
    from pathlib import Path

    for module in Path(package.__file__).parent.glob("*.py"):
        assert "ledgerlink_stripe" not in module.read_text("utf-8"), module.name


def test_ledgerlink_sandbox_stripe_is_registered_with_its_options():
    from ledgerlink.connectors.manager import load_catalog

    sandbox = load_catalog().sandbox("stripe")
    assert {"seed", "webhook_url", "settlement_currency"} <= set(sandbox.options)
    with pytest.raises(ValueError):
        sandbox.factory(settlement_currency="xyz")
    with pytest.raises(ValueError):
        sandbox.factory(api_keys=["sk_live_nope"])


def test_driven_in_process_every_daily_payout_is_the_sum_of_its_transactions(served, api):
    account, ledger = served.sandbox.account, served.sandbox.account.ledger
    customer = account.create_customer({"name": "Daily"})
    payouts = []
    for day in range(6):
        for n, currency in enumerate(("usd", "eur", "jpy", "kwd")):
            intent = account.create_payment({"amount": 1000 + 137 * n + day, "currency": currency,
                                             "customer": customer["id"]})
            if n == day % 4:
                account.refund({"charge": intent["latest_charge"], "amount": "300"})
        served.sandbox.clock.advance(86400)
        if day >= 2:
            payouts.append(ledger.payout({}, automatic=True))
            ledger.settle(payouts[-1]["id"], failed=day == 4)
            assert ok(api.get("/balance"))["available"][0]["amount"] == (payouts[-1]["amount"] if day == 4 else 0)
    for payout in payouts:
        members = ok(api.get("/balance_transactions", params={"payout": payout["id"], "limit": "100"}))["data"]
        assert sum(t["net"] for t in members if t["type"] != "payout") == payout["amount"]
    statuses = [ok(api.get(f"/payouts/{p['id']}"))["status"] for p in payouts]
    assert statuses == ["paid", "paid", "failed", "paid"]
    assert [e["type"] for e in ok(api.get("/events", params={"type": "payout.failed"}))["data"]] == ["payout.failed"]
