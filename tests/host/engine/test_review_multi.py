"""Review of a two-step recipe, end to end: Stripe ``invoice.paid`` → the shipped journal
recipe (find or create the customer, then the entry that names it) with ``"review": true``
→ the QuickBooks sandbox over real HTTP on loopback.

The customer id the entry sends is not known when the run is reviewed: it is shown as the
sample's and marked as a placeholder, whole or inside a text; approved, the run sends the
customer step, then the entry only if its input, mapped with the id read as it was shown,
is the one reviewed. Otherwise the entry is shown again with the requests it would send.

On SQLite by default; on PostgreSQL with ``LEDGERLINK_TEST_DB`` set (``make test-pg``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from ledgerlink import jsonio
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import Worker
from ledgerlink.store.schema import events
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, RECIPES, signed, write_config
from stripe_events import invoice_paid_event

REALM = "9130350000000000"
SHIPPED = "stripe-invoice-paid-to-quickbooks-journal"
PLACE = ["Lines", 1, "Entity", "EntityRef"]


@pytest.fixture
def make_runtime(tmp_path, monkeypatch, qbo, sandbox):
    """A runtime over the shipped two-step journal recipe with ``"review": true``; with
    ``text_id`` its entry also writes the customer id inside a description (a value of an
    earlier answer that is not a whole field, so not a placeholder)."""
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    made = []

    def make(text_id: bool = False):
        folder = tmp_path / "recipes"
        folder.mkdir(exist_ok=True)
        recipe = json.loads((RECIPES / f"{SHIPPED}.json").read_text())
        recipe.pop("$schema")
        if text_id:
            recipe["steps"][1]["input"]["Lines"][1]["Description"] = {
                "$concat": ["QuickBooks customer ", {"$path": "$.steps.customer.id"}]}
        (folder / "customer.json").write_text(json.dumps({**recipe, "review": True}))
        db = migrated_db(tmp_path)
        runtime = build_runtime(db=db, recipes=folder,
                                config_file=str(write_config(tmp_path, qbo.url)),
                                settings=Settings(backoff_base=0.05, backoff_cap=0.5, workers=1))
        runtime.db = db  # for the CLI
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


def step(runtime, worker) -> str:
    (claimed,) = runtime.store.claim(worker.name, 30.0)
    return worker.process(claimed)


def posts(sandbox, entity: str) -> list[dict]:
    return [r for r in sandbox.requests() if r["method"] == "POST" and r["entity"] == entity]


def reviewed(runtime, event_id: str, text_id: bool = False):
    body, headers = signed(invoice_paid_event("usd", 2500, event_id=event_id))
    runtime.inbox.receive("stripe", headers, body)
    worker = Worker(runtime, "w1")
    assert step(runtime, worker) == "awaiting_review"
    return worker, runtime.store.run(1)


def test_the_customer_id_is_a_marked_placeholder_and_approval_sends_both_steps_once(make_runtime, sandbox):
    runtime = make_runtime()
    worker, run = reviewed(runtime, "evt_multi_1")
    customer, entry = run["review_plan"]["steps"]
    assert "answers" not in customer and entry["uses_answers_of"] == ["customer"]
    (answer,) = entry["answers"]
    sample_id = entry["input"]["Lines"][1]["Entity"]["EntityRef"]
    assert answer == {"at": PLACE, "from": "$.steps.customer.id", "shown_as": sample_id}
    assert posts(sandbox, "customer") == posts(sandbox, "journalentry") == []
    runtime.store.approve([1], "ada")
    assert step(runtime, worker) == "succeeded"
    (created,) = posts(sandbox, "customer")
    (sent,) = posts(sandbox, "journalentry")
    (entry_logged,) = [s for s in runtime.store.run(1)["steps"] if s["step_id"] == "entry"]
    real_id = entry_logged["input"]["Lines"][1]["Entity"]["EntityRef"]
    assert real_id != sample_id  # the placeholder was filled with the id QuickBooks gave
    (customer_logged,) = [s for s in runtime.store.run(1)["steps"] if s["step_id"] == "customer"]
    assert str(customer_logged["external_id"]) == str(real_id)
    assert str(real_id) in {str(c["Id"]) for c in sandbox.entities(REALM, "customer")}
    (journal,) = sandbox.entities(REALM, "journalentry")
    assert journal["Line"][1]["JournalEntryLineDetail"]["Entity"]["EntityRef"]["value"] == str(real_id)
    assert runtime.metrics.values.get("runs_shown_again", 0) == 0


def cli(db: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ledgerlink", "runs", *argv, "--db", db],
                          capture_output=True, text=True, timeout=60)


def test_an_answer_inside_a_concat_is_compared_with_the_real_answer_and_sent(make_runtime, sandbox):
    """The customer id inside a description (a ``$concat``) is marked too, and read as shown
    when the approved run is checked: the entry goes out with the real id, not shown again."""
    runtime = make_runtime(text_id=True)
    worker, run = reviewed(runtime, "evt_multi_3")
    entry = run["review_plan"]["steps"][1]
    sample_id = entry["input"]["Lines"][1]["Entity"]["EntityRef"]
    assert entry["answers"] == [
        {"at": PLACE, "from": "$.steps.customer.id", "shown_as": sample_id},
        {"at": ["Lines", 1, "Description"], "from": "$.steps.customer.id", "within": "$concat",
         "shown_as": f"QuickBooks customer {sample_id}"}]
    assert entry["answers_read"] == {"$.steps.customer.id": sample_id}
    runtime.store.approve([1], "ada")
    assert step(runtime, worker) == "succeeded"
    (customer_logged,) = [s for s in runtime.store.run(1)["steps"] if s["step_id"] == "customer"]
    real_id = str(customer_logged["external_id"])
    assert real_id != str(sample_id) and len(posts(sandbox, "journalentry")) == 1
    (journal,) = sandbox.entities(REALM, "journalentry")
    assert journal["Line"][1]["Description"] == f"QuickBooks customer {real_id}"
    assert journal["Line"][1]["JournalEntryLineDetail"]["Entity"]["EntityRef"]["value"] == real_id
    assert runtime.metrics.values.get("runs_shown_again", 0) == 0


def claim_due(runtime, worker) -> str:
    """Process the run once its retry is due (a backoff of at most half a second)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        claimed = runtime.store.claim(worker.name, 30.0)
        if claimed:
            return worker.process(claimed[0])
        time.sleep(0.05)
    raise AssertionError("the run never became due")


