"""Before a run's steps: ledgerlink's own echo, ``$.linked`` ids and ``skip`` rules.

The echo rule on a real store (SQLite here, PostgreSQL with the scale-out tests): an event
about an entity a step wrote is an echo only when it is about that very entity (connection,
kind, id) and its change is no later than the write; a person's later change is news. The
links table read both ways. Recipes that misuse ``linked`` or ``skip`` are refused with the
place and the fix; a dry-run shows what it read and why it would skip.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.config import load_config
from ledgerlink.contract import Trigger
from ledgerlink.engine.echo import CLOCK_SKEW_SECONDS, changed_at, echo
from ledgerlink.engine.operations import build_runtime
from ledgerlink.recipes.guards import first_skip
from ledgerlink.recipes.recipe import check_recipe
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from runtime_fixtures import QBO_TOKEN, RECIPES, recipes_dir, write_config

TWO_WAY = RECIPES / "two-way" / "quickbooks-payment-to-stripe-invoice-paid.json"
PAYMENT = Trigger(name="books.payment.created", summary="", event_schema={}, sample={},
                  source_id_path="$.entity_id", entity="Payment", changed_at_path="$.changed_at")
WRITTEN = 1_790_000_000.0


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()


@pytest.fixture
def store(tmp_path):
    """A store where run 1 wrote Payment 7 of connection "books" at :data:`WRITTEN`, and
    linked the invoice it created (130) to Stripe invoice in_1."""
    store = Store(migrated_db(tmp_path))
    [(pk, _, _)] = store.ingest("stripe", [("evt_1", "stripe.invoice.paid", {"id": "evt_1"}, [])])
    run = store.plan(pk, "booking", 1)
    store.log_step(run, "invoice", 1, "succeeded", external_id="130", started_at=WRITTEN - 1,
                   finished_at=WRITTEN - 1, link=("stripe", "in_1", "books", "books.create_invoice", "130"),
                   wrote=[("books", "Invoice", "130")])
    store.log_step(run, "payment", 1, "succeeded", external_id="7", started_at=WRITTEN, finished_at=WRITTEN,
                   wrote=[("books", "Payment", "7")])
    yield store
    store.dispose()


def event(entity_id: str, changed: float | str) -> dict:
    return {"entity_id": entity_id, "changed_at": iso(changed) if isinstance(changed, float) else changed}


def test_the_event_of_our_own_write_is_an_echo_naming_the_write(store):
    reason = echo(store, PAYMENT, "books", event("7", WRITTEN - 0.5))
    assert reason is not None and "Payment 7 of connection 'books' was written by ledgerlink (run 1, " \
                                  "step 'payment')" in reason
    # the vendor's clock a little ahead of ours: still our change
    assert echo(store, PAYMENT, "books", event("7", WRITTEN + CLOCK_SKEW_SECONDS / 2)) is not None


@pytest.mark.parametrize("connection, payload, why", [
    ("books", event("7", WRITTEN + 60.0), "a person changed it after ledgerlink's write"),
    ("books", event("8", WRITTEN - 1.0), "another payment"),
    ("other", event("7", WRITTEN - 1.0), "the same id in another company"),
    ("books", event("130", WRITTEN - 1.0), "not for a Payment: the id 130 is an Invoice ledgerlink wrote"),
    ("books", event("7", "not a time"), "the change's time cannot be read"),
    ("books", {"entity_id": "7"}, "the event says no time"),
])
def test_anything_else_is_news(store, connection, payload, why):
    assert echo(store, PAYMENT, connection, payload) is None, why


def statements(store):
    """The statements ``store`` runs while the block runs (a list that fills)."""
    seen: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_the_writes_table_is_read_only_when_a_recipe_step_writes_that_kind_on_that_connection(store):
    seen = statements(store)
    payload = event("7", WRITTEN - 0.5)
    assert echo(store, PAYMENT, "books", payload, lambda connection, entity: False) is None
    assert seen == []  # no step writes Payments on "books": no lookup, and no echo
    assert "Payment 7" in echo(store, PAYMENT, "books", payload,
                               lambda connection, entity: (connection, entity) == ("books", "Payment"))
    assert len(seen) == 1


def test_the_registry_knows_which_kinds_its_recipe_versions_write_per_connection(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    recipes = recipes_dir(tmp_path)
    runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes, config_file=str(write_config(tmp_path)))
    try:
        registry = runtime.registry
        # one-way journals: Stripe's invoice events are never an echo, and cost no lookup
        assert not registry.may_have_written("stripe", "invoice")
        assert registry.may_have_written("quickbooks", "JournalEntry")
        (recipes / TWO_WAY.name).write_text(TWO_WAY.read_text())
        registry.reload()  # a two-way recipe marks Stripe invoices paid: their events are looked up
        assert registry.may_have_written("stripe", "invoice")
        assert not registry.may_have_written("quickbooks", "invoice")
    finally:
        runtime.close()


def test_a_kind_ledgerlink_wrote_under_a_recipe_since_removed_is_still_looked_up(tmp_path):
    """A two-way recipe wrote a Stripe invoice, then was removed: a process started later
    compiles only one-way recipes, yet the invoice's webhook may still come, and is an echo."""
    db = migrated_db(tmp_path)
    store = Store(db)
    [(pk, _, _)] = store.ingest("quickbooks", [("evt_w", "quickbooks.payment.created", {"id": "evt_w"}, [])])
    run = store.plan(pk, "gone-two-way", 1)
    store.log_step(run, "paid", 1, "succeeded", external_id="in_1", started_at=WRITTEN, finished_at=WRITTEN,
                   wrote=[("stripe", "invoice", "in_1")])
    store.dispose()
    runtime = build_runtime(db=db, recipes=recipes_dir(tmp_path), config_file=str(write_config(tmp_path)))
    try:
        assert runtime.registry.may_have_written("stripe", "invoice")
        assert not runtime.registry.may_have_written("stripe", "customer")
    finally:
        runtime.close()


