"""Group commit (the inbox's, the step log's): concurrent callers share a transaction, and each still gets
its own answer, or the error of the transaction its deliveries were in."""

import threading

import pytest

from ledgerlink.store import Store
from ledgerlink.store.group_commit import GroupCommit, Refused
from ledgerlink.testing.databases import migrated_db


def _wait_until(condition, what):
    for _ in range(10_000):
        if condition():
            return
        threading.Event().wait(0.001)
    raise AssertionError(f"never happened: {what}")


def test_each_caller_gets_the_result_of_its_own_share():
    written = []

    def write(batch):
        written.extend(batch)
        return [f"{connection}:{sum(items)}" for connection, items, _ in batch]

    committer = GroupCommit(write)
    results = {}

    def submit(i):
        results[i] = committer.submit((f"c{i}", [i, i], None))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: f"c{i}:{2 * i}" for i in range(40)}
    assert sorted(written) == sorted((f"c{i}", [i, i], None) for i in range(40))


def test_a_failed_batch_fails_every_caller_in_it_and_the_writer_goes_on():
    gate = threading.Event()
    batches = []

    def write(batch):
        batches.append([connection for connection, _, _ in batch])
        if len(batches) == 1:
            gate.wait()  # hold the writer so the next callers wait in one batch
            return ["first"]
        if len(batches) == 2:
            raise OSError("disk full")
        return ["again"] * len(batch)

    committer = GroupCommit(write)
    answers = {}

    def submit(name):
        try:
            answers[name] = committer.submit((name, [], None))
        except OSError as exc:
            answers[name] = exc

    first = threading.Thread(target=submit, args=("first",))
    first.start()
    _wait_until(lambda: batches, "the first batch is being written")
    rest = [threading.Thread(target=submit, args=(name,)) for name in ("a", "b", "c")]
    for thread in rest:
        thread.start()
    _wait_until(lambda: len(committer._pending) == 3, "three callers wait for the next batch")
    gate.set()
    for thread in [first, *rest]:
        thread.join()

    assert answers["first"] == "first"
    assert sorted(batches[1]) == ["a", "b", "c"]
    errors = [answers[name] for name in ("a", "b", "c")]
    assert all(isinstance(error, OSError) and str(error) == "disk full" for error in errors)
    assert committer.submit(("later", [], None)) == "again"


def test_deliveries_ingested_at_once_are_each_stored_once(tmp_path):
    store = Store(migrated_db(tmp_path))
    results = {}

    def deliver(i):
        # every event twice, from two callers: the second is found, not stored again
        results[i] = store.ingest("stripe", [(f"evt_{i // 2}", "invoice.paid", {"n": i // 2}, [])])

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert store.count_events() == 20
        for i in range(0, 40, 2):
            (pk_a, new_a, _), = results[i]
            (pk_b, new_b, _), = results[i + 1]
            assert pk_a == pk_b and {new_a, new_b} == {True, False}
            assert store.event(pk_a)["event_id"] == f"evt_{i // 2}"
    finally:
        store.dispose()


@pytest.mark.parametrize("planned", [[("r", 1)], [("r", 1, "the filter cannot be evaluated")]])
def test_a_delivery_plans_its_runs_in_the_same_commit(tmp_path, planned):
    store = Store(migrated_db(tmp_path))
    try:
        (pk, new, run_ids), = store.ingest("stripe", [("evt_1", "invoice.paid", "{}", planned)])
        assert new and len(run_ids) == 1
        run = store.run(run_ids[0])
        assert run["event_pk"] == pk
        assert run["status"] == ("failed" if len(planned[0]) > 2 else "pending")
    finally:
        store.dispose()


def test_a_share_refused_by_the_write_fails_only_its_caller():
    committer = GroupCommit(lambda batch: [Refused(ValueError(name)) if name == "bad" else name.upper()
                                           for name, _, _ in batch])
    assert committer.submit(("good", [], None)) == "GOOD"
    with pytest.raises(ValueError, match="bad"):
        committer.submit(("bad", [], None))
    assert committer.submit(("after", [], None)) == "AFTER"
