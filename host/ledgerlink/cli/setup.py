"""Commands that set an installation up: init, db upgrade, demo."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from ledgerlink.cli.options import db_option, db_url, recipe_folder


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from ledgerlink.store import Store, upgrade

    url = db_url(args)
    revision = upgrade(url)
    print(f"{Store(url).safe_url} is at migration {revision}")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM while the demo stays up: leave as Ctrl-C leaves, stopping its server and sandboxes
    (the default would end the demo at once and leave its ``serve`` running)."""
    raise KeyboardInterrupt


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    directory = Path(args.workdir or tempfile.mkdtemp(prefix="ledgerlink-demo-"))
    from ledgerlink.cli.demo import KeptUp
    from ledgerlink.cli.service import idle_until_interrupted

    with KeptUp() as kept:  # the first part's server and sandboxes, for its web console
        status = _demo_parts(args, directory, kept)
        if kept.console is not None:
            stay = args.stay if args.stay is not None else sys.stdin.isatty() and sys.stdout.isatty()
            print("")
            print("The demo's server and sandboxes stay up until you press Ctrl-C; its web console:" if stay else
                  "The demo's server stops with it (`ledgerlink demo --stay` keeps it up until Ctrl-C); its web console:")
            print(f"Console:     {kept.console[0]}  (sign in with the admin token {kept.console[1]})", flush=True)
            if stay:
                signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as Ctrl-C does, serve included
                try:
                    idle_until_interrupted()
                except KeyboardInterrupt:
                    pass
    return status


def _demo_parts(args: argparse.Namespace, directory: Path, kept: Any) -> int:
    """The demo's two parts; the first one's server and sandboxes are left on ``kept``."""
    from ledgerlink.cli.demo import REFUSED, example_recipes, run_demo
    from ledgerlink.cli.demo_books import BOOKS_FOLDER, books_folder, run_books, tied_out
    from ledgerlink.connectors.manager import load_catalog

    rows = run_demo(recipes=args.recipes, workdir=str(directory), keep=kept)  # None: the installed examples
    # a refusal with its fix-it message is the demo working: nothing booked at a made-up rate
    failed = [r for r in rows if r["status"] not in ("succeeded", "duplicate, stored once", REFUSED)]
    recipes = Path(args.recipes) if args.recipes else example_recipes()
    folder = books_folder(recipes)
    if folder is None:
        print(f"\n(no booking recipes in {recipes / BOOKS_FOLDER}: the books part is skipped)")
        return 1 if failed else 0
    print("")
    table = run_books(load_catalog(), folder, directory / "books")
    if table:
        print(f"  files:       {directory / 'books'} (ledgerlink.toml, ledgerlink.db, recipes/, serve.log)")
    return 1 if failed or not tied_out(table) else 0


def cmd_init(args: argparse.Namespace) -> int:
    from ledgerlink.cli.demo import example_recipes, starter_config
    from ledgerlink.connectors.manager import load_catalog

    directory = Path(args.directory)
    config, recipes = directory / "ledgerlink.toml", directory / "recipes"
    there = [str(p) for p in (config, recipes) if p.exists()]
    if there:
        print(f"error: {' and '.join(there)} already exist{'s' if len(there) == 1 else ''}; nothing was "
              f"written (init writes only into a folder without them; pick another DIR)", file=sys.stderr)
        return 1
    examples = sorted(example_recipes().glob("*.json"))
    text, connections = starter_config(load_catalog(), examples)
    try:
        recipes.mkdir(parents=True)
        for example in examples:
            (recipes / example.name).write_bytes(example.read_bytes())
        config.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write into {directory}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    db = f"sqlite:///{directory / 'ledgerlink.db'}"
    print(f"wrote {config} (connections: {', '.join(connections)}) and {recipes}/ ({len(examples)} example "
          f"recipes; those with \"enabled\": false are loaded but start nothing)")
    print("next:")
    print(f"  edit {config}: each connection's settings are listed, commented out, with what they are")
    print(f"  ledgerlink validate {recipes} --config {config}")
    print(f"  ledgerlink db upgrade --db {db}")
    print(f"  ledgerlink serve --db {db} --recipes {recipes} --config {config}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``init``, ``db upgrade`` and ``demo``."""
    p = sub.add_parser("init", help="write a starter ledgerlink.toml and recipes/ (the examples) to edit")
    p.add_argument("directory", nargs="?", default=".", metavar="DIR", help="where to write them (default: .)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("db", help="database schema")
    dbsub = p.add_subparsers(dest="db_command", metavar="COMMAND")
    dbsub.required = True
    up = dbsub.add_parser("upgrade", help="apply the migrations (run before the first serve)")
    db_option(up)
    up.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("demo", help="sandboxes + serve + signed example webhooks, then what reached the ledger; "
                                    "then a simulated day booked through a clearing account, and whether the books "
                                    "tie out")
    p.add_argument("--recipes", type=recipe_folder,
                   help="recipe directory (default: the example recipes installed with ledgerlink)")
    p.add_argument("--workdir", help="keep the demo's files here (default: a new temporary directory)")
    stay = p.add_mutually_exclusive_group()
    stay.add_argument("--stay", dest="stay", action="store_true", default=None,
                      help="keep the server (its web console) and the sandboxes up after the demo, until Ctrl-C "
                           "(the default on a terminal)")
    stay.add_argument("--no-stay", dest="stay", action="store_false", help="stop them when the demo ends")
    p.set_defaults(func=cmd_demo)
