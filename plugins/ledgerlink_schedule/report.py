"""``schedule.sync_report``: what ran in a window, as plain text and HTML.

The action yields one :class:`ledgerlink.contract.RunsQuery` (the host answers from its run
store; nothing leaves the machine) and returns the report: runs per recipe and status, the
runs that failed or died with their error (which names the fix) and the command that
retries each, and the latest reconciliation: its period, whether both sides agree, each
discrepancy with its fix — or, when none ran, a line saying so and how to run one. A later step mails it (``notify.email``) or
files it (``files.append_csv``).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from html import escape
from typing import Any

from ledgerlink.contract import Action, ActionContext, Response, RunsQuery
from ledgerlink.contract.problems import begin

#: what the report says when no reconciliation has run
RECONCILIATION_GAP = ("Reconciliation: none has run yet, so this report cannot say whether both sides agree; "
                      "run `ledgerlink reconcile --since DATE`, or enable the nightly-reconciliation recipe.")

INPUT = {
    "type": "object",
    "required": ["since", "until"],
    "additionalProperties": False,
    "properties": {
        "since": {"type": "number", "description": "The window's start, Unix seconds ($.event.window.since.unix)."},
        "until": {"type": "number", "description": "The window's end, Unix seconds ($.event.window.until.unix)."},
        "title": {"type": "string", "maxLength": 200, "description": "The report's title (and mail subject)."},
        "period": {"type": "string", "maxLength": 200,
                   "description": "The window in words, as the reader's clock shows it "
                                  "(e.g. the event's window.since.local and window.until.local)."},
    },
}

OUTPUT = {
    "type": "object",
    "required": ["subject", "text", "html", "runs", "failures"],
    "properties": {
        "subject": {"type": "string", "description": "One line: the title and whether anything failed."},
        "text": {"type": "string", "description": "The report as plain text."},
        "html": {"type": "string", "description": "The report as an HTML fragment (escaped)."},
        "runs": {"type": "integer", "description": "Runs planned in the window."},
        "failures": {"type": "integer", "description": "Of them, runs failed or dead now."},
    },
}

SAMPLE = {"since": 1777525200, "until": 1777611600, "title": "ledgerlink daily sync report",
          "period": "2026-04-30 07:00 to 2026-05-01 07:00 (Europe/Paris)"}


def _utc(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def perform(data: Mapping[str, Any], ctx: ActionContext) -> Generator[RunsQuery, Response, dict[str, Any]]:
    """Ask the host for the window's runs and render them."""
    problems = begin("schedule.sync_report", "a sync report", data, INPUT["properties"])
    for key in ("since", "until"):
        if not isinstance(data.get(key), (int, float, Decimal)) or isinstance(data.get(key), bool):
            problems.add(f"/{key}", f"{key} is Unix seconds (a number); map it from $.event.window.{key}.unix")
    if not problems.count() and data["until"] < data["since"]:
        problems.add("/until", "the window ends before it starts; map since from $.event.window.since.unix "
                               "and until from $.event.window.until.unix")
    problems.raise_if_any()
    answer = yield RunsQuery(since=float(data["since"]), until=float(data["until"]))  # seconds, not money
    since, until = float(data["since"]), float(data["until"])
    return render(answer.json, str(data.get("title") or "ledgerlink sync report"),
                  str(data.get("period") or f"{_utc(since)} to {_utc(until)}"))


def render(window: Mapping[str, Any], title: str, period: str) -> dict[str, Any]:
    """The report of ``window`` (a :class:`RunsQuery` answer) as text and HTML."""
    by_recipe: dict[str, dict[str, int]] = {}
    for row in window["counts"]:
        by_recipe.setdefault(row["recipe_id"], {})[row["status"]] = row["count"]
    runs = sum(row["count"] for row in window["counts"])
    failures = sum(row["count"] for row in window["counts"] if row["status"] in ("failed", "dead"))
    subject = f"{title}: {runs} run(s), " + (f"{failures} failed" if failures else "none failed")
    text = [title, period, "", f"Runs: {runs}"]
    html = [f"<h1>{escape(title)}</h1>", f"<p>{escape(period)}</p>", "<h2>Runs per recipe</h2>"]
    if by_recipe:
        html.append("<table><tr><th>recipe</th><th>status</th><th>runs</th></tr>")
        for recipe, statuses in sorted(by_recipe.items()):
            text.append(f"  {recipe}: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
            html += [f"<tr><td>{escape(recipe)}</td><td>{escape(s)}</td><td>{n}</td></tr>"
                     for s, n in sorted(statuses.items())]
        html.append("</table>")
    else:
        text.append("  no run was planned in this window")
        html.append("<p>No run was planned in this window.</p>")
    text += ["", f"Failures: {failures}"]
    html.append(f"<h2>Failures: {failures}</h2>")
    if window["failures"]:
        html.append("<ul>")
        for failure in window["failures"]:
            line = (f"run {failure['run_id']} ({failure['recipe_id']}, {failure['status']}): "
                    f"{failure['error'] or 'no error recorded'}")
            text += [f"  {line}", f"    retry once fixed: {failure['retry']}"]
            html.append(f"<li>{escape(line)}<br>retry once fixed: <code>{escape(failure['retry'])}</code></li>")
        html.append("</ul>")
    if window["failures_left_off"]:
        more = f"{window['failures_left_off']} more failure(s): `ledgerlink runs --status failed` lists them"
        text.append(f"  {more}")
        html.append(f"<p>{escape(more)}</p>")
    lines = reconciliation_lines(window.get("reconciliation"))
    text += [""] + lines
    html.append("<h2>Reconciliation</h2>" + "".join(f"<p>{escape(line.strip())}</p>" for line in lines))
    return {"subject": subject, "text": "\n".join(text) + "\n", "html": "\n".join(html) + "\n",
            "runs": runs, "failures": failures}


def reconciliation_lines(latest: Mapping[str, Any] | None) -> list[str]:
    """The report's reconciliation section: the latest one's period, verdict, problems and
    each listed discrepancy with its fix; the gap named when none ran."""
    if not latest:
        return [RECONCILIATION_GAP]
    verdict = "both sides agree" if latest["ok"] else f"{latest['discrepancies_total']} discrepancy(ies)"
    lines = [f"Reconciliation of {latest['since']} to {latest['until']} (run {latest['at']}): {verdict}"]
    if latest["counts"]:
        lines.append("  " + ", ".join(f"{n} {problem}" for problem, n in sorted(latest["counts"].items())))
    for d in latest["discrepancies"]:
        run = f" (run {d['run']})" if d.get("run") is not None else ""
        lines.append(f"  {d['problem']}: {d['kind']} {d['id']} on {d['connection']}{run}: expected {d['expected']}, "
                     f"found {d['found']}; fix: {d['fix'] or 'see ledgerlink reconcile'}")
    if latest["discrepancies_total"] > len(latest["discrepancies"]):
        lines.append(f"  {latest['discrepancies_total'] - len(latest['discrepancies'])} more: "
                     f"`ledgerlink reconcile --since {latest['since']} --until {latest['until']}` lists them")
    lines += [f"  note: {note}" for note in latest["notes"]]
    return lines


SYNC_REPORT = Action(
    name="schedule.sync_report",
    summary="Reports the runs of a schedule's window: counts per recipe and status, failures with their fix.",
    input_schema=INPUT,
    output_schema=OUTPUT,
    sample=SAMPLE,
    perform=perform,
    sample_response={"since": 1777525200, "until": 1777611600, "counts": [], "failures": [],
                     "failures_left_off": 0, "reconciliation": None},
    idempotency="none",
)
