"""``/api/reconcile``: the latest reconciliation, and one run now
(:mod:`ledgerlink.engine.reconciliations`)."""

from __future__ import annotations

import datetime as dt

from flask import Response as FlaskResponse

from ledgerlink.engine.reconcile import check_period
from ledgerlink.errors import InvalidRequest
from ledgerlink.web.responses import body_json, error, json_response, runtime
from ledgerlink.web.routes import ApiBlueprint

api = ApiBlueprint("reconcile", __name__, operation_prefix="")

DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


@api.operation("/api/reconcile", ("GET",), "The latest reconciliation's report: when, the period, whether both "
               "sides agree, and each discrepancy with its run and fix.",
               responses={200: "the latest report", 404: "no reconciliation has run yet"})
def latest_report() -> FlaskResponse:
    from ledgerlink.engine.reconciliations import latest
    found = latest(runtime())
    if found is None:
        return error(404, "not_found", "no reconciliation has run yet: POST /api/reconcile {\"since\": "
                                       "\"YYYY-MM-DD\"} or run `ledgerlink reconcile --since DATE`")
    return json_response(found)


@api.operation("/api/reconcile", ("POST",), "Reconcile now: compare the source's objects with each ledger's "
               "(or one connection's) over a period, keep the report as the latest, raise "
               "ledgerlink.reconcile.drift for a ledger that disagrees.",
               request_schema={"type": "object", "required": ["since"],
                               "properties": {"since": DATE, "until": DATE, "connection": {"type": "string"}}},
               responses={200: "the report (ok is true only when both sides agree)",
                          400: "a missing or unreadable date", 404: "the connection is not a ledger to reconcile",
                          422: "the body is not an object"})
def reconcile_now() -> FlaskResponse:
    from ledgerlink.engine.reconciliations import run
    data = body_json()
    if not isinstance(data, dict):
        return error(422, "invalid_request", "send {\"since\": \"YYYY-MM-DD\", \"until\": …, \"connection\": …}")
    if "since" not in data:
        raise InvalidRequest("since is required: the first day, YYYY-MM-DD")
    since, until = data["since"], data.get("until") or dt.datetime.now(dt.timezone.utc).date().isoformat()
    connection = data.get("connection")
    if connection is not None and not isinstance(connection, str):
        raise InvalidRequest("connection must be a connection's name")
    check_period(since, until)
    return json_response(run(runtime(), since, until, connection=connection).as_json())
