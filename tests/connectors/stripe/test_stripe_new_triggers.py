"""The Stripe triggers beyond invoices, credit notes, refunds and paid payouts, and events of
types no trigger handles.

Payments without an invoice (``charge.succeeded``), disputes, failed payouts, voided and
uncollectible invoices, customers and products: each trigger is listed by ``ledgerlink connectors``, a
recipe on it dry-runs on its sample (2023-08-16 shape) and on an event built from the newest
fixtures (Basil shape), its signed sample plans one run of that recipe through the webhook
endpoint (and a duplicate none), and its sample says what Stripe says about such an event. An event of a
type no trigger handles, correctly signed, is answered 200 over real HTTP, stored, plans no run
and comes back with the reason.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import sqlalchemy as sa

import ledgerlink_stripe
import stripe_events as se
from ledgerlink import cli, jsonio
from ledgerlink.store.schema import events as events_table
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from runtime_fixtures import ADMIN_TOKEN, WEBHOOK_SECRET, recipes_dir, signed, write_config

NEW = {  # trigger's event type -> the Stripe object it carries (= the newest fixture's resource)
    "charge.succeeded": "charge",
    "charge.dispute.created": "dispute",
    "charge.dispute.funds_withdrawn": "dispute",
    "charge.dispute.funds_reinstated": "dispute",
    "charge.dispute.closed": "dispute",
    "payout.failed": "payout",
    "invoice.voided": "invoice",
    "invoice.marked_uncollectible": "invoice",
    "customer.created": "customer",
    "customer.updated": "customer",
    "product.created": "product",
    "product.updated": "product",
}


def _errors(event_type: str, event: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(ledgerlink_stripe.event_schema(event_type))
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(event)]


# --- the catalog and the CLI -----------------------------------------------------------------

def test_connectors_lists_every_new_trigger(capsys):
    assert cli.main(["connectors"]) == 0
    listed = {line.split()[1] for line in capsys.readouterr().out.splitlines()
              if line.startswith("  trigger ")}
    assert {f"stripe.{t}" for t in NEW} <= listed
    assert set(NEW) <= set(ledgerlink_stripe.EVENT_TYPES)


def _recipe(tmp_path: Path, event_type: str) -> Path:
    """A recipe of one read-only step on ``event_type`` that reads the event's object."""
    path = tmp_path / f"{event_type}.json"
    path.write_text(json.dumps({
        "id": "tiny-" + event_type.replace(".", "-").replace("_", "-"),
        "version": 1,
        "description": f"Look up the QuickBooks customer named after each Stripe {event_type} event "
                       f"and its object, to show what the trigger hands a recipe.",
        "trigger": {"event": f"stripe.{event_type}", "connection": "stripe"},
        "steps": [{"id": "who", "action": "quickbooks.find_customer", "connection": "quickbooks",
                   "input": {"source_id": {"$path": "$.event.data.object.id"},
                             "DisplayName": {"$concat": [{"$path": "$.event.type"}, " ",
                                                         {"$path": "$.event.data.object.id"}]}}}],
    }))
    return path


def _dry_run(capsys, recipe: Path, config: Path, *event: str) -> dict[str, Any]:
    assert cli.main(["dry-run", str(recipe), "--config", str(config), *event]) == 0
    return jsonio.loads(capsys.readouterr().out)


