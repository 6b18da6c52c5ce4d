"""``ledgerlink export``: what passed through between two dates, as CSV or xlsx
(:mod:`ledgerlink.engine.export`)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from ledgerlink.cli.options import db_option, db_url


def cmd_export(args: argparse.Namespace) -> int:
    from ledgerlink.connectors.manager import load_catalog
    from ledgerlink.engine.export import day_range, export
    from ledgerlink.store import Store

    start, end = day_range(args.since, args.until, dt.datetime.now(dt.timezone.utc).date())
    store = Store(db_url(args))
    store.check_migrated()
    chunks = export(store, load_catalog(), start, end, args.format)
    if args.out is None:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return 0
    target = Path(args.out)
    partial = target.with_name(f".{target.name}.partial")
    with open(partial, "wb") as out:  # the file appears whole, or not at all
        for chunk in chunks:
            out.write(chunk)
    partial.replace(target)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``export``."""
    p = sub.add_parser("export", help="the invoices, payments, refunds, fees and payouts booked between two "
                                      "dates, one row each with its ledger id, as CSV or xlsx")
    db_option(p)
    p.add_argument("--since", required=True, metavar="DATE",
                   help="the first day (YYYY-MM-DD, UTC) of the runs planned")
    p.add_argument("--until", metavar="DATE", help="the last day, included (default: today)")
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    p.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")
    p.set_defaults(func=cmd_export)
