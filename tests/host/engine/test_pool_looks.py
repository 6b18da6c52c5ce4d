"""The side work of a pool of worker threads (ticks, fetches, polls): looked for once a
``LOOK_EVERY`` by one thread of the pool, not by every thread; a worker of its own still
looks on its own schedule."""

from __future__ import annotations

from ledgerlink import hookimpl
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import Worker, WorkerPool
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from runtime_fixtures import QBO_TOKEN, recipes_dir, write_config


class Ticks:
    """A plugin counting the looks (``ledgerlink_tick`` is called once a look)."""

    def __init__(self) -> None:
        self.count = 0

    @hookimpl
    def ledgerlink_tick(self, now, host):
        self.count += 1


def test_a_pool_looks_once_for_all_its_threads(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    ticks = Ticks()
    catalog = load_catalog(build_plugin_manager(extra=[("ticks", ticks)]))
    runtime = Runtime(catalog, load_config(write_config(tmp_path), catalog), Store(migrated_db(tmp_path)),
                      recipes_dir(tmp_path), Settings())
    runtime.registry.reload()
    pool = WorkerPool(runtime, 4)  # not started: the test calls each thread's look itself
    assert [worker.side_work() for worker in pool.workers] == [0] * 4
    assert ticks.count == 1  # the first thread looked; the other three found the look done
    alone = Worker(runtime)
    alone.side_work()
    assert ticks.count == 2  # a worker of its own keeps its own schedule
    pool.workers[2]._next_look = 0.0  # the pool's next look is due
    for worker in pool.workers:
        worker.side_work()
    assert ticks.count == 3
    # a thread finding another thread of the pool looking does not look too
    with pool.workers[0]._looks.busy:
        pool.workers[1]._next_look = 0.0
        assert pool.workers[1].side_work() == 0
    assert ticks.count == 3
