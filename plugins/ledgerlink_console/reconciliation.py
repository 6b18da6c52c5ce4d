"""The reconciliation page: for each ledger, the latest reconciliation that compared it — when
it ran, the period, what each side listed, the clearing balances compared, and each difference
with the fix it names — and a "Run now" button.

"Run now" opens a confirmation page with the period (by default the current month, in days of
the operator's time zone) whose form POSTs to the same address; the console then reconciles
that ledger as ``ledgerlink reconcile --connection NAME`` and ``POST /api/reconcile`` do
(:meth:`ledgerlink.web.operator.Operator.reconcile`): the report is kept as the ledger's
latest, and a ledger that disagrees raises ``ledgerlink.reconcile.drift``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from flask import Response, redirect, request

from ledgerlink.errors import LedgerlinkError
from ledgerlink.web.operator import operator
from ledgerlink_console import session
from ledgerlink_console.blueprint import console
from ledgerlink_console.render import page, zone

#: what each problem of a report means, in a few words
PROBLEMS = {
    "missing": "booked by a run, gone from the ledger",
    "amount": "the ledger's amount differs from the run's",
    "currency": "the ledger's currency differs from the run's",
    "date": "the ledger's date differs from the run's",
    "duplicated": "an entry no run made repeats a booked one",
    "not_linked": "an entry no run of ledgerlink made",
    "not_booked": "a source object no run booked",
    "clearing_balance": "the clearing account does not hold the source's balance at a payout",
}


def _seconds(at: Any) -> float | None:
    """A report's ``at`` (``2026-05-31T23:00:00Z``) as Unix seconds."""
    try:
        return dt.datetime.fromisoformat(str(at).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _shown(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {**report, "at_seconds": _seconds(report.get("at"))}


def _default_period() -> tuple[str, str]:
    """The current month up to today, in the operator's time zone."""
    today = dt.datetime.now(zone()).date()
    return today.replace(day=1).isoformat(), today.isoformat()


def _page(status: int = 200, **extra: Any) -> Response:
    op = operator()
    reports = [(ledger, _shown(op.latest_reconciliation(ledger))) for ledger in op.ledgers()]
    return page("reconciliation.html", status, reports=reports, problems=PROBLEMS, **extra)


@console.get("/reconciliation")
def reconciliation_page() -> Response:
    done = request.args.get("done", "")
    notice = f"{done} is reconciled; its report is below." if done in operator().ledgers() else None
    return _page(notice=notice)


def _confirm(ledger: str, status: int = 200, **extra: Any) -> Response:
    since, until = _default_period()
    period = {"since": request.form.get("since", since)[:10], "until": request.form.get("until", until)[:10]}
    return page("reconcile_confirm.html", status, ledger=ledger, period=period, **extra)


@console.get("/reconciliation/<ledger>/run")
def confirm_run(ledger: str) -> Response:
    if ledger not in operator().ledgers():
        return _page(404, problem=f"{ledger!r} is not a ledger ledgerlink reconciles")
    return _confirm(ledger)


@console.post("/reconciliation/<ledger>/run")
def run_now(ledger: str) -> Response:
    if ledger not in operator().ledgers():
        return _page(404, problem=f"{ledger!r} is not a ledger ledgerlink reconciles")
    since, until = request.form.get("since", "").strip()[:10], request.form.get("until", "").strip()[:10]
    try:
        operator().reconcile(since, until, ledger)
    except LedgerlinkError as exc:
        return _confirm(ledger, exc.status, problem=f"{ledger} was not reconciled: {exc}")
    return redirect(f"{session.PATH}/reconciliation?done={quote(ledger)}#ledger-{quote(ledger)}", 303)
