"""Runs claimed for a pool of worker threads: one claim statement for several runs, handed
out one at a time; a run a thread performs is never claimed again by its own pool."""

from __future__ import annotations

import threading

from ledgerlink.engine.claims import Claims
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db


def store_with_runs(tmp_path, count: int) -> tuple[Store, list[int]]:
    store = Store(migrated_db(tmp_path))
    stored = store.ingest("stripe", [(f"evt_{i}", "t", {"n": i}, [("r", 1)]) for i in range(count)], now=100.0)
    return store, [run_id for _, _, (run_id,) in stored]


def statuses(store: Store, run_ids: list[int]) -> list[tuple[str, str | None]]:
    return [(run["status"], run["lease_owner"]) for run in (store.run(i) for i in run_ids)]


def test_one_claim_takes_several_runs_and_hands_them_out_one_at_a_time(tmp_path):
    store, run_ids = store_with_runs(tmp_path, 5)
    claims = Claims(store, "pool-a", 60.0, limit=3)
    first = claims.take()
    assert first is not None and first.id == run_ids[0] and first.owner == "pool-a"
    # one claim leased three runs to the pool; the other two are left for anyone
    assert statuses(store, run_ids) == [("running", "pool-a")] * 3 + [("pending", None)] * 2
    second, third = claims.take(), claims.take()
    assert [second.id, third.id] == run_ids[1:3] and second.payload == '{"n":1}'
    assert statuses(store, run_ids)[3:] == [("pending", None)] * 2  # handed out without a claim
    fourth = claims.take()  # none left: the next claim takes the last two
    assert fourth.id == run_ids[3] and statuses(store, run_ids)[4] == ("running", "pool-a")
    assert [r.id for r in claims.left()] == run_ids[4:]
    for run in (first, second, third, fourth):
        claims.done(run)


def test_left_gives_back_what_no_thread_started(tmp_path):
    store, run_ids = store_with_runs(tmp_path, 3)
    claims = Claims(store, "pool-a", 60.0, limit=3)
    taken = claims.take()
    rest = claims.left()
    assert [r.id for r in rest] == run_ids[1:] and claims.left() == []
    assert taken.id == run_ids[0]


def test_a_run_in_hand_whose_lease_ran_out_is_not_claimed_again_by_its_own_pool(tmp_path):
    store, run_ids = store_with_runs(tmp_path, 2)
    claims = Claims(store, "pool-a", -1.0, limit=1)  # every lease has run out as soon as it is taken
    in_hand = claims.take()
    assert in_hand.id == run_ids[0]
    again = claims.take()  # the pool claims again: not the run one of its threads performs
    assert again is not None and again.id == run_ids[1]
    claims.done(again)
    assert claims.take().id == again.id  # done, and its lease ran out: the pool may take it again
    # another process takes the expired runs over, the one in hand among them
    assert {run.id: run.attempts for run in store.claim("pool-b", 60.0, 5)} == {in_hand.id: 2, again.id: 3}


def test_threads_waiting_for_runs_share_one_claim(tmp_path):
    store, run_ids = store_with_runs(tmp_path, 8)
    claims = Claims(store, "pool-a", 60.0, limit=8)
    calls: list[int] = []
    claim = store.claim

    def counted(*args, **kwargs):
        calls.append(1)
        return claim(*args, **kwargs)

    store.claim = counted  # type: ignore[method-assign]
    taken: list[int] = []
    lock = threading.Lock()

    def thread() -> None:
        for _ in range(2):
            run = claims.take()
            with lock:
                taken.append(run.id)

    threads = [threading.Thread(target=thread) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(taken) == run_ids  # each run to one thread
    assert len(calls) == 1  # one claim statement for the four threads
