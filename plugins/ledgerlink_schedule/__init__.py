"""Schedules for ledgerlink: recipes started by the clock.

Trigger ``schedule.cron`` (:mod:`.trigger`): a recipe sets a cron expression, its time zone
and how to catch up after downtime in ``trigger.options``; every worker process asks it
for the ticks due (:mod:`ledgerlink.contract.clock`) and each tick starts one run, once
however many processes run. Ticks are computed by :mod:`.cron`.

Action ``schedule.sync_report`` (:mod:`.report`): what ran in a tick's window — runs per
recipe and status, the failures with their fix — as plain text and HTML, for a step that
mails or files it.
"""

from __future__ import annotations

from ledgerlink import hookimpl
from ledgerlink.contract import Connector
from ledgerlink_schedule.report import SYNC_REPORT
from ledgerlink_schedule.trigger import CRON


@hookimpl
def ledgerlink_register_connectors(register):
    register(Connector(
        name="schedule",
        summary="The clock: recipes that run on a cron schedule, in their own time zone.",
        settings_schema={"type": "object", "additionalProperties": False, "properties": {}},
    ))


@hookimpl
def ledgerlink_register_triggers(register):
    register(CRON)


@hookimpl
def ledgerlink_register_actions(register):
    register(SYNC_REPORT)
