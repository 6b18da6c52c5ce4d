"""Changes made in QuickBooks as triggers: signed webhooks (legacy and CloudEvents), the
entity fetched before runs are planned, and change data capture polled with a cursor.

The end-to-end tests run the real runtime on SQLite against the loopback QuickBooks
sandbox: a payment is created in one company through the API, its notification is signed
with the app's verifier token and delivered, and the recipe (filtered on the fetched
payment's amount) mirrors it into a second company as a journal entry.
"""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.web.app import create_app
from ledgerlink.contract import ActionContext, Connection
from ledgerlink.errors import ConfigError, EventError, SignatureError
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import Worker, WorkerPool
from ledgerlink.web.servers import background
from ledgerlink.engine.operations import build_runtime
from vendor_files import QUICKBOOKS
from ledgerlink.testing import HttpSender, poll
from ledgerlink_quickbooks import CONNECTOR, changes
from runtime_fixtures import QBO_TOKEN
from ledgerlink.testing.databases import migrated_db

VECTORS = json.loads((QUICKBOOKS / "webhook-signature-vectors.json").read_text())
TOKEN = VECTORS["vectors"][0]["verifier_token"]
REALM = "9130350000000000"
GROUP = "9130359999999999"


# --- signatures -------------------------------------------------------------------------------

@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=["published", "cloudevents", "legacy-batch"])
def test_every_published_and_derived_vector_verifies(vector):
    body = vector["payload"].encode("utf-8")
    assert changes.signature(body, vector["verifier_token"]) == vector["intuit_signature"]
    changes.verify({"intuit-signature": vector["intuit_signature"]}, body,
                   {"webhook_verifier_token": vector["verifier_token"]}, time.time())


def test_bad_signatures_are_refused_and_say_why():
    vector = VECTORS["vectors"][0]
    body = vector["payload"].encode("utf-8")
    secrets = {"webhook_verifier_token": TOKEN}
    for headers in ({"intuit-signature": vector["negative_example"]["intuit_signature"]},
                    {"intuit-signature": changes.signature(body + b" ", TOKEN)},
                    {"intuit-signature": changes.signature(body, "another-token")}):
        with pytest.raises(SignatureError, match="does not match the body"):
            changes.verify(headers, body, secrets, time.time())
    with pytest.raises(SignatureError, match="no intuit-signature header"):
        changes.verify({}, body, secrets, time.time())
    with pytest.raises(ConfigError, match="webhook_verifier_token") as info:
        changes.verify({"intuit-signature": vector["intuit_signature"]}, body, {}, time.time())
    assert TOKEN not in str(info.value)


# --- parsing ------------------------------------------------------------------------------------

def test_legacy_and_cloudevents_notifications_become_one_event_shape():
    legacy = changes.parse({}, VECTORS["vectors"][2]["payload"].encode())
    assert [(e.trigger, e.payload["entity_id"], e.tenant) for e in legacy] == [
        ("quickbooks.invoice.created", "130", "1185883450"),
        ("quickbooks.payment.created", "131", "1185883450"),
        ("quickbooks.journalentry.updated", "132", "1185883450")]
    assert legacy[0].id == "1185883450:Invoice:130:created:1444081339"
    assert legacy[0].payload["changed_at"] == "2015-10-05T21:42:19Z"
    [cloud] = changes.parse({}, VECTORS["vectors"][1]["payload"].encode())
    assert (cloud.trigger, cloud.tenant, cloud.payload["entity_id"]) == ("quickbooks.customer.created", "200", "100")
    assert cloud.payload["notification_id"] == "complete-event" and cloud.payload["data"] is None


def test_the_same_change_has_the_same_id_by_webhook_cloudevents_and_cdc():
    at = "2026-11-24T09:30:00-08:00"
    legacy = {"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": [
        {"name": "Payment", "id": "7", "operation": "Create", "lastUpdated": "2026-11-24T09:30:00.000-0800"}]}}]}
    cloud = [{"specversion": "1.0", "id": "e1", "source": "intuit", "type": "qbo.payment.created.v1",
              "time": "2026-11-24T17:30:00Z", "intuitentityid": "7", "intuitaccountid": REALM, "data": {}}]
    cdc = {"CDCResponse": [{"QueryResponse": [{"Payment": [
        {"Id": "7", "MetaData": {"CreateTime": at, "LastUpdatedTime": at}}]}]}]}
    ids = {changes.parse({}, json.dumps(legacy).encode())[0].id, changes.parse({}, json.dumps(cloud).encode())[0].id,
           changes._cdc_changes(REALM, cdc)[0][0].id}
    assert ids == {f"{REALM}:Payment:7:created:1795541400"}


