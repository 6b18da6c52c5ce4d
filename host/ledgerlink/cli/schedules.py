"""``ledgerlink schedules``: each recipe on the clock, its last tick fired and its next due.

The listing is :mod:`ledgerlink.engine.schedules`; this module prints it as a table or JSON
(the same document ``GET /api/schedules`` answers).
"""

from __future__ import annotations

import argparse

from ledgerlink import jsonio
from ledgerlink.cli.options import db_url, service_options


def cmd_schedules(args: argparse.Namespace) -> int:
    from ledgerlink.engine.operations import build_runtime
    from ledgerlink.engine.schedules import lines, schedules

    runtime = build_runtime(db=db_url(args), recipes=args.recipes, config_file=args.config,
                            plugins=getattr(args, "plugin_manager", None))
    try:
        listing = schedules(runtime, runtime.clock())
    finally:
        runtime.close()
    if args.format == "json":
        print(jsonio.dumps(listing, indent=2))
    else:
        for line in lines(listing):
            print(line)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``schedules``."""
    p = sub.add_parser("schedules", help="each recipe on the clock: its schedule, last tick fired (and its run), "
                                         "next tick due (overdue after downtime), paused or disabled",
                       description="Lists every recipe whose trigger ticks (schedule.cron and any other), "
                                   "read from the recipes and the database as every worker reads them. "
                                   "Nothing is fired.")
    service_options(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_schedules)
