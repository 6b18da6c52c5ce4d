"""The health page's series, on the database the tests run on (SQLite, or PostgreSQL with
LEDGERLINK_TEST_DB): runs per hour by status in one grouped statement, webhook refusals per
hour from the hourly tallies every process shares, the queue now, and 100,000 runs counted
from the index alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledgerlink.engine.health_series import (HOURS, KEEP_SECONDS, Rejection, health_series, record_rejection,
                                            rejection_reasons, window)
from ledgerlink.store import Store
from ledgerlink.store.console import HOUR
from ledgerlink.store.schema import events, runs, tallies
from ledgerlink.testing.databases import ON_POSTGRES

#: a moment 25 minutes into an hour (2026-11-30 14:25 UTC)
NOW = 1_796_048_700.0 - (1_796_048_700.0 % HOUR) + 25 * 60


@pytest.fixture
def store(db_url):
    store = Store(db_url)
    yield store
    store.dispose()


def add_runs(store: Store, rows: list[tuple[float, str]], due_at: float = NOW) -> None:
    """Runs of one event, each ``(created_at, status)``, inserted as the worker leaves them."""
    with store.engine.begin() as conn:
        event_pk = conn.execute(events.insert().values(connection="stripe", event_id=f"evt_{len(rows)}",
                                                       trigger="stripe.invoice.paid", received_at=NOW,
                                                       payload="{}")).inserted_primary_key[0]
        conn.execute(runs.insert(), [
            {"recipe_id": "r", "recipe_version": i + 1, "event_pk": event_pk, "status": status, "attempts": 0,
             "due_at": due_at, "created_at": created, "updated_at": created} for i, (created, status) in enumerate(rows)])


def test_runs_are_counted_per_hour_of_creation_and_status_over_the_window(store):
    hour = window(NOW, HOURS)
    add_runs(store, [(hour[-1] + 1, "succeeded"), (hour[-1] + 3000, "succeeded"), (hour[-1] + 5, "failed"),
                     (hour[-3] + 10, "succeeded"), (hour[0], "dead"),
                     (hour[0] - 1, "succeeded"),        # the hour before the window
                     (hour[-1] + HOUR, "succeeded")])   # the next hour, not begun
    series = health_series(store, NOW)
    assert len(series.hours) == HOURS and series.hours[-1] == hour[-1] and series.hours[-1] <= NOW < series.hours[-1] + HOUR
    assert list(series.runs) == ["succeeded", "failed", "dead"]  # stacked: what to act on on top
    assert series.runs["succeeded"][-1] == 2 and series.runs["succeeded"][-3] == 1
    assert series.runs["failed"][-1] == 1 and series.runs["dead"][0] == 1
    assert sum(series.totals()) == 5 and series.rejections == {}
    assert series.to_json()["rejected_total"] == [0] * HOURS


def test_the_queue_now_counts_due_scheduled_running_and_awaiting_review(store):
    add_runs(store, [(NOW - 10, "pending"), (NOW - 10, "retrying"), (NOW - 10, "running"),
                     (NOW - 10, "awaiting_review"), (NOW - 10, "succeeded")])
    add_runs(store, [(NOW - 10, "retrying")], due_at=NOW + 600)
    assert health_series(store, NOW).queue == {"due": 2, "scheduled": 1, "running": 1, "awaiting_review": 1}


def test_the_longest_wait_is_the_earliest_due_time_of_a_due_pending_or_retrying_run(store):
    assert store.oldest_due(NOW) is None
    add_runs(store, [(NOW - 10, "failed"), (NOW - 10, "paused")], due_at=NOW - 9000)  # not waiting
    assert store.oldest_due(NOW) is None
    add_runs(store, [(NOW - 10, "pending")], due_at=NOW - 500)
    add_runs(store, [(NOW - 10, "retrying"), (NOW - 10, "pending"), (NOW, "succeeded")], due_at=NOW - 90)
    add_runs(store, [(NOW - 10, "retrying"), (NOW - 10, "pending"), (NOW, "retrying"), (NOW, "running")],
             due_at=NOW + 600)  # not due yet
    assert store.oldest_due(NOW) == NOW - 500


def test_refusals_are_split_by_reason_over_the_last_day_and_the_last_week(store):
    hour = window(NOW, HOURS)
    for at, connection, reason in [(NOW, "stripe", "no signature"), (NOW - 60, "stripe", "no signature"),
                                   (hour[-24] + 1, "stripe", "no signature"), (hour[-25], "stripe", "no signature"),
                                   (hour[0], "xero", "bad body"), (hour[0] - 1, "xero", "bad body"),
                                   (NOW, "stripe", "stale timestamp")]:
        record_rejection(store, connection, reason, at)
    assert rejection_reasons(store, NOW) == [Rejection("stripe", "no signature", 3, 4),
                                             Rejection("stripe", "stale timestamp", 1, 1),
                                             Rejection("xero", "bad body", 0, 1)]
    assert rejection_reasons(store, NOW)[0].to_json() == {"connection": "stripe", "reason": "no signature",
                                                          "day": 3, "week": 4}


def test_refusals_are_counted_per_hour_and_connection_and_old_ones_forgotten(store):
    old = NOW - KEEP_SECONDS - 2 * HOUR
    record_rejection(store, "stripe", "the signature does not match", old)
    for at in (NOW - 5, NOW - 60, NOW - HOUR):
        record_rejection(store, "stripe", "the signature does not match", at)
    record_rejection(store, "xero", "an unusable body", NOW - 1)
    series = health_series(store, NOW)
    assert series.rejections["stripe"][-1] == 2 and series.rejections["stripe"][-2] == 1
    assert series.rejections["xero"][-1] == 1
    assert series.to_json()["rejected_total"][-1] == 3
    with store.engine.connect() as conn:  # the first refusal of a new hour swept the old tally away
        starts = {row[0] for row in conn.execute(sa.select(tallies.c.window_start))}
    assert min(starts) > old


def test_a_database_that_is_away_costs_the_count_not_the_refusal(caplog):
    broken = Store("sqlite:////nonexistent/dir/ledgerlink.db")
    record_rejection(broken, "stripe", "the signature does not match", NOW)  # logged, not raised
    assert "could not count a refused delivery to stripe" in caplog.text
    broken.dispose()


def test_a_hundred_thousand_runs_are_counted_by_one_grouped_statement_over_the_index(store):
    hour = window(NOW, HOURS)
    statuses = ("succeeded", "succeeded", "succeeded", "failed", "skipped")
    add_runs(store, [(hour[i % HOURS] + (i % 3000), statuses[i % 5]) for i in range(100_000)])
    sent: list[tuple[str, object]] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *a: sent.append((a[2], a[3])))
    series = health_series(store, NOW)
    runs_statements = [(s, p) for s, p in sent if "FROM runs" in s and "created_at" in s]
    assert len(runs_statements) == 1
    assert sum(series.totals()) == 100_000
    assert sum(series.runs["failed"]) == 20_000 and sum(series.runs["skipped"]) == 20_000
    if not ON_POSTGRES:  # SQLite reads the covering index, never the table
        statement, parameters = runs_statements[0]
        with store.engine.connect() as conn:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                          parameters).all())
        assert "COVERING INDEX ix_runs_created" in plan, plan

