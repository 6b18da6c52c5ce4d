"""``ledgerlink.sync.conflict``: a person's edit on the side that follows, on a field the
source of truth owns (``[source_of_truth]``), was reported — its run skipped as ``conflict``
with both values — rather than overwritten. One event per such run, raised when it ends; the
event id is the run's, so every process agrees on it.
"""

from __future__ import annotations

from typing import Any

from ledgerlink.contract import Host, raise_event

PREFIX = "conflict: "


def run_ended(run: Any, outcome: str, error: str | None, host: Host) -> None:
    """Raise the event when ``run`` was skipped as a conflict (the worker says ``conflict: why``)."""
    if outcome != "skipped" or not (error or "").startswith(PREFIX) or run.trigger.startswith("ledgerlink."):
        return
    raise_event(host, "ledgerlink.sync.conflict", f"sync.conflict:{run.id}", {
        "recipe_id": run.recipe_id, "run_id": run.id, "connection": run.connection,
        "reason": (error or "")[len(PREFIX):],
        "fix": f"ledgerlink runs show {run.id}; correct the field on the side that follows, or change it "
               f"where the source of truth keeps it"})