def test_a_trigger_that_declares_no_entity_or_no_time_never_takes_an_event_for_an_echo(store):
    for trigger in (replace(PAYMENT, entity=""), replace(PAYMENT, changed_at_path="")):
        assert echo(store, trigger, "books", event("7", WRITTEN - 1.0)) is None


def test_a_change_time_is_iso_8601_with_an_offset_or_unix_seconds():
    assert changed_at(PAYMENT, {"changed_at": "2026-11-24T09:30:00-08:00"}) == \
        datetime(2026, 11, 24, 17, 30, tzinfo=timezone.utc).timestamp()
    assert changed_at(PAYMENT, {"changed_at": 1764000000}) == 1764000000.0
    assert changed_at(PAYMENT, {"changed_at": "2026-11-24T09:30:00"}) is None  # no zone: cannot tell
    # Microsoft's JSON date: Unix milliseconds, the offset only says where it was written
    assert changed_at(PAYMENT, {"changed_at": "/Date(1764005400123+0000)/"}) == 1764005400.123
    assert changed_at(PAYMENT, {"changed_at": "/Date(1764005400000-0800)/"}) == 1764005400.0
    assert changed_at(PAYMENT, {"changed_at": "/Date(1764005400000)/"}) == 1764005400.0
    assert changed_at(PAYMENT, {"changed_at": "/Date(soon)/"}) is None


def test_a_write_that_changes_another_entity_makes_both_events_echoes(store):
    """A payment written changes the invoice it pays (its amount paid): the step records both,
    and the vendor's event about the invoice is the echo too; another invoice is not."""
    [(pk, _, _)] = store.ingest("stripe", [("evt_2", "stripe.invoice.paid", {"id": "evt_2"}, [])])
    run = store.plan(pk, "booking", 1)
    store.log_step(run, "payment", 1, "succeeded", external_id="9", started_at=WRITTEN, finished_at=WRITTEN,
                   wrote=[("books", "Payment", "9"), ("books", "Invoice", "131")])
    invoice = replace(PAYMENT, entity="Invoice")
    assert "Invoice 131 of connection 'books' was written by ledgerlink (run 2, step 'payment')" in \
        (echo(store, invoice, "books", event("131", WRITTEN)) or "")
    assert echo(store, PAYMENT, "books", event("9", WRITTEN)) is not None
    assert echo(store, invoice, "books", event("132", WRITTEN)) is None
    assert echo(store, invoice, "books", event("131", WRITTEN + 60.0)) is None  # a person's later change


def test_the_links_table_is_read_both_ways(store):
    assert store.linked_source("books", "130") == "in_1"
    assert store.linked_source("books", "130", ("books.create_invoice",), "stripe") == "in_1"
    assert store.linked_source("books", "130", ("books.create_payment",)) is None
    assert store.linked_source("books", "130", source_connection="xero") is None
    assert store.linked_target("books", "in_1", "books.create_invoice") == "130"


