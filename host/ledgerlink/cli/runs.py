"""``ledgerlink runs``: list, show, replay and undo runs; approve or reject runs awaiting review."""

from __future__ import annotations

import argparse
import os
import sys

from ledgerlink import jsonio
from ledgerlink.cli.options import db_option, db_url, service_options


def _why(row: dict) -> str:
    """A listed run's last error, or why it was skipped (``echo: …``, ``not_linked: …``)."""
    if row.get("skipped_as"):
        return f"{row['skipped_as']}: {row.get('skip_reason') or ''}"
    return row["last_error"] or ""


def cmd_runs(args: argparse.Namespace) -> int:
    from ledgerlink.engine.operations import build_runtime, replay

    if args.runs_command == "list":
        from ledgerlink.store import Store

        store = Store(db_url(args))
        store.check_migrated()
        rows = store.list_runs(status=args.status, recipe_id=args.recipe, limit=args.limit)
        if args.json:
            print(jsonio.dumps({"runs": rows}, indent=2))
            return 0
        for row in rows:
            print(f"{row['id']:>7}  {row['status']:<10} {row['recipe_id']} v{row['recipe_version']}  "
                  f"{row['event_id']}  attempts={row['attempts']}  {_why(row)}")
            if row["status"] == "awaiting_review" and row["review_plan"]:
                for step in row["review_plan"]["steps"]:
                    request = step.get("request") or {}
                    said = (" (sent)" if step.get("status") == "sent"
                            else " (shown again)" if step.get("shown_again") else "")
                    print(f"{'':9}{step['id']}{said}: {request.get('method', '')} "
                          f"{request.get('url', '(nothing sent)')}")
        return 0
    if args.runs_command in ("approve", "reject"):
        return cmd_review(args)
    if args.runs_command == "show":
        from ledgerlink.store import Store

        store = Store(db_url(args))
        store.check_migrated()
        row = store.run(args.run)
        if row is None:
            print(f"error: no run {args.run}", file=sys.stderr)
            return 1
        print(jsonio.dumps(row, indent=2))
        return 0
    runtime = build_runtime(db=db_url(args), recipes=args.recipes, config_file=args.config)
    try:
        if args.runs_command == "undo":
            from ledgerlink.engine.operations import undo
            print(jsonio.dumps(undo(runtime, args.run), indent=2))
        else:
            print(jsonio.dumps(replay(runtime, args.run, args.version, args.dry_run), indent=2))
    finally:
        runtime.close()
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """``runs approve`` / ``runs reject``: one line per run; exit 1 when one was not awaiting review."""
    from ledgerlink.store import Store

    if bool(args.run) == bool(args.all):
        print("error: name the runs (RUN…), or pass --all (with --recipe NAME for one recipe's)", file=sys.stderr)
        return 2
    store = Store(db_url(args))
    store.check_migrated()
    ids = list(args.run) or store.awaiting_review(args.recipe)
    if not ids:
        print("no run awaits review" + (f" of recipe {args.recipe!r}" if args.recipe else ""))
        return 0
    if args.runs_command == "approve":
        results = store.approve(ids, args.by)
    else:
        results = store.reject(ids, args.by, args.reason)
    done = "approved" if args.runs_command == "approve" else "rejected"
    for run_id, (decided, status) in results.items():
        if decided:
            print(f"run {run_id}: {done}")
        elif status is None:
            print(f"run {run_id}: no such run", file=sys.stderr)
        else:
            print(f"run {run_id}: not {done}: it is {status}, not awaiting review", file=sys.stderr)
    return 0 if all(decided for decided, _ in results.values()) else 1


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``runs list``, ``runs show``, ``runs replay``, ``runs undo``, ``runs approve`` and ``runs reject``."""
    p = sub.add_parser("runs", help="list, show and replay runs")
    rsub = p.add_subparsers(dest="runs_command", metavar="COMMAND")
    rsub.required = True
    rl = rsub.add_parser("list", help="runs, newest first")
    db_option(rl)
    rl.add_argument("--status", help="e.g. awaiting_review, failed, dead")
    rl.add_argument("--recipe")
    rl.add_argument("--limit", type=int, default=50)
    rl.add_argument("--json", action="store_true")
    rl.set_defaults(func=cmd_runs)
    rs = rsub.add_parser("show", help="one run with every step attempt")
    db_option(rs)
    rs.add_argument("run", type=int)
    rs.set_defaults(func=cmd_runs)
    rr = rsub.add_parser("replay", help="replay a failed run (or an undone one, to book it again) on its own "
                                        "version or the latest")
    service_options(rr)
    rr.add_argument("run", type=int)
    rr.add_argument("--version", choices=("own", "latest"), default="own")
    rr.add_argument("--dry-run", action="store_true", help="show what the replay would send")
    rr.set_defaults(func=cmd_runs)
    ru = rsub.add_parser("undo", help="void or delete every entity a run created, newest first")
    service_options(ru)
    ru.add_argument("run", type=int)
    ru.set_defaults(func=cmd_runs)
    for name, help_text in (("approve", "send what runs awaiting review showed (unless it changed: shown again)"),
                            ("reject", "runs awaiting review send nothing, for good (runs replay shows one again)")):
        rv = rsub.add_parser(name, help=help_text)
        db_option(rv)
        rv.add_argument("run", type=int, nargs="*", metavar="RUN")
        rv.add_argument("--all", action="store_true", help="every run awaiting review (of --recipe)")
        rv.add_argument("--recipe", help="with --all: only this recipe's runs")
        rv.add_argument("--by", default=os.environ.get("USER") or "cli", help="who reviews (default: $USER)")
        if name == "reject":
            rv.add_argument("--reason", help="why, stored with the run")
        rv.set_defaults(func=cmd_runs)
