"""Occurrences in the store: at most one run per (recipe, occurrence), enforced by the
database, so two events about one object plan one run per recipe however they came, in
one group commit or from two processes at once; replays and events without an occurrence
plan as before."""

from __future__ import annotations

import multiprocessing
import threading

import sqlalchemy as sa

from ledgerlink.store import Store
from ledgerlink.store.events import PlannedRun, deduplicated
from ledgerlink.store.schema import runs
from ledgerlink.testing.databases import migrated_db


def run_rows(store):
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            sa.select(runs.c.recipe_id, runs.c.occurrence, runs.c.status).order_by(runs.c.id))]


def test_two_events_about_one_object_plan_one_run_per_recipe(tmp_path):
    store = Store(migrated_db(tmp_path))
    key = "acme.invoice.paid:in_1"
    first = store.ingest("acme", [("evt_1", "acme.invoice.paid", {}, [PlannedRun("r", 1, None, key),
                                                                      PlannedRun("s", 1, None, key)])])
    items = [("evt_2", "acme.invoice.paid", {}, [PlannedRun("r", 1, None, key), PlannedRun("s", 1, None, key)])]
    second = store.ingest("acme", items)
    assert len(first[0][2]) == 2
    assert second[0][1] is True and second[0][2] == []  # the event is stored, its runs are not
    assert deduplicated(items, second) == 2
    assert store.count_events() == 2
    assert run_rows(store) == [("r", key, "pending"), ("s", key, "pending")]
    # a new version of the recipe does not run the object again either
    store.ingest("acme", [("evt_3", "acme.invoice.paid", {}, [PlannedRun("r", 2, None, key)])])
    assert len(run_rows(store)) == 2


def test_a_recipe_added_later_and_a_filter_that_rejected_the_first_event_still_plan(tmp_path):
    store = Store(migrated_db(tmp_path))
    key = "acme.invoice.paid:in_1"
    store.ingest("acme", [("evt_1", "acme.invoice.paid", {}, [PlannedRun("r", 1, None, key)])])  # s's filter said no
    store.ingest("acme", [("evt_2", "acme.invoice.paid", {}, [PlannedRun("r", 1, None, key),
                                                              PlannedRun("s", 1, None, key),  # now it says yes
                                                              PlannedRun("new", 1, None, key)])])  # added since
    assert run_rows(store) == [("r", key, "pending"), ("s", key, "pending"), ("new", key, "pending")]


def test_no_occurrence_plans_every_event_and_a_replay_plans_beside_the_occurrence(tmp_path):
    store = Store(migrated_db(tmp_path))
    a = store.ingest("acme", [("evt_1", "acme.customer.updated", {}, [("r", 1)])])
    store.ingest("acme", [("evt_2", "acme.customer.updated", {}, [PlannedRun("r", 1)])])
    assert [row[:2] for row in run_rows(store)] == [("r", None), ("r", None)]
    key = "acme.invoice.paid:in_9"
    b = store.ingest("acme", [("evt_3", "acme.invoice.paid", {}, [PlannedRun("r", 1, None, key)])])
    assert store.plan(b[0][0], "r", 2, key_generation=1) is not None  # a replay: occurrence NULL
    assert store.plan(a[0][0], "r", 1) is None  # (recipe, version, event) stays unique
    assert len(run_rows(store)) == 4


def test_a_failed_plan_holds_its_occurrence(tmp_path):
    store = Store(migrated_db(tmp_path))
    key = "acme.invoice.paid:in_1"
    store.ingest("acme", [("evt_1", "acme.invoice.paid", {}, [PlannedRun("r", 1, "the filter cannot …", key)])])
    store.ingest("acme", [("evt_2", "acme.invoice.paid", {}, [PlannedRun("r", 1, None, key)])])
    assert run_rows(store) == [("r", key, "failed")]  # replaying the failed run is the remedy


def test_a_duplicate_in_a_group_commit_fails_nothing_else(tmp_path):
    store = Store(migrated_db(tmp_path))
    barrier = threading.Barrier(8)
    results = {}

    def deliver(i):
        barrier.wait()
        key = f"acme.invoice.paid:in_{i % 2}"  # four deliveries about each of two invoices
        results[i] = store.ingest("acme", [(f"evt_{i}", "acme.invoice.paid", {}, [PlannedRun("r", 1, None, key)]),
                                           (f"evt_other_{i}", "acme.customer.updated", {}, [PlannedRun("r", 1)])])

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count_events() == 16  # every delivery stored
    rows = run_rows(store)
    assert sorted(row[1] for row in rows if row[1]) == ["acme.invoice.paid:in_0", "acme.invoice.paid:in_1"]
    assert sum(1 for row in rows if row[1] is None) == 8
    assert sum(len(r[0][2]) for r in results.values()) == 2


