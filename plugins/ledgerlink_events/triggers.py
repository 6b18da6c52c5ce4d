"""The host events a recipe can trigger on: their names, summaries, event schemas and samples.

Every event is the envelope of :func:`ledgerlink.contract.envelope_schema` (``id``,
``type``, ``occurred_at``, ``data``); ``data`` is described here, per trigger.
"""

from __future__ import annotations

from typing import Any

from ledgerlink.contract import Trigger, envelope_schema


def _text(description: str, **more: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **more}


def _count(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "description": description}


def _run_id(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "description": description}


#: ``data`` of ledgerlink.run.failed and ledgerlink.run.dead
RUN_ALERT = {
    "type": "object",
    "required": ["recipe_id", "stage", "count", "first_run_id", "last_run_id", "window_start", "window_end",
                 "error", "error_count", "fix"],
    "additionalProperties": False,
    "properties": {
        "recipe_id": _text("The recipe whose runs ended so."),
        "stage": _text("first: the window's first such run, raised at once (count 1); summary: the "
                       "window's later ones, raised once the window ended", enum=["first", "summary"]),
        "count": _count("How many runs this event is about: 1 for the first; the later runs of the "
                        "window for a summary."),
        "total": _count("Every such run of the window, the first included (summary only)."),
        "first_run_id": _run_id("The first run of the window (its smallest id)."),
        "last_run_id": _run_id("The last run of the window (its largest id)."),
        "window_start": _text("The alert window's start, ISO 8601 UTC.", format="date-time"),
        "window_end": _text("The alert window's end, ISO 8601 UTC.", format="date-time"),
        "error": _text("The error met most often in the window (the run's own for the first)."),
        "error_count": _count("How many runs of the window met that error."),
        "fix": _text("What to do, as commands to run."),
    },
}

NEEDS_REAUTH = {
    "type": "object", "required": ["connection", "reason", "fix"], "additionalProperties": False,
    "properties": {
        "connection": _text("The connection that must be connected again."),
        "reason": _text("Why: the vendor's refusal, in words."),
        "fix": _text("The command that connects it again; its parked runs then resume."),
    },
}

#: one kind of discrepancy and how many (``kinds`` lists them in the report's order)
KIND_COUNT = {
    "type": "object", "required": ["kind", "count"], "additionalProperties": False,
    "properties": {"kind": _text("The kind of discrepancy: missing, amount, currency, date, duplicated, "
                                 "not_linked or not_booked."),
                   "count": _count("How many of that kind.")},
}

DRIFT = {
    "type": "object", "required": ["connection", "since", "until", "discrepancies", "by_kind", "kinds",
                                   "ledgers", "fix"],
    "additionalProperties": False,
    "properties": {
        "connection": _text("The ledger connection reconciled."),
        "since": _text("The first day compared, YYYY-MM-DD."),
        "until": _text("The last day compared, YYYY-MM-DD."),
        "discrepancies": _count("How many discrepancies the reconciliation found."),
        "by_kind": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                    "description": "The count per kind of discrepancy."},
        "kinds": {"type": "array", "items": KIND_COUNT,
                  "description": "The same counts as a list, for a message to show one line per kind."},
        "ledgers": {"type": "array", "description": "Every ledger the same reconciliation compared, this one "
                                                    "included, with its discrepancies (0: it agrees).",
                    "items": {"type": "object", "required": ["connection", "discrepancies", "kinds"],
                              "additionalProperties": False,
                              "properties": {"connection": _text("The ledger connection."),
                                             "discrepancies": {"type": "integer", "minimum": 0,
                                                               "description": "How many it has."},
                                             "kinds": {"type": "array", "items": KIND_COUNT,
                                                       "description": "Its count per kind."}}}},
        "fix": _text("The command that lists each discrepancy with its fix."),
    },
}

REJECTED_BURST = {
    "type": "object", "required": ["connection", "count", "window_start", "window_end", "reason", "fix"],
    "additionalProperties": False,
    "properties": {
        "connection": _text("The connection whose webhook address refused the deliveries."),
        "count": _count("How many deliveries were refused in the window when the event was raised."),
        "window_start": _text("The window's start, ISO 8601 UTC.", format="date-time"),
        "window_end": _text("The window's end, ISO 8601 UTC.", format="date-time"),
        "reason": _text("The refusal met most often (a signature that does not verify, say)."),
        "fix": _text("What to check."),
    },
}


CONFLICT = {
    "type": "object", "required": ["recipe_id", "run_id", "connection", "reason", "fix"],
    "additionalProperties": False,
    "properties": {
        "recipe_id": _text("The recipe that found the conflict."),
        "run_id": _run_id("Its run, skipped as conflict (ledgerlink runs show RUN)."),
        "connection": _text("The connection whose event told of the edit."),
        "reason": _text("The edit, with both values: the following side's and the source of truth's."),
        "fix": _text("What to do."),
    },
}


