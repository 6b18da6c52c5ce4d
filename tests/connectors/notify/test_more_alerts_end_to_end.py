"""The shipped alert recipes for the host events that are not run failures, end to end: a
Stripe key the vendor refuses (ledgerlink.connection.needs_reauth), a burst of deliveries
with bad signatures over HTTP (ledgerlink.webhook.rejected_burst), a reconciliation that
found drift (ledgerlink.reconcile.drift) and a conflict with the source of truth
(ledgerlink.sync.conflict) each send one email, naming the fix, to a real SMTP server on
loopback (STARTTLS, AUTH), and where a Slack recipe ships one post to a loopback receiver;
raised again in the same window, nothing more is sent. The host's clock is simulated."""

from __future__ import annotations

import json
import shutil

import httpx
import pytest
from receiver import create_app as create_receiver
from smtp_loopback import PASSWORD, SLACK_CONNECTION, USERNAME, smtp_server

from ledgerlink.contract import raise_event
from ledgerlink.engine.events import call_hook
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import Worker
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.stripe import create_sandbox
from runtime_fixtures import RECIPES, signed
from stripe_events import invoice_paid_event

#: 2026-05-01 07:00:00 UTC: a multiple of every window used here
MORNING = 1777618800.0
ALERTS = ("alert-needs-reauth-email", "alert-needs-reauth-slack", "alert-reconcile-drift-email",
          "alert-reconcile-drift-slack", "alert-webhook-rejected-burst-email", "alert-sync-conflict-email")
MARK_PAID = {
    "id": "stripe-invoice-paid-mark-paid", "version": 1,
    "description": "Mark the Stripe invoice of an event paid out of band.",
    "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
    "steps": [{"id": "pay", "action": "stripe.mark_invoice_paid", "connection": "stripe",
               "input": {"invoice": {"$path": "$.event.data.object.id"}}}],
}


class Clock:
    """The host's clock, moved by the test alone."""

    def __init__(self) -> None:
        self.now = MORNING

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(tmp_path, monkeypatch):
    """Stripe's sandbox refusing the configured key, the shipped alert recipes, the loopback
    SMTP server and Slack-style receiver."""
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_STRIPE_KEY", "sk_test_rolled")
    monkeypatch.setenv("LL_SMTP_PASSWORD", PASSWORD)
    with (running(create_sandbox(seed="alerts", api_keys=["sk_test_current"])) as stripe,
          smtp_server(tmp_path / "tls") as mail, running(create_receiver()) as slack):
        monkeypatch.setenv("LL_SLACK_URL", f"{slack.url}/hooks/T0/B0/secret")
        config = tmp_path / "ledgerlink.toml"
        config.write_text(f"""
[connections.stripe]
connector = "stripe"
webhook_secret = "${{LL_TEST_WHSEC}}"
api_key = "${{LL_STRIPE_KEY}}"
api_base = "{stripe.url}"
{mail.connection("alerts_email", "ledgerlink <alerts@example.com>")}{SLACK_CONNECTION}
[alerts]
interval_seconds = 900
rejected_burst = 5
burst_seconds = 60
""")
        recipes = tmp_path / "recipes"
        recipes.mkdir()
        (recipes / "mark-paid.json").write_text(json.dumps(MARK_PAID))
        for name in ALERTS:
            shutil.copy(RECIPES / "alerts" / f"{name}.json", recipes / f"{name}.json")
        runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes, config_file=str(config),
                                settings=Settings())
        runtime.host.clock = Clock()
        try:
            yield runtime, mail.mailbox, slack.sandbox
        finally:
            runtime.close()


def drain(runtime) -> list[str]:
    worker = Worker(runtime)
    outcomes = []
    while claimed := runtime.store.claim(worker.name, 60, 8):
        outcomes += [worker.process(run) for run in claimed]
    return outcomes


def emails(mailbox) -> list[tuple[str, str]]:
    return [(r.message["Subject"], r.message.get_body(("plain",)).get_content()) for r in mailbox.received]


def test_a_refused_key_sends_one_email_and_one_slack_post_naming_the_connect_command(world):
    runtime, mailbox, slack = world
    for number in (1, 2, 3):
        body, headers = signed(invoice_paid_event("usd", 1200, event_id=f"evt_reauth_{number}"))
        runtime.inbox.receive("stripe", headers, body)
    assert Worker(runtime).side_work() == 3
    assert sorted(drain(runtime)) == ["paused"] * 3 + ["succeeded"] * 2  # three parked, two alerts
    [(subject, text)] = emails(mailbox)
    assert subject == "ledgerlink: connect stripe again"
    assert "needs a new key" in text and text.rstrip().endswith("Fix: ledgerlink connect stripe")
    [post] = [json.loads(body) for _, body in slack.posts]
    assert post["text"] == ":key: *Connect `stripe` again*: its runs wait, parked"
    assert "ledgerlink connect stripe" in json.dumps(post["blocks"])
    assert mailbox.logins == [(USERNAME, True)]
    assert mailbox.received[0].recipients == ("books@example.com",)  # the connection's to: the recipe names none
    assert "sk_test_rolled" not in json.dumps([text, post])


