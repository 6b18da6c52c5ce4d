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

from ledgerlink import __version__, jsonio
from ledgerlink.errors import LedgerlinkError, RecipeError


def _catalog_and_config(args: argparse.Namespace):
    from ledgerlink.config import find_config_file, load_config
    from ledgerlink.connectors.manager import load_catalog

    catalog = load_catalog()
    config = load_config(find_config_file(getattr(args, "config", None)), catalog)
    return catalog, config


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

    catalog, config = _catalog_and_config(args)
    recipe = load_recipe(args.recipe, catalog, config)
    event = None
    if args.event:
        payload, body = _read_event(args.event)
        event = event_from_payload(recipe, catalog, payload, body, args.event)
    report = dry_run(recipe, catalog, config, event)
    print(jsonio.dumps(report, indent=2))
    return 0


def _db_url(args: argparse.Namespace) -> str:
    from ledgerlink.store import DEFAULT_URL

    return args.db or os.environ.get("LEDGERLINK_DB") or DEFAULT_URL


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from ledgerlink.store import Store, upgrade

    url = _db_url(args)
    revision = upgrade(url)
    print(f"{Store(url).safe_url} is at migration {revision}")
    return 0


def _settings(args: argparse.Namespace):
    from ledgerlink.engine.runtime import Settings

    return Settings(workers=getattr(args, "workers", 2), lease_seconds=getattr(args, "lease", 60.0))


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, not {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """argparse type: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, not {text!r}")
    return value


def _limits(args: argparse.Namespace):
    from ledgerlink.web.servers import ConnectionLimits

    return ConnectionLimits(max_connections=args.max_connections, request_timeout=args.request_timeout,
                            idle_timeout=args.idle_timeout)


def _install_stop_signals() -> None:
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def recipe_folder(text: str) -> str:
    """argparse type of every ``--recipes``: an existing folder (its default too, which
    argparse checks the same way), so that no command quietly runs without its recipes."""
    folder = Path(text)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise argparse.ArgumentTypeError(
            f"the recipe folder {folder.resolve()} {what}; pass --recipes with the folder of your recipes, "
            f"or run `ledgerlink init` to write a ledgerlink.toml and recipes/ to start from")
    return text


def _with_workers(args: argparse.Namespace, banner: str, block) -> int:
    """Build the runtime, start its workers, run ``block(runtime)`` until SIGTERM or Ctrl-C,
    then let in-flight runs finish and hand the rest back."""
    import logging

    from ledgerlink.engine.runtime import WorkerPool
    from ledgerlink.engine.operations import build_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the run log records every request
    runtime = build_runtime(db=_db_url(args), recipes=args.recipes, config_file=args.config,
                            settings=_settings(args))
    pool = WorkerPool(runtime, args.workers)
    pool.start()
    _install_stop_signals()
    print(banner.format(runtime=runtime, recipes=len(runtime.registry.active()), db=runtime.store.safe_url),
          flush=True)
    idle = runtime.registry.idle_reason()
    if idle:
        logging.getLogger("ledgerlink").warning("%s", idle)
    try:
        block(runtime)
    except KeyboardInterrupt:
        pass
    finally:
        pool.stop()
        runtime.close()
    return 0


def _listen_address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or ``PORT`` (on 127.0.0.1)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (for example 127.0.0.1:9100)") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port {number} is out of range")
    return host, number


def cmd_serve(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from ledgerlink.web.app import create_app
    from ledgerlink.web.servers import background, serve

    def http(runtime) -> None:
        with ExitStack() as stack:
            if args.metrics_listen:
                from ledgerlink.web.metrics import metrics_app

                host, port = args.metrics_listen
                running = stack.enter_context(background(metrics_app(runtime), host=host, port=port,
                                                         threads=2))
                print(f"metrics on {running.url}/metrics", flush=True)
            serve(create_app(runtime=runtime), host=args.host, port=args.port, threads=args.threads,
                  limits=_limits(args))

    return _with_workers(args, f"ledgerlink serving on http://{args.host}:{args.port} with {args.workers} "
                               f"worker(s); {{recipes}} recipe(s); database {{db}}", http)


def cmd_worker(args: argparse.Namespace) -> int:
    import threading

    return _with_workers(args, f"ledgerlink worker: {args.workers} worker(s) on {{db}}",
                         lambda runtime: threading.Event().wait())


def cmd_runs(args: argparse.Namespace) -> int:
    from ledgerlink.engine.operations import build_runtime, replay

    if args.runs_command == "list":
        from ledgerlink.store import Store

        store = Store(_db_url(args))
        store.check_migrated()
        rows = store.list_runs(status=args.status, recipe_id=args.recipe, limit=args.limit)
        if args.json:
            print(jsonio.dumps({"runs": rows}, indent=2))
            return 0
        for row in rows:
            print(f"{row['id']:>7}  {row['status']:<10} {row['recipe_id']} v{row['recipe_version']}  "
                  f"{row['event_id']}  attempts={row['attempts']}  {row['last_error'] or ''}")
        return 0
    if args.runs_command == "show":
        from ledgerlink.store import Store

        store = Store(_db_url(args))
        store.check_migrated()
        row = store.run(args.run)
        if row is None:
            print(f"error: no run {args.run}", file=sys.stderr)
            return 1
        print(jsonio.dumps(row, indent=2))
        return 0
    runtime = build_runtime(db=_db_url(args), recipes=args.recipes, config_file=args.config)
    try:
        if args.runs_command == "undo":
            from ledgerlink.engine.operations import undo
            print(jsonio.dumps(undo(runtime, args.run), indent=2))
        else:
            print(jsonio.dumps(replay(runtime, args.run, args.version, args.dry_run), indent=2))
    finally:
        runtime.close()
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from ledgerlink.connectors.manager import load_catalog
    from ledgerlink.web.servers import serve

    sandbox = load_catalog().sandbox(args.connector)
    options = {}
    for item in args.set or []:
        key, _, value = item.partition("=")
        try:
            options[key] = jsonio.loads(value)
        except jsonio.JSONDecodeError:
            options[key] = value
    unknown = sorted(set(options) - set(sandbox.options))
    if unknown:
        known = "".join(f"\n  {name}: {what}" for name, what in sorted(sandbox.options.items()))
        print(f"error: the {args.connector} sandbox has no option {', '.join(unknown)}; "
              f"it takes:{known}", file=sys.stderr)
        return 2
    try:
        app = sandbox.factory(**options)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _install_stop_signals()
    print(f"{args.connector} sandbox on http://{args.host}:{args.port}", flush=True)
    try:
        serve(app, host=args.host, port=args.port, threads=args.threads, limits=_limits(args))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ledgerlink.cli.demo import REFUSED, run_demo

    rows = run_demo(recipes=args.recipes, workdir=args.workdir)  # None: the installed examples
    # a refusal with its fix-it message is the demo working: nothing booked at a made-up rate
    failed = [r for r in rows if r["status"] not in ("succeeded", "duplicate, stored once", REFUSED)]
    return 1 if failed else 0


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


def cmd_check(args: argparse.Namespace) -> int:
    from ledgerlink.engine.preflight import check
    from ledgerlink.recipes.recipe import load_recipe
    from ledgerlink.engine.operations import build_runtime

    runtime = build_runtime(db=_db_url(args), recipes=None, config_file=args.config)
    try:
        recipe = load_recipe(args.recipe, runtime.catalog, runtime.config)
        problems = check(recipe, runtime)
    finally:
        runtime.close()
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{args.recipe}: every referenced id exists and is active", file=sys.stderr)
    return 1 if problems else 0


def cmd_connect(args: argparse.Namespace) -> int:
    from ledgerlink.io.oauth import consent_url
    from ledgerlink.engine.operations import build_runtime

    runtime = build_runtime(db=_db_url(args), recipes=None, config_file=args.config)
    try:
        url = consent_url(runtime, args.name, args.redirect_uri)
    finally:
        runtime.close()
    print("Open this address, sign in and allow access; you are sent back to the server, which stores")
    print("the tokens encrypted (the server must be running and reachable at the redirect address):")
    print(url)
    return 0


def cmd_connections(args: argparse.Namespace) -> int:
    from ledgerlink.web.api import connection_rows
    from ledgerlink.engine.operations import build_runtime

    runtime = build_runtime(db=_db_url(args), recipes=None, config_file=args.config)
    try:
        rows = connection_rows(runtime)
    finally:
        runtime.close()
    if args.json:
        print(jsonio.dumps({"connections": rows}, indent=2))
        return 0
    for row in rows:
        paused = f"  {row['paused_runs']} run(s) paused" if row["paused_runs"] else ""
        print(f"{row['name']:<20} {row['connector']:<12} {row['status']}{paused}")
    return 0


def cmd_secret_key(args: argparse.Namespace) -> int:
    from ledgerlink.io.secrets import new_key

    print(new_key())
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

    def db_option(p):
        p.add_argument("--db", help="database URL (default: $LEDGERLINK_DB or sqlite:///ledgerlink.db)")

    def service_options(p):
        db_option(p)
        p.add_argument("--recipes", type=recipe_folder, default="recipes",
                       help="recipe directory (default: recipes/)")
        p.add_argument("--config", help="ledgerlink.toml (default: $LEDGERLINK_CONFIG or ./ledgerlink.toml)")

    def http_limits(p):
        from ledgerlink.web.servers import ConnectionLimits

        default = ConnectionLimits()
        p.add_argument("--max-connections", type=positive_int, default=default.max_connections, metavar="N",
                       help=f"connections open at once; one more is answered 503 with Retry-After "
                            f"(default {default.max_connections})")
        p.add_argument("--request-timeout", type=positive_seconds, default=default.request_timeout,
                       metavar="SECONDS", help=f"a request's headers and body must arrive within this many "
                                               f"seconds of its first byte, else 408 and the connection is "
                                               f"closed (default {default.request_timeout:g})")
        p.add_argument("--idle-timeout", type=positive_seconds, default=default.idle_timeout, metavar="SECONDS",
                       help=f"close a connection that waits this long for its next request "
                            f"(default {default.idle_timeout:g})")

    p = sub.add_parser("db", help="database schema")
    dbsub = p.add_subparsers(dest="db_command", metavar="COMMAND")
    dbsub.required = True
    up = dbsub.add_parser("upgrade", help="apply the migrations (run before the first serve)")
    db_option(up)
    up.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("serve", help="HTTP API and webhooks, plus workers, on a production WSGI server")
    service_options(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=int, default=2, help="worker threads running runs (default 2)")
    p.add_argument("--threads", type=positive_int, default=64,
                   help="HTTP threads (default 64: a webhook's thread mostly waits for the commit that "
                        "the deliveries arriving together share, so more threads share each commit)")
    http_limits(p)
    p.add_argument("--lease", type=float, default=60.0,
                   help="seconds a claimed run stays leased; after a crash another worker takes it then")
    p.add_argument("--metrics-listen", type=_listen_address, metavar="HOST:PORT",
                   help="also serve GET /metrics here without a token (an address only the scraper "
                        "reaches); on the main address /metrics needs $LEDGERLINK_METRICS_TOKEN or the "
                        "admin token")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="workers only, beside a serve process on the same database")
    service_options(p)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--lease", type=float, default=60.0, help="seconds a claimed run stays leased")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("runs", help="list, show and replay runs")
    rsub = p.add_subparsers(dest="runs_command", metavar="COMMAND")
    rsub.required = True
    rl = rsub.add_parser("list", help="runs, newest first")
    db_option(rl)
    rl.add_argument("--status")
    rl.add_argument("--recipe")
    rl.add_argument("--limit", type=int, default=50)
    rl.add_argument("--json", action="store_true")
    rl.set_defaults(func=cmd_runs)
    rs = rsub.add_parser("show", help="one run with every step attempt")
    db_option(rs)
    rs.add_argument("run", type=int)
    rs.set_defaults(func=cmd_runs)
    rr = rsub.add_parser("replay", help="replay a failed run on its own version or the latest")
    service_options(rr)
    rr.add_argument("run", type=int)
    rr.add_argument("--version", choices=("own", "latest"), default="own")
    rr.add_argument("--dry-run", action="store_true", help="show what the replay would send")
    rr.set_defaults(func=cmd_runs)
    ru = rsub.add_parser("undo", help="void or delete every entity a run created, newest first")
    service_options(ru)
    ru.add_argument("run", type=int)
    ru.set_defaults(func=cmd_runs)

    p = sub.add_parser("sandbox", help="serve a vendor's loopback sandbox (tests, demos; "
                                       "pip install ledgerlink-sandboxes)")
    p.add_argument("connector")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--threads", type=int, default=16)
    http_limits(p)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="sandbox option (JSON value)")
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("demo", help="sandboxes + serve + signed example webhooks, then what reached the ledger")
    p.add_argument("--recipes", type=recipe_folder,
                   help="recipe directory (default: the example recipes installed with ledgerlink)")
    p.add_argument("--workdir", help="keep the demo's files here (default: a new temporary directory)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("init", help="write a starter ledgerlink.toml and recipes/ (the examples) to edit")
    p.add_argument("directory", nargs="?", default=".", metavar="DIR", help="where to write them (default: .)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("check", help="read-only: do the accounts, items and customers a recipe names exist?")
    p.add_argument("recipe", metavar="RECIPE")
    db_option(p)
    p.add_argument("--config")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("connect", help="print the consent address that connects an OAuth connection")
    p.add_argument("name", help="connection name in ledgerlink.toml")
    p.add_argument("--redirect-uri", default="http://127.0.0.1:8080/oauth/callback",
                   help="where the consent screen sends the person back: serve's /oauth/callback")
    db_option(p)
    p.add_argument("--config")
    p.set_defaults(func=cmd_connect)

    p = sub.add_parser("connections", help="connections and their state (ok, needs_reauth, not_connected)")
    db_option(p)
    p.add_argument("--config")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_connections)

    p = sub.add_parser("secret-key", help="print a new LEDGERLINK_SECRET_KEY")
    p.set_defaults(func=cmd_secret_key)
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
