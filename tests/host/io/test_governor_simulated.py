"""Both governors on a simulated clock: their limits are checked exactly, never timed.

The in-process governor and the one shared through the database (SQLite here, PostgreSQL
under ``LEDGERLINK_TEST_DB``) are driven by one client that always has the next request
waiting; time passes only while a governor sleeps. What each did is compared with
:func:`simulated_clock.earliest_starts`: never more than the window's budget of starts in
any window, never more than ``concurrent`` at once, no start before a Retry-After ends or
past the daily limit, and every slot used: each request starts at the first moment the
limits allow it. How much of the allowed rate real time gets is printed by
``bench/governor.py``, not asserted.
"""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from ledgerlink.testing.databases import DIALECT
from ledgerlink.contract.limits import Limits, Remaining
from ledgerlink.errors import Throttled
from ledgerlink.io.governor import heed
from ledgerlink.io.governor.local import LocalGovernor
from ledgerlink.io.governor.shared import SharedGovernor
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from simulated_clock import MIDNIGHT, FakeClock, earliest_starts, window_counts

KEY = "quickbooks:realm 123"
#: durations of a request, in binary fractions of a second so that sums are exact
DURATIONS = (0.25, 0.5, 0.75, 1.0, 1.5)


@pytest.fixture(params=["local", f"shared-{DIALECT}"])
def make_governor(request, tmp_path):
    """``make(clock)``: the in-process governor, or the shared one on this suite's database,
    on the simulated clock (whose time is also the wall clock: Unix seconds)."""
    made: list = []

    def make(clock: FakeClock):
        assert clock() == clock.wall()
        if request.param == "local":
            return LocalGovernor(clock=clock, sleep=clock.sleep, wall_clock=clock.wall)
        store = Store(migrated_db(tmp_path))
        governor = SharedGovernor(store, clock=clock, sleep=clock.sleep)
        made.append((governor, store))
        return governor

    #: the shared governor counts a request in the window from its answer
    make.from_answer = request.param != "local"
    yield make
    for governor, store in made:
        governor.close()
        store.dispose()


def drive(governor, clock: FakeClock, limits: Limits, durations, pauses=None, max_wait=120.0):
    """Send one request per duration, the next waiting as soon as one starts; a request
    in ``pauses`` is answered with ``Retry-After: pauses[i]``. Returns the start times and
    the most requests in flight at once."""
    pauses = pauses or {}
    starts: list[float] = []
    in_flight = peak = 0

    def finish(slot) -> None:
        nonlocal in_flight
        in_flight -= 1
        slot.__exit__(None, None, None)

    for i, duration in enumerate(durations):
        slot = governor.slot(KEY, limits, max_wait=max_wait)
        slot.__enter__()
        in_flight += 1
        peak = max(peak, in_flight)
        starts.append(clock.now)
        if i in pauses:
            governor.pause(KEY, pauses[i])
        clock.at(clock.now + duration, lambda s=slot: finish(s))
    clock.run_all()
    assert in_flight == 0
    return starts, peak


def test_window_concurrency_and_retry_after_exactly(make_governor):
    limits = Limits(20, 10.0, concurrent=5)  # 19 per 10 s used, 5 at once
    clock = FakeClock(start=MIDNIGHT + 3600.0, wall=MIDNIGHT + 3600.0)
    governor = make_governor(clock)
    rng = random.Random(11)
    durations = [rng.choice(DURATIONS) for _ in range(150)]
    t0 = clock.now
    starts, peak = drive(governor, clock, limits, durations, pauses={60: 7.0})

    assert peak == limits.concurrent  # reached, never passed
    assert max(window_counts(starts, limits.per_seconds)) == limits.budget
    # the first window: exactly the budget, with requests waiting all along
    assert sum(1 for t in starts if t < t0 + limits.per_seconds) == limits.budget
    # Retry-After: 7 s on request 60's answer: nothing starts until it has passed
    assert not [t for t in starts[61:] if t < starts[60] + 7.0]
    assert starts == pytest.approx(earliest_starts(limits, durations, t0, pauses={60: 7.0},
                                                   from_answer=make_governor.from_answer), abs=1e-6)


