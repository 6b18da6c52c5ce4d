"""``ledgerlink reconcile``: do the source and the ledgers agree, object by object?

The work is :mod:`ledgerlink.engine.reconcile`; this module reads the options and prints
the report as a table, CSV (one line per discrepancy) or JSON. The exit status is 0 only
when both sides agree, 3 when they do not (1 stays an error: nothing could be compared).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from typing import TYPE_CHECKING

from ledgerlink import jsonio
from ledgerlink.cli.options import db_url, service_options

if TYPE_CHECKING:
    from ledgerlink.engine.reconcile import Report

#: the exit status of a reconciliation that found discrepancies
DISAGREE = 3
COLUMNS = ("problem", "connection", "kind", "entity", "id", "date", "expected", "found", "source_id", "run", "fix")


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for each in report.discrepancies:
        writer.writerow(["" if getattr(each, column) is None else getattr(each, column) for column in COLUMNS])
    return out.getvalue()


def cmd_reconcile(args: argparse.Namespace) -> int:
    from ledgerlink.engine.operations import build_runtime
    from ledgerlink.engine.reconcile import check_period, lines
    from ledgerlink.engine.reconciliations import run

    until = args.until or dt.datetime.now(dt.timezone.utc).date().isoformat()
    check_period(args.since, until)
    runtime = build_runtime(db=db_url(args), recipes=args.recipes, config_file=args.config,
                            plugins=getattr(args, "plugin_manager", None))
    try:
        report = run(runtime, args.since, until, connection=args.connection)
    finally:
        runtime.close()
    if args.format == "json":
        print(jsonio.dumps(report.as_json(), indent=2))
    elif args.format == "csv":
        sys.stdout.write(as_csv(report))
    else:
        for line in lines(report):
            print(line)
    return 0 if report.ok else DISAGREE


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``reconcile``."""
    p = sub.add_parser("reconcile", help="compare the source's objects with each ledger's, through the links: "
                                         "exit 0 only when both sides agree",
                       description="Reads both sides through their connectors (governed) and reports, per "
                                   "object, what is missing on one side, booked with another amount, date or "
                                   "currency, duplicated or not linked, each with the run it concerns and its "
                                   f"fix. Exit status 0 when both sides agree, {DISAGREE} when they do not.")
    service_options(p)
    p.add_argument("--since", required=True, metavar="DATE", help="the first day (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="the last day, included (default: today, UTC)")
    p.add_argument("--connection", metavar="NAME", help="only this ledger connection (default: every ledger)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_reconcile)
