"""``ledgerlink schedules`` and ``GET /api/schedules``: each recipe on the clock, read from a
real store (SQLite; PostgreSQL when the suite runs on it) after ticks stored by the ticker
at simulated times: its last tick fired with the run it made, the next due (overdue after
a downtime, until a worker catches it up), paused and disabled recipes."""

from __future__ import annotations

import json

import jsonschema
import pytest

from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.schedules import SCHEMA, lines, schedules
from ledgerlink.engine.ticker import tick as store_ticks
from ledgerlink.web.app import create_app
from simulated_clock import DAY, MIDNIGHT

TOKEN = "schedules-admin-token"
#: 2026-05-01 07:00:20 in Paris (UTC+2)
SEVEN_IN_PARIS = MIDNIGHT + 5 * 3600 + 20


def recipe(recipe_id: str, options: dict, enabled: bool = True, timezone: str = "UTC") -> dict:
    return {"id": recipe_id, "version": 1, "enabled": enabled, "timezone": timezone,
            "description": "A sync report on the clock, for the schedules listing tests here.",
            "trigger": {"event": "schedule.cron", "connection": "schedule", "options": options},
            "steps": [{"id": "report", "action": "schedule.sync_report", "connection": "schedule",
                       "input": {"since": {"$path": "$.event.window.since.unix"},
                                 "until": {"$path": "$.event.window.until.unix"}}}]}


@pytest.fixture
def folder(tmp_path):
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    for raw in (recipe("daily", {"cron": "0 7 * * *", "timezone": "Europe/Paris"}),
                recipe("nightly", {"cron": "30 2 * * *", "catch_up": "every", "max_catch_up": 31}, enabled=False,
                       timezone="America/New_York")):
        (recipes / f"{raw['id']}.json").write_text(json.dumps(raw))
    return recipes


@pytest.fixture
def runtime(folder, db_url):
    built = build_runtime(db=db_url, recipes=folder, config_file=None)
    yield built
    built.close()


def listed(runtime, now: float) -> dict[str, dict]:
    listing = schedules(runtime, now)
    jsonschema.validate(listing, SCHEMA)
    return {each["recipe"]: each for each in listing["schedules"]}


def ticks(runtime, now: float) -> int:
    return store_ticks(runtime.registry, runtime.inbox, runtime.store, now)


def test_before_any_tick_the_first_due_is_shown_and_a_disabled_recipe_has_none(runtime):
    found = listed(runtime, MIDNIGHT + 3600)  # 03:00 in Paris
    daily, nightly = found["daily"], found["nightly"]
    assert (daily["trigger"], daily["connection"], daily["expression"], daily["timezone"], daily["catch_up"],
            daily["state"], daily["last_tick"]) == ("schedule.cron", "schedule", "0 7 * * *", "Europe/Paris",
                                                    "once", "active", None)
    assert daily["next_tick"] == {"utc": "2026-05-01T05:00:00Z", "local": "2026-05-01T07:00:00+02:00",
                                  "unix": MIDNIGHT + 5 * 3600, "overdue": False}
    # the options leave the zone out: the recipe's own
    assert (nightly["state"], nightly["timezone"], nightly["catch_up"], nightly["next_tick"]) == (
        "disabled", "America/New_York", "every", None)
    # a tick moments old still fires (a process asking late): it is the one due, not tomorrow's
    assert listed(runtime, SEVEN_IN_PARIS)["daily"]["next_tick"]["utc"] == "2026-05-01T05:00:00Z"
    assert listed(runtime, SEVEN_IN_PARIS + 60)["daily"]["next_tick"]["utc"] == "2026-05-02T05:00:00Z"


def test_after_a_tick_the_last_shows_its_run_and_the_next_is_tomorrows(runtime):
    assert ticks(runtime, SEVEN_IN_PARIS) == 1
    daily = listed(runtime, SEVEN_IN_PARIS + 5)["daily"]
    (run,) = runtime.store.list_runs()
    assert daily["last_tick"] == {"event_id": "schedule.cron:daily:2026-05-01T05:00:00Z", "utc": "2026-05-01T05:00:00Z",
                                  "local": "2026-05-01T07:00:00+02:00", "unix": MIDNIGHT + 5 * 3600,
                                  "run": {"id": run["id"], "status": "pending"}}
    assert daily["next_tick"]["local"] == "2026-05-02T07:00:00+02:00" and daily["next_tick"]["overdue"] is False
    (claimed,) = runtime.store.claim("w1", 30.0, now=SEVEN_IN_PARIS + 6)
    assert runtime.store.finish(claimed.id, "w1", "succeeded", now=SEVEN_IN_PARIS + 7)
    assert listed(runtime, SEVEN_IN_PARIS + 8)["daily"]["last_tick"]["run"] == {"id": run["id"], "status": "succeeded"}


def test_after_a_downtime_the_missed_tick_is_overdue_until_a_worker_catches_up(runtime):
    assert ticks(runtime, SEVEN_IN_PARIS) == 1
    back = SEVEN_IN_PARIS + 3 * DAY + 3600  # every process was stopped over three ticks; 08:00 on the 4th
    daily = listed(runtime, back)["daily"]
    assert daily["last_tick"]["local"] == "2026-05-01T07:00:00+02:00"
    assert daily["next_tick"]["local"] == "2026-05-02T07:00:00+02:00" and daily["next_tick"]["overdue"] is True
    table = "\n".join(lines(schedules(runtime, back)))
    assert "next tick  2026-05-02T05:00:00Z  (2026-05-02T07:00:00+02:00)  OVERDUE" in table
    assert ticks(runtime, back) == 1  # catch-up once: the latest missed tick
    daily = listed(runtime, back + 1)["daily"]
    assert daily["last_tick"]["local"] == "2026-05-04T07:00:00+02:00" and daily["last_tick"]["run"]["status"] == "pending"
    assert daily["next_tick"]["local"] == "2026-05-05T07:00:00+02:00" and daily["next_tick"]["overdue"] is False


