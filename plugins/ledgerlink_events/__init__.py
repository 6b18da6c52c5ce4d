"""The connector ``ledgerlink``: the host's own events as triggers.

``ledgerlink.run.failed``, ``ledgerlink.run.dead``, ``ledgerlink.connection.needs_reauth``,
``ledgerlink.reconcile.drift``, ``ledgerlink.webhook.rejected_burst`` and
``ledgerlink.sync.conflict`` (:mod:`.triggers`; :mod:`.conflicts`) are raised through the kit's behaviour hooks and :func:`ledgerlink.contract.raise_event`,
deduplicated (:mod:`.alerts`), as any plugin could. A recipe names the connection
``ledgerlink``::

    "trigger": {"event": "ledgerlink.run.failed", "connection": "ledgerlink"}
"""

from __future__ import annotations

from ledgerlink.contract import Connector, hookimpl

from ledgerlink_events import alerts, conflicts
from ledgerlink_events.triggers import TRIGGERS

CONNECTOR = Connector(
    name="ledgerlink",
    summary="This ledgerlink: its own events (runs failed or dead, a connection to connect again, a "
            "reconciliation's drift, a burst of refused webhooks, a conflict with the source of "
            "truth), deduplicated per alert window",
    settings_schema={"type": "object", "additionalProperties": False, "properties": {}},
)


@hookimpl
def ledgerlink_register_connectors(register):
    register(CONNECTOR)


@hookimpl
def ledgerlink_register_triggers(register):
    for trigger in TRIGGERS:
        register(trigger)


@hookimpl
def ledgerlink_run_ended(run, outcome, error, host):
    alerts.run_ended(run, outcome, error, host)
    conflicts.run_ended(run, outcome, error, host)


@hookimpl
def ledgerlink_connection_paused(connection, reason, host):
    alerts.connection_paused(connection, reason, host)


@hookimpl
def ledgerlink_webhook_rejected(connection, reason, at, host):
    alerts.webhook_rejected(connection, reason, at, host)


@hookimpl
def ledgerlink_reconcile_ended(report_summary, host):
    alerts.reconcile_ended(report_summary, host)


@hookimpl
def ledgerlink_tick(now, host):
    alerts.tick(now, host)
