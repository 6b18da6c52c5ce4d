"""schedule.cron across worker processes: every tick fires once, and an outage is caught up.

Worker processes share one database and one simulated wall clock (a file the test moves a
minute at a time: :class:`simulated_clock.SharedClock`); two recipes tick every minute, one
catching up ``once`` after downtime, the other ``every`` missed tick (at most 3). Two
processes on SQLite always; four on PostgreSQL when the suite runs on it (``make test-pg``).
The clock stays on each minute until every process has asked for the due ticks, so each
tick is raised by every process and stored once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledgerlink.store import Store
from ledgerlink.store.schema import events, runs
from ledgerlink.testing.databases import ON_POSTGRES, migrated_db
from simulated_clock import MIDNIGHT, SharedClock

WORKER = Path(__file__).with_name("clocked_worker.py")
MINUTE = 60.0


def recipe(recipe_id: str, catch_up: str) -> dict:
    return {"id": recipe_id, "version": 1,
            "description": f"Every minute, a sync report of the minute before; after downtime it catches up {catch_up}.",
            "trigger": {"event": "schedule.cron", "connection": "schedule",
                        "options": {"cron": "* * * * *", "timezone": "Europe/Paris", "catch_up": catch_up,
                                    "max_catch_up": 3}},
            "steps": [{"id": "report", "action": "schedule.sync_report", "connection": "schedule",
                       "input": {"since": {"$path": "$.event.window.since.unix"},
                                 "until": {"$path": "$.event.window.until.unix"}}}]}


class Processes:
    """N clocked worker processes on one database."""

    def __init__(self, tmp_path: Path, db: str, clock: Path, count: int) -> None:
        self.tmp_path, self.db, self.clock, self.count = tmp_path, db, clock, count
        recipes = tmp_path / "recipes"
        recipes.mkdir(exist_ok=True)
        for recipe_id, catch_up in (("tick-once", "once"), ("tick-every", "every")):
            (recipes / f"{recipe_id}.json").write_text(json.dumps(recipe(recipe_id, catch_up)))
        config = tmp_path / "ledgerlink.toml"
        config.write_text('[connections.schedule]\nconnector = "schedule"\n')
        self.args = [str(recipes), str(config), str(clock)]
        self.running: list[tuple[subprocess.Popen, Path]] = []
        self.started = 0

    def start(self) -> None:
        for _ in range(self.count):
            self.started += 1
            log = self.tmp_path / f"worker-{self.started}.log"
            process = subprocess.Popen([sys.executable, str(WORKER), self.db, *self.args],
                                       stdout=log.open("w"), stderr=subprocess.STDOUT)
            self.running.append((process, log))
        deadline = time.monotonic() + 60
        for process, log in self.running:
            while "ready" not in log.read_text():
                assert process.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.05)

    def stop(self) -> None:
        for process, _ in self.running:
            process.terminate()
        for process, log in self.running:
            try:
                status = process.wait(30)
            except subprocess.TimeoutExpired:  # hung: its threads' stacks into its log, then the failure
                process.send_signal(signal.SIGUSR1)
                time.sleep(1)
                for other, _ in self.running:
                    other.kill()
                raise AssertionError(f"a worker did not stop within 30 s of SIGTERM:\n{log.read_text()[-12000:]}")
            assert status == 0, log.read_text()[-3000:]
        self.running = []

    def logs(self) -> str:
        return "\n".join(log.read_text()[-2000:] for _, log in self.running)


def stored(store: Store) -> dict[str, list[dict]]:
    """Each recipe's tick events, oldest first: their payloads, with their runs' statuses."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.event_id, events.c.payload, runs.c.recipe_id, runs.c.status,
                                      runs.c.last_error)
                            .join(runs, runs.c.event_pk == events.c.id, isouter=True)
                            .where(events.c.trigger == "schedule.cron").order_by(events.c.event_id)).all()
    out: dict[str, list[dict]] = {}
    for event_id, payload, recipe_id, status, error in rows:
        recipe_id_in_id = event_id.split(":")[1]
        out.setdefault(recipe_id_in_id, []).append({**json.loads(payload), "run_recipe": recipe_id,
                                                    "status": status, "error": error})
    return out


