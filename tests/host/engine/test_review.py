"""Review before posting, end to end: Stripe ``invoice.paid`` webhooks → runs of a recipe with
``"review": true`` → awaiting_review with the exact requests → approved or rejected by the
API and the CLI → the QuickBooks sandbox over real HTTP on loopback.

On SQLite by default; on PostgreSQL with ``LEDGERLINK_TEST_DB`` set (``make test-pg``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from ledgerlink.engine.operations import build_runtime, replay
from ledgerlink.engine.runtime import Settings
from ledgerlink import jsonio
from ledgerlink.engine.worker import Worker
from ledgerlink.store.schema import events
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from review_recipe import ENTRY_RECIPE
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, RECIPES, deliver, entry_posts, write_config, working
from stripe_events import invoice_paid_event

REALM = "9130350000000000"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SHIPPED = "stripe-invoice-paid-to-quickbooks-journal"

@pytest.fixture
def make_runtime(tmp_path, monkeypatch, qbo, sandbox):
    """A runtime over one recipe (``entry``: the one-step recipe above; ``customer``: the
    shipped journal recipe, whose first step finds the customer through the links table,
    with ``"review": true``), its database, and its configuration."""
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    made = []

    def make(which: str = "entry"):
        folder = tmp_path / "recipes"
        folder.mkdir(exist_ok=True)
        if which == "entry":
            (folder / "entry.json").write_text(json.dumps(ENTRY_RECIPE))
        else:
            recipe = json.loads((RECIPES / f"{SHIPPED}.json").read_text())
            recipe.pop("$schema")
            (folder / "customer.json").write_text(json.dumps({**recipe, "review": True}))
        config = write_config(tmp_path, qbo.url)
        db = migrated_db(tmp_path)
        runtime = build_runtime(db=db, recipes=folder, config_file=str(config),
                                settings=Settings(backoff_base=0.05, backoff_cap=0.5, workers=1))
        made.append(runtime)
        return runtime, db, folder, config

    yield make
    for runtime in made:
        runtime.close()


def wait_for(runtime, **expected):
    """Until the runs by status are ``expected`` (a worker is running)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if runtime.store.counts() == expected:
            return
        time.sleep(0.05)
    raise AssertionError(f"runs are {runtime.store.counts()}, not {expected}")


def entries_of(sandbox, event_id: str) -> list[dict]:
    return [e for e in sandbox.entities(REALM, "journalentry") if f"event {event_id}" in e.get("PrivateNote", "")]