@pytest.mark.parametrize("event_type", NEW)
def test_a_recipe_on_the_trigger_dry_runs_on_both_shapes(tmp_path, capsys, monkeypatch, event_type):
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    config, recipe = write_config(tmp_path), _recipe(tmp_path, event_type)

    sample = ledgerlink_stripe.sample_event(event_type)
    report = _dry_run(capsys, recipe, config)  # no event: the trigger's sample (2023-08-16)
    assert report["sent"] is False and report["matched"] is True
    assert report["event"] == {"id": sample["id"], "trigger": f"stripe.{event_type}"}
    [step] = report["steps"]
    assert step["status"] == "would_run"
    assert step["input"] == {"source_id": sample["data"]["object"]["id"],
                             "DisplayName": f"{event_type} {sample['data']['object']['id']}"}

    latest = se.wrap_event(event_type, se.latest_object(NEW[event_type]))  # the Basil shape
    event_file = tmp_path / "latest.json"
    event_file.write_bytes(se.to_body(latest))
    report = _dry_run(capsys, recipe, config, "--event", str(event_file))
    assert report["event"]["id"] == latest["id"] and report["steps"][0]["status"] == "would_run"
    assert report["steps"][0]["input"]["source_id"] == latest["data"]["object"]["id"]


def test_a_filter_keeps_the_payments_made_without_an_invoice(tmp_path, capsys, monkeypatch):
    """In the 2023-08-16 shape a charge names its invoice; ``exists: false`` keeps the others."""
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    config, recipe = write_config(tmp_path), _recipe(tmp_path, "charge.succeeded")
    body = json.loads(recipe.read_text())
    body["trigger"]["filter"] = {"path": "$.event.data.object.invoice", "exists": False}
    recipe.write_text(json.dumps(body))
    assert _dry_run(capsys, recipe, config)["matched"] is True
    for_invoice = ledgerlink_stripe.sample_event("charge.succeeded")
    for_invoice["data"]["object"]["invoice"] = "in_1NnmXZGPxmnHQRkJinvoice"
    event_file = tmp_path / "for-invoice.json"
    event_file.write_bytes(se.to_body(for_invoice))
    assert _dry_run(capsys, recipe, config, "--event", str(event_file))["matched"] is False


# --- what each sample says -------------------------------------------------------------------

def _object(event_type: str) -> dict[str, Any]:
    return ledgerlink_stripe.sample_event(event_type)["data"]["object"]


def test_charge_succeeded_is_a_captured_payment_without_an_invoice():
    charge = _object("charge.succeeded")
    assert charge["status"] == "succeeded" and charge["paid"] and charge["captured"]
    assert charge["amount_captured"] == charge["amount"] and charge["amount_refunded"] == 0
    assert charge["invoice"] is None
    latest = se.wrap_event("charge.succeeded", se.latest_object("charge"))
    assert "invoice" not in latest["data"]["object"]  # Basil: a charge names no invoice
    assert _errors("charge.succeeded", latest) == []


def test_the_dispute_samples_follow_one_dispute_and_its_money():
    created, withdrawn, reinstated, closed = (_object(f"charge.dispute.{t}") for t in
                                              ("created", "funds_withdrawn", "funds_reinstated", "closed"))
    assert len({d["id"] for d in (created, withdrawn, reinstated, closed)}) == 1
    assert created["charge"] == _object("charge.succeeded")["id"]
    assert created["amount"] == _object("charge.succeeded")["amount"]
    assert created["balance_transactions"] == [] and created["status"] == "needs_response"
    [out] = withdrawn["balance_transactions"]
    assert out["amount"] == -withdrawn["amount"] and out["source"] == withdrawn["id"]
    assert out["net"] == out["amount"] - out["fee"] == out["amount"] - sum(f["amount"] for f in out["fee_details"])
    assert reinstated["status"] == closed["status"] == "won"
    assert reinstated["balance_transactions"][0] == out
    back = reinstated["balance_transactions"][1]
    assert back["amount"] == -out["amount"] and back["fee"] == -out["fee"] and back["net"] == -out["net"]


@pytest.mark.parametrize("event_type,status,moment", [
    ("invoice.voided", "void", "voided_at"),
    ("invoice.marked_uncollectible", "uncollectible", "marked_uncollectible_at"),
])
def test_the_invoice_samples_carry_their_status_and_when(event_type, status, moment):
    invoice = _object(event_type)
    assert invoice["status"] == status and invoice["status_transitions"][moment]
    assert ledgerlink_stripe.event_schema(event_type)["$defs"] == ledgerlink_stripe.event_schema("invoice.finalized")["$defs"]


