"""A stacked bar chart as SVG text, rendered on the server: one bar per hour, one segment per
series (a run status, a connection), with axis labels, a legend, and a ``<title>`` and
``<desc>`` that a screen reader announces (the chart is ``role="img"``).

Nothing is styled inline: every element carries class names (``chart``, ``axis``,
``gridline``, ``bar``, ``bar-<series>``, ``legend``, ``label``, ``empty``) for the page's
stylesheet to colour, so a Content-Security-Policy without ``unsafe-inline`` shows it
as it is. Every text is escaped; a series' name becomes a class name only after being
reduced to ``[a-z0-9-]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from html import escape

#: the plot's geometry, in SVG user units
BAR = 4
LEFT, RIGHT, TOP, PLOT, BOTTOM, LEGEND = 44, 8, 8, 120, 22, 18
#: the width a day's label ("01 Dec") takes; one that would pass the right edge ends at its tick
DAY_LABEL = 30


def class_name(series: str) -> str:
    """``series`` as a class-name suffix: lower case, anything but ``[a-z0-9]`` as ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", series.lower()).strip("-") or "other"


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is at least ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # not reached: 10 * power is always at least value


def zone_name(offset: timedelta) -> str:
    """``UTC``, or ``UTC+05:30`` / ``UTC-04:00`` for an offset from it."""
    minutes = int(offset.total_seconds() // 60)
    if not minutes:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _hour_text(start: float, offset: timedelta) -> str:
    local = datetime.fromtimestamp(start, timezone.utc) + offset
    return f"{local:%Y-%m-%d %H:00} {zone_name(offset)}"


def stacked_bars(title: str, starts: Sequence[float], series: Mapping[str, Sequence[int]], *,
                 description: str = "", offset: timedelta = timedelta(0), unit: str = "runs",
                 ident: str = "chart") -> str:
    """The chart of ``series`` (name -> a count per hour of ``starts``, stacked in the
    mapping's order, the first at the bottom) as an ``<svg>`` element. Days are labelled at
    midnight in the operator's zone, ``offset`` from UTC; each segment's ``<title>`` says its
    hour, count and series. ``ident`` prefixes the ids of its title and description, so two
    charts can share a page."""
    ident = class_name(ident)
    hours = len(starts)
    width = LEFT + hours * BAR + RIGHT
    height = TOP + PLOT + BOTTOM + LEGEND
    totals = [sum(values[i] for values in series.values()) for i in range(hours)]
    top = nice_ceiling(max(totals, default=0))
    summary = description or (f"{sum(totals):,} {unit} in {hours} hours; the busiest hour had "
                              f"{max(totals, default=0):,}.")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
           f'role="img" aria-labelledby="{ident}-title {ident}-desc">',
           f'<title id="{ident}-title">{escape(title)}</title>',
           f'<desc id="{ident}-desc">{escape(summary)}</desc>',
           '<g class="axis">']
    for tick in (0, top // 2, top) if top > 1 else (0, top):
        y = TOP + PLOT - PLOT * tick / top
        out.append(f'<line class="gridline" x1="{LEFT}" x2="{width - RIGHT}" y1="{y:g}" y2="{y:g}"/>')
        out.append(f'<text class="label" x="{LEFT - 4}" y="{y + 3:g}" text-anchor="end">{tick:,}</text>')
    for i, start in enumerate(starts):
        local = datetime.fromtimestamp(start, timezone.utc) + offset
        if local.hour == 0:
            x = LEFT + i * BAR
            out.append(f'<line class="tick" x1="{x}" x2="{x}" y1="{TOP + PLOT}" y2="{TOP + PLOT + 4}"/>')
            anchor = ' text-anchor="end"' if x > width - RIGHT - DAY_LABEL else ""  # not cut at the edge
            out.append(f'<text class="label" x="{x}" y="{TOP + PLOT + 15}"{anchor}>{local:%d %b}</text>')
    out.append('</g>')
    if not any(totals):
        out.append(f'<text class="empty" x="{LEFT + hours * BAR / 2:g}" y="{TOP + PLOT / 2:g}" '
                   f'text-anchor="middle">No {escape(unit)} in these {hours} hours</text>')
    out.append('<g class="bars">')
    for i, start in enumerate(starts):
        base = 0
        for name, values in series.items():
            count = values[i]
            if count <= 0:
                continue
            y = TOP + PLOT - PLOT * (base + count) / top
            h = PLOT * count / top
            out.append(f'<rect class="bar bar-{class_name(name)}" x="{LEFT + i * BAR}" y="{y:.2f}" '
                       f'width="{BAR - 1}" height="{h:.2f}"><title>{escape(_hour_text(start, offset))}: '
                       f'{count:,} {escape(name)}</title></rect>')
            base += count
    out.append('</g>')
    out.append('<g class="legend">')
    x = LEFT
    for name in series:
        y = TOP + PLOT + BOTTOM + 4
        out.append(f'<rect class="bar bar-{class_name(name)}" x="{x}" y="{y}" width="8" height="8"/>')
        out.append(f'<text class="label" x="{x + 11}" y="{y + 8}">{escape(name)}</text>')
        x += 16 + 7 * len(name)
    out.append('</g></svg>')
    return "\n".join(out)