@pytest.mark.parametrize("body, needle", [
    (b"not json", "not JSON"),
    (b'{"hello": 1}', "not a QuickBooks webhook"),
    (b'{"eventNotifications": [{"realmId": "1"}]}', "/eventNotifications/0: realmId and dataChangeEvent"),
    (b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [{"name": "Invoice", "id": "1", '
     b'"operation": "Create", "lastUpdated": "yesterday"}]}}]}', "/eventNotifications/0/dataChangeEvent/entities/0/lastUpdated"),
    (b'[{"specversion": "0.3"}]', "/0: a CloudEvents 1.0 object"),
    (b'[{"specversion": "1.0", "type": "invoice"}]', "/0/type"),
])
def test_unusable_notifications_name_the_place(body, needle):
    with pytest.raises(EventError) as info:
        changes.parse({}, body)
    assert needle in str(info.value)


# --- the runtime: stored, acknowledged, fetched, planned -----------------------------------------

MIRROR = {
    "id": "quickbooks-payment-mirrored-to-group",
    "version": 1,
    "description": "A payment recorded in the subsidiary's QuickBooks is mirrored in the group company.",
    "trigger": {"event": "quickbooks.payment.created", "connection": "books",
                "filter": {"path": "$.event.data.TotalAmt", "gt": 0}},
    "steps": [{
        "id": "mirror", "action": "quickbooks.create_journal_entry", "connection": "group",
        "input": {
            "TxnDate": {"$path": "$.event.data.TxnDate"},
            "PrivateNote": {"$concat": ["payment ", {"$path": "$.event.entity_id"}, " of company ",
                                        {"$path": "$.event.realm_id"}]},
            "Lines": [
                {"PostingType": "Debit", "Amount": {"$path": "$.event.data.TotalAmt", "$as": "decimal"},
                 "AccountRef": {"value": "4"}},
                {"PostingType": "Credit", "Amount": {"$path": "$.event.data.TotalAmt", "$as": "decimal"},
                 "AccountRef": {"value": "1"}},
            ],
        },
    }],
}


#: two companies, so notifications for several reach each one's connection
QBO_SANDBOX = {"rate_limit": False, "realms": (REALM, GROUP)}


def setup(tmp_path: Path, monkeypatch, url: str, poll_seconds: float | None = None, **settings) -> object:
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    monkeypatch.setenv("LL_TEST_QBO_VERIFIER", TOKEN)
    poll = f"poll_seconds = {poll_seconds}\n" if poll_seconds else ""
    config = tmp_path / "ledgerlink.toml"
    config.write_text(
        f'[connections.books]\nconnector = "quickbooks"\nbase_url = "{url}"\nrealm_id = "{REALM}"\n'
        f'access_token = "${{LL_TEST_QBO_TOKEN}}"\nwebhook_verifier_token = "${{LL_TEST_QBO_VERIFIER}}"\n{poll}\n'
        f'[connections.group]\nconnector = "quickbooks"\nbase_url = "{url}"\nrealm_id = "{GROUP}"\n'
        f'access_token = "${{LL_TEST_QBO_TOKEN}}"\n')
    recipes = tmp_path / "recipes"
    recipes.mkdir(exist_ok=True)
    (recipes / "mirror.json").write_text(json.dumps(MIRROR))
    return build_runtime(db=migrated_db(tmp_path), recipes=recipes, config_file=str(config),
                         settings=Settings(**{"backoff_base": 0.05, "backoff_cap": 0.2, **settings}))


def create_payment(url: str, amount: str, realm: str = REALM) -> dict:
    body = {"TotalAmt": Decimal(amount), "CustomerRef": {"value": "1"}, "TxnDate": "2026-11-24"}
    answer = httpx.post(f"{url}/v3/company/{realm}/payment", params={"minorversion": "75"},
                        content=jsonio.dumps(body), headers={"Authorization": f"Bearer {QBO_TOKEN}",
                                                             "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    return jsonio.loads(answer.content)["Payment"]


def notification(*entities: tuple[str, str, str], realm: str = REALM) -> bytes:
    return json.dumps({"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": [
        {"name": name, "id": id_, "operation": op, "lastUpdated": "2026-11-24T09:30:00-0800"}
        for name, id_, op in entities]}}]}).encode()


def settle(runtime, fetches: int, runs: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = runtime.store.fetch_counts()
        counts = runtime.store.counts()
        if (not states.get("pending") and sum(states.values()) >= fetches and sum(counts.values()) >= runs
                and not any(counts.get(s) for s in ("pending", "running", "retrying"))):
            return
        time.sleep(0.05)
    raise AssertionError(f"not settled: fetches {runtime.store.fetch_counts()}, runs {runtime.store.counts()}")


def work_until_settled(runtime, workers: int, fetches: int, runs: int) -> None:
    """Run ``workers`` worker threads until the fetches and runs have :func:`settle`d."""
    pool = WorkerPool(runtime, workers)
    pool.start()
    try:
        settle(runtime, fetches=fetches, runs=runs)
    finally:
        pool.stop()


def mirrored(sandbox) -> list[dict]:
    return sandbox.entities(GROUP, "journalentry")


def test_a_signed_notification_is_acknowledged_at_once_then_fetched_filtered_and_run(qbo, sandbox, tmp_path, monkeypatch):
    url = qbo.url
    runtime = setup(tmp_path, monkeypatch, url)
    big, zero = create_payment(url, "125.50"), create_payment(url, "0")
    body = notification(("Payment", big["Id"], "Create"), ("Payment", zero["Id"], "Create"),
                        ("Payment", "99999", "Create"), ("Invoice", "1", "Update"))
    client = create_app(runtime=runtime).test_client()
    before = len(sandbox.requests())
    started = time.monotonic()
    answer = client.post("/webhooks/books", data=body,
                         headers={"intuit-signature": changes.signature(body, TOKEN), "Content-Type": "application/json"})
    acked = time.monotonic() - started
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"received": 4, "stored": 4, "duplicates": 0, "runs_planned": 0}
    assert acked < 3.0 and len(sandbox.requests()) == before  # nothing was fetched before the answer
    assert runtime.store.fetch_counts() == {"pending": 3}  # the invoice update has no recipe: not fetched
    work_until_settled(runtime, 2, fetches=3, runs=1)
    # the zero payment was fetched and filtered out; payment 99999 does not exist: gone
    assert runtime.store.fetch_counts() == {"done": 2, "gone": 1}
    assert runtime.store.counts() == {"succeeded": 1}, runtime.store.list_runs()[0]["last_error"]
    [entry] = mirrored(sandbox)
    assert [line["Amount"] for line in entry["Line"]] == [Decimal("125.50"), Decimal("125.50")]
    assert entry["PrivateNote"] == f"payment {big['Id']} of company {REALM}"
    [run] = runtime.store.list_runs()
    event = runtime.store.event(run["event_pk"])
    assert jsonio.loads(event["payload"])["data"]["TotalAmt"] == Decimal("125.50")
    # the same delivery again: stored once, nothing new
    again = client.post("/webhooks/books", data=body,
                        headers={"intuit-signature": changes.signature(body, TOKEN), "Content-Type": "application/json"})
    assert again.get_json()["duplicates"] == 4
    runtime.close()


def test_a_bad_signature_is_refused_with_the_one_error_shape_and_stores_nothing(qbo, sandbox, tmp_path, monkeypatch):
    runtime = setup(tmp_path, monkeypatch, qbo.url)
    body = notification(("Payment", "1", "Create"))
    answer = create_app(runtime=runtime).test_client().post(
        "/webhooks/books", data=body, headers={"intuit-signature": changes.signature(body, "wrong"),
                                               "Content-Type": "application/json"})
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "invalid_signature"
    assert runtime.store.count_events() == 0
    runtime.close()


def test_cloudevents_for_several_companies_go_to_each_companys_connection(qbo, sandbox, tmp_path, monkeypatch):
    url = qbo.url
    runtime = setup(tmp_path, monkeypatch, url)
    payment = create_payment(url, "10.00")
    body = json.dumps([
        {"specversion": "1.0", "id": "a", "source": "intuit", "type": "qbo.payment.created.v1",
         "time": "2026-11-24T17:30:00Z", "intuitentityid": payment["Id"], "intuitaccountid": REALM, "data": {}},
        {"specversion": "1.0", "id": "b", "source": "intuit", "type": "qbo.payment.created.v1",
         "time": "2026-11-24T17:30:00Z", "intuitentityid": "5", "intuitaccountid": GROUP, "data": {}},
        {"specversion": "1.0", "id": "c", "source": "intuit", "type": "qbo.payment.created.v1",
         "time": "2026-11-24T17:30:00Z", "intuitentityid": "5", "intuitaccountid": "777", "data": {}},
    ]).encode()
    result = runtime.inbox.receive("books", {"intuit-signature": changes.signature(body, TOKEN),
                                       "content-type": "application/cloudevents+json"}, body)
    assert result["stored"] == 3
    with runtime.store.engine.connect() as conn:
        rows = sorted(conn.exec_driver_sql("SELECT connection, event_id, fetch_state FROM events").all())
    assert [(c, e.split(":")[0], s) for c, e, s in rows] == [
        ("books", "777", None),  # no connection has company 777: kept, not run
        ("books", REALM, "pending"),
        ("group", GROUP, None)]  # the group connection has no recipe on payments: nothing to fetch
    runtime.close()


def test_a_fetch_that_fails_is_retried_and_then_runs(qbo, sandbox, tmp_path, monkeypatch):
    url = qbo.url
    runtime = setup(tmp_path, monkeypatch, url)
    payment = create_payment(url, "42.00")
    sandbox.script([{"status": 503, "match": {"method": "GET"}}, {"status": 500, "match": {"method": "GET"}}])
    body = notification(("Payment", payment["Id"], "Create"))
    runtime.inbox.receive("books", {"intuit-signature": changes.signature(body, TOKEN)}, body)
    work_until_settled(runtime, 1, fetches=1, runs=1)
    assert runtime.store.fetch_counts() == {"done": 1}
    assert runtime.store.counts() == {"succeeded": 1} and len(mirrored(sandbox)) == 1
    runtime.close()


def test_a_fetch_refused_for_good_fails_the_notification_with_the_reason(qbo, sandbox, tmp_path, monkeypatch):
    url = qbo.url
    runtime = setup(tmp_path, monkeypatch, url, max_attempts=2)
    body = notification(("Payment", "1", "Create"))
    runtime.inbox.receive("books", {"intuit-signature": changes.signature(body, TOKEN)}, body)
    sandbox.script([{"status": 500, "match": {"method": "GET"}}] * 3)
    worker = Worker(runtime)
    deadline = time.monotonic() + 10
    while runtime.store.fetch_counts().get("pending") and time.monotonic() < deadline:
        worker._next_look = 0.0
        worker.side_work()
        time.sleep(0.1)
    assert runtime.store.fetch_counts() == {"failed": 1}
    with runtime.store.engine.connect() as conn:
        [error] = conn.exec_driver_sql("SELECT fetch_error FROM events").scalars().all()
    assert "gave up after 2 attempts" in error and "QuickBooks" in error
    assert runtime.store.refetch(1) and runtime.store.fetch_counts() == {"pending": 1}
    runtime.close()


def test_a_stored_notification_that_cannot_be_read_fails_at_once_instead_of_retrying(qbo, sandbox, tmp_path, monkeypatch):
    url = qbo.url
    runtime = setup(tmp_path, monkeypatch, url)
    # stored escaped, as the inbox kept such text before it refused it at the door
    text = '{"realm_id": "%s", "entity": "Payment", "entity_id": "1\\ud800"}' % REALM
    runtime.store.ingest("books", [("evt_unreadable", "quickbooks.payment.created", text, [], True)])
    worker = Worker(runtime)
    (claimed,) = runtime.store.claim_fetches(worker.name, 60, 1)
    assert worker.fetch(claimed) == "failed"
    assert runtime.store.fetch_counts() == {"failed": 1}
    with runtime.store.engine.connect() as conn:
        [error] = conn.exec_driver_sql("SELECT fetch_error FROM events").scalars().all()
    assert "evt_unreadable cannot be read" in error and "surrogate" in error
    assert runtime.store.claim_fetches(worker.name, 60, 1, now=time.time() + 3600) == []  # never again
    assert not [r for r in sandbox.requests() if r["method"] == "GET"]  # nothing was fetched
    runtime.close()


def test_a_fetched_entity_that_cannot_be_stored_fails_its_fetch_with_the_reason(qbo, sandbox, tmp_path, monkeypatch):
    url = qbo.url
    runtime = setup(tmp_path, monkeypatch, url)
    # QuickBooks keeps a NUL in a note; PostgreSQL cannot store it as text, on any attempt
    answer = httpx.post(f"{url}/v3/company/{REALM}/payment", params={"minorversion": "75"},
                        headers={"Authorization": f"Bearer {QBO_TOKEN}", "Content-Type": "application/json"},
                        content=json.dumps({"TotalAmt": 1, "CustomerRef": {"value": "1"}, "TxnDate": "2026-11-24",
                                            "PrivateNote": "a\u0000b"}))
    payment = jsonio.loads(answer.content)["Payment"]
    body = notification(("Payment", payment["Id"], "Create"))
    runtime.inbox.receive("books", {"intuit-signature": changes.signature(body, TOKEN)}, body)
    worker = Worker(runtime)
    (claimed,) = runtime.store.claim_fetches(worker.name, 60, 1)
    assert worker.fetch(claimed) == "failed"
    assert runtime.store.fetch_counts() == {"failed": 1} and runtime.store.counts() == {}
    with runtime.store.engine.connect() as conn:
        [error] = conn.exec_driver_sql("SELECT fetch_error FROM events").scalars().all()
    assert "U+0000 at /data/PrivateNote" in error
    runtime.close()


# --- change data capture ----------------------------------------------------------------------

def ctx(url: str, **settings) -> ActionContext:
    return ActionContext(connection=Connection("books", "quickbooks", {"base_url": url, "realm_id": REALM, **settings}),
                         idempotency_key="")


@pytest.fixture
def send():
    """Sends a request to the sandbox as the host does, with the connection's token."""
    with httpx.Client(timeout=10) as client:
        yield HttpSender(client, {"Authorization": f"Bearer {QBO_TOKEN}"})


def test_the_first_poll_only_sets_the_cursor_unless_told_where_to_start(qbo, sandbox, send):
    url = qbo.url
    events, cursor, _ = poll(CONNECTOR, None, ctx(url), send)
    assert events == [] and cursor.endswith("Z")
    with pytest.raises(Exception):
        poll(CONNECTOR, None, ctx(url, cdc_since="last week"), send)


def test_cdc_reads_creates_updates_and_deletes_since_the_cursor(qbo, sandbox, send):
    url = qbo.url
    _, cursor, _ = poll(CONNECTOR, None, ctx(url), send)
    payment = create_payment(url, "12.34")
    customer = sandbox.entities(REALM, "customer")[1]
    httpx.post(f"{url}/v3/company/{REALM}/customer", params={"minorversion": "75"},
               headers={"Authorization": f"Bearer {QBO_TOKEN}", "Content-Type": "application/json"},
               content=json.dumps({"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True,
                                   "Notes": "changed"})).raise_for_status()
    gone = create_payment(url, "1.00")
    httpx.post(f"{url}/v3/company/{REALM}/payment", params={"minorversion": "75", "operation": "delete"},
               headers={"Authorization": f"Bearer {QBO_TOKEN}", "Content-Type": "application/json"},
               content=json.dumps({"Id": gone["Id"], "SyncToken": "0"})).raise_for_status()
    events, next_cursor, _ = poll(CONNECTOR, cursor, ctx(url), send)
    seen = {(e.trigger, e.payload["entity_id"]) for e in events}
    assert {("quickbooks.payment.created", payment["Id"]), ("quickbooks.customer.updated", customer["Id"]),
            ("quickbooks.payment.deleted", gone["Id"])} <= seen
    created = next(e for e in events if e.payload["entity_id"] == payment["Id"])
    assert created.payload["data"]["TotalAmt"] == Decimal("12.34") and created.payload["via"] == "cdc"
    assert next(e for e in events if e.trigger == "quickbooks.payment.deleted").payload["data"] is None
    [request] = [r for r in sandbox.requests() if r["path"].endswith("/cdc")][-1:]
    assert request["status"] == 200 and next_cursor >= cursor


def test_cdc_refuses_what_quickbooks_refuses(qbo, sandbox):
    url = qbo.url
    for query, needle in (({"entities": "TaxCode", "changedSince": "2026-11-24T00:00:00Z"}, "not supported"),
                          ({"entities": "Invoice", "changedSince": "2020-01-01T00:00:00Z"}, "30 days"),
                          ({"changedSince": "2026-11-24T00:00:00Z"}, "entities")):
        answer = httpx.get(f"{url}/v3/company/{REALM}/cdc", params={"minorversion": "75", **query},
                           headers={"Authorization": f"Bearer {QBO_TOKEN}"})
        assert answer.status_code == 400 and needle in answer.text


def force_due(runtime) -> None:
    with runtime.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE cursors SET due_at = 0 WHERE name LIKE 'poll:%'"))


def test_a_poll_stores_changes_with_its_cursor_and_runs_them(qbo, sandbox, tmp_path, monkeypatch):
    url = qbo.url
    runtime = setup(tmp_path, monkeypatch, url, poll_seconds=30)
    worker = Worker(runtime)
    assert runtime.connections.polled() == ["books"]
    assert worker.poll("books") == 1  # the first poll starts the cursor at now
    assert worker.poll("books") == 0  # not due again for 30 s
    payment = create_payment(url, "77.70")
    force_due(runtime)
    assert worker.poll("books") == 1
    [row] = runtime.store.polls()
    assert row["name"] == "poll:books" and row["value"].endswith("Z") and row["lease_owner"] is None
    worker.side_work()  # the polled event carries the payment: planned without another read
    work_until_settled(runtime, 1, fetches=1, runs=1)
    [entry] = mirrored(sandbox)
    assert entry["PrivateNote"] == f"payment {payment['Id']} of company {REALM}"
    assert entry["Line"][0]["Amount"] == Decimal("77.70")
    # a webhook for the same change later is the same event: stored once, nothing runs twice
    body = notification(("Payment", payment["Id"], "Create"))
    event = runtime.store.event(1)
    body = json.dumps({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": [
        {"name": "Payment", "id": payment["Id"], "operation": "Create",
         "lastUpdated": jsonio.loads(event["payload"])["changed_at"]}]}}]}).encode()
    assert runtime.inbox.receive("books", {"intuit-signature": changes.signature(body, TOKEN)}, body)["duplicates"] == 1
    runtime.close()


