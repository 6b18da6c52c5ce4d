"""Fetches and polls on a key connection, and the warnings a poll returns.

A key the vendor refuses while a notification's entity is fetched, or while the connection
is polled, does what it does to runs: the connection is marked ``needs_new_key``, the fetch
waits (paused: not failed, no attempt counted) and the poll waits, until ``ledgerlink
connect NAME`` accepts a new key; then both go on at once. A poll's warnings are logged
once per poll, counted, and shown with the poll until a poll without warnings.

The connector is ``keyed`` (keyed_connector.py beside this file); its API runs on loopback
and answers 401 to any key but the one it accepts. A worker is driven by hand, one fetch or
poll at a time, so nothing depends on timing.
"""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from keyed_connector import RECIPE, KeyedApi, catalog
from ledgerlink.cli.connections import _check_key, poll_lines
from ledgerlink.config import load_config
from ledgerlink.engine.fetching import poll_result
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import Worker
from ledgerlink.errors import PluginError
from ledgerlink.io import keys
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.connections import connection_rows
from ledgerlink.web.servers import background
from ledgerlink.web.system import connection_warnings

OLD, NEW = "key_old_rolled", "key_new_current"
HOOK = "hook-token-1"


@pytest.fixture
def keyed(tmp_path, monkeypatch):
    """A runtime whose ``keyed`` connection reads its key from LL_KEYED_KEY (OLD for now),
    polled every 30 s, with the recipe that records each changed thing; and the API,
    which accepts NEW only."""
    monkeypatch.setenv("LL_KEYED_KEY", OLD)
    monkeypatch.setenv("LL_KEYED_HOOK", HOOK)
    api = KeyedApi(NEW)
    api.things["th_1"] = {"id": "th_1", "amount": 700}
    with background(api) as server:
        cat = catalog()
        config = tmp_path / "ledgerlink.toml"
        config.write_text(f'[connections.keyed]\nconnector = "keyed"\napi_base = "{server.url.rstrip("/")}"\n'
                          'api_key = "${LL_KEYED_KEY}"\nwebhook_token = "${LL_KEYED_HOOK}"\npoll_seconds = 30\n')
        recipes = tmp_path / "recipes"
        recipes.mkdir()
        (recipes / "record.json").write_text(json.dumps(RECIPE))
        runtime = Runtime(cat, load_config(str(config), cat), Store(migrated_db(tmp_path)), recipes, Settings())
        runtime.registry.reload()
        try:
            yield runtime, api
        finally:
            runtime.close()


def notify(runtime: Runtime, event_id: str, thing: str = "th_1") -> None:
    body = json.dumps({"id": event_id, "type": "thing.changed", "thing": {"id": thing}}).encode()
    runtime.inbox.receive("keyed", httpx.Headers({"X-Keyed-Token": HOOK, "Content-Type": "application/json"}), body)


def fetch_due(runtime: Runtime, worker: Worker) -> list[str]:
    """Fetch every notification due now; the outcome of each."""
    return [worker.fetch(c) for c in runtime.store.claim_fetches(worker.name, 60, 10)]


def run_due(runtime: Runtime, worker: Worker) -> list[str]:
    return [worker.process(run) for run in runtime.store.claim(worker.name, 60, 10)]


def row(runtime: Runtime) -> dict:
    return {r["name"]: r for r in connection_rows(runtime)}["keyed"]


