"""The alerts, end to end: a QuickBooks outage (the sandbox answers 503 to every request)
makes hundreds of Stripe events' runs of two recipes give up; the shipped alert recipes of
recipes/alerts/ (on ledgerlink.run.dead) send through notify.email to a real SMTP server on
loopback (STARTTLS, AUTH) and through notify.webhook to a loopback receiver in Slack's
format. Each failing recipe gets one message when its first run of the alert window gives
up and one summary with the exact count when the window ends (the host's clock simulated):
two recipes, two windows' worth of time, four emails and four Slack posts, nothing more.
Runs on SQLite, and on PostgreSQL under LEDGERLINK_TEST_DB."""

from __future__ import annotations

import json
import shutil
import time

import pytest
import sqlalchemy as sa
from receiver import create_app
from smtp_loopback import PASSWORD, SLACK_CONNECTION, USERNAME, smtp_server

from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.engine.events import call_hook
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import Worker
from ledgerlink.store import Store
from ledgerlink.store.schema import run_steps, runs
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from runtime_fixtures import QBO_TOKEN, RECIPES, recipes_dir, signed, write_config
from stripe_events import credit_note_created_event, invoice_paid_event

REALM = "9130350000000000"
INVOICES, CREDIT_NOTES = 200, 100
INTERVAL = 900.0
SOURCES = ("stripe-invoice-paid-to-quickbooks-journal", "stripe-credit-note-to-quickbooks-journal")
ALERTS = ("alert-run-dead-email.json", "alert-run-dead-slack.json", "alert-run-failed-email.json",
          "alert-run-failed-slack.json")


class HostClock:
    """The host's simulated clock: time passes only when the test says. It starts inside an
    alert window two days ago, so every run it plans is already due by the wall clock."""

    def __init__(self) -> None:
        self.now = (time.time() - 2 * 86400) // INTERVAL * INTERVAL + 60

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(tmp_path, monkeypatch, qbo, sandbox):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    monkeypatch.setenv("LL_SMTP_PASSWORD", PASSWORD)
    with smtp_server(tmp_path / "tls") as mail, running(create_app()) as slack:
        monkeypatch.setenv("LL_SLACK_URL", f"{slack.url}/hooks/T0/B0/secret")
        config = write_config(tmp_path, qbo.url, REALM)
        config.write_text(config.read_text() + f"""
[alerts]
interval_seconds = {int(INTERVAL)}
{mail.connection("alerts_email", "ledgerlink <alerts@example.com>")}{SLACK_CONNECTION}""")
        recipes = recipes_dir(tmp_path, names=tuple(f"{name}.json" for name in SOURCES))
        for name in ALERTS:
            shutil.copy(RECIPES / "alerts" / name, recipes / name)
        catalog = load_catalog()
        rt = Runtime(catalog, load_config(config, catalog), Store(migrated_db(tmp_path)), recipes,
                     Settings(max_attempts=1))
        rt.registry.reload()
        rt.host.clock = HostClock()
        try:
            yield rt, mail.mailbox, slack.sandbox
        finally:
            rt.close()


def open_runs(rt: Runtime) -> int:
    with rt.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(runs)
                            .where(runs.c.status.in_(("pending", "running", "retrying")))).scalar_one()


def drain(rt: Runtime) -> dict[str, int]:
    """Process every run until none is left open (a retry's backoff is milliseconds); the
    outcomes counted."""
    worker = Worker(rt)
    counted: dict[str, int] = {}
    while True:
        claimed = rt.store.claim(worker.name, 60, 16)
        if not claimed:
            if not open_runs(rt):
                return counted
            time.sleep(0.01)
        for run in claimed:
            outcome = worker.process(run)
            counted[outcome] = counted.get(outcome, 0) + 1


def window_ends(rt: Runtime) -> None:
    """The host's clock moves past the alert window's end, and a worker's tick looks."""
    rt.host.clock.now += INTERVAL
    call_hook(rt, "ledgerlink_tick", now=rt.host.now())


def receive_outage_events(rt: Runtime, offset: int) -> None:
    for i in range(INVOICES):
        body, headers = signed(invoice_paid_event("usd", 1000 + i, event_id=f"evt_in_{offset + i}"))
        rt.inbox.receive("stripe", headers, body)
    for i in range(CREDIT_NOTES):
        body, headers = signed(credit_note_created_event("usd", 500 + i, event_id=f"evt_cn_{offset + i}"))
        rt.inbox.receive("stripe", headers, body)


