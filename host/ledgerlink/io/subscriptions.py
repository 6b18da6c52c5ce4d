"""A connection's webhook subscriptions at its vendor, and the secrets their handshakes teach.

:func:`learn` keeps the secret a handshake delivered, encrypted with the connection's stored
secrets, as *pending* (anyone may POST a handshake: a pending secret signs nothing).
:func:`register` (``ledgerlink webhooks register NAME URL``) subscribes the address to the
vendor events the enabled recipes' triggers need, waits for each new subscription's pending
secret (the server that receives the handshake stores it in the shared database), confirms it
with the vendor, and keeps it as a *signing* secret once the vendor accepted it. Run again,
it creates nothing that exists: a verified subscription is kept, an unverified one is
confirmed (its handshake asked again when its secret never arrived).

The secrets live in the stored row of the connection's token set (:func:`~ledgerlink.io.oauth.token_set`):
a connection on another's token set has no row of its own, and reads its secrets from the set
owner's (:meth:`~ledgerlink.io.connections.Connections.secrets`). So a handshake received on
any connection of a set, and the signing secret it becomes, are kept in that row: the set's
connections share one webhook address, each event then stored on the connection of its
tenant (``Webhook.tenant_setting``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response
from ledgerlink.contract.subscriptions import PENDING, SIGNING, Handshake, Subscription, Subscriptions
from ledgerlink.errors import ConfigError, LedgerlinkError
from ledgerlink.io.connections import Connections
from ledgerlink.io.oauth import token_set

#: at most this many pending secrets are kept per connection (the oldest is dropped): a
#: stranger posting handshakes cannot grow the stored secrets without bound
MAX_PENDING = 20


def learn(connections: Connections, name: str, handshake: Handshake) -> None:
    """Keep ``handshake``'s secret as the pending secret of its subscription on ``name`` (in
    the row of its token set)."""
    box = connections.secret_box
    if not box.enabled:
        raise ConfigError(f"connection {name!r} received a webhook handshake, but its secret cannot be "
                          f"kept: set LEDGERLINK_SECRET_KEY (see `ledgerlink secret-key`) on the server")

    def keep(values: dict[str, Any], status: str | None) -> tuple[Any, Any, Any]:
        pending = [key for key in values if key.startswith(PENDING)]
        for old in pending[:max(0, len(pending) - MAX_PENDING + 1)]:
            del values[old]
        values.pop(PENDING + handshake.subscription, None)  # the newest last
        values[PENDING + handshake.subscription] = handshake.secret
        return values, status or "not_connected", None

    box.locked_update(token_set(connections, name), keep)


def _confirmed(connections: Connections, name: str, subscription: str, secret: str) -> None:
    def keep(values: dict[str, Any], status: str | None) -> tuple[Any, Any, Any]:
        values.pop(PENDING + subscription, None)
        values[SIGNING + subscription] = secret
        return values, status or "not_connected", None

    connections.secret_box.locked_update(token_set(connections, name), keep)


def _pending(connections: Connections, name: str, subscription: str) -> str | None:
    owner = token_set(connections, name)
    connections.secret_box.forget(owner)
    value = connections.secret_box.get(owner).get(PENDING + subscription)
    return value if isinstance(value, str) and value else None


@dataclass
class Registered:
    """One subscription after :func:`register`: what it is and what was done to it."""

    subscription: Subscription
    #: "kept" (verified already), "confirmed" (created or found unverified, and its handshake
    #: confirmed), "waiting" (no handshake arrived in time) or "no_secret" (verified, but its
    #: secret is not stored here: delete it at the vendor and register again)
    done: str


def _drive(generator: Generator[Request, Response, Any], send: Callable[[Request], Response]) -> Any:
    try:
        request = next(generator)
        while True:
            request = generator.send(send(request))
    except StopIteration as stop:
        return stop.value


def needed_events(subscriptions: Subscriptions, triggers: Iterable[str]) -> list[str]:
    """The vendor events the triggers need, each once, in the order of ``subscriptions.events``."""
    wanted = set(triggers)
    return list(dict.fromkeys(event for trigger, event in subscriptions.events.items() if trigger in wanted))


def register(connections: Connections, name: str, url: str, triggers: Iterable[str], wait: float = 60.0,
             sleep: Callable[[float], None] = time.sleep,
             clock: Callable[[], float] = time.monotonic) -> list[Registered]:
    """Subscribe ``url`` on connection ``name`` to what ``triggers`` need; confirm each handshake.

    Waits up to ``wait`` seconds in all for the handshakes (the server receiving ``url`` must
    be running); a subscription whose secret did not arrive is reported ``waiting`` and is
    confirmed by the next run of the command.
    """
    connection = connections.connection(name)
    webhook = connections.catalog.connectors[connection.connector].webhook
    subs = webhook.subscriptions if webhook is not None else None
    if subs is None:
        raise ConfigError(f"connector {connection.connector!r} of connection {name!r} has no webhook "
                          f"subscriptions to register")
    if not connections.secret_box.enabled:
        raise ConfigError("set LEDGERLINK_SECRET_KEY (see `ledgerlink secret-key`): the secrets webhook "
                          "handshakes teach are stored encrypted")
    events = needed_events(subs, triggers)
    if not events:
        raise ConfigError(f"no enabled recipe on connection {name!r} uses a trigger that needs a webhook "
                          f"subscription ({', '.join(sorted(subs.events))})")
    send = connections.sender(name)
    ctx = ActionContext(connection=connection, idempotency_key="")
    existing = [s for s in _drive(subs.list(ctx), send) if s.url == url]
    results: list[Registered] = []
    for event in events:
        mine = [s for s in existing if s.event == event]
        verified = next((s for s in mine if s.verified), None)
        if verified is not None:
            stored = connections.secrets(name).get(SIGNING + verified.id)
            results.append(Registered(verified, "kept" if stored else "no_secret"))
        elif mine:
            results.append(Registered(mine[0], "unverified"))
        else:
            results.append(Registered(_drive(subs.create(event, url, ctx), send), "created"))
    deadline = clock() + wait
    for item in results:
        if item.done in ("kept", "no_secret"):
            continue
        secret = _pending(connections, name, item.subscription.id)
        if secret is None and item.done == "unverified" and subs.resend is not None:
            _drive(subs.resend(item.subscription, ctx), send)
        while secret is None and clock() < deadline:
            sleep(0.2)
            secret = _pending(connections, name, item.subscription.id)
        if secret is None:
            item.done = "waiting"
            continue
        confirmed = _drive(subs.confirm(item.subscription, secret, ctx), send)
        if not confirmed.verified:
            raise LedgerlinkError(f"the vendor did not accept the secret of subscription {item.subscription.id} "
                                  f"({item.subscription.event}); run the command again to ask for a new one")
        _confirmed(connections, name, confirmed.id, secret)
        item.subscription, item.done = confirmed, "confirmed"
    return results


def listed(connections: Connections, name: str) -> list[Subscription]:
    """Every subscription of connection ``name`` at its vendor."""
    connection = connections.connection(name)
    webhook = connections.catalog.connectors[connection.connector].webhook
    if webhook is None or webhook.subscriptions is None:
        raise ConfigError(f"connector {connection.connector!r} of connection {name!r} has no webhook "
                          f"subscriptions")
    ctx = ActionContext(connection=connection, idempotency_key="")
    return list(_drive(webhook.subscriptions.list(ctx), connections.sender(name)))
