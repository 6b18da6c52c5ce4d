"""An event submitted by hand (:mod:`ledgerlink.engine.submit`, the console's "send this one
for real") takes the inbox's path once: stored on the recipe's connection, the recipe's run
planned with its occurrence key; submitted again, delivered before, or about an object the
recipe booked from another event, it plans nothing and names the run that books it. A
disabled recipe, an event its filter refuses and an event of another trigger are refused
with the fix; a fetching trigger's event is stored to be fetched first. The recent events
a trial offers are the recipe's trigger's on its connection, newest first.

The connector is ``tally`` (tests/history_connector.py), served on loopback.
"""

from __future__ import annotations

import pytest

from history_connector import recipe
from ledgerlink.contract import IncomingEvent
from ledgerlink.engine import fetching, trial_events
from ledgerlink.engine.submit import submit
from ledgerlink.errors import Conflict, EventError
from tally_fixtures import DAY0, delivery, world


@pytest.fixture
def tally(tmp_path, monkeypatch):
    yield from world(tmp_path, monkeypatch)


def event(event_id: str, kind: str = "invoice.sent", invoice_id: str = "in_1", amount: int = 1250) -> IncomingEvent:
    payload = {"id": event_id, "type": kind, "created": DAY0,
               "data": {"object": {"id": invoice_id, "object": "invoice", "created": DAY0, "amount": amount,
                                   "status": "paid"}}}
    return IncomingEvent(event_id, f"tally.{kind}", payload)


def test_an_event_submitted_twice_plans_one_run(tally):
    tally.write(recipe("notes"), recipe("other-notes"))
    runtime = tally.runtime()
    notes = runtime.registry.active()["notes"]
    first = submit(runtime, notes, event("evt_1"))
    assert first.stored and first.planned and first.run_id is not None
    again = submit(runtime, notes, event("evt_1"))
    assert (again.stored, again.planned, again.run_id, again.event_pk) == (False, False, first.run_id, first.event_pk)
    assert tally.runs() == [("notes", "evt_1", "tally.invoice.sent:in_1")]  # only the recipe submitted to


def test_an_event_delivered_before_gets_the_recipes_run_once(tally):
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    runtime.inbox.receive("tally", *delivery("evt_1", "invoice.sent", event("evt_1").payload["data"]["object"]))
    (run_id,) = [run.id for run in runtime.store.claim("w", 60)]
    answer = submit(runtime, runtime.registry.active()["notes"], event("evt_1"))
    assert (answer.stored, answer.planned, answer.run_id) == (False, False, run_id)
    assert tally.rows()["runs"] == 1


def test_an_event_stored_before_the_recipe_existed_gets_its_run(tally):
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    runtime.inbox.receive("tally", *delivery("evt_1", "invoice.sent", event("evt_1").payload["data"]["object"]))
    tally.write(recipe("late"))
    runtime.registry.reload()
    answer = submit(runtime, runtime.registry.active()["late"], event("evt_1"))
    assert not answer.stored and answer.planned
    assert sorted(tally.runs()) == [("late", "evt_1", "tally.invoice.sent:in_1"),
                                    ("notes", "evt_1", "tally.invoice.sent:in_1")]


def test_another_event_about_a_booked_object_plans_nothing(tally):
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    notes = runtime.registry.active()["notes"]
    submit(runtime, notes, event("evt_1"))
    answer = submit(runtime, notes, event("evt_2"))  # the same invoice, under another event id
    assert answer.stored and not answer.planned and answer.run_id is None
    assert tally.runs() == [("notes", "evt_1", "tally.invoice.sent:in_1")]


def test_what_would_not_be_booked_is_refused_with_the_fix(tally):
    disabled = recipe("off")
    disabled["enabled"] = False
    tally.write(recipe("big", min_amount=1000), disabled)
    runtime = tally.runtime()
    active = runtime.registry.active()
    with pytest.raises(Conflict, match="does not accept event evt_1, so no run would book it"):
        submit(runtime, active["big"], event("evt_1", amount=5))
    with pytest.raises(Conflict, match="is disabled, so it books nothing: enable it"):
        submit(runtime, active["off"], event("evt_2"))
    with pytest.raises(Conflict, match="runs on 'tally.invoice.sent' events: submit one of those"):
        submit(runtime, active["big"], event("evt_3", kind="invoice.paid"))
    with pytest.raises(EventError, match="U\\+0000"):
        submit(runtime, active["big"], event("evt_\x00"))
    assert tally.rows()["events"] == 0 and tally.rows()["runs"] == 0


def test_a_fetching_triggers_event_is_fetched_before_its_run_is_planned(tally):
    tally.state.add("in_1", DAY0, 1250, fee=40)
    tally.write(recipe("paid-notes", trigger="tally.invoice.paid"))
    runtime = tally.runtime()
    answer = submit(runtime, runtime.registry.active()["paid-notes"], event("evt_1", kind="invoice.paid"))
    assert answer.fetching and answer.stored and answer.run_id is None and tally.rows()["runs"] == 0
    (claimed,) = runtime.store.claim_fetches("w", 60, 10)
    assert fetching.fetch(runtime, "w", claimed) == ("done", None)
    assert tally.runs() == [("paid-notes", "evt_1", "tally.invoice.paid:in_1")]


def test_the_recent_events_are_the_triggers_on_the_recipes_connection_newest_first(tally):
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    for event_id, kind in (("evt_1", "invoice.sent"), ("evt_2", "customer.updated"), ("evt_3", "invoice.sent")):
        runtime.inbox.receive("tally", *delivery(event_id, kind, event(event_id).payload["data"]["object"]))
    notes = runtime.registry.active()["notes"]
    recent = trial_events.recent(notes, runtime.store)
    assert [(e["event_id"], e["trigger"]) for e in recent] == [("evt_3", "tally.invoice.sent"),
                                                               ("evt_1", "tally.invoice.sent")]
    assert trial_events.stored(notes, runtime.store, recent[0]["id"]).payload["data"]["object"]["id"] == "in_1"
    other = next(pk for pk in range(1, 4) if pk not in {e["id"] for e in recent})
    with pytest.raises(EventError, match="pick one of the recent events listed"):
        trial_events.stored(notes, runtime.store, other)
