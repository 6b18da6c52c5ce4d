"""The governor against the Xero sandbox: the figures of the Xero limits proof.

Runs the workload of tests/connectors/xero/test_xero_governor.py (``xero_governed.py``) on a
simulated clock: 1,000 fee runs on an organisation with Xero's limits (60 a minute, 5 at
once, 5,000 a day), then 30 runs on a Starter organisation (1,000 a day) whose day another
installation has used 990 of at 23:50 UTC, then 3 runs after Xero's minute was used up
elsewhere (a 429 waited out). For each governor (in-process; shared through SQLite, or
through PostgreSQL with ``--pg URL``) it prints the calls in each whole minute, the most in
flight at once, the 429s, the runs' attempts and the day's pause. The clock is simulated, so
the figures are exact and the same on every machine; the real seconds the bench took are
printed too.

Run: .venv/bin/python bench/xero_governor.py [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "connectors" / "xero")]

from simulated_clock import DAY, MIDNIGHT, FakeClock  # noqa: E402
from xero_governed import governed_runs  # noqa: E402

from ledgerlink.io.governor.local import LocalGovernor  # noqa: E402
from ledgerlink.io.governor.shared import SharedGovernor  # noqa: E402
from ledgerlink.store import Store  # noqa: E402
from ledgerlink.testing.databases import migrated_db  # noqa: E402
from ledgerlink.testing.sandbox import running  # noqa: E402
from ledgerlink_sandboxes.xero import DEFAULT_TENANT, create_sandbox  # noqa: E402
from ledgerlink_xero.limits import limits  # noqa: E402


def governor_maker(kind: str, directory: Path):
    """``make(clock) -> (governor, store or None)``; the shared governor gets a fresh database
    each time (PostgreSQL when LEDGERLINK_TEST_DB names one: ``--pg``)."""
    def make(clock: FakeClock):
        if kind == "local":
            return LocalGovernor(clock=clock, sleep=clock.sleep, wall_clock=clock.wall), None
        store = Store(migrated_db(directory))
        return SharedGovernor(store, clock=clock, sleep=clock.sleep), store
    return make


def scenario(make, name: str, start: float, runs: int, day_limit: int = 5000, **elsewhere) -> dict:
    clock = FakeClock(start=start, wall=start)
    governor, store = make(clock)
    began = time.perf_counter()
    try:
        with running(create_sandbox(clock=clock, wall_clock=clock.wall, day_limit=day_limit)) as served:
            if elsewhere:
                served.sandbox.used_elsewhere(DEFAULT_TENANT, **elsewhere)
            outcome = governed_runs(served.url, governor, clock, limits(day_limit), runs)
    finally:
        governor.close()
        if store is not None:
            store.dispose()
    t0 = outcome.starts[0]
    paused = [at for reason, at in outcome.throttled if reason == "daily"]
    return {"scenario": name, "runs": outcome.succeeded, "requests": len(outcome.starts),
            "per_minute": Counter(outcome.per_minute(t0)), "peak": outcome.peak, "429s": outcome.too_many,
            "attempts": Counter(outcome.attempts.values()),
            "day_pause": (f"{min(paused) - MIDNIGHT - DAY:+.0f} s to {outcome.starts[10] - MIDNIGHT - DAY:+.0f} s "
                          f"around UTC midnight" if paused else "none"),
            "real_seconds": round(time.perf_counter() - began, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL for the shared governor's throwaway "
                                         "databases (else SQLite)")
    args = parser.parse_args()
    if args.pg:
        os.environ["LEDGERLINK_TEST_DB"] = args.pg
    ok = True
    with tempfile.TemporaryDirectory() as directory:
        for kind in ("local", "shared"):
            (Path(directory) / kind).mkdir()
            make = governor_maker(kind, Path(directory) / kind)
            label = kind if kind == "local" else f"shared ({'PostgreSQL' if args.pg else 'SQLite'})"
            for row in (scenario(make, "1,000 runs", MIDNIGHT + 3600.0, 1000),
                        scenario(make, "Starter day", MIDNIGHT + DAY - 600.0, 30, day_limit=1000, day=990,
                                 seconds_ago=DAY - 600.0),
                        scenario(make, "minute used elsewhere", MIDNIGHT + 3600.0, 3, minute=60)):
                print(f"{label:20} {row['scenario']:22} runs {row['runs']:5}  requests {row['requests']:5}  "
                      f"calls per whole minute {dict(row['per_minute']) or '-'}  max in flight {row['peak']}  "
                      f"429s {row['429s']}  attempts {dict(row['attempts'])}  day pause {row['day_pause']}  "
                      f"({row['real_seconds']} s real)")
                ok = ok and row["runs"] > 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
