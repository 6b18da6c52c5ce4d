"""``ledgerlink backfill RECIPE --since DATE [--until DATE] [--dry-run] [--json]``: one summary
line (or JSON) off a terminal, a progress bar on one, and every refusal a message with exit
status 1 (2 for a date that is not one), never a traceback.

The connector is ``tally`` (tests/history_connector.py), added to the CLI's plugins (and,
for a real ``ledgerlink`` process that is killed mid-way, installed as an entry point).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest

import history_connector
from history_connector import plugins, recipe
from ledgerlink import cli
from ledgerlink.cli import backfill as command
from ledgerlink.testing.processes import ledgerlink_exe, run_ledgerlink
from tally_fixtures import world

SINCE, UNTIL = "2026-03-01", "2026-03-02"


@pytest.fixture
def tally(tmp_path, monkeypatch):
    yield from world(tmp_path, monkeypatch)


@pytest.fixture
def backfill(tally, capsys):
    manager = plugins()

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(["backfill", *argv, "--db", tally.db, "--recipes", str(tally.recipes),
                         "--config", str(tally.config)], plugins=manager)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_it_plans_and_says_so_in_one_line(tally, backfill):
    tally.invoices(5)
    tally.write(recipe("notes"))
    code, out, err = backfill("notes", "--since", SINCE, "--until", UNTIL)
    assert code == 0, err
    assert out.splitlines() == [
        "backfilled recipe 'notes' v1 on connection 'tally' from 2026-03-01T00:00:00Z to 2026-03-02T00:00:00Z: "
        "5 object(s) in 3 page(s), 5 run(s) planned, 0 already planned, 0 filtered out; the workers of "
        "`ledgerlink serve` (or `ledgerlink worker`) on this database perform the runs"]
    assert tally.rows()["runs"] == 5
    code, out, _ = backfill("notes", "--since", SINCE, "--until", UNTIL, "--json")
    assert code == 0
    assert {k: v for k, v in json.loads(out).items() if k in ("objects", "runs_planned", "already_planned",
                                                              "done")} == \
        {"objects": 5, "runs_planned": 0, "already_planned": 5, "done": True}


def test_dry_run_prints_the_counts_and_the_first_request_and_writes_nothing(tally, backfill):
    tally.invoices(3)
    tally.write(recipe("notes"))
    before = tally.rows()
    code, out, err = backfill("notes", "--since", SINCE, "--until", UNTIL, "--dry-run")
    assert code == 0, err
    first, heading, *report = out.splitlines()
    assert first.startswith("dry run of the backfill of recipe 'notes' v1") and first.endswith(
        "3 object(s) in 2 page(s), 3 run(s) would be planned, 0 already planned, 0 filtered out; nothing was written")
    assert heading == "the first object's run, as `ledgerlink dry-run` shows it:"
    shown = json.loads("\n".join(report))
    assert shown["event"] == {"id": "invoice.sent:in_0", "trigger": "tally.invoice.sent"}
    assert shown["steps"][0]["request"]["body"] == {"invoice": "in_0", "text": "amount 100"}
    assert "tally_key_5ecret" not in out
    assert tally.rows() == before


def test_a_terminal_gets_a_progress_bar_with_the_counts(tally, backfill, monkeypatch):
    tally.invoices(5)
    tally.write(recipe("notes"))
    monkeypatch.setattr(command, "_terminal", lambda stream: True)
    code, out, err = backfill("notes", "--since", SINCE, "--until", UNTIL)
    assert code == 0
    assert "5 objects · 5 planned · 0 already planned" in err and "100%" in err and "━" in err
    assert out.startswith("backfilled recipe 'notes'")


def test_an_unknown_progress_pulses():
    from ledgerlink.engine.backfill import Progress

    stream = io.StringIO()
    with command._bar(stream) as update:
        update(Progress(recipe="notes", objects=2, planned=2))
    text = stream.getvalue()
    assert "2 objects · 2 planned · 0 already planned" in text and "%" not in text


@pytest.mark.parametrize("argv, words", [
    (("customers", "--since", SINCE), "error: trigger 'tally.customer.updated' (recipe 'customers') cannot be "
                                      "back-filled: its connector cannot list its past occurrences"),
    (("notes", "--since", UNTIL, "--until", SINCE), "error: --since (2026-03-02T00:00:00Z) must be before "
                                                    "--until (2026-03-01T00:00:00Z)"),
    (("nope", "--since", SINCE), "error: no active recipe 'nope' in the recipe folder (known: customers, notes); "
                                 "pass a recipe id or the file of a recipe in --recipes"),
])
def test_refusals_are_messages_with_status_1(tally, backfill, argv, words):
    tally.write(recipe("notes"), recipe("customers", trigger="tally.customer.updated"))
    code, out, err = backfill(*argv)
    assert (code, out) == (1, "")
    assert err.strip() == words
    assert tally.rows()["events"] == 0


def test_a_date_that_is_not_one_is_a_usage_error(tally, backfill):
    tally.write(recipe("notes"))
    with pytest.raises(SystemExit) as usage:
        backfill("notes", "--since", "last tuesday")
    assert usage.value.code == 2


def test_a_refused_key_stops_it_with_the_fix_and_what_was_done(tally, backfill):
    tally.invoices(5)
    tally.write(recipe("notes"))
    tally.state.faults["/invoices"] = [(0, {}), (401, {})]  # the key is rolled after the first page
    code, out, err = backfill("notes", "--since", SINCE, "--until", UNTIL)
    assert code == 1 and out == ""
    stopped, error = err.splitlines()
    assert stopped.startswith("backfill of recipe 'notes' v1 on connection 'tally'") and stopped.endswith(
        "stopped: 2 object(s) in 1 page(s), 2 run(s) planned, 0 already planned, 0 filtered out so far; run it "
        "again to go on (nothing is planned twice)")
    assert error == ("error: connection 'tally' needs a new key: tally refused the key; replace the secret in the "
                     "environment, then run `ledgerlink connect tally`")
    assert tally.rows()["runs"] == 2


def entry_point(folder: Path) -> dict[str, str]:
    """The environment in which a ``ledgerlink`` process finds tally as an installed plugin."""
    dist = folder / "site" / "tally_for_tests-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tally-for-tests\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[ledgerlink]\ntally = history_connector:PLUGIN\n")
    tests = Path(history_connector.__file__).resolve().parent
    return {"PYTHONPATH": os.pathsep.join([str(folder / "site"), str(tests)])}


def test_killed_mid_way_and_run_again_it_plans_each_object_once(tally):
    tally.invoices(7)  # four pages
    tally.write(recipe("notes"))
    env = {**os.environ, **entry_point(tally.folder)}
    argv = ["backfill", "notes", "--since", SINCE, "--until", UNTIL, "--db", tally.db, "--recipes",
            str(tally.recipes), "--config", str(tally.config)]
    tally.state.hold = ("/invoices", 2)  # the third page is held open ...
    process = subprocess.Popen([ledgerlink_exe(), *argv], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert tally.state.held.wait(60), process.communicate(timeout=30)
        process.kill()  # ... and the process killed while it waits for it
        process.communicate(timeout=30)
    finally:
        tally.state.hold = None
        tally.state.release.set()
    assert tally.rows()["runs"] == 4  # the two pages it had stored stay stored
    again = run_ledgerlink(*argv, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "backfilled recipe 'notes' v1 on connection 'tally' from 2026-03-01T00:00:00Z to 2026-03-02T00:00:00Z: "
        "7 object(s) in 4 page(s), 3 run(s) planned, 4 already planned, 0 filtered out; the workers of "
        "`ledgerlink serve` (or `ledgerlink worker`) on this database perform the runs"]
    assert [r[1] for r in tally.runs()] == [f"invoice.sent:in_{i}" for i in range(7)]
