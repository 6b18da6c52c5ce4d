"""The shipped daily sync report, end to end: at 07:00 in the recipe's time zone a worker
stores the tick, runs schedule.sync_report on the day's runs and sends the report through
notify.email to a real SMTP server on loopback (STARTTLS, AUTH); once, however often the
ticker is asked again. The host's clock is simulated; the runs of the day and the latest
reconciliation are planted."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.ticker import tick
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.store.events import PlannedRun
from runtime_fixtures import RECIPES
from simulated_clock import MIDNIGHT

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notify"))  # the loopback SMTP server
from smtp_loopback import PASSWORD, smtp_server  # noqa: E402

#: 2026-05-01 07:00:20 in London (British Summer Time, UTC+1)
SEVEN_IN_LONDON = MIDNIGHT + 6 * 3600 + 20


def test_the_daily_report_is_mailed_once_at_seven_with_the_days_failures_and_their_fix(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("LL_SMTP_PASSWORD", PASSWORD)
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    shutil.copy(RECIPES / "schedules" / "daily-sync-report.json", recipes)
    with smtp_server(tmp_path / "tls") as mail:
        config = tmp_path / "ledgerlink.toml"
        config.write_text(mail.connection("reports_email", "ledgerlink <reports@example.com>"))
        runtime = build_runtime(db=db_url, recipes=recipes, config_file=str(config))
        runtime.clock = lambda: SEVEN_IN_LONDON
        store = runtime.store
        yesterday_evening, last_week = SEVEN_IN_LONDON - 10 * 3600, SEVEN_IN_LONDON - 7 * 86400
        store.ingest("stripe", [("evt_1", "stripe.invoice.paid", {}, [PlannedRun(
            "stripe-invoice-paid-to-quickbooks-journal", 1,
            "step 'journal': QuickBooks refused the entry: account 81 is inactive; make it active, then replay")])],
            now=yesterday_evening)
        store.ingest("stripe", [("evt_2", "stripe.invoice.paid", {}, [PlannedRun(
            "stripe-invoice-paid-to-quickbooks-journal", 1, "the filter cannot be evaluated; fix it")]),
            ("evt_3", "stripe.payout.paid", {}, [PlannedRun("stripe-payout-paid-to-quickbooks-deposit", 1,
                                                             "no bank account for GBP; add it to the lookups")])],
            now=yesterday_evening + 60)
        store.set_cursor("reconcile:latest", json.dumps({  # as `ledgerlink reconcile` keeps it
            "at": "2026-05-01T01:30:05Z", "since": "2026-04-30", "until": "2026-04-30", "ok": False,
            "counts": {"amount_differs": 1}, "notes": [], "ledgers": {"quickbooks": {"amount_differs": 1}},
            "discrepancies": [{"problem": "amount_differs", "connection": "quickbooks", "kind": "invoice",
                               "entity": "JournalEntry", "id": "in_42", "date": "2026-04-30",
                               "expected": "120.00 GBP", "found": "12.00 GBP", "source_id": "in_42", "run": 7,
                               "fix": "correct the amount of JournalEntry 1042 to 120.00 GBP"}]}))
        store.ingest("stripe", [("evt_old", "stripe.invoice.paid", {}, [PlannedRun("last-weeks-recipe", 1, "old")])],
                     now=last_week)
        pool = WorkerPool(runtime, 2)
        pool.start()
        try:
            deadline = time.monotonic() + 60
            while not mail.mailbox.received:
                assert time.monotonic() < deadline, store.list_runs()
                time.sleep(0.1)
            # asked again (this process or another): the tick is stored, nothing more is sent
            assert tick(runtime.registry, runtime.inbox, store, SEVEN_IN_LONDON + 30) == 0
            time.sleep(1.5)
        finally:
            pool.stop()
            runtime.close()
    assert len(mail.mailbox.received) == 1
    received = mail.mailbox.received[0]
    assert received.recipients == ("books@example.com",)
    message = received.message
    assert message["Subject"] == "ledgerlink daily sync report: 3 run(s), 3 failed"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "2026-04-30T07:00:00+01:00 to 2026-05-01T07:00:00+01:00 (Europe/London)" in text
    assert "stripe-invoice-paid-to-quickbooks-journal: 2 failed" in text
    assert "stripe-payout-paid-to-quickbooks-deposit: 1 failed" in text
    assert "account 81 is inactive; make it active, then replay" in text
    assert "no bank account for GBP; add it to the lookups" in text
    assert text.count("retry once fixed: ledgerlink runs replay ") == 3
    assert "last-weeks-recipe" not in text  # outside the window
    assert "Reconciliation of 2026-04-30 to 2026-04-30 (run 2026-05-01T01:30:05Z): 1 discrepancy(ies)" in text
    assert "correct the amount of JournalEntry 1042 to 120.00 GBP" in text and "(run 7)" in text
    assert "<h2>Failures: 3</h2>" in html and "account 81 is inactive" in html


def test_the_nightly_reconciliation_runs_at_half_past_two_and_the_morning_report_tells_it(tmp_path, db_url,
                                                                                           monkeypatch):
    monkeypatch.setenv("LL_SMTP_PASSWORD", PASSWORD)
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    for name in ("daily-sync-report.json", "nightly-reconciliation.json"):
        shutil.copy(RECIPES / "schedules" / name, recipes)
    now = [SEVEN_IN_LONDON - 4.5 * 3600]  # 02:30:20 in London
    with smtp_server(tmp_path / "tls") as mail:
        config = tmp_path / "ledgerlink.toml"
        config.write_text(mail.connection("reports_email", "ledgerlink <reports@example.com>"))
        runtime = build_runtime(db=db_url, recipes=recipes, config_file=str(config))
        runtime.clock = lambda: now[0]
        pool = WorkerPool(runtime, 2)
        pool.start()
        try:
            deadline = time.monotonic() + 60
            while runtime.store.cursor("reconcile:latest") is None:
                assert time.monotonic() < deadline, runtime.store.list_runs()
                time.sleep(0.1)
            now[0] = SEVEN_IN_LONDON
            while not mail.mailbox.received:
                assert time.monotonic() < deadline, runtime.store.list_runs()
                time.sleep(0.1)
        finally:
            pool.stop()
            runtime.close()
    assert sorted((r["recipe_id"], r["event_id"], r["status"]) for r in runtime.store.list_runs()) == [
        ("daily-sync-report", "schedule.cron:daily-sync-report:2026-05-01T06:00:00Z", "succeeded"),
        ("nightly-reconciliation", "schedule.cron:nightly-reconciliation:2026-05-01T01:30:00Z", "succeeded")]
    text = mail.mailbox.received[0].message.get_body(("plain",)).get_content()
    assert "nightly-reconciliation: 1 succeeded" in text  # the night's run, inside the report's window
    assert "Reconciliation of 2026-04-30 to 2026-04-30" in text and "both sides agree" in text