def test_a_recipe_whose_runs_wait_for_a_connection_is_paused(runtime):
    assert ticks(runtime, SEVEN_IN_PARIS) == 1
    (claimed,) = runtime.store.claim("w1", 30.0, now=SEVEN_IN_PARIS + 1)
    assert runtime.store.pause(claimed.id, "w1", "reports_email", "the SMTP server refused the login",
                               now=SEVEN_IN_PARIS + 2)
    daily = listed(runtime, SEVEN_IN_PARIS + 3)["daily"]
    assert (daily["state"], daily["paused_on"], daily["last_tick"]["run"]["status"]) == (
        "paused", {"reports_email": 1}, "paused")
    table = lines(schedules(runtime, SEVEN_IN_PARIS + 3))
    assert "daily  paused (1 run(s) wait for connection 'reports_email': ledgerlink connect reports_email)" in table[1]


def test_the_api_answers_the_listing_with_the_admin_token_only(runtime):
    runtime.clock = lambda: SEVEN_IN_PARIS + 3 * DAY
    assert ticks(runtime, SEVEN_IN_PARIS) == 1
    app = create_app({"admin_token": TOKEN}, runtime=runtime)
    client = app.test_client()
    refused = client.get("/api/schedules")
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized"
    answer = client.get("/api/schedules", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    body = answer.get_json()
    jsonschema.validate(body, SCHEMA)
    assert body == json.loads(json.dumps(schedules(runtime, runtime.clock())))
    assert body["now"] == "2026-05-04T05:00:20Z"
    assert [s["recipe"] for s in body["schedules"]] == ["daily", "nightly"]
    assert body["schedules"][0]["next_tick"]["overdue"] is True


def test_the_command_prints_the_table_and_the_json(runtime, folder, db_url, run_cli):
    assert ticks(runtime, SEVEN_IN_PARIS) == 1  # months before the real clock: the next is long overdue
    code, out, err = run_cli("schedules", "--db", db_url, "--recipes", str(folder))
    assert code == 0, err
    assert "daily  active  schedule.cron on schedule  0 7 * * *  Europe/Paris  catch-up once" in out
    assert "last tick  2026-05-01T05:00:00Z  (2026-05-01T07:00:00+02:00)  run 1 pending" in out
    assert "next tick  2026-05-02T05:00:00Z  (2026-05-02T07:00:00+02:00)  OVERDUE" in out
    assert "nightly  disabled" in out and "next tick  disabled" in out
    code, out, err = run_cli("schedules", "--db", db_url, "--recipes", str(folder), "--format", "json")
    assert code == 0, err
    listing = json.loads(out)
    jsonschema.validate(listing, SCHEMA)
    assert listing["schedules"][0]["last_tick"]["event_id"] == "schedule.cron:daily:2026-05-01T05:00:00Z"


def test_with_no_recipe_on_the_clock_the_table_says_how_to_add_one(tmp_path, db_url, run_cli):
    (tmp_path / "empty").mkdir()
    code, out, _ = run_cli("schedules", "--db", db_url, "--recipes", str(tmp_path / "empty"))
    assert code == 0 and "no recipe starts on the clock" in out


def test_a_ticking_trigger_that_does_not_describe_its_schedule_is_listed_with_what_the_host_knows(runtime,
                                                                                                 monkeypatch):
    import dataclasses

    assert ticks(runtime, SEVEN_IN_PARIS) == 1
    daily = runtime.registry.active()["daily"]

    def broken(now):
        raise KeyError("a bug")

    for schedule in (None, broken):
        monkeypatch.setattr(daily, "trigger", dataclasses.replace(daily.trigger, schedule=schedule))
        found = listed(runtime, SEVEN_IN_PARIS + 5)["daily"]
        assert (found["expression"], found["catch_up"], found["timezone"], found["next_tick"]) == (None, None, "UTC", None)
        assert found["last_tick"]["event_id"] == "schedule.cron:daily:2026-05-01T05:00:00Z"
        assert found["last_tick"]["run"]["status"] == "pending" and "utc" not in found["last_tick"]


def test_the_shipped_schedules_are_listed_as_docs_schedules_md_configures_them(tmp_path, db_url, run_cli, monkeypatch):
    import re
    import shutil

    from runtime_fixtures import RECIPES
    from vendor_files import REPO

    shutil.copytree(RECIPES / "schedules", tmp_path / "recipes")
    (toml,) = re.findall(r"```toml\n(.*?)```", (REPO / "docs" / "schedules.md").read_text(), re.S)
    (tmp_path / "ledgerlink.toml").write_text(toml)
    monkeypatch.setenv("SMTP_PASSWORD", "not-sent-anywhere")
    code, out, err = run_cli("schedules", "--db", db_url, "--recipes", str(tmp_path / "recipes"),
                             "--config", str(tmp_path / "ledgerlink.toml"), "--format", "json")
    assert code == 0, err
    found = {s["recipe"]: s for s in json.loads(out)["schedules"]}
    assert {name: (s["expression"], s["timezone"], s["catch_up"], s["state"], s["last_tick"])
            for name, s in found.items()} == {
        "daily-sync-report": ("0 7 * * *", "Europe/London", "once", "active", None),
        "nightly-reconciliation": ("30 2 * * *", "Europe/London", "every", "active", None)}
    assert found["daily-sync-report"]["next_tick"]["local"][11:19] == "07:00:00"
    assert found["nightly-reconciliation"]["next_tick"]["local"][11:19] == "02:30:00"
    assert "not-sent-anywhere" not in out
