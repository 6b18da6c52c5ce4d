"""A reconciliation as the host runs it: compared, kept, and told to the plugins.

:func:`run` reconciles (:func:`ledgerlink.engine.reconcile.reconcile`), keeps the report as
the latest (one stored row, ``reconcile:latest``, read by :func:`latest` for the API and
the daily report; and one per ledger reconciled, read by :func:`latest_of` for the console) and tells every plugin through the behaviour hook
``ledgerlink_reconcile_ended``, once per ledger reconciled: a ledger with discrepancies
raises ``ledgerlink.reconcile.drift`` there (the ``ledgerlink`` connector's alerts).
``ledgerlink reconcile``, ``POST /api/reconcile`` and the ``ledgerlink.reconcile`` action
(through :func:`attach`) all run it this way.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from ledgerlink import jsonio
from ledgerlink.engine.events import call_hook
from ledgerlink.contract.reconcile import ReconcileQuery
from ledgerlink.engine.reconcile import Report, check_period, reconcile
from ledgerlink.engine.runtime import Runtime

#: the stored row holding the latest report
LATEST = "reconcile:latest"


def run(rt: Runtime, since: str, until: str, connection: str | None = None,
        sleep: Callable[[float], None] = time.sleep) -> Report:
    """Reconcile ``[since, until]`` (every ledger, or ``connection``), keep the report as the
    latest, and call ``ledgerlink_reconcile_ended`` for each ledger reconciled."""
    report = reconcile(rt, since, until, connection=connection, sleep=sleep)
    at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rt.store.set_cursor(LATEST, jsonio.dumps({"at": at, **report.as_json()}))
    for ledger in report.ledgers:
        rt.store.set_cursor(f"{LATEST}:{ledger}", jsonio.dumps({"at": at, **report.of_ledger(ledger)}))
    every = {ledger: dict(by_kind) for ledger, by_kind in report.ledgers.items()}
    for ledger, by_kind in report.ledgers.items():
        call_hook(rt, "ledgerlink_reconcile_ended", report_summary={
            "connection": ledger, "since": since, "until": until,
            "discrepancies": sum(by_kind.values()), "by_kind": dict(by_kind), "ledgers": every})
    return report


def attach(rt: Runtime) -> Runtime:
    """Let ``rt``'s actions reconcile: a :class:`~ledgerlink.contract.reconcile.ReconcileQuery`
    an action yields is answered by :func:`run` (``build_runtime`` attaches every runtime it
    builds). Returns ``rt``."""
    def answer(query: ReconcileQuery) -> dict[str, Any]:
        check_period(query.since, query.until)
        return run(rt, query.since, query.until, connection=query.connection).as_json()

    rt.connections.reconciler = answer
    return rt


def latest(rt: Runtime) -> dict[str, Any] | None:
    """The latest report kept (as :meth:`Report.as_json`, with ``at``), or None."""
    text = rt.store.cursor(LATEST)
    return jsonio.loads(text) if text else None


def latest_of(rt: Runtime, ledger: str) -> dict[str, Any] | None:
    """The latest reconciliation that compared ``ledger`` (:meth:`Report.of_ledger`, with
    ``at``), whether it ran for that ledger alone or for every ledger; None before the first."""
    text = rt.store.cursor(f"{LATEST}:{ledger}")
    return jsonio.loads(text) if text else None
