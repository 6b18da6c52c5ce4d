"""Commands about recipes and what they use: connectors, validate, dry-run, check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ledgerlink import jsonio
from ledgerlink.cli.options import CONFIG_HELP, catalog_and_config, db_option, db_url


def cmd_connectors(args: argparse.Namespace) -> int:
    from ledgerlink.connectors.manager import load_catalog

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
    from ledgerlink.recipes.recipe import validate

    catalog, config = catalog_and_config(args)
    recipes, problems = validate(args.paths or ["recipes"], catalog, config)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    if not args.quiet:
        print(f"{len(recipes)} recipe(s) valid", file=sys.stderr)
    return 0


def _read_event(path: str) -> tuple[Any, bytes]:
    from ledgerlink.errors import EventError

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
    from ledgerlink.engine.dryrun import dry_run, event_from_payload
    from ledgerlink.recipes.recipe import load_recipe

    catalog, config = catalog_and_config(args)
    recipe = load_recipe(args.recipe, catalog, config)
    event = None
    if args.event:
        payload, body = _read_event(args.event)
        event = event_from_payload(recipe, catalog, payload, body, args.event)
    report = dry_run(recipe, catalog, config, event)
    print(jsonio.dumps(report, indent=2))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ledgerlink.engine.preflight import check, company_notes
    from ledgerlink.recipes.recipe import load_recipe
    from ledgerlink.engine.operations import build_runtime

    runtime = build_runtime(db=db_url(args), recipes=None, config_file=args.config)
    try:
        recipe = load_recipe(args.recipe, runtime.catalog, runtime.config)
        problems = check(recipe, runtime)
        notes = company_notes(recipe, runtime)
    finally:
        runtime.close()
    for problem in problems:
        print(problem)
    for note in notes:  # facts about the company, not problems of the recipe
        print(f"{args.recipe}: {note}", file=sys.stderr)
    if not problems:
        print(f"{args.recipe}: every referenced id exists and is active", file=sys.stderr)
    return 1 if problems else 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``connectors``, ``validate``, ``dry-run`` and ``check``."""
    p = sub.add_parser("connectors", help="list every connector, trigger, action and transform")
    p.add_argument("--json", action="store_true", help="the whole catalog, schemas included, as JSON")
    p.set_defaults(func=cmd_connectors)

    p = sub.add_parser("validate", help="check recipes; one line per problem: FILE:POINTER: message")
    p.add_argument("paths", nargs="*", metavar="PATH", help="recipe files or directories (default: recipes/)")
    p.add_argument("--config", help=CONFIG_HELP)
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when every recipe is valid")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("dry-run", help="show what a recipe would send for an event, without sending it")
    p.add_argument("recipe", metavar="RECIPE", help="recipe file")
    p.add_argument("--event", metavar="FILE",
                   help="event body as the webhook delivers it (default: the trigger's sample)")
    p.add_argument("--config", help=CONFIG_HELP)
    p.set_defaults(func=cmd_dry_run)

    p = sub.add_parser("check", help="read-only: do the accounts, items and customers a recipe names exist?")
    p.add_argument("recipe", metavar="RECIPE")
    db_option(p)
    p.add_argument("--config")
    p.set_defaults(func=cmd_check)