def test_a_later_step_that_differs_is_shown_again_with_the_request_it_would_send(make_runtime, sandbox):
    """The customer step is sent, the entry fails for a while, and the event changes (fetched
    again) before the retry: the entry is shown again with the request approving it sends
    (built as the first review built it, with the customer id QuickBooks gave and the new
    amount), in the API and the CLI; approved again, exactly that request is sent, and the
    customer step is not sent twice."""
    runtime = make_runtime(text_id=True)
    worker, run = reviewed(runtime, "evt_multi_2")
    entry = run["review_plan"]["steps"][1]
    sample_id = entry["input"]["Lines"][1]["Entity"]["EntityRef"]
    assert entry["input"]["Lines"][1]["Description"] == f"QuickBooks customer {sample_id}"
    first_request = entry["request"]
    sandbox.script([{"status": 503, "match": {"method": "POST", "entity": "journalentry"}}])
    runtime.store.approve([1], "ada")
    assert step(runtime, worker) == "retrying"
    event = runtime.store.event(run["event_pk"])
    payload = jsonio.loads(event["payload"])
    payload["data"]["object"]["amount_paid"] = 2600
    with runtime.store.engine.begin() as conn:
        conn.execute(events.update().where(events.c.id == event["id"]).values(payload=jsonio.dumps(payload)))
    assert claim_due(runtime, worker) == "awaiting_review"
    run = runtime.store.run(1)
    assert "step 'entry'" in run["review_note"] and "review step 'entry' again" in run["review_note"]
    assert len(posts(sandbox, "customer")) == 1 and len(posts(sandbox, "journalentry")) == 1  # the 503
    assert sandbox.entities(REALM, "journalentry") == []
    (customer_logged,) = [s for s in run["steps"] if s["step_id"] == "customer"]
    real_id = str(customer_logged["external_id"])
    assert real_id != str(sample_id)

    client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
    listed = client.get("/api/runs?status=awaiting_review",
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).get_json()["runs"]
    (shown_run,) = listed
    customer, entry = shown_run["review_plan"]["steps"]
    assert customer["status"] == "sent" and shown_run["review_plan"]["resumes_after"] == ["customer"]
    assert entry["shown_again"] is True and entry["status"] == "would_run"
    assert entry["input"]["Lines"][1]["Description"] == f"QuickBooks customer {real_id}"
    assert "answers" not in entry  # the real answer is known: nothing is a placeholder any more
    request = entry["request"]
    assert request["method"] == "POST" and "/journalentry" in request["url"]
    assert request["url"] == first_request["url"]  # the same idempotency key as first reviewed
    assert request["headers"]["authorization"] == "Bearer [REDACTED]" and QBO_TOKEN not in json.dumps(listed)
    assert [line["Amount"] for line in request["body"]["Line"]] == [26, 26]  # the amount fetched again
    line = request["body"]["Line"][1]
    assert line["Description"] == f"QuickBooks customer {real_id}"
    assert line["JournalEntryLineDetail"]["Entity"]["EntityRef"]["value"] == real_id
    assert runtime.metrics.values["runs_shown_again"] == 1

    listed = cli(runtime.db, "list", "--status", "awaiting_review")
    assert listed.returncode == 0, listed.stderr
    assert f"customer (sent): {customer['request']['method']} {customer['request']['url']}" in listed.stdout
    assert f"entry (shown again): POST {request['url']}" in listed.stdout
    shown = cli(runtime.db, "show", "1")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["review_plan"]["steps"][1]["request"]["body"]["Line"][1]["Description"] \
        == f"QuickBooks customer {real_id}"
    approved = cli(runtime.db, "approve", "1", "--by", "ada")
    assert approved.returncode == 0 and approved.stdout == "run 1: approved\n", approved.stderr

    assert claim_due(runtime, worker) == "succeeded"
    assert len(posts(sandbox, "customer")) == 1  # the customer step is not sent again
    assert len(posts(sandbox, "journalentry")) == 2
    (entry_logged,) = [s for s in runtime.store.run(1)["steps"]
                       if s["step_id"] == "entry" and s["status"] == "succeeded"]
    assert jsonio.loads(jsonio.dumps(entry_logged["request"])) == jsonio.loads(jsonio.dumps(request))
    (journal,) = sandbox.entities(REALM, "journalentry")
    assert journal["Line"][1]["Description"] == f"QuickBooks customer {real_id}"