def test_a_refused_key_parks_the_fetch_and_connect_with_the_new_key_fetches_it_at_once(keyed, capsys, monkeypatch):
    runtime, api = keyed
    worker = Worker(runtime)
    notify(runtime, "ch_1")
    assert fetch_due(runtime, worker) == ["paused"]
    event = runtime.store.event(1)
    assert event["fetch_state"] == "paused" and event["fetch_attempts"] == 0  # not failed, not counted
    assert "needs a new key" in event["fetch_error"] and "ledgerlink connect keyed" in event["fetch_error"]
    assert OLD not in event["fetch_error"]
    assert keys.status(runtime.connections, "keyed")[0] == keys.NEEDS_NEW_KEY
    assert runtime.metrics.values.get("fetches_paused") == 1 and "fetches_failed" not in runtime.metrics.values

    # a second notification meets the same refusal and waits beside the first
    notify(runtime, "ch_2")
    assert fetch_due(runtime, worker) == ["paused"]
    assert fetch_due(runtime, worker) == []  # nothing is retried while the key is refused
    assert api.refused() == 2 and runtime.store.counts() == {}
    state = row(runtime)
    assert (state["status"], state["paused_fetches"], state["poll"]["error"]) == ("needs_new_key", 2, None)
    assert any("'keyed' is needs_new_key (0 run(s) paused, 2 notification(s) waiting)" in w
               and "ledgerlink connect keyed" in w for w in connection_warnings(runtime))

    # connect with the key still refused: nothing resumes
    assert not keys.check(runtime.connections, "keyed").ok
    assert fetch_due(runtime, worker) == [] and row(runtime)["paused_fetches"] == 2

    # the new key is put in the environment; connect checks it and the fetches are due now
    monkeypatch.setenv("LL_KEYED_KEY", NEW)
    assert _check_key(runtime.connections, "keyed") == 0
    out = capsys.readouterr().out
    assert "keyed: ok" in out and "2 waiting notification(s) fetched again" in out and NEW not in out
    assert fetch_due(runtime, worker) == ["done", "done"]
    assert run_due(runtime, worker) == ["succeeded", "succeeded"]
    assert api.records == [{"thing": "th_1", "amount": 700}] * 2
    assert row(runtime)["status"] == "ok" and row(runtime)["paused_fetches"] == 0
    assert connection_warnings(runtime) == []


def test_a_refused_key_makes_the_poll_wait_and_status_says_why_until_connect(keyed, caplog, monkeypatch):
    runtime, api = keyed
    worker = Worker(runtime)
    api.changes.append({"id": "ch_9", "thing": {"id": "th_1"}})
    assert worker.poll("keyed") == 1
    assert api.refused() == 1 and runtime.store.cursor("poll:keyed") == ""
    poll = row(runtime)["poll"]
    assert poll["last_polled_at"] is None and poll["cursor_age_seconds"] is None
    assert "needs a new key" in poll["error"] and "ledgerlink connect keyed" in poll["error"]
    assert poll["waiting_for_new_key"] and poll_lines(poll)[0].endswith(", waits for a new key")
    assert poll_lines(poll)[1] == f"error: {poll['error']}"
    assert any("the poll of connection 'keyed' did not run" in w and "needs a new key" in w
               for w in connection_warnings(runtime))
    assert "polls_failed" not in runtime.metrics.values and runtime.metrics.values["polls_paused"] == 1

    # due again, it still waits: no request goes out with the refused key
    runtime.store.poll_due_now("keyed")
    assert worker.poll("keyed") == 0 and api.refused() == 1

    monkeypatch.setenv("LL_KEYED_KEY", NEW)
    checked = keys.check(runtime.connections, "keyed")
    assert checked.ok and checked.fetches == 0
    assert worker.poll("keyed") == 1  # due at once, not after the 30 s interval
    poll = row(runtime)["poll"]
    assert poll["error"] is None and poll["last_polled_at"] is not None and poll["warnings"] == []
    assert not poll["waiting_for_new_key"] and len(poll_lines(poll)) == 1
    assert runtime.store.cursor("poll:keyed") == "1"
    assert fetch_due(runtime, worker) == ["done"] and run_due(runtime, worker) == ["succeeded"]
    assert connection_warnings(runtime) == []


