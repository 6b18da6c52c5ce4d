"""The action ``ledgerlink.reconcile``: a recipe reconciles (e.g. nightly, on ``schedule.cron``).

Registered by a module of its own (entry point ``events_reconcile``), on the ``ledgerlink``
connector. Its one step yields a :class:`~ledgerlink.contract.ReconcileQuery`; the host runs
the reconciliation as ``ledgerlink reconcile`` does — the report kept as the latest, a ledger
that disagrees raising ``ledgerlink.reconcile.drift`` (which an alert recipe mails) — and the
step's output is the report's summary. A dry-run shows the query and reconciles nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext, ReconcileQuery, Response, hookimpl
from ledgerlink.contract.problems import begin
from ledgerlink.contract.reconcile import empty_report

DATE = {"type": "string"}
INPUT = {
    "type": "object", "additionalProperties": False, "required": ["since"],
    "properties": {
        "since": {**DATE, "description": "The first day reconciled, YYYY-MM-DD (a date-time's day is taken)."},
        "until": {**DATE, "description": "The last day, included (default: since)."},
        "connection": {"type": "string", "description": "Only this ledger connection (default: every ledger)."},
    },
}
OUTPUT = {
    "type": "object", "required": ["ok", "discrepancies", "counts"],
    "properties": {
        "ok": {"type": "boolean", "description": "True only when both sides agree."},
        "since": {"type": "string", "description": "The first day reconciled."},
        "until": {"type": "string", "description": "The last day reconciled."},
        "discrepancies": {"type": "integer", "description": "How many."},
        "counts": {"type": "object", "description": "Discrepancies per problem."},
        "ledgers": {"type": "object", "description": "Per ledger connection, its discrepancies per problem."},
        "notes": {"type": "array", "description": "What was not compared, and why."},
    },
}


def _day(value: Any) -> Any:
    """A date-time's day (``2026-05-01T02:00:00Z`` → ``2026-05-01``), as a cron tick carries it."""
    return value[:10] if isinstance(value, str) and len(value) > 10 and value[10] in "T " else value


def perform(data: Mapping[str, Any], ctx: ActionContext) -> Generator[ReconcileQuery, Response, dict[str, Any]]:
    problems = begin("ledgerlink.reconcile", "a reconciliation", data, INPUT["properties"])
    since, until = _day(data.get("since")), _day(data.get("until") or data.get("since"))
    for name, value in (("since", since), ("until", until)):
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            problems.add(f"/{name}", f"{name} must be a date, YYYY-MM-DD (got {value!r})")
    problems.raise_if_any()
    answer = yield ReconcileQuery(str(since), str(until), data.get("connection"))
    report = answer.json
    return {"ok": report["ok"], "since": report["since"], "until": report["until"],
            "discrepancies": len(report["discrepancies"]), "counts": report["counts"],
            "ledgers": report.get("ledgers", {}), "notes": report.get("notes", [])}


ACTION = Action(
    name="ledgerlink.reconcile",
    summary="Reconcile a period now, as `ledgerlink reconcile` does: the report kept as the latest, a ledger "
            "that disagrees raising ledgerlink.reconcile.drift; the output is its summary.",
    input_schema=INPUT, output_schema=OUTPUT, sample={"since": "2026-05-01", "until": "2026-05-01"},
    perform=perform, idempotency="none",
    sample_response=lambda query: Response(200, json=empty_report(query)),
)


@hookimpl
def ledgerlink_register_actions(register):
    """Register ``ledgerlink.reconcile``."""
    register(ACTION)
