"""schedule.cron and schedule.sync_report: the kit's rules, ticks through DST and downtime,
recipe options checked, and a report of a real store's runs."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from ledgerlink.contract import IncomingEvent, RunsQuery, Tick, reports
from ledgerlink.engine import reconciliations
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.ticker import tick as store_ticks
from ledgerlink.store.events import PlannedRun
from ledgerlink.testing import ConnectorConformance
from ledgerlink_schedule import cron
from ledgerlink_schedule.report import RECONCILIATION_GAP, render
from ledgerlink_schedule.trigger import CRON
from runtime_fixtures import RECIPES
from simulated_clock import MIDNIGHT

UTC = timezone.utc
PARIS = cron.zone("Europe/Paris")


class TestScheduleConformance(ConnectorConformance):
    connector = "schedule"


@pytest.fixture
def request_schema():
    def problems(request):  # the only "vendor" is the host's run store: a window that ends after it starts
        return [] if isinstance(request, RunsQuery) and request.since <= request.until else [f"not a window: {request}"]
    return problems


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def fired(expression: str, now: str, last: str | None, catch_up: str = "once", cap: int = 100) -> list[tuple]:
    due = cron.due(expression, PARIS, at(now).timestamp(), at(last) if last else None, catch_up, cap)
    return [(d.tick.astimezone(PARIS).isoformat(), d.since.astimezone(PARIS).isoformat() if d.since else None,
             d.missed) for d in due]


def test_a_first_tick_fires_only_when_it_is_moments_old():
    assert fired("0 7 * * *", "2026-05-01T07:00:40+02:00", None) == [
        ("2026-05-01T07:00:00+02:00", "2026-04-30T07:00:00+02:00", 0)]
    assert fired("0 7 * * *", "2026-05-01T10:00:00+02:00", None) == []  # enabled at 10:00: waits for tomorrow
    assert fired("0 7 * * *", "2026-05-01T06:59:59+02:00", None) == []


def test_daylight_saving_time_is_crossed_as_debian_cron_does():
    # Paris, 2026-03-29: 02:00 becomes 03:00, so 02:30 does not exist and fires at 03:00 (01:00 UTC)
    assert fired("30 2 * * *", "2026-03-29T03:00:30+02:00", "2026-03-28T02:30:00+01:00") == [
        ("2026-03-29T03:00:00+02:00", "2026-03-28T02:30:00+01:00", 0)]
    # 2026-10-25: 03:00 becomes 02:00, so 02:30 passes twice and fires once; 07:00 stays 07:00 local
    assert fired("30 2 * * *", "2026-10-25T04:00:00+01:00", "2026-10-24T02:30:00+02:00", "every") == [
        ("2026-10-25T02:30:00+02:00", "2026-10-24T02:30:00+02:00", 0)]
    assert fired("0 7 * * *", "2026-10-26T07:00:05+01:00", "2026-10-25T07:00:00+01:00") == [
        ("2026-10-26T07:00:00+01:00", "2026-10-25T07:00:00+01:00", 0)]


def test_after_downtime_once_fires_the_latest_tick_and_every_fires_each_up_to_the_cap():
    last, now = "2026-05-01T07:00:00+02:00", "2026-05-05T08:00:00+02:00"
    assert fired("0 7 * * *", now, last, "once") == [("2026-05-05T07:00:00+02:00", last, 3)]
    assert fired("0 7 * * *", now, last, "every", cap=10) == [
        ("2026-05-02T07:00:00+02:00", last, 0), ("2026-05-03T07:00:00+02:00", "2026-05-02T07:00:00+02:00", 0),
        ("2026-05-04T07:00:00+02:00", "2026-05-03T07:00:00+02:00", 0),
        ("2026-05-05T07:00:00+02:00", "2026-05-04T07:00:00+02:00", 0)]
    assert fired("0 7 * * *", now, last, "every", cap=2) == [
        ("2026-05-04T07:00:00+02:00", "2026-05-03T07:00:00+02:00", 2),
        ("2026-05-05T07:00:00+02:00", "2026-05-04T07:00:00+02:00", 0)]
    assert fired("0 7 * * *", "2026-05-05T07:00:00+02:00", "2026-05-05T07:00:00+02:00") == []  # never twice


def test_the_trigger_names_each_tick_in_utc_after_the_last_one_it_raised():
    options = {"cron": "0 7 * * *", "timezone": "Europe/Paris"}
    first = CRON.tick(Tick("daily", options, "UTC", MIDNIGHT + 5 * 3600 + 30, None))
    assert [e.id for e in first] == ["schedule.cron:daily:2026-05-01T05:00:00Z"]
    payload = first[0].payload
    assert payload["tick"] == {"utc": "2026-05-01T05:00:00Z", "local": "2026-05-01T07:00:00+02:00",
                               "unix": MIDNIGHT + 5 * 3600}
    assert payload["window"]["since"]["local"] == "2026-04-30T07:00:00+02:00"
    again = CRON.tick(Tick("daily", options, "UTC", MIDNIGHT + 5 * 3600 + 50, first[0].id))
    assert again == []
    later = CRON.tick(Tick("daily", {**options, "timezone": ""}, "Asia/Tokyo", MIDNIGHT + 3 * 86400, first[0].id))
    assert [e.id for e in later] == ["schedule.cron:daily:2026-05-03T22:00:00Z"]  # 07:00 in Tokyo, the recipe's zone
    assert later[0].payload["missed"] == 2


def recipe(options: dict) -> dict:
    return {"id": "daily", "version": 1, "description": "A sync report every morning, for the schedule tests here.",
            "trigger": {"event": "schedule.cron", "connection": "schedule", "options": options},
            "steps": [{"id": "report", "action": "schedule.sync_report", "connection": "schedule",
                       "input": {"since": {"$path": "$.event.window.since.unix"},
                                 "until": {"$path": "$.event.window.until.unix"}}}]}


def test_recipe_options_are_checked_each_at_its_pointer(tmp_path, run_cli):
    path = tmp_path / "daily.json"
    path.write_text(json.dumps(recipe({"cron": "0 25 * * *", "timezone": "Europe/Pariss", "catch_up": "once"})))
    code, out, err = run_cli("validate", str(path))
    assert code != 0
    assert "/trigger/options/cron" in out + err and "not a cron expression" in out + err
    assert "/trigger/options/timezone" in out + err and "Europe/Pariss" in out + err
    path.write_text(json.dumps(recipe({"catch_up": "sometimes"})))
    code, out, err = run_cli("validate", str(path))
    assert code != 0 and "'cron' is a required property" in out + err and "sometimes" in out + err
    stripe = recipe({"cron": "0 7 * * *"})
    stripe["trigger"].update(event="stripe.invoice.paid", connection="stripe")
    path.write_text(json.dumps(stripe))
    code, out, err = run_cli("validate", str(path))
    assert code != 0 and "takes no options" in out + err
    path.write_text(json.dumps(recipe({"cron": "0 7 * * 1-5", "timezone": "America/New_York"})))
    assert run_cli("validate", str(path))[0] == 0


def test_the_report_counts_a_windows_runs_and_lists_failures_with_their_fix(tmp_path, db_url):
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "daily.json").write_text(json.dumps(recipe({"cron": "* * * * *"})))
    runtime = build_runtime(db=db_url, recipes=tmp_path / "recipes", config_file=None)
    try:
        store = runtime.store
        now = datetime.now(UTC).timestamp()
        store.ingest("schedule", [
            ("e1", "schedule.cron", {}, [PlannedRun("daily", 1)]),
            ("e2", "schedule.cron", {}, [PlannedRun("daily", 1, "the filter cannot be evaluated; fix it")]),
            ("e3", "schedule.cron", {}, [PlannedRun("other <b>", 1, "bad <input>")])])
        answer = runtime.connections.transport("schedule")(RunsQuery(now - 60, now + 60)).json
        assert answer["counts"] == [{"recipe_id": "daily", "status": "failed", "count": 1},
                                    {"recipe_id": "daily", "status": "pending", "count": 1},
                                    {"recipe_id": "other <b>", "status": "failed", "count": 1}]
        assert [(f["recipe_id"], f["error"], f["retry"].split()[:3]) for f in answer["failures"]] == [
            ("daily", "the filter cannot be evaluated; fix it", ["ledgerlink", "runs", "replay"]),
            ("other <b>", "bad <input>", ["ledgerlink", "runs", "replay"])]
        report = render(answer, "Daily", "yesterday")
        assert report["subject"] == "Daily: 3 run(s), 2 failed"
        assert "daily: 1 failed, 1 pending" in report["text"]
        assert "the filter cannot be evaluated; fix it" in report["text"]
        assert f"retry once fixed: ledgerlink runs replay {answer['failures'][0]['run_id']}" in report["text"]
        assert "other &lt;b&gt;" in report["html"] and "other <b>" not in report["html"]
        assert "bad &lt;input&gt;" in report["html"] and "bad <input>" not in report["html"]
        assert RECONCILIATION_GAP in report["text"]
        empty = runtime.connections.transport("schedule")(RunsQuery(now + 60, now + 120)).json
        assert "no run was planned" in render(empty, "Daily", "later")["text"]
        # the latest reconciliation, as ledgerlink reconcile keeps it, is summarised with each fix
        assert reports.LATEST_RECONCILIATION == reconciliations.LATEST
        many = [{"problem": "missing_in_ledger", "connection": "xero", "kind": "invoice", "entity": "Invoice",
                 "id": f"in_{i}", "date": "2026-05-01", "expected": "10.00 EUR", "found": "nothing", "run": i,
                 "fix": f"ledgerlink runs undo {i}, then ledgerlink runs replay {i}"}
                for i in range(reports.MAX_DISCREPANCIES + 2)]
        store.set_cursor(reports.LATEST_RECONCILIATION, json.dumps({
            "at": "2026-05-01T02:30:09Z", "since": "2026-04-30", "until": "2026-04-30", "ok": False,
            "counts": {"missing_in_ledger": len(many)}, "notes": ["stripe: no api_key, payouts not listed"],
            "discrepancies": many}))
        latest = runtime.connections.transport("schedule")(RunsQuery(now - 60, now + 60)).json["reconciliation"]
        assert latest["discrepancies_total"] == reports.MAX_DISCREPANCIES + 2
        text = render({**answer, "reconciliation": latest}, "Daily", "yesterday")["text"]
        assert f"{reports.MAX_DISCREPANCIES + 2} discrepancy(ies)" in text
        assert "missing_in_ledger: invoice in_0 on xero (run 0): expected 10.00 EUR, found nothing; " \
               "fix: ledgerlink runs undo 0, then ledgerlink runs replay 0" in text
        assert "2 more: `ledgerlink reconcile --since 2026-04-30 --until 2026-04-30` lists them" in text
        assert "note: stripe: no api_key, payouts not listed" in text and RECONCILIATION_GAP not in text
    finally:
        runtime.close()


def test_the_ticker_plans_each_tick_once_for_its_own_recipe(tmp_path, db_url):
    (tmp_path / "recipes").mkdir()
    for recipe_id, cron_expression in (("daily", "0 7 * * *"), ("hourly", "0 * * * *")):
        raw = recipe({"cron": cron_expression, "timezone": "Europe/Paris"})
        raw["id"] = recipe_id
        (tmp_path / "recipes" / f"{recipe_id}.json").write_text(json.dumps(raw))
    runtime = build_runtime(db=db_url, recipes=tmp_path / "recipes", config_file=None)
    try:
        seven = MIDNIGHT + 5 * 3600 + 20  # 07:00:20 in Paris
        args = (runtime.registry, runtime.inbox, runtime.store)
        assert store_ticks(*args, seven) == 2  # daily's 07:00, hourly's 07:00
        assert store_ticks(*args, seven + 10) == 0  # asked again (another process): nothing new
        assert store_ticks(*args, seven + 3600) == 1  # hourly's 08:00 only
        listed = runtime.store.list_runs()
        assert sorted((r["recipe_id"], r["event_id"]) for r in listed) == [
            ("daily", "schedule.cron:daily:2026-05-01T05:00:00Z"),
            ("hourly", "schedule.cron:hourly:2026-05-01T05:00:00Z"),
            ("hourly", "schedule.cron:hourly:2026-05-01T06:00:00Z")]
    finally:
        runtime.close()


def test_a_tick_that_breaks_the_id_rule_or_raises_is_logged_and_stores_nothing(tmp_path, db_url, monkeypatch):
    import dataclasses

    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "daily.json").write_text(json.dumps(recipe({"cron": "* * * * *"})))
    runtime = build_runtime(db=db_url, recipes=tmp_path / "recipes", config_file=None)
    try:
        active = runtime.registry.active()["daily"]
        stray = dataclasses.replace(active.trigger, tick=lambda t: [IncomingEvent("elsewhere:1", "schedule.cron", {})])
        monkeypatch.setattr(active, "trigger", stray)
        assert store_ticks(runtime.registry, runtime.inbox, runtime.store, MIDNIGHT + 30) == 0
        assert runtime.store.count_events() == 0

        def broken(t):
            raise KeyError("a bug")
        monkeypatch.setattr(active, "trigger", dataclasses.replace(active.trigger, tick=broken))
        assert store_ticks(runtime.registry, runtime.inbox, runtime.store, MIDNIGHT + 30) == 0
    finally:
        runtime.close()


SHIPPED = sorted((RECIPES / "schedules").glob("*.json"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_the_shipped_schedules_validate_and_dry_run(path, tmp_path, run_cli):
    raw = json.loads(path.read_text())
    assert path.stem == raw["id"] and len(raw["description"].split()) >= 12
    config = tmp_path / "ledgerlink.toml"  # the daily report's mail server, as an operator configures it
    config.write_text('[connections.reports_email]\nconnector = "notify"\nhost = "smtp.example.com"\n'
                      'from = "ledgerlink <reports@example.com>"\nto = ["Bookkeeping <books@example.com>"]\n')
    code, out, err = run_cli("validate", "--config", str(config), str(path))
    assert code == 0, out + err
    code, out, err = run_cli("dry-run", "--config", str(config), str(path))
    assert code == 0, err
    steps = json.loads(out)["steps"]
    assert steps and all(step["status"] == "would_run" and step["request"] for step in steps)
