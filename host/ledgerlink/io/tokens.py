"""A token set's access token kept fresh: one refresh at a time across processes, refusals
remembered.

- :func:`fresh_secrets` gives a connection's secrets with an access token valid for at least
  a few more minutes, refreshing its token set first if needed (with the refresh token, or
  for a client-credentials connection by asking for a new token). One refresh at a time per
  token set: threads of a process queue on a lock, processes on the database's lock of the
  set's row, and the stored tokens are read again inside it, so a refresh another process
  (or another connection on the same set) made is used rather than repeated. The rotated
  refresh token is stored in the same transaction that reads it, before the new access token
  is used; every connection on the set reads that one row, so all see the rotation at once.
- A refresh the token endpoint did not answer changes nothing stored: the next one sends
  the same refresh token again (a vendor that rotated it keeps the old one usable for a
  grace period for exactly this case).
- A refresh answered ``invalid_grant`` (or ``invalid_client``) marks the token set
  ``needs_reauth`` with the reason; the runs of every connection on it are paused, not
  failed, and ``ledgerlink connect NAME`` for any of them resumes them all.
"""

from __future__ import annotations

from typing import Any

from ledgerlink.errors import NeedsReauth, TokenRefused
from ledgerlink.io.oauth import (CLIENT_CREDENTIALS, OAuthHost, client_form, grant, lock, token_request, token_set,
                                 tokens_of)

#: refresh when the access token has less than this left
REFRESH_MARGIN = 300.0


def _left(host: OAuthHost, values: dict[str, Any]) -> float:
    """Seconds the stored access token has left."""
    return float(values.get("access_expires_at", 0)) - host.clock()


def _renewable(host: OAuthHost, owner: str, values: dict[str, Any]) -> dict[str, str] | None:
    """The form that renews the set's access token, or None when it cannot be renewed (an
    access token stored without a refresh token, on an authorization-code connection)."""
    if values.get("refresh_token"):
        return {"grant_type": "refresh_token", "refresh_token": values["refresh_token"]}
    connector = host.catalog.connectors[host.connection(owner).connector]
    if connector.oauth is not None and grant(connector.oauth, host.connection(owner)) == CLIENT_CREDENTIALS:
        return client_form(host, owner)
    return None


def fresh_secrets(host: OAuthHost, name: str, configured: dict[str, Any]) -> dict[str, Any]:
    """``configured`` overlaid with the tokens of the connection's token set, the access
    token renewed first if it is about to expire. NeedsReauth names ``name``, so the run that
    asked is paused under its own connection."""
    owner = token_set(host, name)
    status = host.secret_box.status(owner)
    if status is None:
        return configured
    stored = host.secret_box.get(owner)
    if status == "needs_reauth":
        raise NeedsReauth(name, _why(name, owner, stored))
    if _left(host, stored) > REFRESH_MARGIN or _renewable(host, owner, stored) is None:
        return {**configured, **tokens_of(stored)}

    def renew(values: dict[str, Any], status: str | None) -> tuple[Any, Any, Any]:
        # read again under the lock: another thread, process or connection on the set may have renewed it
        if status == "needs_reauth":
            return None, None, NeedsReauth(name, _why(name, owner, values))
        form = _renewable(host, owner, values)
        if _left(host, values) > REFRESH_MARGIN or form is None:
            return None, None, values
        try:
            tokens = token_request(host, owner, form)
        except TokenRefused as exc:
            refused = {**values, "refused": exc.reason}
            return refused, "needs_reauth", NeedsReauth(name, _why(name, owner, refused))
        host.metrics.add("token_refreshes", 1)
        merged = {**values, **tokens}
        return merged, "ok", merged  # the rotated refresh token is stored before it is used

    with lock(owner):
        result = host.secret_box.locked_update(owner, renew)
    if isinstance(result, NeedsReauth):
        raise result
    return {**configured, **tokens_of(result)}


def _why(name: str, owner: str, values: dict[str, Any]) -> str:
    reason = values.get("refused") or "its refresh token was refused"
    return reason if name == owner else f"{reason} (the token set of {owner!r}, which it shares)"


def expire(host: OAuthHost, name: str) -> None:
    """The vendor refused the access token (401): renew the set's before the next request."""
    owner = token_set(host, name)

    def mark(values: dict[str, Any], status: str | None) -> tuple[Any, Any, Any]:
        if not values:
            return None, None, None
        return {**values, "access_expires_at": 0}, status or "ok", None

    with lock(owner):
        host.secret_box.locked_update(owner, mark)
