"""The reconciliation page against the QuickBooks sandbox on loopback: a ledger never
reconciled, run now behind a confirmation (the period checked), both sides agreeing, then an
entry deleted by hand in QuickBooks found as missing with its run and fix, amounts to their
currency's decimals; the token never shown; every POST refused without its CSRF token."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from console_helpers import csrf_of, served_console
from ledgerlink import jsonio
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, REALM, deliver, wait_settled
from stripe_events import invoice_paid_event

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()


@pytest.fixture
def console(tmp_path, monkeypatch, qbo, sandbox):
    """``serve``'s app and one worker over QuickBooks (the sandbox's token), a client signed in."""
    with served_console(tmp_path, monkeypatch, qbo.url, backoff_cap=0.2) as (runtime, client):
        yield runtime, client, qbo


def ledger_section(client, name: str = "quickbooks") -> str:
    html = client.get("/console/reconciliation").get_data(as_text=True)
    assert QBO_TOKEN not in html
    found = re.search(rf'<section class="reconciliation" id="ledger-{name}".*?</section>', html, re.S)
    assert found, html
    return found.group(0)


def run_now(client, since: str = "2000-01-01", until: str = TODAY, ledger: str = "quickbooks"):
    confirm = client.get(f"/console/reconciliation/{ledger}/run")
    assert confirm.status_code == 200
    return client.post(f"/console/reconciliation/{ledger}/run",
                       data={"csrf": csrf_of(confirm.get_data(as_text=True)), "since": since, "until": until})


def test_a_ledger_never_reconciled_and_the_confirmation_with_the_current_month(console):
    runtime, client, qbo = console
    quickbooks = ledger_section(client)
    assert "Not reconciled yet." in quickbooks and 'href="/console/reconciliation/quickbooks/run"' in quickbooks
    confirm = client.get("/console/reconciliation/quickbooks/run").get_data(as_text=True)
    today = dt.datetime.now(dt.timezone.utc).date()
    assert f'name="since" value="{today.replace(day=1).isoformat()}"' in confirm
    assert f'name="until" value="{today.isoformat()}"' in confirm
    assert "Reconcile quickbooks now</button>" in confirm and runtime.store.cursor("reconcile:latest") is None
    assert client.get("/console/reconciliation/stripe/run").status_code == 404  # a source, not a ledger


def test_run_now_agrees_then_finds_an_entry_deleted_by_hand_with_its_run_and_fix(console):
    runtime, client, qbo = console
    deliver(runtime, invoice_paid_event("usd", 4200, event_id="evt_console_reconcile"))
    assert wait_settled(runtime, 1) == {"succeeded": 1}
    [run] = runtime.store.list_runs()
    done = run_now(client)
    assert done.status_code == 303, done.get_data(as_text=True)
    assert done.headers["Location"].endswith("/console/reconciliation?done=quickbooks#ledger-quickbooks")
    assert "quickbooks is reconciled" in client.get("/console/reconciliation?done=quickbooks").get_data(as_text=True)
    quickbooks = ledger_section(client)
    assert "both sides agree" in quickbooks and f"2000-01-01 to {TODAY}" in quickbooks
    assert "quickbooks: 1 record" in quickbooks and "Note: stripe was not read" in quickbooks
    assert "<time datetime=" in quickbooks  # when it ran, in the operator's zone

    [entry] = qbo.sandbox.entities(REALM, "journalentry")  # deleted by hand in QuickBooks
    deleted = httpx.post(f"{qbo.url}/v3/company/{REALM}/journalentry",
                         params={"operation": "delete", "minorversion": "75"},
                         content=jsonio.dumps({"Id": entry["Id"], "SyncToken": entry["SyncToken"]}),
                         headers={"Authorization": f"Bearer {QBO_TOKEN}", "Content-Type": "application/json",
                                  "Accept": "application/json"})
    assert deleted.status_code == 200, deleted.text
    assert run_now(client).status_code == 303
    quickbooks = ledger_section(client)
    assert "1 difference<" in quickbooks and "missing 1" in quickbooks
    row = re.search(r"<tbody>.*?</tbody>", quickbooks, re.S).group(0)
    assert "missing" in row and "42.00 USD on" in row and "nothing" in row  # the currency's two decimals
    assert f'<a href="/console/runs/{run["id"]}">{run["id"]}</a>' in row
    assert f"ledgerlink runs undo {run['id']}" in row and f"ledgerlink runs replay {run['id']}" in row
    assert client.get("/api/reconcile", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).get_json()["ok"] is False


def test_a_bad_period_is_refused_on_the_confirmation_page_and_nothing_runs(console):
    runtime, client, qbo = console
    for since, until, why in (("2026-13-01", TODAY, "since must be a date written YYYY-MM-DD"),
                              ("2026-05-31", "2026-05-01", "until (2026-05-01) is before since (2026-05-31)")):
        answer = run_now(client, since, until)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400 and why in text and "quickbooks was not reconciled" in text
        assert f'name="since" value="{since}"' in text  # the period as given, to correct
    assert runtime.store.cursor("reconcile:latest:quickbooks") is None


def test_run_now_needs_its_csrf_token(console):
    runtime, client, qbo = console
    for data in ({}, {"csrf": "forged", "since": "2026-01-01", "until": "2026-01-31"}):
        refused = client.post("/console/reconciliation/quickbooks/run", data=data)
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    assert runtime.store.cursor("reconcile:latest:quickbooks") is None
    outsider = client.application.test_client()
    assert outsider.post("/console/reconciliation/quickbooks/run").status_code == 401
    assert outsider.get("/console/reconciliation").status_code == 303
