"""The ``ledgerlink`` command.

Every error a user can cause ends in a message naming where and what to fix, and exit
status 1; never a traceback. Exit status 2 is a usage error or a bug in ledgerlink.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__, jsonio
from .errors import LedgerlinkError, RecipeError


def _catalog_and_config(args: argparse.Namespace):
    from .config import find_config_file, load_config
    from .plugins import load_catalog

    catalog = load_catalog()
    config = load_config(find_config_file(getattr(args, "config", None)), catalog)
    return catalog, config


def cmd_connectors(args: argparse.Namespace) -> int:
    from .plugins import load_catalog

    data = load_catalog().as_json()
    if args.json:
        print(jsonio.dumps(data, indent=2))
        return 0
    for connector in data["connectors"]:
        print(f"{connector['name']}  ({connector['plugin']}, {connector['status']})  {connector['summary']}")
        for trigger in connector["triggers"]:
            print(f"  trigger  {trigger['name']:<40} {trigger['status']:<7} {trigger['summary']}")
        for action in connector["actions"]:
            print(f"  action   {action['name']:<40} {action['status']:<7} {action['summary']}")
    print("transforms: " + ", ".join(t["name"] for t in data["transforms"]))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .recipes import validate

    catalog, config = _catalog_and_config(args)
    recipes, problems = validate(args.paths or ["recipes"], catalog, config)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    if not args.quiet:
        print(f"{len(recipes)} recipe(s) valid", file=sys.stderr)
    return 0


def _read_event(path: str) -> tuple[Any, bytes]:
    from .errors import EventError

    try:
        body = Path(path).read_bytes()
    except OSError as exc:
        raise EventError(f"{path}: cannot read the event file: {exc.strerror or exc}") from None
    try:
        return jsonio.loads(body), body
    except jsonio.JSONDecodeError as exc:
        raise EventError(f"{path}: not valid JSON at line {exc.line}, column {exc.column}: {exc.msg}") from None
    except UnicodeDecodeError:
        raise EventError(f"{path}: not UTF-8 text; an event file is the JSON body the webhook delivers") from None


def cmd_dry_run(args: argparse.Namespace) -> int:
    from .dryrun import dry_run, event_from_payload
    from .recipes import load_recipe

    catalog, config = _catalog_and_config(args)
    recipe = load_recipe(args.recipe, catalog, config)
    event = None
    if args.event:
        payload, body = _read_event(args.event)
        event = event_from_payload(recipe, catalog, payload, body, args.event)
    report = dry_run(recipe, catalog, config, event)
    print(jsonio.dumps(report, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledgerlink",
        description="Move invoicing data into accounting software through declarative recipes.")
    parser.add_argument("--version", action="version", version=f"ledgerlink {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("connectors", help="list every connector, trigger, action and transform")
    p.add_argument("--json", action="store_true", help="the whole catalog, schemas included, as JSON")
    p.set_defaults(func=cmd_connectors)

    p = sub.add_parser("validate", help="check recipes; one line per problem: FILE:POINTER: message")
    p.add_argument("paths", nargs="*", metavar="PATH", help="recipe files or directories (default: recipes/)")
    p.add_argument("--config", help="ledgerlink.toml (default: $LEDGERLINK_CONFIG or ./ledgerlink.toml)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when every recipe is valid")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("dry-run", help="show what a recipe would send for an event, without sending it")
    p.add_argument("recipe", metavar="RECIPE", help="recipe file")
    p.add_argument("--event", metavar="FILE", help="event body as the webhook delivers it (default: the trigger's sample)")
    p.add_argument("--config", help="ledgerlink.toml (default: $LEDGERLINK_CONFIG or ./ledgerlink.toml)")
    p.set_defaults(func=cmd_dry_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except RecipeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except LedgerlinkError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in ledgerlink or a plugin, not the user's input
        if os.environ.get("LEDGERLINK_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (set LEDGERLINK_DEBUG=1 for the "
              f"traceback and report it)", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
