"""Occurrences through the inbox: two deliveries about one object (different event ids)
plan one run per recipe, a recipe added since still gets its run, a filter that rejected the
first does not block the second, a poll that reads the same invoice under another event id
plans nothing more, and a fetched trigger's occurrence is read from the entity as fetched. The webhook's answer and /metrics say what was deduplicated.

The connector is ``tally`` (tests/history_connector.py), served on loopback.
"""

from __future__ import annotations

import pytest

from history_connector import recipe
from ledgerlink.engine import fetching
from tally_fixtures import DAY0, delivery, world


@pytest.fixture
def tally(tmp_path, monkeypatch):
    yield from world(tmp_path, monkeypatch)


def invoice(invoice_id="in_1", amount=1250):
    return {"id": invoice_id, "object": "invoice", "created": DAY0, "amount": amount, "status": "paid"}


def test_two_deliveries_about_one_invoice_plan_one_run_per_recipe(tally):
    tally.write(recipe("notes"), recipe("more-notes"))
    runtime = tally.runtime()
    first = runtime.inbox.receive("tally", *delivery("evt_1", "invoice.sent", invoice()))
    second = runtime.inbox.receive("tally", *delivery("evt_2", "invoice.sent", invoice()))
    assert first == {"received": 1, "stored": 1, "duplicates": 0, "runs_planned": 2}
    assert second == {"received": 1, "stored": 1, "duplicates": 0, "runs_planned": 0, "runs_deduplicated": 2}
    assert runtime.metrics.values["runs_deduplicated"] == 2
    assert sorted(tally.runs()) == [("more-notes", "evt_1", "tally.invoice.sent:in_1"),
                                    ("notes", "evt_1", "tally.invoice.sent:in_1")]
    other = runtime.inbox.receive("tally", *delivery("evt_3", "invoice.sent", invoice("in_2")))
    assert other["runs_planned"] == 2 and "runs_deduplicated" not in other


def test_a_recipe_added_later_still_gets_its_run(tally):
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    runtime.inbox.receive("tally", *delivery("evt_1", "invoice.sent", invoice()))
    tally.write(recipe("late"))
    runtime.registry.reload()
    answer = runtime.inbox.receive("tally", *delivery("evt_2", "invoice.sent", invoice()))
    assert answer["runs_planned"] == 1 and answer["runs_deduplicated"] == 1
    assert sorted(tally.runs()) == [("late", "evt_2", "tally.invoice.sent:in_1"),
                                    ("notes", "evt_1", "tally.invoice.sent:in_1")]


def test_a_filter_that_rejected_the_first_event_does_not_block_the_second(tally):
    tally.write(recipe("big", min_amount=1000))
    runtime = tally.runtime()
    assert runtime.inbox.receive("tally", *delivery("evt_1", "invoice.sent", invoice(amount=5)))["runs_planned"] == 0
    answer = runtime.inbox.receive("tally", *delivery("evt_2", "invoice.sent", invoice(amount=5000)))
    assert answer["runs_planned"] == 1
    assert tally.runs() == [("big", "evt_2", "tally.invoice.sent:in_1")]


def test_every_event_of_a_trigger_without_occurrence_path_is_its_own(tally):
    raw = recipe("customers", trigger="tally.customer.updated")
    raw["steps"][0]["input"]["invoice"] = {"$path": "$.event.id"}
    tally.write(raw)
    runtime = tally.runtime()
    for event_id in ("evt_1", "evt_2"):
        runtime.inbox.receive("tally", *delivery(event_id, "customer.updated", invoice()))
    assert tally.runs() == [("customers", "evt_1", None), ("customers", "evt_2", None)]


def test_a_fetched_trigger_dedupes_on_the_entity_as_fetched(tally):
    tally.state.add("in_1", DAY0, 1250, fee=40)
    tally.write(recipe("paid-notes", trigger="tally.invoice.paid"))
    runtime = tally.runtime()
    for event_id in ("evt_1", "evt_2"):
        answer = runtime.inbox.receive("tally", *delivery(event_id, "invoice.paid", invoice()))
        assert answer["runs_planned"] == 0  # planned once fetched
    claimed = runtime.store.claim_fetches("w", 60, 10)
    assert [fetching.fetch(runtime, "w", c) for c in claimed] == [("done", None), ("done", None)]
    assert tally.runs() == [("paid-notes", "evt_1", "tally.invoice.paid:in_1")]
    assert runtime.metrics.values["runs_deduplicated"] == 1
    stored = runtime.store.event(runtime.store.claim("w", 60)[0].event_pk)
    assert '"fee":40' in stored["payload"].replace(" ", "")


def test_a_polled_event_about_an_invoice_already_run_plans_nothing(tally):
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    runtime.inbox.receive("tally", *delivery("evt_1", "invoice.sent", invoice()))
    for event_id, invoice_id in (("evt_1", "in_1"), ("evt_2", "in_1"), ("evt_3", "in_2")):
        tally.state.events.append({"id": event_id, "type": "invoice.sent", "created": DAY0,
                                   "data": {"object": invoice(invoice_id)}})
    assert fetching.poll(runtime, "w", "tally") == 1
    assert tally.runs() == [("notes", "evt_1", "tally.invoice.sent:in_1"), ("notes", "evt_3", "tally.invoice.sent:in_2")]
    assert runtime.metrics.values["runs_deduplicated"] == 1
    assert tally.rows()["events"] == 3  # evt_1 stored once, though delivered and polled