def test_a_failed_poll_keeps_its_cursor(qbo, sandbox, tmp_path, monkeypatch):
    url = qbo.url
    runtime = setup(tmp_path, monkeypatch, url, poll_seconds=30)
    worker = Worker(runtime)
    worker.poll("books")
    [before] = runtime.store.polls()
    sandbox.script([{"status": 500, "match": {"entity": "cdc"}}])
    force_due(runtime)
    assert worker.poll("books") == 1
    [after] = runtime.store.polls()
    assert after["value"] == before["value"] and "QuickBooks" in after["last_error"]
    assert runtime.metrics.values["polls_failed"] == 1
    runtime.close()


def test_a_poll_fires_once_across_processes(qbo, sandbox, tmp_path, monkeypatch):
    """Four runtimes on one database stand for four processes; each has its own store and
    engine, so they meet only in the database."""
    url = qbo.url
    runtimes = [setup(tmp_path, monkeypatch, url, poll_seconds=30) if i == 0 else None for i in range(4)]
    for i in range(1, 4):
        runtimes[i] = build_runtime(db=runtimes[0].store.url, recipes=tmp_path / "recipes",
                                    config_file=str(tmp_path / "ledgerlink.toml"))
    workers = [Worker(rt) for rt in runtimes for _ in range(2)]
    for round_ in range(3):
        force_due(runtimes[0])
        before = len([r for r in sandbox.requests() if r["path"].endswith("/cdc")])
        barrier, took = threading.Barrier(len(workers)), []

        def go(worker):
            barrier.wait()
            took.append(worker.poll("books"))

        threads = [threading.Thread(target=go, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(took) == 1, (round_, took)
        if round_:
            assert len([r for r in sandbox.requests() if r["path"].endswith("/cdc")]) == before + 1
    for rt in runtimes:
        rt.close()


@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_the_sandbox_notifies_serve_which_fetches_and_runs_in_order(qbo, sandbox, tmp_path, monkeypatch, fmt):
    """QuickBooks (the sandbox) sends signed notifications to a served ledgerlink; a
    delivery refused (wrong verifier token at first) is held and retried, later ones wait."""
    url = qbo.url
    runtime = setup(tmp_path, monkeypatch, url)
    monkeypatch.setenv("LL_TEST_QBO_VERIFIER", "not-the-token")
    pool = WorkerPool(runtime, 2)
    pool.start()
    with background(create_app(runtime=runtime)) as served:
        sandbox.webhooks(f"{served.url}/webhooks/books", TOKEN, fmt, retry_seconds=[0.05])
        try:
            first, second = create_payment(url, "10.00"), create_payment(url, "20.00")
            deadline = time.monotonic() + 10
            while sandbox.webhook_stats()["failed_attempts"] < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert sandbox.webhook_stats()["pending"] == 2 and runtime.store.count_events() == 0
            monkeypatch.setenv("LL_TEST_QBO_VERIFIER", TOKEN)
            while sandbox.webhook_stats()["pending"] and time.monotonic() < deadline:
                time.sleep(0.02)
            settle(runtime, fetches=2, runs=2)
        finally:
            sandbox.webhooks(None)
            pool.stop()
    amounts = sorted(entry["Line"][0]["Amount"] for entry in mirrored(sandbox))
    assert amounts == [Decimal("10.00"), Decimal("20.00")]
    notes = {entry["PrivateNote"] for entry in mirrored(sandbox)}
    assert notes == {f"payment {p['Id']} of company {REALM}" for p in (first, second)}
    runtime.close()


def test_a_polled_event_that_cannot_be_stored_is_skipped_and_the_poll_goes_on(qbo, sandbox, tmp_path, monkeypatch, caplog):
    url = qbo.url
    runtime = setup(tmp_path, monkeypatch, url, poll_seconds=30)
    worker = Worker(runtime)
    worker.poll("books")  # starts the cursor
    # QuickBooks keeps a NUL in a note; PostgreSQL cannot store it as text
    answer = httpx.post(f"{url}/v3/company/{REALM}/payment", params={"minorversion": "75"},
                        headers={"Authorization": f"Bearer {QBO_TOKEN}", "Content-Type": "application/json"},
                        content=json.dumps({"TotalAmt": 1, "CustomerRef": {"value": "1"}, "TxnDate": "2026-11-24",
                                            "PrivateNote": "a\u0000b"}))
    assert answer.status_code == 200, answer.text
    good = create_payment(url, "2.00")
    force_due(runtime)
    with caplog.at_level("WARNING", logger="ledgerlink"):
        assert worker.poll("books") == 1
    [after] = runtime.store.polls()
    assert after["last_error"] is None and after["lease_owner"] is None  # the poll succeeded
    with runtime.store.engine.connect() as conn:
        triggers = conn.exec_driver_sql("SELECT trigger, payload FROM events").all()
    payments = [jsonio.loads(p)["entity_id"] for t, p in triggers if t.startswith("quickbooks.payment.")]
    assert payments == [good["Id"]]  # stored, beside every other change polled with the skipped one
    [warning] = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert "'books'" in warning and "/data/PrivateNote" in warning and "U+0000" in warning
    assert runtime.metrics.values["events_unstorable"] == 1
    force_due(runtime)
    assert worker.poll("books") == 1 and runtime.store.polls()[0]["last_error"] is None  # never stuck
    runtime.close()