def wait_for(condition, processes: Processes, what: str, store: Store, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen: {stored(store)}\n{processes.logs()}"
        time.sleep(0.1)


def ticks(found: list[dict]) -> list[str]:
    return [e["tick"]["utc"][11:16] for e in found]


@pytest.mark.parametrize("dialect,count", [
    pytest.param("sqlite", 2, id="sqlite-2-processes"),
    pytest.param("postgresql", 4, id="postgresql-4-processes",
                 marks=pytest.mark.skipif(not ON_POSTGRES, reason="runs on PostgreSQL (make test-pg)")),
])
def test_every_tick_fires_once_across_processes_and_an_outage_is_caught_up(tmp_path, dialect, count):
    db = (f"sqlite:///{tmp_path / 'ledgerlink.db'}" if dialect == "sqlite" else migrated_db(tmp_path))
    if dialect == "sqlite":
        from ledgerlink import store as store_module
        store_module.upgrade(db)
    store = Store(db)
    clock = SharedClock(tmp_path / "clock", start=MIDNIGHT + 10)  # 2026-05-01 00:00:10 UTC
    processes = Processes(tmp_path, db, tmp_path / "clock", count)
    processes.start()
    try:
        def settled(minutes: int):
            def done() -> bool:
                now = stored(store)
                return all(len(now.get(r, [])) == minutes and all(e["status"] == "succeeded" for e in now[r])
                           for r in ("tick-once", "tick-every"))
            return done

        # on time: 00:00 (10 seconds old when the processes start) and each minute after
        for minute in range(0, 4):
            clock.set(MIDNIGHT + minute * MINUTE + 10)
            wait_for(settled(minute + 1), processes, f"the tick of minute {minute}", store)
            time.sleep(2.5)  # every process asks at least twice while the clock stays here
        found = stored(store)
        for recipe_id in ("tick-once", "tick-every"):
            assert ticks(found[recipe_id]) == ["00:00", "00:01", "00:02", "00:03"]
            assert [e["missed"] for e in found[recipe_id]] == [0, 0, 0, 0]
            assert all(e["run_recipe"] == recipe_id for e in found[recipe_id])  # one run, of its own recipe
            assert found[recipe_id][1]["window"]["since"]["utc"] == "2026-05-01T00:00:00Z"
            assert found[recipe_id][1]["tick"]["local"] == "2026-05-01T02:01:00+02:00"

        # an outage: every process stopped over the ticks 00:04 to 00:09, started at 00:10:10
        processes.stop()
        clock.set(MIDNIGHT + 10 * MINUTE + 10)
        processes.start()
        wait_for(lambda: len(stored(store).get("tick-every", [])) == 7
                 and len(stored(store).get("tick-once", [])) == 5, processes, "the catch-up", store)
        time.sleep(2.5)
        clock.set(MIDNIGHT + 11 * MINUTE + 10)
        wait_for(lambda: len(stored(store).get("tick-once", [])) == 6 and len(stored(store).get("tick-every", [])) == 8,
                 processes, "the tick after the outage", store)
        wait_for(lambda: all(e["status"] == "succeeded" for r in stored(store).values() for e in r),
                 processes, "every run succeeding", store)
    finally:
        processes.stop()
    found = stored(store)
    once, every = found["tick-once"], found["tick-every"]
    # once: the latest missed tick alone, saying how many were missed, its window back to 00:03
    assert ticks(once) == ["00:00", "00:01", "00:02", "00:03", "00:10", "00:11"]
    assert [e["missed"] for e in once] == [0, 0, 0, 0, 6, 0]
    assert once[4]["window"]["since"]["utc"] == "2026-05-01T00:03:00Z"
    # every: each missed tick, capped at the latest 3, the first saying how many were passed over
    assert ticks(every) == ["00:00", "00:01", "00:02", "00:03", "00:08", "00:09", "00:10", "00:11"]
    assert [e["missed"] for e in every] == [0, 0, 0, 0, 4, 0, 0, 0]
    assert every[4]["window"]["since"]["utc"] == "2026-05-01T00:07:00Z"
    with store.engine.connect() as conn:  # nothing else stored or run
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 14
        assert conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar() == 14
    store.dispose()