def test_poll_warnings_are_logged_once_per_poll_kept_with_the_poll_and_cleared_by_a_poll_without(keyed, caplog, monkeypatch):
    runtime, api = keyed
    monkeypatch.setenv("LL_KEYED_KEY", NEW)
    worker = Worker(runtime)
    warning = "changes older than 30 days are no longer listed; back-fill the gap"
    api.changes.append({"id": "ch_1", "thing": {"id": "th_1"}})
    api.warnings = [warning, f"the key {NEW} is about to expire"]
    caplog.set_level(logging.WARNING, logger="ledgerlink")
    assert worker.poll("keyed") == 1
    shown = [warning, "the key [REDACTED] is about to expire"]  # never a secret in a log or status
    assert [r.getMessage() for r in caplog.records] == [f"poll of connection 'keyed': {w}" for w in shown]
    assert runtime.metrics.values["poll_warnings"] == 2 and runtime.metrics.values["polls_run"] == 1
    assert runtime.store.count_events() == 1 and runtime.store.cursor("poll:keyed") == "1"  # a success
    poll = row(runtime)["poll"]
    assert poll["warnings"] == shown and poll["error"] is None and poll["interval_seconds"] == 30
    assert poll["next_due_at"] > poll["last_polled_at"] and poll["cursor_age_seconds"] >= 0
    assert [w for w in connection_warnings(runtime) if "warns" in w] == \
        [f"the poll of connection 'keyed' warns: {w}" for w in shown]
    lines = poll_lines(poll)
    assert lines[0].startswith("poll every 30s: last polled 20") and "next due 20" in lines[0]
    assert lines[1:] == [f"warning: {w}" for w in shown]

    # the next poll warns again: logged again, once
    caplog.clear()
    api.warnings = [warning]
    runtime.store.poll_due_now("keyed")
    assert worker.poll("keyed") == 1
    assert [r.getMessage() for r in caplog.records] == [f"poll of connection 'keyed': {warning}"]
    assert row(runtime)["poll"]["warnings"] == [warning]

    # a failed poll is no poll without warnings: they stay, beside its error
    api.changes_status = 500
    runtime.store.poll_due_now("keyed")
    assert worker.poll("keyed") == 1
    poll = row(runtime)["poll"]
    assert poll["warnings"] == [warning] and "listing changes: HTTP 500" in poll["error"]
    assert runtime.store.cursor("poll:keyed") == "1"

    # a poll returning (events, cursor) without warnings clears them, and the error
    api.changes_status, api.warnings = None, None
    runtime.store.poll_due_now("keyed")
    assert worker.poll("keyed") == 1
    poll = row(runtime)["poll"]
    assert (poll["warnings"], poll["error"]) == ([], None) and connection_warnings(runtime) == []
    assert runtime.metrics.values["poll_warnings"] == 3


def test_a_poll_whose_warnings_are_not_sentences_fails_and_its_cursor_stays(keyed, monkeypatch):
    runtime, api = keyed
    monkeypatch.setenv("LL_KEYED_KEY", NEW)
    worker = Worker(runtime)
    api.changes.append({"id": "ch_1", "thing": {"id": "th_1"}})
    api.warnings = [{"code": 30}]
    assert worker.poll("keyed") == 1
    assert runtime.store.count_events() == 0 and runtime.store.cursor("poll:keyed") == ""
    assert "warnings that are not a list of sentences" in row(runtime)["poll"]["error"]
    assert runtime.metrics.values["polls_failed"] == 1


@pytest.mark.parametrize("value, expected", [
    (([], "c1"), ([], "c1", [])),
    (([], "c1", ["one", "two"]), ([], "c1", ["one", "two"])),
    (([], "c1", "one"), ([], "c1", ["one"])),
    (([], "c1", None), ([], "c1", [])),
    (([], "c1", ["", "  "]), ([], "c1", [])),
])
def test_poll_result_reads_both_shapes(value, expected):
    assert poll_result(value, "keyed") == expected


@pytest.mark.parametrize("value", [None, ([],), ([], "c", [], "extra"), ([], "c", [1]), ([], "c", {"w": 1})])
def test_poll_result_refuses_any_other_shape(value):
    with pytest.raises(PluginError, match="the poll of connector 'keyed'"):
        poll_result(value, "keyed")


def test_a_backlog_of_fetches_is_fetched_batch_after_batch_not_a_batch_a_look(keyed, monkeypatch):
    runtime, api = keyed
    monkeypatch.setenv("LL_KEYED_KEY", NEW)
    for number in range(20):
        notify(runtime, f"ch_{number}")
    worker = Worker(runtime)  # Settings(): 8 fetches a batch
    pending = []
    for _ in range(4):  # each look at once after the last: no second waited between them
        worker.side_work()
        pending.append(sum(1 for i in range(1, 21) if runtime.store.event(i)["fetch_state"] == "pending"))
    # a full batch has the next look come at once; after the last, partial one it waits again
    assert pending == [12, 4, 0, 0] and worker._next_look > 0
