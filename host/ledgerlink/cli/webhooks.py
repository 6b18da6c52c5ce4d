"""``ledgerlink webhooks register NAME URL`` and ``ledgerlink webhooks list NAME``.

For a connector whose vendor subscribes webhooks through its API and proves each
subscription with a handshake (:mod:`ledgerlink.contract.subscriptions`): ``register``
subscribes the address to what the enabled recipes on the connection need and confirms each
handshake (the server must be running and reachable at the address); ``list`` shows the
subscriptions the vendor has. Both are idempotent.
"""

from __future__ import annotations

import argparse

from ledgerlink import jsonio
from ledgerlink.cli.options import positive_seconds, service_options, db_url

#: what each outcome of :func:`ledgerlink.io.subscriptions.register` is printed as
DONE = {"kept": "verified already", "confirmed": "subscribed and verified",
        "waiting": "waiting for the handshake: is the server reachable at the address? run again",
        "no_secret": "verified, but its secret is not stored here: delete it at the vendor and run again"}


def cmd_register(args: argparse.Namespace) -> int:
    from ledgerlink.engine.operations import build_runtime
    from ledgerlink.io.subscriptions import register

    runtime = build_runtime(db=db_url(args), recipes=args.recipes, config_file=args.config,
                            plugins=getattr(args, "plugin_manager", None))
    try:
        triggers = {r.trigger.name for r in runtime.registry.active().values()
                    if r.connection == args.name and r.enabled}
        results = register(runtime.connections, args.name, args.url, triggers, wait=args.wait)
    finally:
        runtime.close()
    if args.json:
        print(jsonio.dumps({"subscriptions": [{"id": r.subscription.id, "event": r.subscription.event,
                                               "url": r.subscription.url, "verified": r.subscription.verified,
                                               "done": r.done} for r in results]}, indent=2))
    else:
        for r in results:
            print(f"{r.subscription.event:<24} {r.subscription.id:<12} {DONE[r.done]}")
    return 0 if all(r.done in ("kept", "confirmed") for r in results) else 1


def cmd_list(args: argparse.Namespace) -> int:
    from ledgerlink.engine.operations import build_runtime
    from ledgerlink.io.subscriptions import listed

    runtime = build_runtime(db=db_url(args), recipes=None, config_file=args.config, plugins=getattr(args, "plugin_manager", None))
    try:
        found = listed(runtime.connections, args.name)
    finally:
        runtime.close()
    if args.json:
        print(jsonio.dumps({"subscriptions": [{"id": s.id, "event": s.event, "url": s.url,
                                               "verified": s.verified} for s in found]}, indent=2))
        return 0
    for s in found:
        print(f"{s.event:<24} {s.id:<12} {'verified' if s.verified else 'unverified':<10} {s.url}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``webhooks register`` and ``webhooks list``."""
    p = sub.add_parser("webhooks", help="subscribe a connection's webhooks at its vendor (for vendors that "
                                        "subscribe through their API)")
    actions = p.add_subparsers(dest="webhooks_command", metavar="ACTION")
    actions.required = True
    r = actions.add_parser("register", help="subscribe URL to the events the enabled recipes need and confirm "
                                            "each handshake; run again, it creates nothing that exists")
    r.add_argument("name", help="connection name in ledgerlink.toml")
    r.add_argument("url", help="the address the vendor posts to: this server's /webhooks/NAME, reachable "
                               "from the vendor")
    r.add_argument("--wait", type=positive_seconds, default=60.0, metavar="SECONDS",
                   help="how long to wait in all for the handshakes (default 60)")
    r.add_argument("--json", action="store_true")
    service_options(r)
    r.set_defaults(func=cmd_register)
    listing = actions.add_parser("list", help="the subscriptions the vendor has for the connection")
    listing.add_argument("name", help="connection name in ledgerlink.toml")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--db", help="database URL (default: $LEDGERLINK_DB or sqlite:///ledgerlink.db)")
    listing.add_argument("--config")
    listing.set_defaults(func=cmd_list)