def _sample(name: str, event_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "type": name, "occurred_at": "2026-05-01T07:00:00Z", "data": data}


TRIGGERS = [
    Trigger(name="ledgerlink.run.failed",
            summary="A recipe's runs failed for good: one event at the first failure of an alert window, "
                    "one summary with the count when the window ends",
            event_schema=envelope_schema(RUN_ALERT),
            sample=_sample("ledgerlink.run.failed", "run.failed:invoice-to-journal:2026-05-01T07:00:00Z:first", {
                "recipe_id": "invoice-to-journal", "stage": "first", "count": 1, "first_run_id": 41,
                "last_run_id": 41, "window_start": "2026-05-01T07:00:00Z", "window_end": "2026-05-01T07:15:00Z",
                "error": "step 'entry': the account 81 is inactive", "error_count": 1,
                "fix": "ledgerlink runs show 41; once the cause is fixed, ledgerlink runs replay 41"})),
    Trigger(name="ledgerlink.run.dead",
            summary="A recipe's runs gave up after their last attempt: deduplicated per alert window, as "
                    "ledgerlink.run.failed",
            event_schema=envelope_schema(RUN_ALERT),
            sample=_sample("ledgerlink.run.dead", "run.dead:invoice-to-journal:2026-05-01T07:00:00Z:summary", {
                "recipe_id": "invoice-to-journal", "stage": "summary", "count": 4999, "total": 5000,
                "first_run_id": 41, "last_run_id": 5040, "window_start": "2026-05-01T07:00:00Z",
                "window_end": "2026-05-01T07:15:00Z", "error": "gave up after 8 attempts: HTTP 503",
                "error_count": 5000, "fix": "ledgerlink runs list --status dead; ledgerlink runs replay RUN…"})),
    Trigger(name="ledgerlink.connection.needs_reauth",
            summary="A connection must be connected again; its runs wait, parked (one event per connection "
                    "per alert window)",
            event_schema=envelope_schema(NEEDS_REAUTH),
            sample=_sample("ledgerlink.connection.needs_reauth", "connection.needs_reauth:books:2026-05-01T07:00:00Z",
                           {"connection": "books", "reason": "its refresh token was refused",
                            "fix": "ledgerlink connect books"})),
    Trigger(name="ledgerlink.reconcile.drift",
            summary="A reconciliation found the two sides disagreeing",
            event_schema=envelope_schema(DRIFT),
            sample=_sample("ledgerlink.reconcile.drift", "reconcile.drift:books:2026-04-01:2026-04-30:2026-05-01T07:00:00Z",
                           {"connection": "books", "since": "2026-04-01", "until": "2026-04-30", "discrepancies": 2,
                            "by_kind": {"missing": 1, "amount": 1},
                            "kinds": [{"kind": "missing", "count": 1}, {"kind": "amount", "count": 1}],
                            "ledgers": [{"connection": "books", "discrepancies": 2,
                                         "kinds": [{"kind": "missing", "count": 1}, {"kind": "amount", "count": 1}]},
                                        {"connection": "xero", "discrepancies": 0, "kinds": []}],
                            "fix": "ledgerlink reconcile --since 2026-04-01 --until 2026-04-30 --connection books"})),
    Trigger(name="ledgerlink.webhook.rejected_burst",
            summary="Many webhook deliveries to one connection were refused in a short time (a rotated "
                    "signing secret, or someone probing the address)",
            event_schema=envelope_schema(REJECTED_BURST),
            sample=_sample("ledgerlink.webhook.rejected_burst", "webhook.rejected_burst:stripe:2026-05-01T07:00:00Z",
                           {"connection": "stripe", "count": 10, "window_start": "2026-05-01T07:00:00Z",
                            "window_end": "2026-05-01T07:01:00Z",
                            "reason": "the signature does not verify with any configured secret",
                            "fix": "compare the connection's signing secret with the vendor's"})),
    Trigger(name="ledgerlink.sync.conflict",
            summary="A person changed, on the side that follows, a field the source of truth owns; the "
                    "change was reported (its run skipped as conflict, with both values), not overwritten",
            event_schema=envelope_schema(CONFLICT),
            sample=_sample("ledgerlink.sync.conflict", "sync.conflict:57", {
                "recipe_id": "quickbooks-customer-updated-checked-against-stripe", "run_id": 57,
                "connection": "quickbooks",
                "reason": "QuickBooks customer 58 has DisplayName \"Amy B.\" where Stripe, which owns "
                          "customers, has name \"Amy's Bird Sanctuary\"",
                "fix": "ledgerlink runs show 57; correct the field on the side that follows, or change it "
                       "where the source of truth keeps it"})),
]