def test_a_skipped_run_says_why_in_the_run_log_and_can_be_replayed(store):
    [(pk, _, _)] = store.ingest("books", [("n1", "books.payment.created", {"entity_id": "7"}, [])])
    run = store.plan(pk, "two-way", 1)
    assert run in [claimed.id for claimed in store.claim("w1", 30.0, limit=2)]
    assert store.skip(run, "w1", "echo", "Payment 7 was written by ledgerlink")
    shown = store.run(run)
    assert (shown["status"], shown["skipped_as"], shown["skip_reason"]) == \
        ("skipped", "echo", "Payment 7 was written by ledgerlink")
    assert store.counts()["skipped"] == 1
    assert not store.skip(run, "w1", "echo", "again")  # closed: held by no one
    # replayed (once linked, say): pending again, the reason gone until it is asked again
    assert store.reopen(run)
    shown = store.run(run)
    assert (shown["status"], shown["skipped_as"], shown["skip_reason"], shown["key_generation"]) == \
        ("pending", None, None, 1)


def two_way(**changes) -> dict:
    recipe = json.loads(TWO_WAY.read_text())
    recipe.pop("$schema")
    recipe.update(changes)
    return recipe


@pytest.mark.parametrize("change, pointer, says", [
    ({"steps": [{"id": "paid", "action": "stripe.mark_invoice_paid", "connection": "stripe",
                 "input": {"invoice": {"$path": "$.linked.stripe_invoce"}}}]},
     "/steps/0/input/invoice", "reads a linked id the recipe's \"linked\" does not name; did you mean \"stripe_invoice\"?"),
    ({"linked": {"stripe_invoice": {"connection": "quickbooks", "source_id": "in_1"}}},
     "/linked/stripe_invoice", ""),
    ({"linked": {"stripe_invoice": {"connection": "nowhere", "id": "1"}}},
     "/linked/stripe_invoice/connection", "nowhere"),
    ({"skip": [{"if": {"path": "$.linked.stripe_invoice", "exists": False}, "as": "Not Linked", "reason": "x"}]},
     "/skip/0/as", "does not match"),
    ({"skip": [{"if": {"path": "$.linked.stripe_invoice", "missing": True}, "as": "x", "reason": "x"}]},
     "/skip/0/if/missing", "unknown test 'missing'"),
])
def test_a_misused_linked_or_skip_is_refused_with_its_place(run_cli, tmp_path, change, pointer, says):
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(two_way(**change)))
    code, out, err = run_cli("validate", str(path))
    assert code == 1
    assert f"{path}:{pointer}" in out + err and says in out + err, out + err


def test_a_dry_run_shows_the_linked_ids_it_read_and_why_it_would_skip(run_cli):
    code, out, err = run_cli("dry-run", str(TWO_WAY))
    assert code == 0, err
    report = jsonio.loads(out)
    assert report["linked"] == {"stripe_invoice": {"connection": "quickbooks", "id": "130",
                                                   "answered_with": "no link (a dry-run reads no database)"}}
    assert report["skipped"] == {"as": "not_linked", "reason": (
        "QuickBooks payment 131 pays invoice 130, which did not come from a Stripe invoice: there is "
        "nothing to mark paid in Stripe")}
    assert report["steps"] == []



SHIPPED = sorted((RECIPES / "two-way").glob("*.json"))
#: what a dry-run of each on its trigger's sample says: it reads no links and no [source_of_truth]
DRY_RUN = {"freshbooks-client-updated-checked-against-stripe": "not_owner",
           "freshbooks-payment-to-stripe-invoice-paid": "not_linked",
           "quickbooks-customer-updated-checked-against-stripe": "not_owner",
           "quickbooks-item-updated-checked-against-stripe": "not_owner",
           "quickbooks-payment-to-stripe-invoice-paid": "not_linked",
           "stripe-customer-updated-to-freshbooks-client": "not_owner",
           "stripe-customer-updated-to-quickbooks-customer": "not_owner",
           "stripe-customer-updated-to-xero-contact": "not_owner",
           "stripe-invoice-finalized-to-freshbooks-open-invoice": None,
           "stripe-invoice-finalized-to-quickbooks-open-invoice": None,
           "stripe-invoice-finalized-to-xero-open-invoice": None,
           "stripe-product-created-to-quickbooks-item": "not_owner",
           "stripe-product-updated-to-quickbooks-item": "not_owner",
           "xero-contact-updated-checked-against-stripe": "not_owner",
           "xero-invoice-paid-to-stripe-invoice-paid": "not_linked"}