def test_the_daily_limit_exactly(make_governor):
    limits = Limits(10, 1.0, concurrent=2, daily=25, headroom=1.0)
    clock = FakeClock(start=MIDNIGHT - 40.0, wall=MIDNIGHT - 40.0)  # 40 s before a UTC midnight
    governor = make_governor(clock)
    durations = [0.125] * 40
    starts, peak = drive(governor, clock, limits, durations)

    assert peak == 2
    assert max(window_counts(starts, limits.per_seconds)) == 10
    assert sum(1 for t in starts if t < MIDNIGHT) == 25  # the day's 25, then nothing
    assert starts[25] == pytest.approx(MIDNIGHT, abs=1e-6)  # the new day's first, at once
    assert starts == pytest.approx(earliest_starts(limits, durations, MIDNIGHT - 40.0,
                                                   from_answer=make_governor.from_answer), abs=1e-6)


def test_a_retry_after_longer_than_max_wait_throttles_at_once_and_a_wait_ends_with_it(make_governor):
    limits = Limits(20, 10.0, concurrent=5)
    clock = FakeClock(start=MIDNIGHT + 3600.0, wall=MIDNIGHT + 3600.0)
    governor = make_governor(clock)
    t0 = clock.now
    governor.pause(KEY, 30.0)
    with pytest.raises(Throttled) as info:
        governor.slot(KEY, limits, max_wait=5.0).__enter__()
    assert info.value.reason == "paused" and info.value.delay == pytest.approx(30.0, abs=1e-6)
    assert clock.now == t0  # a wait known to be too long does not block the thread
    with governor.slot(KEY, limits, max_wait=60.0):
        assert clock.now == pytest.approx(t0 + 30.0, abs=1e-6)


def _taken(governor, limits: Limits, count: int) -> None:
    """Take and give back ``count`` slots free now."""
    for _ in range(count):
        with governor.slot(KEY, limits, max_wait=0):
            pass


def _refused(governor, limits: Limits) -> str:
    """The reason no slot is free now."""
    with pytest.raises(Throttled) as refused:
        with governor.slot(KEY, limits, max_wait=0):
            pass
    return refused.value.reason


def test_what_the_vendor_says_remains_narrows_the_window_and_the_day(make_governor):
    """Requests another installation sent on the tenant count once the vendor's answer says
    how little is left: no slot is given that the vendor would refuse, and an answer saying
    more is left (one that overtook a later one) gives nothing back."""
    clock = FakeClock(start=MIDNIGHT + 3600.0, wall=MIDNIGHT + 3600.0)
    governor = make_governor(clock)
    limits = Limits(10, 60.0, concurrent=5, daily=30, headroom=1.0)
    _taken(governor, limits, 2)
    governor.narrow(KEY, limits, Remaining(window=3))  # the vendor counts 7 in its window: 5 unseen
    _taken(governor, limits, 3)
    assert _refused(governor, limits) == "window"
    governor.narrow(KEY, limits, Remaining(window=10, day=30))  # stale: nothing given back
    assert _refused(governor, limits) == "window"

    clock.sleep(60.0)  # the window has emptied; the day holds 5 + 5 unseen
    governor.narrow(KEY, limits, Remaining(day=4))  # 26 of 30 used today
    _taken(governor, limits, 4)
    assert _refused(governor, limits) == "daily"
    clock.sleep(MIDNIGHT + 86400.0 - clock.now)  # the next UTC day
    _taken(governor, limits, 10)


@pytest.mark.parametrize("status, headers, paused", [
    (429, {"Retry-After": "30", "X-Left": "9"}, True), (503, {"Retry-After": "5"}, True),
    (503, {}, False), (200, {"X-Left": "0"}, False)])
