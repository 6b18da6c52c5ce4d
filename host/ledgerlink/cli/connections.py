"""Commands about connections: connect (OAuth consent, or a key check), connections, secret-key."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from ledgerlink import jsonio
from ledgerlink.cli.options import db_option, db_url

if TYPE_CHECKING:
    from ledgerlink.io.connections import Connections

#: where ``ledgerlink connect`` sends the person back when neither the command nor the
#: connection names an address: ``serve``'s ``/oauth/callback`` on its default port
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8080/oauth/callback"


def cmd_connect(args: argparse.Namespace) -> int:
    from ledgerlink.io.oauth import CLIENT_CREDENTIALS, connect_client, consent_url, grant, sharing, token_set
    from ledgerlink.engine.operations import build_runtime

    runtime = build_runtime(db=db_url(args), recipes=None, config_file=args.config)
    try:
        connections = runtime.connections
        connector = runtime.catalog.connectors[connections.connection(args.name).connector]
        if connector.oauth is None:
            return _check_key(connections, args.name)
        owner = token_set(connections, args.name)
        if grant(connector.oauth, connections.connection(owner)) == CLIENT_CREDENTIALS:
            names = connect_client(connections, args.name)
            print(f"{', '.join(names)}: ok (a token fetched with the app's client credentials, the "
                  f"tenant learned); paused runs resumed")
            return 0
        # a vendor that takes only the redirect addresses registered on the app (https, no
        # query string) has the registered one set on the connection: it is the default
        redirect = (args.redirect_uri or connections.connection(args.name).settings.get("redirect_uri")
                    or DEFAULT_REDIRECT_URI)
        url = consent_url(connections, args.name, str(redirect))
        names = sharing(connections, args.name)
    finally:
        runtime.close()
    if len(names) > 1:
        print(f"{args.name} shares the tokens of {owner!r}: this consent connects {', '.join(names)}")
    print("Open this address, sign in and allow access; you are sent back to the server, which stores")
    print("the tokens encrypted (the server must be running and reachable at the redirect address):")
    print(url)
    return 0


def _check_key(connections: Connections, name: str) -> int:
    """A connection without OAuth: check the key now in the environment; resume on success."""
    from ledgerlink.io.keys import check

    checked = check(connections, name)
    if not checked.ok:
        print(f"error: {checked.message}", file=sys.stderr)
        return 1
    if checked.unchecked:
        print(f"warning: {checked.message}", file=sys.stderr)
    fetches = f"; {checked.fetches} waiting notification(s) fetched again" if checked.fetches else ""
    print(f"{name}: ok ({checked.message}); {checked.resumed} paused run(s) resumed{fetches}")
    return 0


def cmd_connections(args: argparse.Namespace) -> int:
    from ledgerlink.web.connections import connection_rows
    from ledgerlink.engine.operations import build_runtime

    runtime = build_runtime(db=db_url(args), recipes=None, config_file=args.config)
    try:
        rows = connection_rows(runtime)
    finally:
        runtime.close()
    if args.json:
        print(jsonio.dumps({"connections": rows}, indent=2))
        return 0
    for row in rows:
        paused = f"  {row['paused_runs']} run(s) paused" if row["paused_runs"] else ""
        if row["paused_fetches"]:
            paused += f"  {row['paused_fetches']} notification(s) waiting"
        shared = f"  tokens of {row['token_set']}" if row.get("token_set") not in (None, row["name"]) else ""
        print(f"{row['name']:<20} {row['connector']:<12} {row['status']}{shared}{paused}")
        if row["poll"] is not None:
            for line in poll_lines(row["poll"]):
                print(f"    {line}")
    return 0


def poll_lines(poll: dict[str, Any]) -> list[str]:
    """A polled connection's poll as ``ledgerlink connections`` prints it."""
    def when(at: float | None) -> str:
        return "never" if at is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))

    age = poll["cursor_age_seconds"]
    if poll.get("waiting_for_new_key"):
        due = "waits for a new key"
    else:
        due = f"next due {when(poll['next_due_at']) if poll['next_due_at'] is not None else 'now'}"
    lines = [f"poll every {poll['interval_seconds']:g}s: last polled {when(poll['last_polled_at'])}"
             + ("" if age is None else f" (cursor {age:.0f}s old)") + f", {due}"]
    if poll["error"]:
        lines.append(f"error: {poll['error']}")
    lines += [f"warning: {w}" for w in poll["warnings"]]
    return lines


def cmd_secret_key(args: argparse.Namespace) -> int:
    from ledgerlink.io.secrets import new_key

    print(new_key())
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``connect``, ``connections`` and ``secret-key``."""
    p = sub.add_parser("connect", help="print the consent address that connects an OAuth connection; for a "
                                       "key connection, check the key and resume its paused runs")
    p.add_argument("name", help="connection name in ledgerlink.toml")
    p.add_argument("--redirect-uri",
                   help="where the consent screen sends the person back: serve's /oauth/callback (default: "
                        f"the connection's redirect_uri setting, else {DEFAULT_REDIRECT_URI})")
    db_option(p)
    p.add_argument("--config")
    p.set_defaults(func=cmd_connect)

    p = sub.add_parser("connections", help="connections and their state (ok, needs_reauth, not_connected, needs_new_key)")
    db_option(p)
    p.add_argument("--config")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_connections)

    p = sub.add_parser("secret-key", help="print a new LEDGERLINK_SECRET_KEY")
    p.set_defaults(func=cmd_secret_key)
