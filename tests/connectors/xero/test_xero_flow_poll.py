"""Xero's changes without webhooks: the host's poll loop against the Xero sandbox.

The poll a worker of ``ledgerlink serve`` runs for a connection with ``poll_seconds``
(:meth:`ledgerlink.engine.worker.Worker.poll`, made due at once as the Stripe month's polling
variant does), on a simulated clock: the sandbox's clocks move a minute and a second before
each poll, nothing waits for real time. The changes of the webhook test (:mod:`xero_flow`) are
polled after each one and plan one run per recipe per state read, counted exactly: a poll
cannot tell a creation from a change (Xero's records carry no creation time), so every state
is an ``updated`` event and recipes on ``created`` run only from webhooks and backfill. A
second poll stores nothing; a burst of more than a page of changes within one second is read
whole, over several polls, each record once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from ledgerlink.engine.worker import Worker
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import create_sandbox
import xero_flow as flow


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
def polled(tmp_path, monkeypatch, now):
    """(sandbox, runtime, poll, work): the sandbox on the simulated clock, the runtime polling
    both organisations from before the first change."""
    flow.environment(monkeypatch)
    app = create_sandbox(tenants=list(flow.TENANTS.values()), clock=lambda: now[0],
                         wall_clock=lambda: flow.WALL + now[0])
    with running(app) as xero:
        since = datetime.fromtimestamp(flow.WALL + now[0] - 60, timezone.utc).isoformat()
        runtime = flow.runtime(tmp_path, xero.url, poll_since=since)
        worker = Worker(runtime)

        def poll() -> None:
            """A minute and a second on, every connection's poll, as serve's workers run it."""
            now[0] += 61
            with runtime.store.engine.begin() as conn:
                conn.execute(sa.text("UPDATE cursors SET due_at = 0 WHERE name LIKE 'poll:%'"))
            assert [worker.poll(name) for name in flow.TENANTS] == [1, 1]
            assert all(row["last_error"] is None for row in runtime.store.polls())

        def work() -> None:
            """Plan what the polls stored (a polled event carries its entity: nothing is read)
            and perform every run that is due, as serve's workers do."""
            while fetches := runtime.store.claim_fetches(worker.name, 60.0, 10):
                for claimed in fetches:
                    assert worker.fetch(claimed) == "done"
            while claimed := runtime.store.claim(worker.name, 60.0, 10):
                for run in claimed:
                    worker.process(run)

        try:
            yield xero, runtime, poll, work
        finally:
            runtime.close()


def test_each_change_polled_runs_each_recipe_once_per_state_and_a_second_poll_stores_nothing(polled):
    xero, runtime, poll, work = polled
    a, b = (flow.Organisation(xero.url, tenant) for tenant in flow.TENANTS.values())
    expected: Counter = Counter()

    def step(change, *runs: str):
        made = change()
        poll()
        work()
        expected.update(runs)
        assert flow.per_recipe(runtime) == expected
        return made

    poll()  # the first poll: nothing changed yet
    assert runtime.store.count_events() == 0
    acme = step(lambda: a.contact("Acme", "cus_acme"), "contact-updated")
    invoice = step(lambda: a.invoice(acme, "100.00"), "invoice-updated")  # AmountPaid 0: not a payment
    step(lambda: a.pay(invoice, "40.00"), "invoice-updated", "payment-recorded")
    step(lambda: a.pay(invoice, "60.00"), "invoice-updated", "payment-recorded")
    step(lambda: a.credit_note(acme, "10.00"), "credit-note-updated")
    step(lambda: a.edit_contact(acme, "ap@acme.test"), "contact-updated")
    step(lambda: b.contact("Beta", "cus_beta"))  # the other organisation's: its connection's, no recipe
    flow.check_runs(runtime)
    paid = sorted(run["event"]["data"]["AmountPaid"] for run in flow.runs(runtime)
                  if run["recipe_id"] == "payment-recorded")
    assert [str(amount) for amount in paid] == ["40.00", "100.00"]  # as the webhooks' runs: once per payment
    assert {run["event"]["via"] for run in flow.runs(runtime)} == {"poll"}
    with runtime.store.engine.connect() as conn:
        where = dict(conn.execute(sa.text("SELECT event_id, connection FROM events")).all())
    assert {connection for event, connection in where.items() if flow.SECOND_TENANT in event} == {"xero_b"}
    assert {connection for event, connection in where.items() if flow.SECOND_TENANT not in event} == {"xero"}

    events = runtime.store.count_events()
    poll()  # nothing changed: nothing stored, nothing planned
    poll()
    assert runtime.store.count_events() == events and flow.per_recipe(runtime) == expected


def test_a_burst_of_more_than_a_page_within_one_second_is_read_whole(polled):
    xero, runtime, poll, _ = polled
    a = flow.Organisation(xero.url, flow.DEFAULT_TENANT)
    poll()
    # one request: every record changed at the same millisecond (the simulated clock stands still)
    a.send_all("PUT", "Contacts", [{"Name": f"C{n:03d}", "ContactNumber": f"cus_C{n:03d}"} for n in range(150)])
    stored = []
    for _ in range(5):  # a poll may store nothing new and still go on (the same second's next page)
        poll()
        stored.append(runtime.store.count_events())
    assert runtime.store.count_events() == 150
    with runtime.store.engine.connect() as conn:
        ids = [row[0].split(":")[2] for row in conn.execute(sa.text("SELECT event_id FROM events"))]
    assert len(set(ids)) == 150  # each contact once
    assert stored == [100, 100, 150, 150, 150]  # a page, the same second again, its next page, then nothing
    reads, planner = len(xero.sandbox.requests()), Worker(runtime, "planner")
    while fetches := runtime.store.claim_fetches(planner.name, 60.0, 50):
        for claimed in fetches:
            assert planner.fetch(claimed) == "done"
    assert len(xero.sandbox.requests()) == reads  # the polled records were not read again
    assert runtime.store.counts() == {"pending": 150}  # one contact-updated run each, planned once
