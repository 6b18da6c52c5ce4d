"""The runtime end to end, in-process: inbox → runs → workers → the QuickBooks sandbox.

Proofs from the runtime issue that fit in one process: the fault test (500s, 429 with
Retry-After, timeouts after commit, a validation fault), hot reload under load, and that
no secret appears in any log line, run record, dry-run output or error body.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time

import pytest

from ledgerlink import jsonio
from ledgerlink.web.app import create_app
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.engine.operations import build_runtime
from vendor_files import REPO
from runtime_fixtures import (ADMIN_TOKEN, QBO_TOKEN, RECIPES, deliver, entries_by_event, recipes_dir, signed,
                              wait_settled, working, write_config)
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import SandboxProcess
from stripe_events import invoice_paid_event

REALM = "9130350000000000"
WHSEC = "whsec_test_secret"
#: the governor test's runs: twice the compressed window's 500 requests
GOVERNOR_RUNS = 1000
#: the shipped invoice journal's version, the one a runtime over the shipped recipes records
SHIPPED = json.loads((REPO / "recipes"
                      / "stripe-invoice-paid-to-quickbooks-journal.json").read_text())["version"]


@pytest.fixture
def make_runtime(tmp_path, monkeypatch, qbo, sandbox):
    monkeypatch.setenv("LL_TEST_WHSEC", WHSEC)
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    made = []

    def make(**settings):
        runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path),
                                config_file=str(write_config(tmp_path, qbo.url)),
                                settings=Settings(**{"backoff_base": 0.05, "backoff_cap": 0.5, **settings}))
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


def entry_link(run):
    """The link of the journal entry a run created (it also links the customer it found)."""
    (link,) = [link for link in run["links"] if link["target_type"] == "quickbooks.create_journal_entry"]
    return link


def test_events_become_exactly_one_entry_each(make_runtime, sandbox):
    runtime = make_runtime()
    with working(runtime, 2):
        # in the company's home currency (USD): one in another currency would need an ExchangeRate
        events = [invoice_paid_event("usd", 1000 + 37 * i, event_id=f"evt_ok_{i}") for i in range(20)]
        deliver(runtime, *events + events[:5])  # five duplicates
        counts = wait_settled(runtime, 20)
    assert counts == {"succeeded": 20}
    per_event = entries_by_event(sandbox)
    assert per_event == {f"evt_ok_{i}": 1 for i in range(20)}
    run = runtime.store.run(1)
    customer, step = run["steps"]
    assert customer["step_id"] == "customer" and customer["status"] == "succeeded"
    assert step["status"] == "succeeded" and step["external_id"] and step["idempotency_key"]
    assert step["request"]["headers"]["authorization"] == "Bearer [REDACTED]"
    assert entry_link(run)["target_id"] == step["external_id"]
    assert entry_link(run)["source_id"].startswith("in_")


def test_fault_mix_ends_succeeded_or_failed_with_the_vendor_message_and_no_twin(make_runtime, sandbox):
    state = sandbox
    # the validation fault comes first: QuickBooks answers a replayed requestid with the first
    # response, so a validation fault can only ever answer a first attempt
    state.script([
        {"fault": "validation", "message": "Scripted: the account is inactive", "code": "6000"},
        {"status": 500}, {"status": 503},
        {"status": 429, "retry_after": 1},
        {"timeout": 1.0}, {"timeout": 1.0},
        {"status": 500},
    ])
    runtime = make_runtime(read_timeout=0.4, max_attempts=10)
    with working(runtime, 3):
        deliver(runtime, *[invoice_paid_event("usd", 2000 + i, event_id=f"evt_fault_{i}") for i in range(12)])
        counts = wait_settled(runtime, 12, timeout=60)
    assert counts == {"succeeded": 11, "failed": 1}, counts
    (failed,) = runtime.store.list_runs(status="failed")
    assert "Scripted: the account is inactive" in failed["last_error"]
    per_event = entries_by_event(state)
    assert max(per_event.values()) == 1, "a retry created a twin"
    assert len(per_event) == 11 and failed["event_id"] not in per_event
    assert state.stats()["faults_pending"] == 0
    retried = [r for r in runtime.store.list_runs(status="succeeded") if r["attempts"] > 1]
    assert retried, "the faults should have forced retries"
    statuses = {s["status"] for r in retried for s in runtime.store.run(r["id"])["steps"]}
    assert "unknown" in statuses  # the timeouts after commit were logged as unknown outcomes


def test_hot_reload_under_load_keeps_every_event_and_one_version_per_run(make_runtime, sandbox, tmp_path):
    runtime = make_runtime()
    pool = WorkerPool(runtime, 2)
    pool.start()
    path = runtime.registry.directory / "stripe-invoice-paid-to-quickbooks-journal.json"
    stop = threading.Event()
    sent = []

    def sender():
        i = 0
        while not stop.is_set() and i < 300:
            event = invoice_paid_event("usd", 1000 + i, event_id=f"evt_reload_{i}")
            deliver(runtime, *[event])
            sent.append(event["id"])
            i += 1

    thread = threading.Thread(target=sender)
    thread.start()
    try:
        time.sleep(0.3)
        recipe = json.loads(path.read_text())
        shipped = recipe["version"]
        for version in (shipped + 1, shipped + 2):
            recipe["version"] = version
            recipe["steps"][1]["input"]["PrivateNote"]["$concat"][0] = f"v{version}: Stripe invoice "
            path.write_text(json.dumps(recipe))
            runtime.registry.reload()
            time.sleep(0.2)
        thread.join(30)
        counts = wait_settled(runtime, len(sent), timeout=60)
    finally:
        stop.set()
        pool.stop()
    assert counts == {"succeeded": len(sent)}
    runs = runtime.store.list_runs(recipe_id="stripe-invoice-paid-to-quickbooks-journal", limit=1000)
    per_event = collections.Counter(r["event_id"] for r in runs)
    assert set(per_event) == set(sent) and set(per_event.values()) == {1}  # no event lost, each on one version
    versions = collections.Counter(r["recipe_version"] for r in runs)
    assert set(versions) <= {shipped, shipped + 1, shipped + 2} and len(versions) >= 2, versions
    entries = state_entries = sandbox.entities(REALM, "journalentry")
    assert len(state_entries) == len(sent)
    for run in runs[:50]:
        note = next(e["PrivateNote"] for e in entries if run["event_id"] in e["PrivateNote"])
        expected = "Stripe invoice" if run["recipe_version"] == shipped else f"v{run['recipe_version']}: Stripe invoice"
        assert note.startswith(expected)


def test_no_secret_anywhere(make_runtime, sandbox, tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    runtime = make_runtime()
    secrets = [WHSEC, QBO_TOKEN, ADMIN_TOKEN]
    app = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime)
    client = app.test_client()
    pool = WorkerPool(runtime, 1)
    pool.start()
    bodies = []
    try:
        event = invoice_paid_event("usd", 1000, event_id="evt_secret_1")
        body, headers = signed(event)
        bodies.append(client.post("/webhooks/stripe", data=body, headers=headers).get_data(as_text=True))
        bodies.append(client.post("/webhooks/stripe", data=body,
                                  headers={**headers, "Stripe-Signature": "t=1,v1=ab"}).get_data(as_text=True))
        bodies.append(client.get("/api/runs", headers={"Authorization": "Bearer " + ADMIN_TOKEN[:-1]}).get_data(as_text=True))
        wait_settled(runtime, 1)
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        for path in ("/api/runs", "/api/runs/1", "/api/recipes", "/api/connectors", "/metrics", "/healthz"):
            bodies.append(client.get(path, headers=auth).get_data(as_text=True))
        bodies.append(client.post("/api/recipes/stripe-invoice-paid-to-quickbooks-journal/dry-run",
                                  headers=auth).get_data(as_text=True))
        bodies.append(client.post("/api/runs/1/replay", data='{"dry_run": true}', headers=auth).get_data(as_text=True))
    finally:
        pool.stop()
    with runtime.store.engine.connect() as conn:
        for table in ("events", "runs", "run_steps", "links", "recipe_versions", "cursors"):
            bodies.append(jsonio.dumps([list(map(str, row)) for row in conn.exec_driver_sql(f"SELECT * FROM {table}")]))
    bodies.append(caplog.text)
    bodies.extend((tmp_path / name).read_text() for name in ("ledgerlink.toml",))
    text = "\n".join(bodies)
    assert "evt_secret_1" in text and "Bearer [REDACTED]" in text  # the material was really collected
    for secret in secrets:
        assert secret not in text, f"a secret leaked: {secret[:6]}…"


def test_governor_keeps_1000_runs_inside_the_sandbox_limits(tmp_path, monkeypatch):
    """QuickBooks allows 500 requests a minute and 10 at once per realm. Time is compressed
    (500 requests per 5 seconds: the same algorithm on both sides, a 12th of the real window):
    1,000 runs, twice the window's worth, every one succeeded and zero 429s. The sandbox runs
    in its own process, as QuickBooks would, so that it does not share this process's
    interpreter lock. One process sends everything, so its governor is its own
    (``governor="local"``) on both databases; the governor shared by several processes
    through PostgreSQL is proven in test_scale_out.py (four processes, zero 429s). That every
    slot is used is proven exactly on a simulated clock (test_governor_simulated.py); the
    share of the allowed rate real time gets is printed here and by bench/governor.py."""
    monkeypatch.setenv("LL_TEST_WHSEC", WHSEC)
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    sandbox = SandboxProcess("quickbooks", "rate_limit=true", "requests_per_window=500", "window_seconds=5.0",
                             "concurrent=10", "latency=0.002")
    url = sandbox.url
    try:
        config = write_config(tmp_path, url)
        with config.open("a") as f:
            f.write("\n[connections.quickbooks.limits]\nrequests = 500\nper_seconds = 5.0\nconcurrent = 10\n")
        runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path), config_file=str(config),
                                settings=Settings(batch=4, governor="local"))
        try:
            # the sandbox company's home currency, USD: the journal recipe refuses another
            # currency without an ExchangeRate (test_governor_mixed.py maps rates for a mix)
            deliver(runtime, *[invoice_paid_event("usd", 1000 + i, event_id=f"evt_gov_{i}")
                              for i in range(GOVERNOR_RUNS)])
            pool = WorkerPool(runtime, 12)
            started = time.monotonic()
            pool.start()
            try:
                counts = wait_settled(runtime, GOVERNOR_RUNS, timeout=120)
            finally:
                elapsed = time.monotonic() - started
                pool.stop()
        finally:
            runtime.close()
        stats = sandbox.get("/__sandbox/stats")
    finally:
        sandbox.stop()
    achieved = GOVERNOR_RUNS / elapsed
    print(f"governor: {GOVERNOR_RUNS} requests in {elapsed:.1f} s = {achieved:.1f}/s of 100/s allowed "
          f"({achieved / 100.0:.0%}); 429s: {stats['throttled']}; busiest window "
          f"{stats['per_window_max'][REALM]}; most at once {stats['max_concurrent_seen'][REALM]}")
    assert counts == {"succeeded": GOVERNOR_RUNS}
    assert stats["throttled"] == 0, stats
    assert stats["by_status"].get("429", 0) == 0
    assert stats["per_window_max"][REALM] <= 500 and stats["max_concurrent_seen"][REALM] <= 10


@pytest.mark.parametrize("lifetime, expect_lookup", [(0.0, True), (3600.0, False)])
def test_a_lost_answer_is_resent_with_its_key_or_looked_up_once_the_key_may_be_forgotten(
        make_runtime, sandbox, lifetime, expect_lookup):
    import dataclasses

    state = sandbox
    # the entry is created, but the answer never arrives in time
    state.script([{"timeout": 1.0, "match": {"method": "POST", "entity": "journalentry"}}])
    runtime = make_runtime(read_timeout=0.3)
    quickbooks = runtime.catalog.connectors["quickbooks"]
    runtime.catalog.connectors["quickbooks"] = dataclasses.replace(quickbooks, idempotency_key_lifetime=lifetime)
    with working(runtime):
        deliver(runtime, *[invoice_paid_event("usd", 4200, event_id="evt_lost_1")])
        counts = wait_settled(runtime, 1)
    assert counts == {"succeeded": 1}
    assert entries_by_event(state) == {"evt_lost_1": 1}
    steps = [s for s in runtime.store.run(1)["steps"] if s["step_id"] == "entry"]
    assert [s["status"] for s in steps] == ["unknown", "succeeded"]
    assert steps[0]["idempotency_key"] == steps[1]["idempotency_key"]
    time.sleep(1.0)  # let the scripted slow answer finish, so the sandbox's log is complete
    stats = state.stats()
    queries = [r for r in state.requests() if r.get("entity") == "query"]
    lookups = len(queries) - 1  # the customer step asked once for its customer, by name
    assert stats["created"][REALM]["journalentry"] == 1
    if expect_lookup:
        assert lookups == 1 and stats["replayed"] == 0  # looked up and found: nothing resent
        assert steps[1]["request"]["method"] == "GET"
        assert runtime.metrics.values.get("lost_writes_looked_up") == 1
    else:
        assert lookups == 0 and stats["replayed"] == 1  # resent with its requestid: QuickBooks replays


def test_a_run_is_dead_after_its_last_attempt_and_replays_on_the_latest_version(make_runtime, sandbox):
    from ledgerlink.engine.operations import replay

    state = sandbox
    state.script([{"status": 500, "match": {"entity": "journalentry"}}] * 3)
    runtime = make_runtime(max_attempts=3)
    with working(runtime):
        deliver(runtime, *[invoice_paid_event("usd", 5000, event_id="evt_dead_1")])
        assert wait_settled(runtime, 1) == {"dead": 1}
        (dead,) = runtime.store.list_runs(status="dead")
        assert dead["attempts"] == 3 and "gave up after 3 attempts" in dead["last_error"]
        assert entries_by_event(state) == {}
        # a new recipe version is loaded; the dead run is replayed on it as a new run
        path = runtime.registry.directory / "stripe-invoice-paid-to-quickbooks-journal.json"
        recipe = json.loads(path.read_text())
        recipe["version"] = latest = recipe["version"] + 1
        path.write_text(json.dumps(recipe))
        runtime.registry.reload()
        preview = replay(runtime, dead["id"], "latest", dry=True)
        assert preview["dry_run"] is True and preview["report"]["recipe"]["version"] == latest
        result = replay(runtime, dead["id"], "latest")
        assert result["recipe_version"] == latest and result["replay_of"] == dead["id"]
        counts = wait_settled(runtime, 2)
    assert counts == {"dead": 1, "succeeded": 1}
    assert entries_by_event(state) == {"evt_dead_1": 1}


def test_undo_deletes_what_the_run_created_and_is_idempotent(make_runtime, sandbox):
    from ledgerlink.engine.operations import undo
    from ledgerlink.errors import Conflict

    state = sandbox
    runtime = make_runtime()
    with working(runtime):
        deliver(runtime, *[invoice_paid_event("usd", 7000 + i, event_id=f"evt_undo_{i}") for i in range(2)])
        wait_settled(runtime, 2)
    assert entries_by_event(state) == {"evt_undo_0": 1, "evt_undo_1": 1}
    first = runtime.store.run(1)
    result = undo(runtime, 1)
    assert result["status"] == "undone" and result["undone"][0]["status"] == "deleted"
    assert result["undone"][0]["id"] == entry_link(first)["target_id"]
    assert entries_by_event(state) == {"evt_undo_1": 1}
    assert runtime.store.run(1)["status"] == "undone"
    assert undo(runtime, 1)["undone"] == []  # already undone: nothing more to do
    # an entry someone already deleted in QuickBooks counts as undone
    second = entry_link(runtime.store.run(2))["target_id"]
    state.entities(REALM, "journalentry")
    runtime_client = __import__("httpx").Client()
    url = runtime.connections.connection("quickbooks").settings["base_url"]
    token = {"Authorization": f"Bearer {QBO_TOKEN}"}
    entry = runtime_client.get(f"{url}/v3/company/{REALM}/journalentry/{second}", headers=token).json()["JournalEntry"]
    runtime_client.post(f"{url}/v3/company/{REALM}/journalentry?operation=delete",
                        json={"Id": second, "SyncToken": entry["SyncToken"]}, headers=token)
    assert undo(runtime, 2)["undone"][0]["status"] == "already gone"
    deliver(runtime, *[invoice_paid_event("usd", 9000, event_id="evt_undo_open")])
    with pytest.raises(Conflict):
        undo(runtime, 3)  # still pending


def test_the_journal_recipe_books_any_customer_and_never_makes_a_second_for_one_source_id(make_runtime, sandbox):
    """The shipped invoice journal credits Accounts Receivable on the invoice's customer, which
    QuickBooks requires: one it finds or creates, whatever Stripe customer pays."""
    state = sandbox
    runtime = make_runtime()
    before = len(state.entities(REALM, "customer"))
    with working(runtime, 2):
        events = []
        for i, customer in enumerate(["cus_A", "cus_A", "cus_B", "cus_A"]):
            event = invoice_paid_event("usd", 1000 + i, event_id=f"evt_cust_{i}")
            event["data"]["object"]["customer"] = customer
            events.append(event)
        events[2]["data"]["object"]["customer_name"] = "Bea's Bakery"
        deliver(runtime, *events[:1])
        wait_settled(runtime, 1)
        deliver(runtime, *events[1:])
        assert wait_settled(runtime, 4) == {"succeeded": 4}
    customers = state.entities(REALM, "customer")
    assert len(customers) == before + 2  # cus_A and cus_B, once each
    names = {c["DisplayName"]: c["Id"] for c in customers}
    found_by = [runtime.store.run(i)["steps"][0]["output"]["found_by"] for i in range(1, 5)]
    assert found_by[0] == "created" and found_by[1] == "link" and found_by[3] == "link"
    for run_id, name in zip(range(1, 5), ["cus_A", "cus_A", "Bea's Bakery", "cus_A"]):
        entry_line = runtime.store.run(run_id)["steps"][1]["request"]["body"]["Line"][1]
        assert entry_line["JournalEntryLineDetail"]["AccountRef"]["value"] == "84"  # Accounts Receivable
        assert entry_line["JournalEntryLineDetail"]["Entity"] == {
            "Type": "Customer", "EntityRef": {"value": names[name]}}
    assert runtime.store.linked_target("quickbooks", "cus_A", "quickbooks.customer") == names["cus_A"]


def test_undo_of_an_invoice_and_its_payment_deletes_the_payment_first(make_runtime, sandbox):
    from ledgerlink.engine.operations import undo

    state = sandbox
    runtime = make_runtime()
    directory = runtime.registry.directory
    (directory / "stripe-invoice-paid-to-quickbooks-journal.json").unlink()
    recipe = json.loads((RECIPES / "stripe-invoice-paid-to-quickbooks-invoice-and-payment.json").read_text())
    recipe["enabled"] = True
    (directory / "stripe-invoice-paid-to-quickbooks-invoice-and-payment.json").write_text(json.dumps(recipe))
    runtime.registry.reload()
    with working(runtime):
        event = invoice_paid_event("usd", 1234, event_id="evt_undo_doc")
        event["data"]["object"]["customer"] = "cus_Oaxlz8kB0PJWGa"
        deliver(runtime, *[event])
        assert wait_settled(runtime, 1) == {"succeeded": 1}
    assert len(state.entities(REALM, "payment")) == 1
    invoices_before = len(state.entities(REALM, "invoice"))
    result = undo(runtime, 1)
    assert [u["target"] for u in result["undone"]] == ["quickbooks.create_payment", "quickbooks.create_invoice"]
    assert all(u["status"] == "deleted" for u in result["undone"])
    assert state.entities(REALM, "payment") == [] and len(state.entities(REALM, "invoice")) == invoices_before - 1


def test_an_event_whose_filter_cannot_be_evaluated_fails_its_run_and_replays_once_the_filter_is_fixed(
        make_runtime, sandbox, run_cli, tmp_path):
    from ledgerlink.errors import MappingError
    from ledgerlink.engine.operations import replay
    from ledgerlink.errors import Conflict

    state = sandbox
    runtime = make_runtime()
    client = create_app(runtime=runtime).test_client()
    event = invoice_paid_event("usd", 5000, event_id="evt_filter_str")
    event["data"]["object"]["amount_paid"] = "5000"  # a string: "gt 0" cannot compare it
    body, headers = signed(event)
    answer = client.post("/webhooks/stripe", data=body, headers=headers)
    assert answer.status_code == 200, answer.get_json()  # stored and acknowledged, never refused
    (run,) = runtime.store.list_runs()
    assert run["status"] == "failed" and run["attempts"] == 0
    assert ("/trigger/filter/gt" in run["last_error"] and "stripe-invoice-paid-to-quickbooks-journal.json"
            in run["last_error"] and "replay this run on the latest version" in run["last_error"])
    assert runtime.store.claim("a-worker", 60, 8) == []  # no worker takes the failed run up again
    with working(runtime):
        with pytest.raises(MappingError, match="/trigger/filter/gt"):
            replay(runtime, run["id"], "own")
        path = runtime.registry.directory / "stripe-invoice-paid-to-quickbooks-journal.json"
        recipe = json.loads(path.read_text())
        recipe["version"], recipe["trigger"]["filter"] = recipe["version"] + 1, {"path": "$.event.data.object.amount_paid", "eq": "0"}
        path.write_text(json.dumps(recipe))
        runtime.registry.reload()
        with pytest.raises(Conflict, match="does not accept event evt_filter_str"):
            replay(runtime, run["id"], "latest")  # nothing to do for a filter that says no
        recipe["version"] += 1
        recipe["trigger"]["filter"] = {"not": {"path": "$.event.data.object.amount_paid", "in": [0, "0"]}}
        path.write_text(json.dumps(recipe))
        runtime.registry.reload()
        # as the README says: ledgerlink runs replay ID --version latest
        code, out, err = run_cli("runs", "replay", str(run["id"]), "--version", "latest",
                                 "--db", runtime.store.engine.url.render_as_string(hide_password=False),
                                 "--recipes", str(runtime.registry.directory),
                                 "--config", str(tmp_path / "ledgerlink.toml"))
        assert code == 0, err
        assert jsonio.loads(out)["recipe_version"] == recipe["version"]
        counts = wait_settled(runtime, 2)
    assert counts == {"failed": 1, "succeeded": 1}
    assert entries_by_event(state) == {"evt_filter_str": 1}


def test_a_failed_runs_error_quotes_a_bounded_part_of_a_huge_value(make_runtime):
    runtime = make_runtime()
    event = invoice_paid_event("usd", 5000, event_id="evt_filter_huge")
    event["data"]["object"]["amount_paid"] = "9" * 1_000_000  # a string: "gt 0" cannot compare it
    deliver(runtime, *[event])
    (run,) = runtime.store.list_runs()
    error = run["last_error"]
    assert run["status"] == "failed" and "/trigger/filter/gt" in error
    assert "'" + "9" * 200 + "'… (1000000 characters)" in error and len(error) < 1_000


def test_an_event_that_cannot_be_read_fails_its_run_instead_of_retrying(make_runtime):
    from ledgerlink.engine.worker import Worker
    from ledgerlink.engine.operations import replay
    from ledgerlink.errors import Conflict

    runtime = make_runtime()
    # stored escaped, as the inbox kept such text before it refused it at the door
    event = invoice_paid_event("usd", 1000, event_id="evt_lone_surrogate")
    text = jsonio.dumps(event).replace('"number":"', '"number":"\\ud800', 1)
    assert "\\ud800" in text
    ((_, stored, (run_id,)),) = runtime.store.ingest(
        "stripe", [("evt_lone_surrogate", "stripe.invoice.paid", text,
                    [("stripe-invoice-paid-to-quickbooks-journal", SHIPPED)])])
    worker = Worker(runtime)
    (claimed,) = runtime.store.claim(worker.name, 60, 1)
    assert worker.process(claimed) == "failed"
    run = runtime.store.run(run_id)
    assert run["status"] == "failed" and "lone UTF-16 surrogate" in run["last_error"]
    assert runtime.store.claim(worker.name, 60, 1) == []  # nothing left to retry
    with pytest.raises(Conflict, match="cannot be read, so it cannot be replayed"):
        replay(runtime, run_id, "own")


def test_a_value_the_database_refuses_fails_the_run_instead_of_retrying(make_runtime, sandbox):
    from ledgerlink.engine.worker import Worker

    runtime = make_runtime()
    # stored as received, as the inbox kept such events before it refused them at the door:
    # PostgreSQL refuses the NUL when the run links the invoice id; SQLite stores it
    event = invoice_paid_event("usd", 1000, event_id="evt_nul_in_link")
    event["data"]["object"]["id"] = "in_\x00nul"
    ((_, _, (run_id,)),) = runtime.store.ingest(
        "stripe", [("evt_nul_in_link", "stripe.invoice.paid", jsonio.dumps(event),
                    [("stripe-invoice-paid-to-quickbooks-journal", SHIPPED)])])
    worker = Worker(runtime)
    (claimed,) = runtime.store.claim(worker.name, 60, 1)
    status = worker.process(claimed)
    assert status in ("succeeded", "failed") and runtime.store.run(run_id)["status"] == status
    if status == "failed":
        error = runtime.store.run(run_id)["last_error"]
        assert "cannot be processed" in error and "NUL" in error and "INSERT" not in error
    assert runtime.store.claim(worker.name, 60, 1) == []  # nothing left to retry
