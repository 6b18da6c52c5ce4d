"""The governor keeps a Xero organisation inside Xero's limits, proven on a simulated clock
against the Xero sandbox over loopback HTTP (the workload: ``xero_governed.py``).

Time passes only when the governor sleeps, and the sandbox counts on the same clock, so
what is checked is exact and never timed: 1,000 queued runs meet no 429, start each call
at the first moment the limits allow it (``simulated_clock.earliest_starts``: the in-process
governor counts a call in the window from its start and fills every whole minute with
Xero's 60 calls; the shared one counts it from its answer, so its slots come back a call's
duration later) and never have more than 5 in flight; on a Starter
organisation whose day another installation has nearly used up, the runs stop at the day's
limit, wait for the next day and go on, no attempt spent; a 429 Xero sends anyway (its
minute used up elsewhere) is waited out as Retry-After says. How the governors fare in
real time is printed by ``bench/xero_governor.py``.
"""

from __future__ import annotations

import pytest

from ledgerlink.contract import Remaining
from ledgerlink.io.governor.local import LocalGovernor
from ledgerlink.io.governor.shared import SharedGovernor
from ledgerlink.store import Store
from ledgerlink.testing.databases import DIALECT, migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_TENANT, create_sandbox
from ledgerlink_xero import CONNECTOR
from ledgerlink_xero.limits import limits, read_remaining
from simulated_clock import DAY, MIDNIGHT, FakeClock, earliest_starts, window_counts
from xero_governed import DURATIONS, governed_runs


@pytest.fixture(params=["local", f"shared-{DIALECT}"])
def make_governor(request, tmp_path):
    """``make(clock)``: the in-process governor, or the one shared through this suite's database."""
    made: list = []

    def make(clock: FakeClock):
        if request.param == "local":
            return LocalGovernor(clock=clock, sleep=clock.sleep, wall_clock=clock.wall)
        store = Store(migrated_db(tmp_path))
        governor = SharedGovernor(store, clock=clock, sleep=clock.sleep)
        made.append((governor, store))
        return governor

    #: the shared governor counts a call in the window from its answer (the in-process one
    #: from its start), so each minute its slots come back a call's duration later
    make.from_answer = request.param != "local"
    yield make
    for governor, store in made:
        governor.close()
        store.dispose()


def sandbox(clock: FakeClock, **options):
    return running(create_sandbox(clock=clock, wall_clock=clock.wall, **options))


def test_xeros_headers_are_read_into_what_remains():
    assert CONNECTOR.read_remaining is read_remaining
    assert read_remaining({"x-minlimit-remaining": "59", "X-DayLimit-Remaining": "4999",
                           "X-AppMinLimit-Remaining": "9999"}) == Remaining(window=59, day=4999)
    assert read_remaining({"X-DayLimit-Remaining": "0"}) == Remaining(day=0)
    assert read_remaining({"X-MinLimit-Remaining": "-1"}) is None and read_remaining({}) is None
    assert (limits().requests, limits().concurrent, limits().daily, limits().budget) == (60, 5, 5000, 60)


def test_a_thousand_runs_take_every_slot_of_xeros_minutes_none_refused(make_governor):
    clock = FakeClock(start=MIDNIGHT + 3600.0, wall=MIDNIGHT + 3600.0)
    governor = make_governor(clock)
    with sandbox(clock) as served:
        outcome = governed_runs(served.url, governor, clock, limits(), 1000)
        stats = served.sandbox.stats()
    assert outcome.succeeded == 1000 and set(outcome.attempts.values()) == {1}  # the contact's too
    assert outcome.too_many == 0 and stats["throttled"] == 0
    assert outcome.peak == 5
    t0 = outcome.starts[0]
    # every request (the contact's lookups and creation, then the fees) starts at the first
    # moment the limits allow: the schedule a governor that wastes no slot must keep
    durations = [DURATIONS[(i + 1) % len(DURATIONS)] for i in range(len(outcome.starts))]
    assert outcome.starts == earliest_starts(limits(), durations, t0, from_answer=make_governor.from_answer)
    assert max(window_counts(outcome.starts, 60.0)) == 60
    minutes = outcome.per_minute(t0)
    if make_governor.from_answer:  # the slots come back later: a minute holds 60 at most
        assert minutes[0] == 60 and max(minutes) == 60 and len(minutes) == 17
    else:  # every whole minute full
        assert len(minutes) == 16 and set(minutes) == {60}
    assert stats["per_minute_max"][DEFAULT_TENANT] == 60


def test_a_starter_day_used_up_elsewhere_pauses_the_runs_until_the_next_day(make_governor):
    """1,000 a day; another installation made 990 calls at 00:00 today. The runs stop once
    Xero says none is left, wait for the next UTC day (when those 990 leave Xero's 24 hours),
    and go on: no 429, every run succeeded on its first attempt."""
    next_midnight = MIDNIGHT + DAY
    clock = FakeClock(start=next_midnight - 600.0, wall=next_midnight - 600.0)  # 23:50 UTC
    governor = make_governor(clock)
    starter = limits(1000)
    with sandbox(clock, day_limit=1000) as served:
        served.sandbox.used_elsewhere(DEFAULT_TENANT, day=990, seconds_ago=DAY - 600.0)
        outcome = governed_runs(served.url, governor, clock, starter, 30)
        stats = served.sandbox.stats()
    assert outcome.succeeded == 30 and set(outcome.attempts.values()) == {1}
    assert outcome.too_many == 0 and stats["throttled"] == 0
    before = [start for start in outcome.starts if start < next_midnight]
    assert len(before) == 10  # 990 + 10 = the day's 1,000
    assert outcome.starts[10] == next_midnight  # not a call between, and the first one at the reset
    assert {reason for reason, at in outcome.throttled} == {"daily"}
    assert all(before[-1] <= at < next_midnight for _, at in outcome.throttled)


def test_a_429_xero_sends_anyway_is_waited_out_as_retry_after_says(make_governor):
    """The organisation's minute was used up elsewhere before the first call: Xero answers
    429 (minute) with Retry-After 60; the run waits that long, then succeeds."""
    clock = FakeClock(start=MIDNIGHT + 3600.0, wall=MIDNIGHT + 3600.0)
    governor = make_governor(clock)
    with sandbox(clock) as served:
        served.sandbox.used_elsewhere(DEFAULT_TENANT, minute=60)
        t0 = clock.now
        outcome = governed_runs(served.url, governor, clock, limits(), 3)
    assert outcome.statuses[0] == 429 and outcome.too_many == 1
    assert outcome.starts[1] >= t0 + 60.0  # not before Retry-After
    assert outcome.attempts == {-1: 2, 0: 1, 1: 1, 2: 1} and outcome.succeeded == 3
    assert {reason for reason, _ in outcome.throttled} == {"paused"}
