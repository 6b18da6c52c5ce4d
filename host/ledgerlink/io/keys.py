"""Key connections: a connection without OAuth whose key the vendor refused.

A connection authenticated by a key in the environment (an API key, not OAuth tokens) has
nothing the host can refresh. When the vendor refuses it (HTTP 401: the key was rolled or
revoked), the runs that need it are paused, so are the fetches of its notifications and its
poll, and the connection is marked ``needs_new_key`` (:func:`refused`). Someone puts a new
key in the environment and runs ``ledgerlink connect NAME`` (:func:`check`): the
connector's ``check_credentials`` request is sent with that key; on success the connection
is ``ok`` again, its paused runs resume and its paused fetches and poll are due at once; on
failure nothing resumes. A connector that declares no check resumes on ``connect`` with a
warning.

The status is kept in the store's cursors (``key-status:NAME``), so every process sees it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, MailResult, Response
from ledgerlink.errors import LedgerlinkError, NotSent, OutcomeUnknown, VendorError

if TYPE_CHECKING:
    from ledgerlink.io.connections import Connections

#: the status of a key connection whose key the vendor refused
NEEDS_NEW_KEY = "needs_new_key"


def _cursor(name: str) -> str:
    return f"key-status:{name}"


def refused(host: Connections, name: str, reason: str) -> None:
    """The vendor refused the key of connection ``name``: mark it ``needs_new_key``."""
    host.store.set_cursor(_cursor(name), jsonio.dumps({"status": NEEDS_NEW_KEY, "reason": reason,
                                                       "at": time.time()}))


def status(host: Connections, name: str) -> tuple[str, float] | None:
    """(status, when it was set) of key connection ``name``; None when never refused or checked."""
    raw = host.store.cursor(_cursor(name))
    if raw is None:
        return None
    saved = jsonio.loads(raw)
    return str(saved.get("status", "ok")), float(saved.get("at", 0.0))


def waits_for_new_key(host: Connections, name: str) -> bool:
    """True when ``name`` is a key connection (its connector has no OAuth) whose key the
    vendor refused: nothing it sends can succeed until ``ledgerlink connect NAME``."""
    if host.catalog.connectors[host.connection(name).connector].oauth is not None:
        return False
    found = status(host, name)
    return found is not None and found[0] == NEEDS_NEW_KEY


@dataclass(frozen=True)
class Checked:
    """What ``ledgerlink connect NAME`` found for a key connection."""

    ok: bool
    #: what to tell the person: why the key was refused, or that nothing was checked
    message: str
    #: how many paused runs resumed
    resumed: int = 0
    #: True when the connector declares no check and the runs resumed unchecked
    unchecked: bool = False
    #: how many paused fetches (notifications waiting for their entity) are due again
    fetches: int = 0


def check(host: Connections, name: str) -> Checked:
    """Send the connector's ``check_credentials`` request with the key now in the
    environment; on a 2xx answer mark the connection ``ok`` and resume its paused runs,
    fetches and poll."""
    connection = host.connection(name)
    connector = host.catalog.connectors[connection.connector]
    if connector.check_credentials is None:
        return _resume(host, name, Checked(True, f"the {connector.name} connector declares no key check: "
                                                 f"nothing was checked", unchecked=True))
    try:
        send = host.sender(name)
        steps = connector.check_credentials(ActionContext(connection=connection, idempotency_key=""))
        try:
            request = next(steps)
        except StopIteration:  # this connection has nothing to check (a mail connector's webhook one)
            return _resume(host, name, Checked(True, f"connection {name!r} has no credential to check: "
                                                     f"nothing was checked", unchecked=True))
        answer = send(request)
    except (NotSent, OutcomeUnknown) as exc:
        return Checked(False, f"the key check of {name!r} was not answered: {exc}")
    except VendorError as exc:  # refused before any answer to read (an SMTP server refusing AUTH)
        return Checked(False, f"the key of {name!r} was not accepted: {exc.message}; nothing resumed")
    except LedgerlinkError as exc:  # the key is missing or malformed: nothing was sent
        return Checked(False, f"the key of {name!r} cannot be used: {exc.message}")
    try:  # the connector reads its vendor's answer (and its error message) itself
        steps.send(answer)
    except StopIteration:
        pass
    except VendorError as exc:
        return Checked(False, f"the key of {name!r} was not accepted: {exc.message}; nothing resumed")
    else:
        steps.close()  # one request is the whole check
    if isinstance(answer, MailResult) and answer.status == "checked":
        return _resume(host, name, Checked(True, f"the SMTP server of {name!r} accepted its username and "
                                                 f"password (nothing was sent)"))
    if not isinstance(answer, Response) or not 200 <= answer.status < 300:
        status_code = getattr(answer, "status", "no status")
        return Checked(False, f"the key of {name!r} was not accepted: HTTP {status_code}; nothing resumed")
    return _resume(host, name, Checked(True, f"the key of {name!r} was accepted"))


def _resume(host: Connections, name: str, checked: Checked) -> Checked:
    host.store.set_cursor(_cursor(name), jsonio.dumps({"status": "ok", "at": time.time()}))
    resumed = host.store.resume_paused(name)
    fetches = host.store.resume_fetches(name)
    host.store.poll_due_now(name)
    host.wake()
    return Checked(checked.ok, checked.message, resumed, checked.unchecked, fetches)
