"""A write QuickBooks committed but answered unreadably, and replays: never a twin.

The QuickBooks sandbox on loopback commits the write, then spoils its answer on the wire
(``{"answer": "truncated" | "html"}``: the JSON cut short, or an HTML page with status
200), as a proxy or a gateway would. Such an answer is an unknown outcome, like a
timeout: the worker looks the entry up before it sends anything again, and a replay of a
run that wrote before looks up first too.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from ledgerlink.testing import Script, drive
from ledgerlink.web.app import create_app
from ledgerlink.contract import Connection, Response
from ledgerlink.errors import VendorError
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.operations import build_runtime
from ledgerlink_quickbooks import creates, queries
from ledgerlink_sandboxes.quickbooks import create_sandbox
from ledgerlink_sandboxes.quickbooks.faults import parse_script
from runtime_fixtures import (ADMIN_TOKEN, QBO_TOKEN, deliver, entries_by_event, entry_posts, recipes_dir,
                              wait_settled, working, write_config)
from ledgerlink.testing.databases import migrated_db
from stripe_events import invoice_paid_event

REALM = "9130350000000000"
RECIPE = "stripe-invoice-paid-to-quickbooks-journal.json"
POST_ENTRY = {"method": "POST", "entity": "journalentry"}
QUERY = {"method": "GET", "entity": "query"}
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
def make_runtime(tmp_path, monkeypatch, qbo, sandbox):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    made = []
    customers = []

    def customer_id() -> str:
        if not customers:
            answer = httpx.post(f"{qbo.url}/v3/company/{REALM}/customer",
                                json={"DisplayName": "Unknown-outcome customer"},
                                headers={"Authorization": f"Bearer {QBO_TOKEN}", "Accept": "application/json"})
            answer.raise_for_status()
            customers.append(answer.json()["Customer"]["Id"])
        return customers[0]

    def make(doc_number: bool = True, **settings):
        recipes = recipes_dir(tmp_path, names=(RECIPE,))
        path = recipes / RECIPE
        recipe = json.loads(path.read_text())
        # the entry alone, on a customer made beforehand: every scripted fault and every
        # query these tests count is the journal entry's
        recipe["steps"] = [step for step in recipe["steps"] if step["id"] == "entry"]
        (entry,) = recipe["steps"]
        entry["input"]["Lines"][1]["Entity"]["EntityRef"] = customer_id()
        if not doc_number:  # QuickBooks numbers the entry; only the lookup can tell it exists
            del entry["input"]["DocNumber"]
        path.write_text(json.dumps(recipe))
        runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes,
                                config_file=str(write_config(tmp_path, qbo.url)),
                                settings=Settings(**{"backoff_base": 0.02, "backoff_cap": 0.1, **settings}))
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


@pytest.mark.parametrize("answer", ["truncated", "html"])
def test_a_committed_write_answered_unreadably_is_looked_up_and_succeeds_once(make_runtime, sandbox, answer):
    state = sandbox
    state.script([{"answer": answer, "match": POST_ENTRY}])
    runtime = make_runtime()
    with working(runtime):
        deliver(runtime, invoice_paid_event("usd", 4321, event_id="evt_garbled_1"))
        counts = wait_settled(runtime)
    assert counts == {"succeeded": 1}
    assert entries_by_event(state) == {"evt_garbled_1": 1}
    run = runtime.store.run(1)
    first, second = run["steps"]
    assert first["status"] == "unknown" and first["response_status"] == 200
    assert "may have been created" in first["error"]
    # the second attempt looked the entry up and sent nothing again
    assert second["status"] == "succeeded" and second["request"]["method"] == "GET"
    assert len(entry_posts(state)) == 1
    (entry,) = state.entities(REALM, "journalentry")
    assert second["external_id"] == entry["Id"] == run["links"][0]["target_id"]
    assert runtime.metrics.values.get("lost_writes_looked_up") == 1


@pytest.mark.parametrize("doc_number", [True, False], ids=["DocNumber", "no-DocNumber"])
def test_replays_of_a_failed_run_whose_write_was_committed_make_no_twin(make_runtime, sandbox, doc_number):
    state = sandbox
    runtime = make_runtime(doc_number=doc_number)
    client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
    with working(runtime):
        # committed, answered with an HTML page; then the lookup is refused: the run fails
        # with its entry in QuickBooks
        state.script([{"answer": "html", "match": POST_ENTRY},
                      {"fault": "validation", "code": "4000", "message": "Scripted refusal",
                       "match": QUERY}])
        deliver(runtime, invoice_paid_event("usd", 5555, event_id="evt_replayed_1"))
        assert wait_settled(runtime) == {"failed": 1}
        assert entries_by_event(state) == {"evt_replayed_1": 1}
        for replay in range(8):
            state.clear_faults()
            faults = [{"answer": "html", "match": POST_ENTRY}]
            if replay < 7:  # the lookups of the first seven replays are refused too
                faults.append({"fault": "validation", "code": "4000", "message": "Scripted refusal",
                               "match": QUERY})
            state.script(faults)
            answer = client.post("/api/runs/1/replay", data="{}", headers=AUTH)
            assert answer.status_code == 202, answer.get_json()
            counts = wait_settled(runtime)
            assert entries_by_event(state) == {"evt_replayed_1": 1}, f"a twin after replay {replay + 1}"
            assert counts == ({"failed": 1} if replay < 7 else {"succeeded": 1})
    assert len(entry_posts(state)) == 1  # no replay sent the entry again
    run = runtime.store.run(1)
    (entry,) = state.entities(REALM, "journalentry")
    assert run["status"] == "succeeded" and run["links"][0]["target_id"] == entry["Id"]
    assert run["steps"][-1]["request"]["method"] == "GET"


def test_a_replayed_dead_run_whose_last_write_timed_out_looks_up_first(make_runtime, sandbox):
    state = sandbox
    # committed; the answer and the answer to the resend under the same requestid come too late
    state.script([{"timeout": 0.6, "match": POST_ENTRY}, {"timeout": 0.6, "match": POST_ENTRY}])
    runtime = make_runtime(read_timeout=0.2, max_attempts=2)
    with working(runtime):
        deliver(runtime, invoice_paid_event("usd", 6666, event_id="evt_dead_lookup"))
        assert wait_settled(runtime) == {"dead": 1}
        time.sleep(0.8)  # the late answers are done: the sandbox's log is complete
        keys = {s["idempotency_key"] for s in runtime.store.run(1)["steps"]}
        assert len(keys) == 1
        runtime.connections.pool.read_timeout = 30.0  # the replay's answers are in time
        from ledgerlink.engine.operations import replay
        replay(runtime, 1)
        counts = wait_settled(runtime)
    assert counts == {"succeeded": 1}
    assert entries_by_event(state) == {"evt_dead_lookup": 1}
    assert len(entry_posts(state)) == 2  # the first write and its resend; the replay sent none
    last = runtime.store.run(1)["steps"][-1]
    assert last["status"] == "succeeded" and last["request"]["method"] == "GET"
    assert last["idempotency_key"] in keys  # the replay kept the key of the write in doubt


def test_a_replay_that_resends_a_write_the_vendor_did_not_refuse_keeps_its_key(make_runtime, sandbox):
    state = sandbox
    # the write never reaches the books (a gateway's 503, twice): the run dies; the replay's
    # lookup finds nothing, so it sends under the same requestid
    state.script([{"status": 503, "match": POST_ENTRY}] * 2)
    runtime = make_runtime(max_attempts=2)
    with working(runtime):
        deliver(runtime, invoice_paid_event("usd", 7777, event_id="evt_dead_resend"))
        assert wait_settled(runtime) == {"dead": 1}
        from ledgerlink.engine.operations import replay
        replay(runtime, 1)
        counts = wait_settled(runtime)
    assert counts == {"succeeded": 1}
    assert entries_by_event(state) == {"evt_dead_resend": 1}
    steps = runtime.store.run(1)["steps"]
    assert len({s["idempotency_key"] for s in steps}) == 1
    queries = [r for r in state.requests() if r["entity"] == "query"]
    assert len(queries) == 1  # looked up first, then sent


def test_a_replay_on_the_latest_version_looks_up_what_the_failed_run_wrote(make_runtime, sandbox):
    from ledgerlink.engine.operations import replay

    state = sandbox
    runtime = make_runtime(doc_number=False)
    with working(runtime):
        state.script([{"answer": "truncated", "match": POST_ENTRY},
                      {"fault": "validation", "code": "4000", "message": "Scripted refusal",
                       "match": QUERY}])
        deliver(runtime, invoice_paid_event("usd", 8888, event_id="evt_latest_1"))
        assert wait_settled(runtime) == {"failed": 1}
        path = runtime.registry.directory / RECIPE
        recipe = json.loads(path.read_text())
        recipe["version"] += 1
        path.write_text(json.dumps(recipe))
        runtime.registry.reload()
        result = replay(runtime, 1, "latest")
        assert result["replay_of"] == 1 and result["recipe_version"] == recipe["version"]
        counts = wait_settled(runtime)
    assert counts == {"failed": 1, "succeeded": 1}
    assert entries_by_event(state) == {"evt_latest_1": 1}
    assert len(entry_posts(state)) == 1
    (entry,) = state.entities(REALM, "journalentry")
    assert runtime.store.run(result["run"])["links"][0]["target_id"] == entry["Id"]


# --- the pieces --------------------------------------------------------------------------

def test_the_sandbox_commits_then_spoils_the_answer_and_keeps_the_requestid_answer_whole():
    app = create_sandbox(rate_limit=False)
    app.sandbox.script([{"answer": "truncated"}, {"answer": "html"}])
    url = f"/v3/company/{REALM}/journalentry?minorversion=75&requestid=k-1"
    headers = {"Authorization": f"Bearer {QBO_TOKEN}", "Content-Type": "application/json"}
    body = {"Line": [
        {"DetailType": "JournalEntryLineDetail", "Amount": 1.5,
         "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": "4"}}},
        {"DetailType": "JournalEntryLineDetail", "Amount": 1.5,
         "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": "1"}}}]}
    client = app.test_client()
    cut = client.post(url, data=json.dumps(body), headers=headers)
    assert cut.status_code == 200 and "json" in cut.content_type, cut.get_data(as_text=True)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.get_data(as_text=True))
    page = client.post(url, data=json.dumps(body), headers=headers)
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    whole = client.post(url, data=json.dumps(body), headers=headers).get_json()
    assert len(app.sandbox.entities(REALM, "journalentry")) == 1
    assert whole["JournalEntry"]["Id"] == app.sandbox.entities(REALM, "journalentry")[0]["Id"]
    for bad in ({"answer": "garbage"}, {"answer": "html", "status": 500}):
        with pytest.raises(ValueError):
            parse_script([bad])


def test_an_unreadable_success_answer_is_an_unknown_outcome_and_a_query_without_its_answer_is_retried():
    connection = Connection("quickbooks", "quickbooks", {"base_url": "http://127.0.0.1:9", "realm_id": REALM})
    for response in (Response(status=200, headers={"Content-Type": "text/html"}, json=None,
                              text="<html><body>Sorry</body></html>"),
                     Response(status=200, headers={"Content-Type": "application/json"}, json=None,
                              text='{"JournalEntry": {"Id": "1'),
                     Response(status=200, headers={"Content-Type": "application/json"},
                              json={"time": "2026-01-01T00:00:00Z"}, text="{}")):
        with pytest.raises(VendorError) as raised:
            creates.read_output(response, "JournalEntry", {}, 0)
        assert raised.value.kind == "unknown" and "looked up" in raised.value.message
    from ledgerlink.contract import ActionContext
    ctx = ActionContext(connection=connection, idempotency_key="")
    with pytest.raises(VendorError) as raised:
        drive(queries.query(ctx, "JournalEntry", []),
              Script(Response(status=200, headers={"Content-Type": "text/html"}, json=None, text="<html></html>")))
    assert raised.value.kind == "retry"
    assert drive(queries.query(ctx, "JournalEntry", []),
                 Script(Response(status=200, headers={}, json={"QueryResponse": {}}, text="{}"))).value == []


def test_a_replayed_dead_run_has_the_retries_of_a_new_run(make_runtime, sandbox):
    from ledgerlink.engine.operations import replay

    state = sandbox
    # the gateway fails twice: the run dies; the replay meets one more passing failure and
    # retries it, as a new run would, instead of dying again at its first
    state.script([{"status": 503, "match": POST_ENTRY}] * 2)
    runtime = make_runtime(max_attempts=2)
    with working(runtime):
        deliver(runtime, invoice_paid_event("usd", 4444, event_id="evt_dead_retries"))
        assert wait_settled(runtime) == {"dead": 1}
        state.script([{"status": 503, "match": POST_ENTRY}])
        replay(runtime, 1)
        counts = wait_settled(runtime)
    assert counts == {"succeeded": 1}
    assert entries_by_event(state) == {"evt_dead_retries": 1}
    assert runtime.store.run(1)["attempts"] == 2  # the replay's two, not the dead run's too


def test_every_query_reader_retries_a_success_answer_without_its_query_response():
    """find_account and check's reference check read queries through the one reader, so an
    HTML page answered 200 is retried, never taken for "no such account"."""
    from ledgerlink.contract import ActionContext
    from ledgerlink_quickbooks.accounts import find_account
    from ledgerlink_quickbooks.references import check_references

    connection = Connection("quickbooks", "quickbooks", {"base_url": "http://127.0.0.1:9", "realm_id": REALM})
    html = Response(status=200, headers={"Content-Type": "text/html"}, json=None, text="<html>Sorry</html>")
    for reader in (find_account({"Name": "Stripe Fees"}, ActionContext(connection=connection, idempotency_key="")),
                   check_references("Account", ["84"], connection)):
        with pytest.raises(VendorError) as raised:
            drive(reader, Script(html))
        assert raised.value.kind == "retry" and "QueryResponse" in raised.value.message


@pytest.mark.parametrize("idempotency, looked_up", [("lookup", True), ("key", False)])
def test_a_keyless_write_refused_with_a_5xx_is_looked_up_before_it_is_resent(make_runtime, sandbox,
                                                                             idempotency, looked_up):
    """A vendor without idempotency keys may have done a write it answered with a 5xx (a
    gateway's answer after the commit): an action declaring ``idempotency="lookup"`` is looked
    up before it is resent; one relying on the vendor's key is resent under it."""
    import dataclasses

    state = sandbox
    state.script([{"status": 500, "match": POST_ENTRY}])
    runtime = make_runtime()
    name = "quickbooks.create_journal_entry"
    runtime.catalog.actions[name] = dataclasses.replace(runtime.catalog.actions[name], idempotency=idempotency)
    runtime.registry.reload()
    with working(runtime):
        deliver(runtime, invoice_paid_event("usd", 7777, event_id="evt_keyless_500"))
        counts = wait_settled(runtime)
    assert counts == {"succeeded": 1}
    assert entries_by_event(state) == {"evt_keyless_500": 1}
    first, second = runtime.store.run(1)["steps"]
    assert first["status"] == "failed" and first["response_status"] == 500
    queries = [r for r in state.requests() if r["method"] == "GET" and r["entity"] == "query"]
    assert len(queries) == (1 if looked_up else 0)  # the lookup found nothing, so the entry was sent
    assert len(entry_posts(state)) == 2
    assert runtime.metrics.values.get("lost_writes_looked_up", 0) == (1 if looked_up else 0)
