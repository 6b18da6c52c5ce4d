"""Webhook subscriptions a connection makes at its vendor, and the secrets they teach it.

Some vendors do not hand the app a signing key in a portal: the app *subscribes* an address
to an event through the API, the vendor then POSTs a secret to that address (a verification
code), and the subscription delivers events only once the app sends that code back. The
code is, from then on, the key each delivery of that subscription is signed with.

The kit splits that in two:

- the delivery carrying the secret is a :class:`Handshake`: ``Webhook.handshake(headers,
  body)`` recognises it (it is not signed: it *is* the secret). The host keeps the secret
  encrypted with the connection's stored secrets, as *pending*: anyone can POST a
  handshake, so a pending secret signs nothing;
- ``ledgerlink webhooks register NAME URL`` makes the subscriptions the enabled recipes'
  triggers need through :class:`Subscriptions` (list, create, confirm), waits for each
  pending secret, confirms it with the vendor, and only a secret the vendor accepted
  becomes a *signing* secret. ``Webhook.verify`` finds the signing secrets among the
  connection's secrets with :func:`signing_secrets`.

Stored secrets are flat names (``webhook_secret:<subscription id>``), so they are redacted
like any other secret value and survive a reconnection.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledgerlink.contract.components import ActionContext, Request, Response

#: the stored secret name of a subscription's secret the vendor accepted (prefix + id)
SIGNING = "webhook_secret:"
#: the stored secret name of a secret received by a handshake and not yet confirmed
PENDING = "webhook_pending:"


@dataclass(frozen=True)
class Handshake:
    """A delivery that proves a new subscription instead of carrying events."""

    #: the vendor's id of the subscription being proved
    subscription: str
    #: the secret (verification code) it carries; kept encrypted, never logged
    secret: str


@dataclass(frozen=True)
class Subscription:
    """One subscription at the vendor, as its API lists it."""

    id: str
    #: the vendor's event name (``payment.create``)
    event: str
    url: str
    #: the vendor delivers events to it (its secret was confirmed)
    verified: bool


@dataclass(frozen=True)
class Subscriptions:
    """How ``ledgerlink webhooks register`` makes a connection's subscriptions.

    Each callable is a read-or-write generator like an action's ``perform``: it yields
    Requests (sent authenticated on the connection) and returns its value.
    """

    #: trigger name → the vendor's event its triggers need a subscription to
    events: Mapping[str, str]
    #: ``list(ctx) -> [Subscription]``: every subscription of the connection's tenant
    list: Callable[["ActionContext"], Generator["Request", "Response", list[Subscription]]]
    #: ``create(event, url, ctx) -> Subscription``: subscribe ``url`` to ``event`` (unverified)
    create: Callable[[str, str, "ActionContext"], Generator["Request", "Response", Subscription]]
    #: ``confirm(subscription, secret, ctx) -> Subscription``: send the handshake's secret back;
    #: returns the subscription as the vendor now has it (``verified`` True when accepted)
    confirm: Callable[[Subscription, str, "ActionContext"], Generator["Request", "Response", Subscription]]
    #: ``resend(subscription, ctx)``: ask the vendor to send the handshake again (for an
    #: unverified subscription whose secret never arrived); None: the vendor cannot
    resend: Callable[[Subscription, "ActionContext"], Generator["Request", "Response", Any]] | None = None


def signing_secrets(secrets: Mapping[str, Any]) -> dict[str, str]:
    """The confirmed signing secrets among a connection's ``secrets``, by subscription id."""
    return {name[len(SIGNING):]: value for name, value in secrets.items()
            if name.startswith(SIGNING) and isinstance(value, str) and value}


__all__ = ["Handshake", "PENDING", "SIGNING", "Subscription", "Subscriptions", "signing_secrets"]
