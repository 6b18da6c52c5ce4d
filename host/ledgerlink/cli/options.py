"""Arguments several commands share, and the argparse types that check them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ledgerlink.web.servers.limits import ConnectionLimits

if TYPE_CHECKING:
    from ledgerlink.config import Config
    from ledgerlink.connectors.catalog import Catalog

CONFIG_HELP = "ledgerlink.toml (default: $LEDGERLINK_CONFIG or ./ledgerlink.toml)"


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


def listen_address(text: str) -> tuple[str, int]:
    """argparse type: ``HOST:PORT``, ``[IPv6]:PORT`` or ``PORT`` (on 127.0.0.1)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (for example 127.0.0.1:9100)") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port {number} is out of range")
    return host, number


def db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="database URL (default: $LEDGERLINK_DB or sqlite:///ledgerlink.db)")


def db_url(args: argparse.Namespace) -> str:
    """The database ``--db`` names, else ``$LEDGERLINK_DB``, else the default."""
    from ledgerlink.store import DEFAULT_URL

    return args.db or os.environ.get("LEDGERLINK_DB") or DEFAULT_URL


def service_options(p: argparse.ArgumentParser) -> None:
    """``--db``, ``--recipes`` and ``--config``: what a command that runs recipes reads."""
    db_option(p)
    p.add_argument("--recipes", type=recipe_folder, default="recipes",
                   help="recipe directory (default: recipes/)")
    p.add_argument("--config", help=CONFIG_HELP)


def http_limits(p: argparse.ArgumentParser) -> None:
    """The options of :class:`~ledgerlink.web.servers.limits.ConnectionLimits`."""
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


def connection_limits(args: argparse.Namespace) -> ConnectionLimits:
    """The limits :func:`http_limits`' options ask for."""
    return ConnectionLimits(max_connections=args.max_connections, request_timeout=args.request_timeout,
                            idle_timeout=args.idle_timeout)


def catalog_and_config(args: argparse.Namespace) -> tuple[Catalog, Config]:
    """The catalog of every installed plugin and the configuration ``--config`` names."""
    from ledgerlink.config import find_config_file, load_config
    from ledgerlink.connectors.manager import load_catalog

    catalog = load_catalog()
    config = load_config(find_config_file(getattr(args, "config", None)), catalog)
    return catalog, config
