"""The ``ledgerlink`` command: the parser, the commands plugins add, and :func:`main`.

The built-in commands live in modules by job: :mod:`~ledgerlink.cli.setup` (init, db
upgrade, demo: its two parts are :mod:`~ledgerlink.cli.demo` and
:mod:`~ledgerlink.cli.demo_books`, which share :mod:`~ledgerlink.cli.demo_serve`), :mod:`~ledgerlink.cli.recipes` (connectors, validate, dry-run, check),
:mod:`~ledgerlink.cli.service` (serve, worker, sandbox), :mod:`~ledgerlink.cli.runs`, :mod:`~ledgerlink.cli.export`,
:mod:`~ledgerlink.cli.backfill`, :mod:`~ledgerlink.cli.reconcile`, :mod:`~ledgerlink.cli.schedules`,
:mod:`~ledgerlink.cli.connections` (connect, connections,
secret-key) and :mod:`~ledgerlink.cli.webhooks` (webhook subscriptions made through a vendor's API). Plugins add
subcommands through the ``ledgerlink_register_commands`` hook.

Every error a user can cause ends in a message naming where and what to fix, and exit
status 1; never a traceback. Exit status 2 is a usage error or a bug in ledgerlink.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

import pluggy

from ledgerlink import __version__
from ledgerlink.cli import (backfill, connections, export, recipes, reconcile, runs, schedules, service, setup,
                            webhooks)
from ledgerlink.errors import LedgerlinkError, PluginError, RecipeError

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


def add_plugin_commands(sub: argparse._SubParsersAction, plugins: pluggy.PluginManager) -> None:
    """Add the subcommands every ``ledgerlink_register_commands`` hook registers; a name
    already taken is a :class:`PluginError` naming the plugin."""
    from ledgerlink.connectors.manager import call_registrations

    owners: dict[str, str] = {}

    def registrar(plugin: str) -> Callable[[str, str, Configure, Run], None]:
        def register(name: str, help: str, configure: Configure, run: Run) -> None:
            if not isinstance(name, str) or not name or name.startswith("-"):
                raise PluginError(f"plugin {plugin!r}: a command name is a word, not {name!r}")
            if not (callable(configure) and callable(run)):
                raise PluginError(f"plugin {plugin!r}: command {name!r} needs a configure(parser) and "
                                  f"a run(args) function")
            if name in sub.choices:
                whose = f"plugin {owners[name]!r}'s" if name in owners else "a built-in"
                raise PluginError(f"plugin {plugin!r}: the command {name!r} is already {whose} command; "
                                  f"register it under another name")
            parser = sub.add_parser(name, help=help)
            configure(parser)
            parser.set_defaults(func=run)
            owners[name] = plugin
        return register

    call_registrations(plugins, "ledgerlink_register_commands", registrar)


def build_parser(plugins: pluggy.PluginManager | None = None) -> argparse.ArgumentParser:
    """The parser of every built-in command, then of the commands of ``plugins`` (None: no
    plugin commands)."""
    parser = argparse.ArgumentParser(
        prog="ledgerlink",
        description="Move invoicing data into accounting software through declarative recipes.")
    parser.add_argument("--version", action="version", version=f"ledgerlink {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (setup, recipes, service, runs, export, backfill, reconcile, schedules, connections, webhooks):
        module.add_commands(sub)
    if plugins is not None:
        add_plugin_commands(sub, plugins)
    return parser


def _parser_with_plugins(plugins: pluggy.PluginManager | None) -> argparse.ArgumentParser:
    """The whole parser; when the plugins cannot be loaded, the built-in commands alone
    (the first command that needs the plugins reports why), the reason in ``--help``."""
    from ledgerlink.connectors.manager import build_plugin_manager

    try:
        return build_parser(plugins or build_plugin_manager())
    except PluginError as exc:
        parser = build_parser()
        parser.epilog = f"plugin commands are unavailable: {exc.message}"
        return parser


def main(argv: list[str] | None = None, plugins: pluggy.PluginManager | None = None) -> int:
    """Run the command ``argv`` names (default: ``sys.argv``); its exit status. ``plugins``
    adds its commands (default: every installed plugin's)."""
    args = _parser_with_plugins(plugins).parse_args(argv)
    args.plugin_manager = plugins  # a command that builds a runtime loads these plugins' catalog
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
