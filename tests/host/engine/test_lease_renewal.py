"""The lease a worker holds on a run it performs, read by a simulated clock.

A run is renewed before a step only when less than half a lease is left: a run whose steps
are quick never pays for a renewal, a step that took long makes the next one renew, and a
lease that ran out and was taken over by another worker is found lost before the next step
is sent. The store, the recipe and the file effects are real; only time is simulated.
"""

from __future__ import annotations

import json
from pathlib import Path

from filedrop_connector import catalog as filedrop_catalog, recipe as one_line_recipe
from ledgerlink.config import load_config
from ledgerlink.engine.lease import LiveRun
from ledgerlink.engine.runner import perform
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from stripe_events import invoice_paid_event

LEASE = 60.0
CLAIMED_AT = 1000.0


def three_steps() -> dict:
    """The filedrop recipe with three steps, each appending a line to its own file."""
    raw = one_line_recipe()
    (step,) = raw["steps"]
    raw["steps"] = [dict(step, id=name, input=dict(step["input"], path=f"books/{name}.csv"))
                    for name in ("one", "two", "three")]
    return raw


def runtime_with_run(tmp_path: Path, monkeypatch) -> tuple[Runtime, int]:
    """A runtime over a fresh database with one run of the three-step recipe, due at once."""
    monkeypatch.setenv("LL_LEASE_WHSEC", "whsec_lease_test")
    (tmp_path / "books").mkdir()
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "three-lines.json").write_text(json.dumps(three_steps()))
    config = tmp_path / "ledgerlink.toml"
    config.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_LEASE_WHSEC}"\n\n'
                      f'[connections.files]\nconnector = "filedrop"\nfolder = "{tmp_path}"\n')
    catalog = filedrop_catalog()
    runtime = Runtime(catalog, load_config(config, catalog), Store(migrated_db(tmp_path)), recipes,
                      Settings(lease_seconds=LEASE))
    runtime.registry.reload()
    event = invoice_paid_event("usd", 1250, event_id="evt_lease")
    ((_, _, (run_id,)),) = runtime.store.ingest(
        "stripe", [(event["id"], "stripe.invoice.paid", event, [("invoice-paid-to-file", 1)])], now=CLAIMED_AT - 1)
    return runtime, run_id


def lease_until(runtime: Runtime, run_id: int) -> tuple[str | None, float | None]:
    run = runtime.store.run(run_id)
    assert run is not None
    return run["lease_owner"], run["lease_until"]


def test_quick_steps_keep_the_claimed_lease_and_a_long_step_renews_it(tmp_path, monkeypatch):
    runtime, run_id = runtime_with_run(tmp_path, monkeypatch)
    try:
        (run,) = runtime.store.claim("worker-a", LEASE, now=CLAIMED_AT)
        assert run.owner == "worker-a" and run.lease_until == CLAIMED_AT + LEASE
        # before step one: just claimed; before step two: 10 s later; before step three: step
        # two took 25 s more, so 25 s of the lease are left, less than half of it
        readings = iter([CLAIMED_AT, CLAIMED_AT + 10, CLAIMED_AT + 35])
        leases: list[tuple[str | None, float | None]] = []  # as stored before steps two and three

        live = LiveRun(run, "worker-a", runtime.store, runtime.connections, runtime.metrics, LEASE,
                       clock=lambda: next(readings))
        recipe = runtime.registry.version(run.recipe_id, run.recipe_version)
        assert perform(live, recipe, lambda step, doc: leases.append(lease_until(runtime, run_id))) is True
        # no renewal before step two; the one before step three gave a whole lease from then
        assert leases == [("worker-a", CLAIMED_AT + LEASE), ("worker-a", CLAIMED_AT + 35 + LEASE)]
        assert live.lease_until == CLAIMED_AT + 35 + LEASE
        stored = runtime.store.run(run_id)
        assert stored["status"] == "succeeded"
        assert [s["step_id"] for s in stored["steps"]] == ["one", "two", "three"]
    finally:
        runtime.close()


def test_a_lease_lost_during_a_long_step_is_found_before_the_next_step(tmp_path, monkeypatch):
    runtime, run_id = runtime_with_run(tmp_path, monkeypatch)
    try:
        (run,) = runtime.store.claim("worker-a", LEASE, now=CLAIMED_AT)
        later = CLAIMED_AT + LEASE + 5  # step two took longer than the whole lease

        def clock() -> float:
            if not clock.calls:  # before step one
                clock.calls = 1
                return CLAIMED_AT
            if clock.calls == 1:  # before step two: still well within the lease
                clock.calls = 2
                return CLAIMED_AT + 1
            # before step three: meanwhile the lease ran out and worker b took the run over
            (taken,) = runtime.store.claim("worker-b", LEASE, now=later - 1)
            assert taken.id == run_id and taken.attempts == 2
            return later
        clock.calls = 0

        live = LiveRun(run, "worker-a", runtime.store, runtime.connections, runtime.metrics, LEASE, clock=clock)
        recipe = runtime.registry.version(run.recipe_id, run.recipe_version)
        assert perform(live, recipe) is False  # lost: worker b finishes the run
        assert lease_until(runtime, run_id) == ("worker-b", later - 1 + LEASE)  # a's renewal changed nothing
        stored = runtime.store.run(run_id)
        assert stored["status"] == "running"
        assert [s["step_id"] for s in stored["steps"]] == ["one", "two"]  # step three was not sent
        assert not (tmp_path / "books" / "three.csv").exists()
        assert (tmp_path / "books" / "two.csv").read_text().startswith("evt_lease,")
    finally:
        runtime.close()
