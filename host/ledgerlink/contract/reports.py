"""Reading the host's own record from an action: the runs of a window.

An action that reports on ledgerlink itself (a daily sync report, say) yields a
:class:`RunsQuery` instead of a :class:`~ledgerlink.contract.Request`; the host answers it
from its run store with ``Response(200, json=...)`` shaped as :data:`ANSWER_SCHEMA` — no
I/O in the action, as for a :class:`~ledgerlink.contract.LinkQuery` — together with the
summary of the latest reconciliation kept (:func:`reconciliation_summary`), if one ran. A
dry-run answers with an empty window and no reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: the most failures one answer lists (the counts still count them all)
MAX_FAILURES = 200
#: the most discrepancies of the latest reconciliation one answer lists
MAX_DISCREPANCIES = 50
#: the stored row where the host keeps the latest reconciliation's report
#: (:data:`ledgerlink.engine.reconciliations.LATEST`)
LATEST_RECONCILIATION = "reconcile:latest"


@dataclass(frozen=True)
class RunsQuery:
    """"Which runs were planned from ``since`` up to ``until`` (Unix seconds), and how do
    they stand now?" Answered with counts per recipe and status, and the runs that failed or
    died, each with its error (the error names the fix) and the command that retries it."""

    since: float
    until: float


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["since", "until", "counts", "failures", "failures_left_off"],
    "properties": {
        "since": {"type": "number", "description": "The window's start, Unix seconds."},
        "until": {"type": "number", "description": "The window's end (excluded), Unix seconds."},
        "counts": {"type": "array", "description": "Runs per recipe and status, by recipe then status.",
                   "items": {"type": "object", "required": ["recipe_id", "status", "count"],
                             "properties": {"recipe_id": {"type": "string"}, "status": {"type": "string"},
                                            "count": {"type": "integer"}}}},
        "failures": {"type": "array", "description": "Runs failed or dead now, oldest first.",
                     "items": {"type": "object",
                               "required": ["run_id", "recipe_id", "status", "error", "retry"],
                               "properties": {"run_id": {"type": "integer"},
                                              "recipe_id": {"type": "string"},
                                              "status": {"type": "string"},
                                              "error": {"type": ["string", "null"]},
                                              "retry": {"type": "string"}}}},
        "failures_left_off": {"type": "integer", "description": "Failures beyond those listed."},
        "reconciliation": {"type": ["object", "null"],
                           "description": "The latest reconciliation kept (whenever it ran): at, since, until, "
                                          "ok, counts per problem, notes, its first discrepancies each with its "
                                          "fix, discrepancies_total; null when none ran."},
    },
}


def reconciliation_summary(report: Any) -> dict[str, Any] | None:
    """What a report tells of the latest reconciliation ``report`` (as the host keeps it):
    when and what period it compared, whether both sides agree, the discrepancies per
    problem and the first :data:`MAX_DISCREPANCIES` of them with the run and fix of each."""
    if not isinstance(report, dict):
        return None
    listed = [d for d in report.get("discrepancies") or [] if isinstance(d, dict)]
    keys = ("problem", "connection", "kind", "id", "date", "expected", "found", "run", "fix")
    return {"at": report.get("at"), "since": report.get("since"), "until": report.get("until"),
            "ok": bool(report.get("ok")), "counts": report.get("counts") or {},
            "notes": list(report.get("notes") or []),
            "discrepancies": [{k: d.get(k) for k in keys} for d in listed[:MAX_DISCREPANCIES]],
            "discrepancies_total": len(listed)}


def empty_answer(query: RunsQuery) -> dict[str, Any]:
    """The answer for a window without runs (what a dry-run is given)."""
    return {"since": query.since, "until": query.until, "counts": [], "failures": [], "failures_left_off": 0,
            "reconciliation": None}
