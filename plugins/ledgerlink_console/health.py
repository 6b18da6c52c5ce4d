"""The health page: runs per hour by status over the last 7 days (a server-rendered SVG chart
and the same figures as a table), webhook deliveries refused (per connection and reason, last
day and week), the queue now (runs waiting, the oldest's wait), and what needs a person
(paused and failed runs, connections to connect again).

Every figure comes from the host through :func:`ledgerlink.web.operator.operator`
(:mod:`ledgerlink.engine.health_series`, :mod:`ledgerlink.engine.connection_states`); the
chart is :func:`ledgerlink.web.chart.stacked_bars`, inline, coloured by console.css alone (no
style attribute: the CSP has no ``unsafe-inline``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response
from markupsafe import Markup

from ledgerlink.web.chart import stacked_bars
from ledgerlink.web.operator import operator
from ledgerlink_console.blueprint import console
from ledgerlink_console.render import page, zone

#: the statuses counted as needing a person on the page
FAILING = ("failed", "dead")


def wait_text(seconds: float) -> str:
    """A wait in words a person reads at a glance: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def table_rows(hours: list[float], series: dict[str, list[int]]) -> list[dict[str, Any]]:
    """The chart's figures as rows, newest hour first, hours without a run left out."""
    rows = []
    for i in range(len(hours) - 1, -1, -1):
        counts = {status: values[i] for status, values in series.items()}
        total = sum(counts.values())
        if total:
            rows.append({"hour": hours[i], "counts": counts, "total": total})
    return rows


@console.get("/health")
def health() -> Response:
    op = operator()
    now = op.now()
    series = op.health()
    offset = dt.datetime.fromtimestamp(now, zone()).utcoffset() or dt.timedelta(0)
    chart = stacked_bars("Runs per hour by status, last 7 days", series.hours, series.runs, offset=offset,
                         ident="runs")
    refused = None
    if series.rejections:
        refused = stacked_bars("Webhook deliveries refused per hour, by connection, last 7 days", series.hours,
                               series.rejections, offset=offset, unit="refusals", ident="refusals")
    oldest = op.oldest_due()
    totals = op.run_totals()
    last_day = {status: sum(series.runs.get(status, [])[-24:]) for status in FAILING}
    return page("health.html", chart=Markup(chart), refused=Markup(refused) if refused else None,
                statuses=list(series.runs), rows=table_rows(series.hours, series.runs),
                total=sum(series.totals()), reasons=op.rejection_reasons(), queue=series.queue,
                oldest=oldest, oldest_wait=wait_text(now - oldest) if oldest is not None else None,
                paused=totals.get("paused", 0), failing=sum(totals.get(s, 0) for s in FAILING),
                failing_day=sum(last_day.values()), connections=op.connection_states())