def test_a_burst_of_bad_signatures_sends_one_email_naming_what_to_compare(world):
    runtime, mailbox, slack = world
    body, headers = signed(invoice_paid_event("usd", 1200, event_id="evt_burst"))
    bad = {**headers, "Stripe-Signature": f"t=1,v1={'0' * 64}"}
    with background(create_app(runtime=runtime)) as served, httpx.Client(base_url=served.url) as client:
        assert [client.post("/webhooks/stripe", content=body, headers=bad).status_code for _ in range(8)] == [401] * 8
    assert drain(runtime) == ["succeeded"]
    [(subject, text)] = emails(mailbox)
    assert subject == "ledgerlink: 5 webhook deliveries to stripe refused"
    assert "2026-05-01T07:00:00Z and 2026-05-01T07:01:00Z" in text
    assert "Fix: if the sender is the vendor, the signing secret of connection 'stripe'" in text
    assert "ledgerlink webhooks list" in text and "whsec_test_secret" not in text
    assert slack.posts == []  # no Slack recipe ships for this one


def test_drift_sends_one_email_and_one_slack_post_naming_the_reconcile_command(world):
    runtime, mailbox, slack = world
    ledgers = {"books": {"missing": 2, "amount": 1}, "xero": {}, "freshbooks": {"duplicated": 1}}
    summary = {"connection": "books", "since": "2026-04-01", "until": "2026-04-30", "discrepancies": 3,
               "by_kind": ledgers["books"], "ledgers": ledgers}
    call_hook(runtime, "ledgerlink_reconcile_ended",
              report_summary={**summary, "connection": "xero", "discrepancies": 0, "by_kind": {}})
    call_hook(runtime, "ledgerlink_reconcile_ended", report_summary=summary)
    call_hook(runtime, "ledgerlink_reconcile_ended", report_summary=summary)  # the nightly one, run twice
    assert drain(runtime) == ["succeeded"] * 2
    [(subject, text)] = emails(mailbox)
    assert subject == "ledgerlink: 3 discrepancies in books (2026-04-01 to 2026-04-30)"
    text = text.replace("\r\n", "\n")  # as sent over SMTP
    assert "found 3 discrepancies.\n\nBy kind:\n  missing: 2\n  amount: 1\n\n" in text  # per kind
    assert ("(every ledger this reconciliation compared):\n  books: 3 (missing 2, amount 1)\n  xero: 0\n"
            "  freshbooks: 1 (duplicated 1)\n\n") in text  # per ledger
    assert "Fix: ledgerlink reconcile --since 2026-04-01 --until 2026-04-30 --connection books" in text
    [post] = [json.loads(body) for _, body in slack.posts]
    assert post["text"] == ":warning: *3 discrepancies in `books`* (2026-04-01 to 2026-04-30)"


def test_a_conflict_sends_one_email_with_both_values_and_the_fix(world):
    runtime, mailbox, slack = world
    data = {"recipe_id": "quickbooks-customer-updated-checked-against-stripe", "run_id": 57,
            "connection": "quickbooks",
            "reason": 'QuickBooks customer 58 has DisplayName "Amy B." where Stripe, which owns customers, '
                      'has name "Amy\'s Bird Sanctuary"',
            "fix": "ledgerlink runs show 57; correct the field on the side that follows"}
    for _ in range(2):  # raised by two processes: the inbox keeps one
        raise_event(runtime.host, "ledgerlink.sync.conflict", "sync.conflict:57", data)
    assert drain(runtime) == ["succeeded"]
    [(subject, text)] = emails(mailbox)
    assert subject == "ledgerlink: a conflict with the source of truth in quickbooks"
    assert '"Amy B."' in text and "run 57" in text and "Fix: ledgerlink runs show 57" in text


def test_a_refused_smtp_password_pauses_the_email_runs_and_the_slack_alert_names_the_connection(world, monkeypatch):
    runtime, mailbox, slack = world
    monkeypatch.setenv("LL_SMTP_PASSWORD", "rotated-password-41")
    summary = {"connection": "books", "since": "2026-04-01", "until": "2026-04-30", "discrepancies": 1,
               "by_kind": {"missing_in_ledger": 1}}
    call_hook(runtime, "ledgerlink_reconcile_ended", report_summary=summary)
    outcomes = drain(runtime)
    assert "failed" not in outcomes and "dead" not in outcomes and "paused" in outcomes
    assert mailbox.received == [] and mailbox.logins  # the password refused at each attempt: nothing sent
    assert not any(accepted for _, accepted in mailbox.logins)
    texts = sorted(json.loads(body)["text"] for _, body in slack.posts)
    assert texts == [":key: *Connect `alerts_email` again*: its runs wait, parked",
                     ":warning: *1 discrepancies in `books`* (2026-04-01 to 2026-04-30)"]
    reauth = next(json.loads(body) for _, body in slack.posts if "alerts_email" in json.loads(body)["text"])
    assert "ledgerlink connect alerts_email" in json.dumps(reauth["blocks"])
    assert "rotated-password-41" not in json.dumps(reauth)
