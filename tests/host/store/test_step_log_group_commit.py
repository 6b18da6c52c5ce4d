"""The step log's group commit: workers' step records share a transaction, and each worker
still gets its own answer: True, False when its lease was lost (nothing of its record
written), or the error of its own record (the others written). On SQLite here, on
PostgreSQL with LEDGERLINK_TEST_DB."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from ledgerlink.store import Store
from ledgerlink.store.schema import run_steps, runs
from ledgerlink.testing.databases import migrated_db

T = 1_790_000_000.0


def _claimed(store: Store, n: int) -> list[int]:
    store.ingest("stripe", [(f"evt_{i}", "t", {}, [("r", 1)]) for i in range(n)], now=T)
    return [run.id for run in store.claim("w", lease_seconds=30, limit=n, now=T)]


def test_concurrent_records_commit_together_each_with_its_own_answer(tmp_path, monkeypatch):
    store = Store(migrated_db(tmp_path))
    try:
        ids = _claimed(store, 12)
        (lost,) = [run.id for run in store.claim("other", lease_seconds=30, limit=1, now=T + 60)]
        bad = next(i for i in ids if i != lost and i != ids[0])
        gate, batches = threading.Event(), []
        write = store._write_steps

        def held_write(records):
            batches.append(sorted(r.step["run_id"] for r in records))
            if len(batches) == 1:
                gate.wait(30)  # the first record's transaction waits: the others queue up behind it
            return write(records)

        monkeypatch.setattr(store, "_write_steps", held_write)
        answers: dict[int, object] = {}

        def log(run_id):
            try:
                answers[run_id] = store.log_step(
                    run_id, "entry", 1, "succeeded", output={"id": str(run_id)}, external_id=str(run_id),
                    started_at=T + 61, finished_at=T + 61, wrote=[("books", "JournalEntry", str(run_id))],
                    error="\ud800" if run_id == bad else None,  # a lone surrogate: no database stores it
                    finish=("w", "succeeded"))
            except Exception as exc:  # noqa: BLE001 (the answer is the error)
                answers[run_id] = exc

        first = threading.Thread(target=log, args=(ids[0],))
        first.start()
        for _ in range(3000):
            if batches:
                break
            threading.Event().wait(0.01)
        rest = [threading.Thread(target=log, args=(i,)) for i in ids[1:]]
        for thread in rest:
            thread.start()
        for _ in range(3000):
            if len(store._step_log._pending) == len(rest):
                break
            threading.Event().wait(0.01)
        gate.set()
        for thread in [first, *rest]:
            thread.join(30)

        # one transaction for the first record, one for the eleven that waited behind it;
        # the bad record then made each of those eleven be written alone
        assert batches[:2] == [[ids[0]], sorted(ids[1:])] and len(batches) == 2 + len(ids) - 1
        assert isinstance(answers.pop(bad), UnicodeError)
        assert answers.pop(lost) is False
        assert answers == {i: True for i in ids if i not in (bad, lost)}
        with store.engine.connect() as conn:
            logged = {row.run_id for row in conn.execute(sa.select(run_steps.c.run_id))}
            status = dict(conn.execute(sa.select(runs.c.id, runs.c.status)).all())
        assert logged == set(ids) - {bad, lost}
        assert {i for i, s in status.items() if s == "succeeded"} == set(ids) - {bad, lost}
        assert status[lost] == status[bad] == "running"  # the other owner's, and still w's
        assert {i for i in ids if store.last_write("books", "JournalEntry", str(i))} == logged
    finally:
        store.dispose()


def test_records_without_a_fault_share_one_transaction(tmp_path, monkeypatch):
    store = Store(migrated_db(tmp_path))
    try:
        ids = _claimed(store, 8)
        gate, batches = threading.Event(), []
        write = store._write_steps

        def held_write(records):
            batches.append(len(records))
            if len(batches) == 1:
                gate.wait(30)
            return write(records)

        monkeypatch.setattr(store, "_write_steps", held_write)
        answers = {}
        threads = [threading.Thread(target=lambda i=i: answers.__setitem__(i, store.log_step(
            i, "entry", 1, "succeeded", started_at=T + 1, finish=("w", "succeeded")))) for i in ids]
        threads[0].start()
        while not batches:
            threading.Event().wait(0.01)
        for thread in threads[1:]:
            thread.start()
        while len(store._step_log._pending) < len(ids) - 1:
            threading.Event().wait(0.01)
        gate.set()
        for thread in threads:
            thread.join(30)
        assert batches == [1, len(ids) - 1]
        assert answers == {i: True for i in ids}
        assert all(store.run(i)["status"] == "succeeded" and len(store.run(i)["steps"]) == 1 for i in ids)
    finally:
        store.dispose()