def alerts_of(mailbox, posts) -> tuple[list[tuple[str, str]], list[dict]]:
    emails = [(r.message["Subject"], r.message.get_body(("plain",)).get_content()) for r in mailbox.received]
    return emails, [json.loads(body) for _, body in posts]


def test_an_outage_sends_one_email_and_one_slack_post_per_failing_recipe_per_window_with_the_count(world, sandbox):
    rt, mailbox, slack = world
    sandbox.script([{"status": 503, "times": 1_000_000}])  # QuickBooks is down

    receive_outage_events(rt, 0)
    outcomes = drain(rt)
    # every source run gave up; the first of each recipe raised one alert, run by two recipes
    assert outcomes["dead"] == INVOICES + CREDIT_NOTES
    assert outcomes["succeeded"] == 4 and outcomes.get("failed", 0) == 0
    emails, posts = alerts_of(mailbox, slack.posts)
    assert sorted(subject for subject, _ in emails) == [f"ledgerlink: a run of {name} gave up" for name in sorted(SOURCES)]
    assert sorted(post["text"] for post in posts) == [f":rotating_light: *A run of `{name}` gave up*"
                                                      for name in sorted(SOURCES)]
    assert all(message["Message-ID"] for message in (r.message for r in mailbox.received))
    assert [login for login in mailbox.logins] == [(USERNAME, True)] * 2

    window_ends(rt)  # the window's later failures, summed into one summary per recipe
    assert drain(rt) == {"succeeded": 4}
    emails, posts = alerts_of(mailbox, slack.posts)
    summaries = sorted(subject for subject, _ in emails[2:])
    assert summaries == sorted([
        f"ledgerlink: {CREDIT_NOTES - 1} more runs of {SOURCES[1]} gave up ({CREDIT_NOTES} in the window)",
        f"ledgerlink: {INVOICES - 1} more runs of {SOURCES[0]} gave up ({INVOICES} in the window)"])
    invoice_summary = next(text for subject, text in emails[2:] if SOURCES[0] in subject)
    assert f"({INVOICES} in all, runs " in invoice_summary and "Error (200 of them): " in invoice_summary
    assert "503" in invoice_summary and "Fix: ledgerlink runs list --status dead" in invoice_summary
    slack_summary = next(post for post in posts[2:] if SOURCES[0] in post["text"])
    assert slack_summary["text"] == (f":rotating_light: *{INVOICES - 1} more runs of `{SOURCES[0]}` gave up* "
                                     f"({INVOICES} in the window)")
    fields = {f["text"].split("\n", 1)[0]: f["text"].split("\n", 1)[1] for f in slack_summary["blocks"][1]["fields"]}
    assert fields["*Fix*"].startswith("ledgerlink runs list --status dead") and "(200)" in fields["*Error*"]

    window_ends(rt)  # a quiet window: nothing more
    assert drain(rt) == {}
    assert len(mailbox.received) == 4 and len(slack.posts) == 4

    # the run log shows each message and post as sent, and neither the password nor the address
    with rt.store.engine.connect() as conn:
        logged = [json.loads(row.request) for row in conn.execute(
            sa.select(run_steps.c.request).where(run_steps.c.step_id.in_(("email", "slack"))))]
    assert sorted(shown["kind"] for shown in logged) == ["http"] * 4 + ["mail"] * 4
    assert PASSWORD not in json.dumps(logged) and "/hooks/T0/B0/secret" not in json.dumps(logged)


def test_runs_refused_for_good_alert_through_the_failed_recipes(world, sandbox):
    rt, mailbox, slack = world
    sandbox.script([{"fault": "validation", "message": "Scripted: the account is inactive", "code": "6000",
                     "match": {"entity": "journalentry"}, "times": 1_000}])
    for i in range(20):
        body, headers = signed(invoice_paid_event("usd", 700 + i, event_id=f"evt_refused_{i}"))
        rt.inbox.receive("stripe", headers, body)
    assert drain(rt) == {"failed": 20, "succeeded": 2}
    window_ends(rt)
    assert drain(rt) == {"succeeded": 2}
    emails, posts = alerts_of(mailbox, slack.posts)
    assert [subject for subject, _ in emails] == [
        f"ledgerlink: a run of {SOURCES[0]} failed",
        f"ledgerlink: 19 more runs of {SOURCES[0]} failed (20 in the window)"]
    assert "the account is inactive" in emails[1][1] and "Error (20 of them)" in emails[1][1]
    assert [post["text"] for post in posts] == [
        f":rotating_light: *A run of `{SOURCES[0]}` failed*",
        f":rotating_light: *19 more runs of `{SOURCES[0]}` failed* (20 in the window)"]
