"""One ledgerlink process of the outage test, run as ``python outage_process.py DB CONFIG
INDEX PROCESSES FAILURES``, or ``... DB CONFIG tick AT`` to look for ended alert windows.

A vendor outage, played on a simulated clock: failure ``i`` (0 ≤ i < FAILURES) of the recipe
``outage`` happens at :func:`failed_at` of i, as run ``i + 1``, with :func:`error_of` of i;
process INDEX reports the failures ``i`` with ``i % PROCESSES == INDEX`` through
``ledgerlink_run_ended``, as its workers would, in the order they happen.
"""

from __future__ import annotations

import sys

from ledgerlink.engine.events import call_hook
from ledgerlink.engine.operations import build_runtime
from ledgerlink.store import ClaimedRun

#: 2026-05-01 07:00:00 UTC, a multiple of the 900-second alert window
START = 1777618800.0
RECIPE = "outage"


def failed_at(i: int) -> float:
    """When failure ``i`` happens: one every 0.45 s (2,000 per 900-second window)."""
    return START + (i * 9) / 20


def error_of(i: int) -> str:
    """The vendor answered 503 four times in five, else the request timed out."""
    return "step 'entry': HTTP 503 Service Unavailable" if i % 5 else "step 'entry': the request timed out"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def main(db: str, config: str, *args: str) -> None:
    runtime = build_runtime(db=db, config_file=config)
    try:
        if args[0] == "tick":
            runtime.host.clock = Clock(float(args[1]))
            call_hook(runtime, "ledgerlink_tick", now=runtime.host.now())
            return
        index, processes, failures = (int(a) for a in args)
        clock = runtime.host.clock = Clock(START)
        for i in range(index, failures, processes):
            clock.now = failed_at(i)
            run = ClaimedRun(id=i + 1, recipe_id=RECIPE, recipe_version=1, event_pk=i + 1, attempts=1,
                             key_generation=0, connection="stripe", event_id=f"evt_{i}",
                             trigger="stripe.invoice.paid", payload="{}")
            call_hook(runtime, "ledgerlink_run_ended", run=run, outcome="failed", error=error_of(i))
    finally:
        runtime.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