def test_an_answer_is_heeded_a_429_pauses_and_the_remaining_count_narrows(make_governor, status, headers, paused):
    clock = FakeClock(start=MIDNIGHT + 3600.0, wall=MIDNIGHT + 3600.0)
    governor = make_governor(clock)
    limits = Limits(10, 60.0, headroom=1.0)

    def read(answer):
        return Remaining(window=int(answer["X-Left"])) if "X-Left" in answer else None

    assert heed(governor, KEY, limits, status, headers, read) is paused
    if paused:
        assert _refused(governor, limits) == "paused"
        clock.sleep(float(headers["Retry-After"]))
    if headers.get("X-Left") == "0":
        assert _refused(governor, limits) == "window"
    else:
        _taken(governor, limits, int(headers.get("X-Left", "10")))  # what the vendor left


@pytest.fixture
def shared(tmp_path):
    """``make(clock)``: the shared governor on this suite's database, on the simulated clock,
    and the engine its statements go through."""
    made: list = []

    def make(clock: FakeClock):
        store = Store(migrated_db(tmp_path))
        governor = SharedGovernor(store, clock=clock, sleep=clock.sleep)
        made.append((governor, store))
        return governor, governor._engine or store.engine

    yield make
    for governor, store in made:
        governor.close()
        store.dispose()


def test_the_shared_window_counts_a_request_from_its_answer(shared):
    """A request reaches the vendor somewhere between its start and its answer: the slot it
    took comes back ``per_seconds`` after the answer, so a request that reached the vendor
    late never shares the vendor's window with the next window's early ones."""
    clock = FakeClock(start=MIDNIGHT + 3600.0, wall=MIDNIGHT + 3600.0)
    governor, _ = shared(clock)
    limits = Limits(2, 10.0, headroom=1.0)
    t0 = clock.now
    slow, quick = governor.slot(KEY, limits, max_wait=0), governor.slot(KEY, limits, max_wait=0)
    slow.__enter__()
    quick.__enter__()
    clock.sleep(0.5)
    quick.__exit__(None, None, None)  # answered at t0 + 0.5
    clock.sleep(2.5)
    slow.__exit__(None, None, None)  # answered at t0 + 3
    clock.sleep(7.25)  # t0 + 10.25: both started more than 10 s ago, neither answered that long ago
    with pytest.raises(Throttled) as refused:
        governor.slot(KEY, limits, max_wait=0).__enter__()
    assert refused.value.reason == "window" and refused.value.delay == pytest.approx(0.25, abs=1e-6)
    with governor.slot(KEY, limits, max_wait=1.0):
        assert clock.now == pytest.approx(t0 + 10.5, abs=1e-6)  # the quick one's answer + 10 s
    with governor.slot(KEY, limits, max_wait=5.0):
        assert clock.now == pytest.approx(t0 + 13.0, abs=1e-6)  # the slow one's answer + 10 s


def test_a_wait_the_database_told_is_not_asked_again_by_the_process(shared):
    """When a slot frees at a known time (a window, a pause, a day), the other threads of the
    process wait for it without a statement each: per freed slot the database is asked once
    per process, not once per waiting thread. A concurrency slot (time unknown) is asked for."""
    clock = FakeClock(start=MIDNIGHT + 3600.0, wall=MIDNIGHT + 3600.0)
    governor, engine = shared(clock)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    limits = Limits(2, 10.0, concurrent=1, headroom=1.0)
    with governor.slot(KEY, limits, max_wait=0):
        assert _refused(governor, limits) == "concurrent"
        asked = len(statements)
        assert _refused(governor, limits) == "concurrent" and len(statements) > asked  # asked again
    _taken(governor, limits, 1)
    asked = len(statements)
    assert _refused(governor, limits) == "window" and len(statements) > asked
    asked = len(statements)
    for _ in range(5):  # five more threads: told by the process
        assert _refused(governor, limits) == "window"
    assert len(statements) == asked
    clock.sleep(10.0)
    _taken(governor, limits, 1)  # the wait is over: the database is asked again
    assert len(statements) > asked
