"""``ledgerlink backfill``: plan a recipe's runs for the past occurrences of its trigger.

The work is :mod:`ledgerlink.engine.backfill`; this module reads the options and reports:
a progress bar on a terminal (rich), one summary line otherwise, ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from ledgerlink import jsonio
from ledgerlink.cli.options import db_url, service_options

if TYPE_CHECKING:
    from ledgerlink.engine.backfill import Progress

WORKERS = "the workers of `ledgerlink serve` (or `ledgerlink worker`) on this database perform the runs"


def when(text: str) -> float:
    """argparse type: an ISO date or date-time (UTC unless it carries an offset)."""
    from ledgerlink.engine.backfill import parse_when

    try:
        return parse_when(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def summary(progress: Progress) -> str:
    """The backfill in one line."""
    from ledgerlink.engine.backfill import iso

    span = f"from {iso(progress.since)} to {iso(progress.until)}"
    counts = (f"{progress.objects} object(s) in {progress.pages} page(s), {progress.planned} run(s) "
              f"{'would be planned' if progress.dry_run else 'planned'}, {progress.already_planned} already "
              f"planned, {progress.filtered_out} filtered out")
    if progress.failed_filter:
        counts += f" ({progress.failed_filter} planned as failed: the filter cannot be evaluated on them)"
    if progress.skipped:
        counts += f", {progress.skipped} skipped (see the warnings)"
    what = f"recipe {progress.recipe!r} v{progress.version} on connection {progress.connection!r} {span}"
    if progress.dry_run:
        return f"dry run of the backfill of {what}: {counts}; nothing was written"
    if not progress.done:
        return f"backfill of {what} stopped: {counts} so far; run it again to go on (nothing is planned twice)"
    return f"backfilled {what}: {counts}; {WORKERS}"


def _terminal(stream: TextIO) -> bool:
    """True when ``stream`` is a terminal a person watches."""
    return stream.isatty()


@contextmanager
def _bar(stream: TextIO) -> Iterator[Callable[[Progress], None]]:
    """A rich progress bar on ``stream``, driven by each page's progress (indeterminate when
    the trigger's history cannot tell), with the counts so far."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress as Bar, TaskProgressColumn, TextColumn, TimeElapsedColumn

    console = Console(file=stream, force_terminal=True)
    with Bar(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
             TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), console=console,
             transient=False) as bar:
        task = bar.add_task("backfill", total=None, counts="")

        def update(progress: Progress) -> None:
            counts = (f"{progress.objects} objects · {progress.planned} "
                      f"{'to plan' if progress.dry_run else 'planned'} · {progress.already_planned} already planned")
            bar.update(task, description=f"backfill {progress.recipe}", counts=counts,
                       total=None if progress.fraction is None else 1.0,
                       completed=progress.fraction or 0.0)

        yield update


def cmd_backfill(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from ledgerlink.engine.backfill import Progress, backfill
    from ledgerlink.engine.operations import build_runtime

    until = args.until if args.until is not None else time.time()
    runtime = build_runtime(db=db_url(args), recipes=args.recipes, config_file=args.config,
                            plugins=getattr(args, "plugin_manager", None))
    progress = Progress()
    show = _bar(sys.stderr) if not args.json and _terminal(sys.stderr) else nullcontext(None)
    try:
        with show as on_page:
            backfill(runtime, args.recipe, args.since, until, dry=args.dry_run, on_page=on_page, progress=progress)
    except BaseException:
        if progress.pages:  # what was done before it stopped is planned, and stays so
            print(summary(progress), file=sys.stderr)
        raise
    finally:
        runtime.close()
    if args.json:
        print(jsonio.dumps(progress.as_json(), indent=2))
        return 0
    print(summary(progress))
    for warning in progress.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if progress.dry_run and progress.first is not None:
        print("the first object's run, as `ledgerlink dry-run` shows it:")
        print(jsonio.dumps(progress.first, indent=2))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``backfill``."""
    p = sub.add_parser("backfill", help="plan a recipe's runs for the past objects its trigger is about",
                       description="Pages through the past occurrences of the recipe's trigger (paid invoices, "
                                   "refunds, payouts …) and plans one run each, as if each event had arrived: "
                                   "each object once, however often it is run or interrupted, and whether or "
                                   f"not its webhook came too. {WORKERS[0].upper() + WORKERS[1:]}.")
    service_options(p)
    p.add_argument("recipe", metavar="RECIPE", help="recipe id (or its file) in --recipes")
    p.add_argument("--since", type=when, required=True, metavar="DATE",
                   help="ISO date or date-time, UTC unless it has an offset (a date is its midnight)")
    p.add_argument("--until", type=when, metavar="DATE", help="ISO date or date-time (default: now)")
    p.add_argument("--dry-run", action="store_true",
                   help="page and fetch, write nothing; print the counts and the first object's run")
    p.add_argument("--json", action="store_true", help="the counts as JSON")
    p.set_defaults(func=cmd_backfill)