def test_payout_failed_says_why():
    payout = _object("payout.failed")
    assert payout["status"] == "failed" and payout["failure_code"] and payout["failure_message"]
    assert payout["failure_balance_transaction"].startswith("txn_")


def test_customer_updated_documents_and_allows_previous_attributes():
    schema = ledgerlink_stripe.event_schema("customer.updated")
    previous = schema["properties"]["data"]["properties"]["previous_attributes"]
    assert "old values" in previous["description"] and previous["type"] == "object"
    event = ledgerlink_stripe.sample_event("customer.updated")
    assert event["data"]["previous_attributes"] == {"email": "jenny.rosen@example.com", "phone": None}
    assert event["data"]["object"]["email"] != event["data"]["previous_attributes"]["email"]
    for shape in (event, se.wrap_event("customer.updated", se.latest_object("customer"))):
        shape["data"]["previous_attributes"] = {"metadata": {"tier": None}, "address": {"city": "Paris"}}
        assert _errors("customer.updated", shape) == []
    event["data"]["previous_attributes"] = ["email"]
    assert _errors("customer.updated", event)


@pytest.mark.parametrize("event_type,change", [
    ("charge.dispute.created", lambda e: e["data"]["object"].update(id="ch_123")),
    ("charge.dispute.funds_withdrawn", lambda e: e["data"]["object"]["balance_transactions"][0].update(fee="15")),
    ("charge.dispute.funds_withdrawn", lambda e: e["data"]["object"].update(balance_transactions=None)),
    ("charge.dispute.closed", lambda e: e["data"]["object"].update(currency="USD")),
    ("charge.succeeded", lambda e: e["data"]["object"].update(amount=1.5)),
    ("payout.failed", lambda e: e["data"]["object"].pop("status")),
    ("invoice.voided", lambda e: e.update(type="invoice.paid")),
    ("customer.created", lambda e: e["data"]["object"].update(id="acct_1")),
    ("customer.updated", lambda e: e["data"]["object"].update(created="yesterday")),
])
def test_schema_refuses_what_stripe_never_sends(event_type, change):
    event = ledgerlink_stripe.sample_event(event_type)
    change(event)
    assert _errors(event_type, event)


# --- an event of a type no trigger handles ---------------------------------------------------

