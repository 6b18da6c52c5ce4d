"""``/api/schedules``: each recipe on the clock, its last tick fired and its next due
(:mod:`ledgerlink.engine.schedules`, as ``ledgerlink schedules --format json`` prints it)."""

from __future__ import annotations

from flask import Response as FlaskResponse

from ledgerlink.engine.schedules import SCHEMA, schedules
from ledgerlink.web.responses import json_response, runtime
from ledgerlink.web.routes import ApiBlueprint

api = ApiBlueprint("schedules", __name__, operation_prefix="")


@api.operation("/api/schedules", ("GET",), "Every recipe whose trigger ticks (schedule.cron and others): its "
               "connection, schedule, time zone and catch-up, the last tick fired (in UTC and its zone, with "
               "the run it made), the next tick due (overdue when missed while no worker ran), and whether "
               "it is active, paused or disabled.",
               responses={200: "every ticking recipe, by id"}, response_schema=SCHEMA)
def list_schedules() -> FlaskResponse:
    rt = runtime()
    return json_response(schedules(rt, rt.clock()))
