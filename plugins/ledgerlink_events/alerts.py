"""Turning what happened into host events, deduplicated so an outage raises a handful.

A recipe's failed (or dead) runs are counted per alert window (``[alerts]``
``interval_seconds``, default 900) in the host's tallies, which every process shares: the
window's first such run raises its event at once (``stage`` first, count 1), and once the
window ended the later ones are summed into one summary event (``stage`` summary, their
count, the first and last run ids, the error met most often and the fix). Event ids are
built from the recipe and the window, so every process raising one agrees on it and the
inbox keeps it once. A run of a recipe triggered by a ``ledgerlink.*`` event raises
nothing: an alert never triggers itself.

Refused webhook deliveries are counted per connection in windows of ``burst_seconds``
(default 60); the ``rejected_burst``-th (default 10) of a window raises
``ledgerlink.webhook.rejected_burst`` once. A connection parked for re-authorisation raises
``ledgerlink.connection.needs_reauth`` once per connection per alert window, and a
reconciliation that found discrepancies raises ``ledgerlink.reconcile.drift`` once per
connection, range and alert window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledgerlink.contract import Host, Tally, raise_event

#: the tally keys of run alerts start with it; the host events' trigger names with ``ledgerlink.``
RUN_KINDS = {"failed": "run.failed", "dead": "run.dead"}


@dataclass(frozen=True)
class Settings:
    """The ``[alerts]`` table of ledgerlink.toml, with its defaults."""

    interval_seconds: float = 900.0
    rejected_burst: int = 10
    burst_seconds: float = 60.0

    @classmethod
    def of(cls, host: Host) -> "Settings":
        table = host.settings("alerts")
        return cls(float(table.get("interval_seconds", cls.interval_seconds)),
                   int(table.get("rejected_burst", cls.rejected_burst)),
                   float(table.get("burst_seconds", cls.burst_seconds)))


def iso(at: float) -> str:
    """Unix seconds as ISO 8601 UTC, to the second."""
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _window(at: float, length: float) -> tuple[float, float]:
    start = (at // length) * length
    return start, start + length


def run_fix(outcome: str, first: int, last: int) -> str:
    """The commands that show and replay the runs of an alert."""
    if first == last:
        return f"ledgerlink runs show {first}; once the cause is fixed, ledgerlink runs replay {first}"
    return (f"ledgerlink runs list --status {outcome} (runs {first} to {last}); once the cause is fixed, "
            f"ledgerlink runs replay each")


def run_ended(run: Any, outcome: str, error: str | None, host: Host) -> None:
    """Count a failed or dead run; raise the window's first event when it is the first."""
    kind = RUN_KINDS.get(outcome)
    if kind is None or run.trigger.startswith("ledgerlink."):
        return
    settings = Settings.of(host)
    tally = host.tally(f"{kind}:{run.recipe_id}", settings.interval_seconds, error or outcome, run.id)
    if tally.count != 1:
        return
    start = iso(tally.window_start)
    raise_event(host, f"ledgerlink.{kind}", f"{kind}:{run.recipe_id}:{start}:first", {
        "recipe_id": run.recipe_id, "stage": "first", "count": 1, "first_run_id": run.id, "last_run_id": run.id,
        "window_start": start, "window_end": iso(tally.window_end), "error": error or outcome, "error_count": 1,
        "fix": run_fix(outcome, run.id, run.id)})


def summary_data(kind: str, recipe_id: str, tally: Tally) -> dict[str, Any]:
    """The data of a window's summary event."""
    outcome = kind.split(".", 1)[1]
    first = tally.first_run if tally.first_run is not None else 0
    last = tally.last_run if tally.last_run is not None else first
    return {"recipe_id": recipe_id, "stage": "summary", "count": tally.count - 1, "total": tally.count,
            "first_run_id": first, "last_run_id": last, "window_start": iso(tally.window_start),
            "window_end": iso(tally.window_end), "error": tally.top_error or outcome,
            "error_count": max(tally.top_error_count, 1), "fix": run_fix(outcome, first, last)}


def tick(now: float, host: Host) -> int:
    """Raise the summary of every alert window that ended with more than its first run;
    settle each (one indexed read when none ended). Returns how many were raised."""
    raised = 0
    for tally in host.closed_tallies("run.", now):
        kind, recipe_id = tally.key.split(":", 1)
        if tally.count > 1:  # raised before settling: a process dying between leaves it to another
            raise_event(host, f"ledgerlink.{kind}", f"{kind}:{recipe_id}:{iso(tally.window_start)}:summary",
                        summary_data(kind, recipe_id, tally), occurred_at=tally.window_end)
            raised += 1
        host.settle(tally)
    for tally in host.closed_tallies("webhook.rejected:", now):
        host.settle(tally)
    return raised


def connection_paused(connection: str, reason: str | None, host: Host) -> None:
    """One needs_reauth event per connection per alert window."""
    start, _ = _window(host.now(), Settings.of(host).interval_seconds)
    raise_event(host, "ledgerlink.connection.needs_reauth", f"connection.needs_reauth:{connection}:{iso(start)}",
                {"connection": connection, "reason": reason or "the vendor refused its credentials",
                 "fix": f"ledgerlink connect {connection}"})


def webhook_rejected(connection: str, reason: str, at: float, host: Host) -> None:
    """Count a refused delivery; the burst's threshold raises its event once per window."""
    settings = Settings.of(host)
    tally = host.tally(f"webhook.rejected:{connection}", settings.burst_seconds, reason, None, at)
    if tally.count < settings.rejected_burst:
        return
    start = iso(tally.window_start)
    raise_event(host, "ledgerlink.webhook.rejected_burst", f"webhook.rejected_burst:{connection}:{start}", {
        "connection": connection, "count": tally.count, "window_start": start,
        "window_end": iso(tally.window_end), "reason": tally.top_error or reason,
        "fix": (f"if the sender is the vendor, the signing secret of connection {connection!r} no longer "
                f"matches its endpoint's: compare them (ledgerlink webhooks list); else someone is "
                f"probing the webhook address")}, occurred_at=at)


def _kinds(by_kind: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``{"missing": 1}`` as ``[{"kind": "missing", "count": 1}]``, in the report's order, none of 0."""
    return [{"kind": str(kind), "count": int(count)} for kind, count in by_kind.items() if int(count) > 0]


def reconcile_ended(summary: Mapping[str, Any], host: Host) -> None:
    """A reconciliation with discrepancies raises its drift once per range per alert window,
    with the counts per kind, and those of every ledger the reconciliation compared."""
    found = int(summary.get("discrepancies") or 0)
    if found <= 0:
        return
    connection, since, until = str(summary["connection"]), str(summary["since"]), str(summary["until"])
    by_kind = {str(k): int(v) for k, v in dict(summary.get("by_kind") or {}).items()}
    ledgers = dict(summary.get("ledgers") or {connection: by_kind})
    start, _ = _window(host.now(), Settings.of(host).interval_seconds)
    raise_event(host, "ledgerlink.reconcile.drift", f"reconcile.drift:{connection}:{since}:{until}:{iso(start)}", {
        "connection": connection, "since": since, "until": until, "discrepancies": found,
        "by_kind": by_kind, "kinds": _kinds(by_kind),
        "ledgers": [{"connection": str(ledger), "discrepancies": sum(int(v) for v in dict(kinds).values()),
                     "kinds": _kinds(dict(kinds))} for ledger, kinds in ledgers.items()],
        "fix": f"ledgerlink reconcile --since {since} --until {until} --connection {connection}"})