@pytest.fixture
def served(tmp_path, monkeypatch):
    """``serve``'s app on loopback, with the repository's invoice.paid recipe."""
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    app = create_app({"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path),
                      "config": str(write_config(tmp_path)), "admin_token": ADMIN_TOKEN})
    try:
        with background(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
            yield app.config["LEDGERLINK_RUNTIME"], http
    finally:
        app.config["LEDGERLINK_RUNTIME"].close()


def test_each_new_trigger_plans_one_run_per_delivery_through_the_webhook(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    for event_type in NEW:
        _recipe(recipes, event_type)
    app = create_app({"db": migrated_db(tmp_path), "recipes": str(recipes),
                      "config": str(write_config(tmp_path)), "admin_token": ADMIN_TOKEN})
    rt = app.config["LEDGERLINK_RUNTIME"]
    try:
        with background(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
            for event_type in NEW:
                body, headers = signed(ledgerlink_stripe.sample_event(event_type))
                for planned in (1, 0):  # the second delivery is a duplicate
                    answer = http.post("/webhooks/stripe", content=body, headers=headers)
                    assert answer.status_code == 200, answer.text
                    assert answer.json()["runs_planned"] == planned, (event_type, answer.json())
                    assert "ignored" not in answer.json()
        runs = rt.store.list_runs(limit=500)
        assert sorted(r["recipe_id"] for r in runs) == sorted(
            "tiny-" + t.replace(".", "-").replace("_", "-") for t in NEW)
    finally:
        rt.close()


def _stored(rt, event_id: str) -> list[dict[str, Any]]:
    with rt.store.engine.connect() as conn:
        rows = conn.execute(sa.select(events_table).where(events_table.c.event_id == event_id))
        return [dict(row._mapping) for row in rows]


def test_an_event_of_an_unknown_type_is_stored_and_ignored_with_a_reason(served, caplog):
    rt, http = served
    event = se.wrap_event("customer.subscription.trial_will_end",
                          {"id": "sub_1", "object": "subscription", "trial_end": 1700600000},
                          event_id="evt_unknown_type_1")
    body, headers = signed(event)
    with caplog.at_level(logging.INFO, logger="ledgerlink"):
        answer = http.post("/webhooks/stripe", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert {k: result[k] for k in ("received", "stored", "duplicates", "runs_planned")} == {
        "received": 1, "stored": 1, "duplicates": 0, "runs_planned": 0}
    [ignored] = result["ignored"]
    assert ignored["id"] == "evt_unknown_type_1"
    assert ignored["trigger"] == "stripe.customer.subscription.trial_will_end"
    assert "no trigger 'stripe.customer.subscription.trial_will_end' is registered" in ignored["reason"]
    assert "starts no run" in ignored["reason"]
    assert any(ignored["reason"] in r.getMessage() for r in caplog.records)
    [row] = _stored(rt, "evt_unknown_type_1")
    assert row["payload"] == body.decode("utf-8") and row["trigger"] == ignored["trigger"]
    assert [r for r in rt.store.list_runs(limit=500) if r.get("event_id") == "evt_unknown_type_1"] == []
    assert rt.metrics.values["events_ignored"] == 1

    again = http.post("/webhooks/stripe", content=body, headers=headers)  # Stripe retries
    assert again.status_code == 200 and again.json()["stored"] == 0
    assert len(_stored(rt, "evt_unknown_type_1")) == 1


def test_a_known_type_without_a_recipe_is_not_called_unknown(served):
    rt, http = served
    event = ledgerlink_stripe.sample_event("customer.created")
    body, headers = signed(event)
    answer = http.post("/webhooks/stripe", content=body, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {"received": 1, "stored": 1, "duplicates": 0, "runs_planned": 0}
    assert "events_ignored" not in rt.metrics.values


def test_an_unknown_type_badly_signed_is_refused_and_not_stored(served):
    rt, http = served
    event = se.wrap_event("radar.early_fraud_warning.created", {"id": "issfr_1"}, event_id="evt_unknown_bad")
    body, headers = signed(event, secret="whsec_not_the_secret")
    assert http.post("/webhooks/stripe", content=body, headers=headers).status_code == 401
    assert _stored(rt, "evt_unknown_bad") == []


def test_a_webhook_signed_by_stripe_python_is_accepted_and_a_wrong_secret_refused(served):
    """stripe-python, Stripe's official SDK, signs a delivery the way Stripe does
    (``WebhookSignature.generate_signature_header``): the endpoint accepts it, stores the
    vendor's bytes and plans the shipped recipe's run; signed with another secret, 401."""
    import stripe

    rt, http = served
    event = {**ledgerlink_stripe.sample_event("invoice.paid"), "id": "evt_signed_by_stripe_python"}
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    answer = http.post("/webhooks/stripe", content=body.encode(),
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == 1 and answer.json()["runs_planned"] == 1
    [row] = _stored(rt, "evt_signed_by_stripe_python")
    assert row["payload"] == body

    forged = {**event, "id": "evt_signed_with_another_secret"}
    body = json.dumps(forged)
    header = stripe.WebhookSignature.generate_signature_header(body, "whsec_someone_else")
    answer = http.post("/webhooks/stripe", content=body.encode(),
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    assert answer.status_code == 401 and answer.json()["error"]["code"]
    assert _stored(rt, "evt_signed_with_another_secret") == []