def cli(db: str, *argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ledgerlink", "runs", *argv, "--db", db],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_approved_run_sends_exactly_the_reviewed_request_once(make_runtime, sandbox):
    runtime, _, _, _ = make_runtime()
    client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
    with working(runtime):
        deliver(runtime, invoice_paid_event("usd", 12345, event_id="evt_review_1"))
        wait_for(runtime, awaiting_review=1)
        assert entry_posts(sandbox) == []  # nothing was sent before a person approved it
        listed = client.get("/api/runs?status=awaiting_review", headers=AUTH).get_json()["runs"]
        assert [run["id"] for run in listed] == [1]
        metrics = client.get("/metrics", headers=AUTH).get_data(as_text=True)
        assert 'ledgerlink_runs{status="awaiting_review"} 1.0' in metrics
        assert "ledgerlink_runs_awaiting_review_total 1.0" in metrics
        (step,) = listed[0]["review_plan"]["steps"]
        shown = step["request"]
        assert shown["method"] == "POST" and "/journalentry" in shown["url"]
        assert shown["headers"]["authorization"] == "Bearer [REDACTED]"
        assert QBO_TOKEN not in json.dumps(listed)
        assert shown["body"]["PrivateNote"] == "Stripe invoice in_review_1 paid; event evt_review_1"
        assert [line["Amount"] for line in shown["body"]["Line"]] == [123.45, 123.45]

        answer = client.post("/api/runs/approve", json={"runs": [1, 999]}, headers=AUTH)
        assert answer.status_code == 200
        results = answer.get_json()["results"]
        assert results[0] == {"run": 1, "status": "approved"}
        assert results[1]["run"] == 999 and results[1]["error"]["status"] == 404
        wait_for(runtime, succeeded=1)
        again = client.post("/api/runs/approve", json={"runs": [1]}, headers=AUTH).get_json()["results"]
        assert again[0]["error"]["code"] == "conflict" and "succeeded" in again[0]["error"]["message"]
        refused = client.post("/api/runs/approve", json={"runs": []}, headers=AUTH)
        assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "invalid_request"
        assert client.post("/api/runs/approve", json={"runs": [1]}).status_code == 401
    run = runtime.store.run(1)
    (sent,) = [s for s in run["steps"] if s["status"] == "succeeded"]
    shown = run["review_plan"]["steps"][0]["request"]  # amounts as Decimals
    assert sent["request"] == shown  # what the run log recorded sending is what was reviewed
    (post,) = entry_posts(sandbox)  # sent once
    assert post["requestid"] == parse_qs(urlsplit(shown["url"]).query)["requestid"][0]
    (entry,) = entries_of(sandbox, "evt_review_1")
    assert entry["PrivateNote"] == shown["body"]["PrivateNote"] and entry["TxnDate"] == shown["body"]["TxnDate"]
    assert [(line["Amount"], line["JournalEntryLineDetail"]["PostingType"],
             line["JournalEntryLineDetail"]["AccountRef"]["value"]) for line in entry["Line"]] == \
        [(line["Amount"], line["JournalEntryLineDetail"]["PostingType"],
          line["JournalEntryLineDetail"]["AccountRef"]["value"]) for line in shown["body"]["Line"]]
    assert run["reviewed_by"] == "api"


def test_rejected_run_sends_nothing_and_a_replay_shows_it_again(make_runtime, sandbox):
    runtime, db, _, _ = make_runtime()
    with working(runtime):
        deliver(runtime, invoice_paid_event("usd", 5000, event_id="evt_review_2"),
                invoice_paid_event("usd", 6000, event_id="evt_review_3"))
        wait_for(runtime, awaiting_review=2)
        listed = subprocess.run([sys.executable, "-m", "ledgerlink", "runs", "list", "--status", "awaiting_review",
                                 "--db", db], capture_output=True, text=True)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.count("awaiting_review") == 2 and "entry: POST " in listed.stdout
        rejected = cli(db, "reject", "--all", "--recipe", ENTRY_RECIPE["id"], "--by", "ada",
                       "--reason", "booked by hand already")
        out, err = rejected.communicate(timeout=60)
        assert rejected.returncode == 0, err
        assert out.splitlines() == ["run 1: rejected", "run 2: rejected"]
        wait_for(runtime, rejected=2)
        run = runtime.store.run(1)
        assert (run["reviewed_by"], run["review_note"]) == ("ada", "booked by hand already")
        assert replay(runtime, 1)["status"] == "pending"
        wait_for(runtime, rejected=1, awaiting_review=1)
        again = cli(db, "reject", "1", "2")  # run 2 is rejected already: said, and exit status 1
        out, err = again.communicate(timeout=60)
        assert again.returncode == 1 and out == "run 1: rejected\n" and "run 2: not rejected: it is rejected" in err
    assert entry_posts(sandbox) == []


def test_changed_inputs_show_the_run_again_and_two_approvals_run_it_once(make_runtime, sandbox):
    """Two invoices of one Stripe customer: both runs show the customer step finding no link.
    Run 1 is approved by two processes at once and creates (and links) the customer; run 2,
    approved, now finds that link: it is shown again with the reason, then approved, it runs."""
    runtime, db, _, _ = make_runtime("customer")
    with working(runtime):
        first = invoice_paid_event("usd", 2500, event_id="evt_review_4")
        second = invoice_paid_event("usd", 3500, event_id="evt_review_5")
        second["data"]["object"]["customer"] = first["data"]["object"]["customer"]
        deliver(runtime, first, second)
        wait_for(runtime, awaiting_review=2)
        customer, entry = runtime.store.run(2)["review_plan"]["steps"]
        assert "uses_answers_of" not in customer and entry["uses_answers_of"] == ["customer"]
        lookups = customer["link_lookups"]
        assert [lookup["answered_with"] for lookup in lookups] == ["no link"]
        both = [cli(db, "approve", "1"), cli(db, "approve", "1")]
        outcomes = sorted((p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in both)
        assert outcomes[0][:2] == (0, "run 1: approved\n"), outcomes
        assert outcomes[1][0] == 1 and "not approved" in outcomes[1][2], outcomes
        wait_for(runtime, succeeded=1, awaiting_review=1)
        assert runtime.store.approve([2], "ada") == {2: (True, "pending")}
        deadline = time.monotonic() + 30
        while runtime.store.run(2)["review_note"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        run = runtime.store.run(2)
        assert run["status"] == "awaiting_review"
        assert "changed since they were approved" in run["review_note"] and "step 'customer'" in run["review_note"]
        assert run["review_plan"]["steps"][0]["link_lookups"][0]["answered_with"].startswith("linked to ")
        assert len(entries_of(sandbox, "evt_review_5")) == 0  # nothing nobody saw was sent
        assert runtime.store.approve([2], "ada") == {2: (True, "pending")}
        wait_for(runtime, succeeded=2)
    assert len(entries_of(sandbox, "evt_review_4")) == len(entries_of(sandbox, "evt_review_5")) == 1
    assert runtime.metrics.values["runs_shown_again"] == 1


def test_a_replayed_run_is_reviewed_again_and_a_changed_event_is_shown_again(make_runtime, sandbox):
    """One worker, step by step: approved, the run fails; replayed, it awaits review again
    (new idempotency keys, new requests); approved, then its event changes (fetched again)
    before the worker takes it: shown again, never sent unseen, though the run logged steps
    before the approval."""
    runtime, _, _, _ = make_runtime()
    worker = Worker(runtime, "w1")

    def step() -> str:
        (claimed,) = runtime.store.claim("w1", 30.0)
        return worker.process(claimed)

    deliver(runtime, invoice_paid_event("usd", 4000, event_id="evt_review_6"))
    assert step() == "awaiting_review"
    first = runtime.store.run(1)["review_plan"]["steps"][0]["request"]
    sandbox.script([{"fault": "validation", "message": "Scripted: the account is inactive", "code": "6000"}])
    runtime.store.approve([1], "ada")
    assert step() == "failed"
    assert replay(runtime, 1)["status"] == "pending"
    assert step() == "awaiting_review"
    replayed = runtime.store.run(1)
    assert replayed["review_note"] is None and replayed["review_plan"]["steps"][0]["request"]["url"] != first["url"]
    runtime.store.approve([1], "ada")
    event = runtime.store.event(replayed["event_pk"])
    payload = jsonio.loads(event["payload"])
    payload["data"]["object"]["amount_paid"] = 4100
    with runtime.store.engine.begin() as conn:
        conn.execute(events.update().where(events.c.id == event["id"]).values(payload=jsonio.dumps(payload)))
    assert step() == "awaiting_review"
    run = runtime.store.run(1)
    assert "step 'entry': input, request" in run["review_note"]
    assert run["review_plan"]["steps"][0]["request"]["body"]["Line"][0]["Amount"] == Decimal("41.00")
    assert entries_of(sandbox, "evt_review_6") == []
    runtime.store.approve([1], "ada")
    assert step() == "succeeded"
    (entry,) = entries_of(sandbox, "evt_review_6")
    assert entry["Line"][0]["Amount"] == Decimal("41.00")
