"""ledgerlink.contract.events.raise_event: a plugin raises an event into the inbox from a
behaviour hook, stored and planned exactly as a webhook's events are.

A real plugin (the connector ``alarm``, trigger ``alarm.fired``) raises an event each time a
run fails; a recipe on that trigger appends a row to a CSV file through the files
connector. The runs that fail are real: a recipe whose step the QuickBooks sandbox refuses.
Runs on SQLite, and on PostgreSQL under LEDGERLINK_TEST_DB.
"""

from __future__ import annotations

import json

import pytest

from ledgerlink import hookimpl
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
from ledgerlink.contract import Connector, Trigger, envelope_schema, raise_event
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import Worker
from ledgerlink.errors import ConfigError, EventError
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from runtime_fixtures import QBO_TOKEN, recipes_dir, signed, write_config
from stripe_events import invoice_paid_event

REALM = "9130350000000000"

DATA = {"type": "object", "required": ["run_id"], "properties": {"run_id": {"type": "integer"}}}


class Alarm:
    """A plugin raising ``alarm.fired`` from ``ledgerlink_run_ended`` for every failed run."""

    def __init__(self) -> None:
        self.raised: list[object] = []

    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(name="alarm", summary="Alarms raised by this test", settings_schema={"type": "object"}))

    @hookimpl
    def ledgerlink_register_triggers(self, register):
        register(Trigger(name="alarm.fired", summary="A run failed", event_schema=envelope_schema(DATA),
                         sample={"id": "alarm-1", "type": "alarm.fired", "occurred_at": "2026-05-01T00:00:00Z",
                                 "data": {"run_id": 1}}))

    @hookimpl
    def ledgerlink_run_ended(self, run, outcome, host):
        if outcome == "failed":
            # twice: the id deduplicates
            for _ in range(2):
                self.raised.append(raise_event(host, "alarm.fired", f"alarm-{run.id}", {"run_id": run.id}))


ALARM_RECIPE = {
    "id": "alarm-to-csv", "version": 1, "description": "Each alarm as a row of alarms.csv.",
    "trigger": {"event": "alarm.fired", "connection": "alarm"},
    "steps": [{"id": "row", "action": "files.append_csv", "connection": "files", "input": {
        "file": "alarms.csv", "date": {"$path": "$.event.occurred_at", "$as": "date"},
        "columns": [{"name": "Event", "value": {"$path": "$.event.id"}},
                    {"name": "Run", "value": {"$path": "$.event.data.run_id", "$as": "string"}}]}}],
}


@pytest.fixture
def runtime(tmp_path, monkeypatch, qbo, sandbox):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    alarm = Alarm()
    catalog = load_catalog(build_plugin_manager(extra=[("alarm", alarm)]))
    config_path = write_config(tmp_path, qbo.url, REALM)
    folder = tmp_path / "books"
    config_path.write_text(config_path.read_text() + f'\n[connections.files]\nconnector = "files"\nfolder = "{folder}"\n')
    recipes = recipes_dir(tmp_path, names=("stripe-invoice-paid-to-quickbooks-journal.json",))
    (recipes / "alarm-to-csv.json").write_text(json.dumps(ALARM_RECIPE))
    rt = Runtime(catalog, load_config(config_path, catalog), Store(migrated_db(tmp_path)), recipes, Settings())
    rt.registry.reload()
    rt.alarm = alarm
    rt.folder = folder
    folder.mkdir()
    yield rt
    rt.close()


def drain(rt: Runtime) -> list[str]:
    """Process every due run, one worker; the outcomes in order."""
    worker = Worker(rt)
    outcomes = []
    while claimed := rt.store.claim(worker.name, 60, 8):
        outcomes += [worker.process(run) for run in claimed]
    return outcomes


def test_a_failed_run_raises_one_event_and_its_recipe_runs(runtime, sandbox):
    sandbox.script([{"fault": "validation", "message": "Scripted: the account is inactive", "code": "6000",
                     "match": {"entity": "journalentry"}}])
    body, headers = signed(invoice_paid_event("usd", 5000, event_id="evt_alarm_1"))
    runtime.inbox.receive("stripe", headers, body)
    outcomes = drain(runtime)
    assert outcomes == ["failed", "succeeded"]
    first, again = runtime.alarm.raised
    failed_run = first.event_id.removeprefix("alarm-")
    assert first.stored and len(first.runs) == 1
    assert not again.stored and again.runs == ()  # raised twice, stored once
    rows = (runtime.folder / "alarms.csv").read_text().splitlines()
    assert rows[0].startswith("Event,Run") and rows[1].startswith(f"alarm-{failed_run},{failed_run},")
    assert len(rows) == 2
    stored = runtime.store.run(first.runs[0])
    assert stored["status"] == "succeeded"


def test_the_event_is_stored_with_its_envelope_and_the_connection_of_its_connector(runtime):
    raised = raise_event(runtime.host, "alarm.fired", "alarm-direct", {"run_id": 7}, occurred_at=1777593600.0)
    assert raised.stored and len(raised.runs) == 1
    run = runtime.store.run(raised.runs[0])
    assert (run["connection"], run["trigger"], run["event_id"]) == ("alarm", "alarm.fired", "alarm-direct")
    payload = json.loads(runtime.store.event(run["event_pk"])["payload"])
    assert payload == {"id": "alarm-direct", "type": "alarm.fired", "occurred_at": "2026-05-01T00:00:00Z",
                       "data": {"run_id": 7}}


def test_an_unknown_trigger_or_an_unstorable_id_is_refused_with_the_fix(runtime):
    with pytest.raises(ConfigError, match="alarm.fired"):
        raise_event(runtime.host, "alarm.fird", "x", {"run_id": 1})
    with pytest.raises(EventError, match="U\\+0000"):
        raise_event(runtime.host, "alarm.fired", "bad\x00id", {"run_id": 1})
    with pytest.raises(EventError, match="at /data/run_id: 'seven' is not of type 'integer'") as refused:
        raise_event(runtime.host, "alarm.fired", "alarm-bad-data", {"run_id": "seven"})
    assert refused.value.details == {"pointer": "/data/run_id"}