#: the open invoice's steps, and where its request says the amount, per ledger
OPEN_INVOICE = {"quickbooks": (["quickbooks.find_or_create_customer", "quickbooks.create_invoice"],
                               lambda body: body["Line"][0]["Amount"]),
                "xero": (["xero.find_or_create_contact", "xero.create_invoice"],
                         lambda body: body["Invoices"][0]["LineItems"][0]["UnitAmount"])}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_two_way_recipe_validates_and_dry_runs(path, run_cli, catalog, tmp_path):
    recipe = json.loads(path.read_text())
    assert path.stem == recipe["id"] and len(recipe["description"].split()) >= 12
    code, out, err = run_cli("validate", str(path))
    assert code == 0, out + err
    given = []
    if recipe["trigger"]["event"] == "stripe.invoice.finalized":  # one to be paid by transfer
        event = copy.deepcopy(catalog.triggers["stripe.invoice.finalized"].sample)
        event["data"]["object"].update(collection_method="send_invoice", amount_due=4200)
        (tmp_path / "event.json").write_text(jsonio.dumps(event))
        given = ["--event", str(tmp_path / "event.json")]
    code, out, err = run_cli("dry-run", str(path), *given)
    assert code == 0, err
    report = jsonio.loads(out)
    assert report["matched"] and report.get("skipped", {}).get("as") == DRY_RUN[recipe["id"]]
    if recipe["id"] == "stripe-invoice-finalized-to-freshbooks-open-invoice":
        assert [(step["action"], step["status"]) for step in report["steps"]] == [
            ("freshbooks.find_or_create_client", "would_run"), ("freshbooks.create_invoice", "would_run"),
            ("freshbooks.mark_invoice_sent", "would_run")]
        assert report["steps"][1]["request"]["body"]["invoice"]["lines"][0]["unit_cost"] == {
            "amount": "42.00", "code": "USD"}
    elif DRY_RUN[recipe["id"]] is None:
        actions, amount = OPEN_INVOICE[recipe["steps"][1]["connection"]]
        assert [(step["action"], step["status"]) for step in report["steps"]] == [
            (action, "would_run") for action in actions]
        assert amount(report["steps"][1]["request"]["body"]) == 42


ITEM_CHECK = RECIPES / "two-way" / "quickbooks-item-updated-checked-against-stripe.json"
STRIPE_PRODUCT = {"id": "prod_1", "name": "Bird seed", "description": None}


@pytest.mark.parametrize("item,product,conflict", [
    ({"Name": "Bird seed"}, {}, False),  # no description on either side
    ({"Name": "Bird seed", "Description": ""}, {}, False),
    ({"Name": "Bird seed", "Description": "Seeds"}, {"description": "Seeds"}, False),
    ({"Name": "Bird seed", "UnitPrice": "12.00"}, {}, False),  # the price is QuickBooks' own
    ({"Name": "House seed"}, {}, True),
    ({"Name": "Bird seed", "Description": "by hand"}, {}, True),
    ({"Name": "Bird seed", "Description": "by hand"}, {"description": "Seeds"}, True),
    ({"Name": "Bird seed"}, {"description": "Seeds"}, True),  # a person cleared it
], ids=["none", "empty", "same", "price", "renamed", "described", "redescribed", "cleared"])
def test_the_item_check_finds_a_conflict_only_in_what_stripe_owns(catalog, tmp_path, monkeypatch,
                                                                  item, product, conflict):
    """The shipped item check's rule asked after it read the Stripe product: a Name or a
    Description that differs from Stripe's (null and absent being no description) is a
    conflict, with both values; anything else is not."""
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_x")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "token")
    recipe, problems = check_recipe(json.loads(ITEM_CHECK.read_text()), ITEM_CHECK.name, catalog,
                                    load_config(write_config(tmp_path), catalog))
    assert recipe is not None, problems
    doc = {"event": {"entity_id": "21", "data": {"Id": "21", **item}}, "truth": {"items": "stripe"},
           "linked": {"stripe_product": "prod_1"}, "steps": {"stripe": {**STRIPE_PRODUCT, **product}}}
    assert first_skip(recipe.skips, doc) is None  # owned by Stripe, linked: the product is read
    found = first_skip(recipe.skips, doc, after="stripe")
    assert (found is not None) is conflict
    if conflict:
        assert found[0] == "conflict" and f'Name "{item["Name"]}"' in found[1] and "(product prod_1)" in found[1]