def _ingest_in_process(url, start, name, count, done):
    store = Store(url)
    start.wait(30)
    barrier = threading.Barrier(4)

    def worker(part):
        barrier.wait()
        for i in range(part, count, 4):
            store.ingest("acme", [(f"{name}_{i}", "acme.invoice.paid", {},
                                   [PlannedRun("r", 1, None, f"acme.invoice.paid:in_{i}"),
                                    PlannedRun("s", 1, None, f"acme.invoice.paid:in_{i}")])])

    threads = [threading.Thread(target=worker, args=(part,)) for part in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.dispose()
    done.put(name)


def test_concurrent_ingest_in_two_processes_plans_each_occurrence_once(tmp_path):
    url = migrated_db(tmp_path)
    count = 40
    context = multiprocessing.get_context("spawn")
    start, done = context.Event(), context.Queue()
    processes = [context.Process(target=_ingest_in_process, args=(url, start, name, count, done))
                 for name in ("webhook", "poll")]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    assert sorted(done.get(timeout=5) for _ in processes) == ["poll", "webhook"]
    store = Store(url)
    assert store.count_events() == 2 * count
    rows = run_rows(store)
    assert len(rows) == 2 * count
    assert sorted({(recipe, key) for recipe, key, _ in rows}) == sorted(
        {(recipe, f"acme.invoice.paid:in_{i}") for recipe in "rs" for i in range(count)})


def test_backfill_plans_on_an_event_already_stored_once(tmp_path):
    store = Store(migrated_db(tmp_path))
    key = "acme.invoice.paid:in_1"
    item = ("invoice.paid:in_1", "acme.invoice.paid", {"id": "invoice.paid:in_1"}, [PlannedRun("r", 1, None, key)])
    first = store.backfill("acme", [item])
    assert first[0][1] is True and len(first[0][2]) == 1
    other = store.backfill("acme", [(*item[:3], [PlannedRun("s", 1, None, key)])])  # another recipe's backfill
    assert other[0][1] is False and len(other[0][2]) == 1 and other[0][0] == first[0][0]
    again = store.backfill("acme", [item])  # run again: nothing new
    assert again[0][2] == []
    assert store.count_events() == 1
    assert store.already_planned("r", "acme", [("invoice.paid:in_1", key), ("invoice.paid:in_2", "x:in_2")]) \
        == {"invoice.paid:in_1"}
    # without an occurrence, the stored event says it: the recipe has a run for it
    store.backfill("acme", [("customer.updated:cus_1", "acme.customer.updated", {}, [PlannedRun("r", 1)])])
    assert store.already_planned("r", "acme", [("customer.updated:cus_1", None)]) == {"customer.updated:cus_1"}
    assert store.already_planned("s", "acme", [("customer.updated:cus_1", None)]) == set()


def test_backfill_leaves_a_notification_waiting_for_its_fetch_to_its_fetch(tmp_path):
    store = Store(migrated_db(tmp_path))
    store.ingest("acme", [("evt_1", "acme.invoice.paid", {"id": "evt_1"}, [], True)])
    (result,) = store.backfill("acme", [("evt_1", "acme.invoice.paid", {"id": "evt_1"}, [PlannedRun("r", 1)])])
    assert result[1:] == (False, [])
    assert run_rows(store) == []


def test_a_deadlock_victim_runs_its_transaction_again_and_other_errors_do_not():
    """PostgreSQL aborts one of two deadlocked transactions (SQLSTATE 40P01): the store runs
    the victim's whole transaction again, a bounded number of times; any other error is
    raised at once."""
    import pytest
    import sqlalchemy as sa

    from ledgerlink.store.base import DEADLOCK_ATTEMPTS, retried_on_deadlock

    class Orig(Exception):
        def __init__(self, sqlstate):
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    class Store:
        def __init__(self, failures, sqlstate="40P01"):
            self.calls, self.failures, self.sqlstate = 0, failures, sqlstate

        @retried_on_deadlock
        def write(self, value):
            self.calls += 1
            if self.calls <= self.failures:
                raise sa.exc.OperationalError("INSERT …", {}, Orig(self.sqlstate))
            return value

    store = Store(failures=2)
    assert store.write("stored") == "stored" and store.calls == 3
    hopeless = Store(failures=DEADLOCK_ATTEMPTS)
    with pytest.raises(sa.exc.OperationalError):
        hopeless.write("never")
    assert hopeless.calls == DEADLOCK_ATTEMPTS
    other = Store(failures=1, sqlstate="23505")
    with pytest.raises(sa.exc.OperationalError):
        other.write("never")
    assert other.calls == 1
