"""The sync log, the console's home page: runs newest first, filtered by a GET form (status,
recipe, connection, source id, date range; and, from the connections page, the connection
runs are paused on), the count of each status, and keyset pages.

A page holds :data:`PAGE_SIZE` runs; "Older" continues after the last run's id (never an
OFFSET), so a deep page is as quick as the first. Each row links to the object its event is about
and to what the run wrote, in the vendors' own applications (the connectors' addresses, read for
the whole page at once: :meth:`~ledgerlink.web.operator.Operator.links_of_runs`). Dates of the form are days in the
operator's time zone: "from" is the start of its day, "to" the end of its day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from ledgerlink import jsonio
from ledgerlink.web.operator import MAX_ID, RUN_STATUSES, RunFilter, operator
from ledgerlink_console.blueprint import console
from ledgerlink_console.render import page, zone

PAGE_SIZE = 50
#: the query parameters of the filter form (and of every page link)
FILTERS = ("status", "recipe", "connection", "source", "from", "to", "paused_on")
#: the longest text a filter field takes
MAX_FIELD = 255


def _day(text: str, name: str, problems: list[str], end: bool = False) -> float | None:
    """A YYYY-MM-DD day of the operator's zone as Unix seconds: its start (its end with ``end``)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name}: {text!r} is not a day; write it as YYYY-MM-DD")
        return None
    if end:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), zone()).timestamp()


def read_filter(args: Any) -> tuple[RunFilter, dict[str, str], list[str]]:
    """The filter the form's fields ask for, the fields as given, and what is wrong with them."""
    given = {name: args.get(name, "").strip()[:MAX_FIELD] for name in FILTERS}
    problems: list[str] = []
    if given["status"] and given["status"] not in RUN_STATUSES:
        problems.append(f"status: {given['status']!r} is not one of {', '.join(RUN_STATUSES)}")
    since = _day(given["from"], "from", problems) if given["from"] else None
    until = _day(given["to"], "to", problems, end=True) if given["to"] else None
    if since is not None and until is not None and until <= since:
        problems.append("to: the range ends before it starts; make \"to\" the same day as \"from\" or later")
    where = RunFilter(status=given["status"] or None, recipe_id=given["recipe"] or None,
                      connection=given["connection"] or None, source_id=given["source"] or None,
                      since=since, until=until, paused_on=given["paused_on"] or None)
    return where, given, problems


def _after(args: Any, problems: list[str]) -> int | None:
    value = args.get("after", "")
    if not value:
        return None
    if value.isascii() and value.isdigit() and len(value) <= 10 and int(value) <= MAX_ID + 1:
        return int(value)
    problems.append("after: not a run id; follow the page links")
    return None


def link(given: dict[str, str], **extra: Any) -> str:
    """The sync log's URL for the filters ``given`` (those set) and ``extra``."""
    query = {k: v for k, v in {**given, **extra}.items() if v not in ("", None)}
    return "/console/" + (f"?{urlencode(query)}" if query else "")


@console.get("/counts")
def live_counts() -> Response:
    """The runs per status for the sync log's filters, as JSON: what static/console.js reads
    every few seconds to keep the page's counts live (the page shows them without it)."""
    where, given, problems = read_filter(request.args)
    if problems:
        return Response(jsonio.dumps({"error": "; ".join(problems)}), 400, mimetype="application/json")
    counts = operator().status_counts(where)
    return Response(jsonio.dumps({"total": sum(counts.values()), "counts": counts,
                                  "links": {s: link(given, status=s) for s in counts}}),
                    mimetype="application/json")


@console.get("/")
def sync_log() -> Response:
    where, given, problems = read_filter(request.args)
    after = _after(request.args, problems)
    op = operator()
    if problems:
        return page("synclog.html", 400, runs=[], links={}, counts={}, total=0, given=given, problems=problems,
                    statuses=RUN_STATUSES, recipes=op.recipe_ids(), connections=op.connection_names(),
                    older=None, newest=None, link=link)
    rows = op.run_page(where, after, PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    links = op.links_of_runs([row["id"] for row in rows])  # three statements for the whole page
    counts = op.status_counts(where)
    older = link(given, after=rows[-1]["id"]) if more and rows else None
    newest = link(given) if after is not None else None
    return page("synclog.html", runs=rows, links=links, counts=counts, total=sum(counts.values()), given=given,
                problems=[], live="/console/counts" + link(given)[len("/console/"):], statuses=RUN_STATUSES,
                recipes=op.recipe_ids(),
                connections=op.connection_names(), older=older, newest=newest, link=link)
