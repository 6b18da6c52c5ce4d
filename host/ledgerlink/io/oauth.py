"""OAuth 2.0 for connections: consent, code exchange, refresh once at a time, re-consent.

- ``ledgerlink connect NAME`` prints the consent URL; ``serve`` answers the redirect at
  ``GET /oauth/callback``, checks ``state`` (single use, ten minutes), exchanges the code and
  stores the tokens encrypted (:mod:`ledgerlink.io.secrets`).
- :func:`fresh_secrets` gives a connection's secrets with an access token valid for at least
  a few more minutes, refreshing it first if needed. One refresh at a time per connection:
  threads of a process queue on a lock, and the stored tokens are read again inside it, so
  a refresh another process made is used rather than repeated. The rotated refresh token
  is stored before the new access token is used.
- A refresh answered ``invalid_grant`` marks the connection ``needs_reauth``; its runs are
  paused, not failed, and ``ledgerlink connect NAME`` again resumes them.
"""

from __future__ import annotations

import re
import secrets as pysecrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from ledgerlink import jsonio
from ledgerlink.contract import Connector
from ledgerlink.errors import ConfigError, LedgerlinkError, NeedsReauth

#: the form of the OAuth state ledgerlink issues (``secrets.token_urlsafe``)
STATE_FORM = re.compile(r"[A-Za-z0-9_-]{16,100}")

STATE_SECONDS = 600.0
#: refresh when the access token has less than this left
REFRESH_MARGIN = 300.0

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def _spec(runtime: Any, name: str) -> tuple[Connector, Any]:
    connection = runtime.connection(name)
    connector = runtime.catalog.connectors[connection.connector]
    if connector.oauth is None:
        raise ConfigError(f"connection {name!r} ({connector.name}) does not use OAuth; nothing to connect")
    return connector, connection


def _client_credentials(runtime: Any, name: str, connection: Any) -> tuple[str, str]:
    client_id = connection.settings.get("client_id")
    secret = runtime.config.secrets(name, runtime.catalog).get("client_secret") if name in runtime.config.connections else None
    if not client_id or not secret:
        raise ConfigError(f"connection {name!r} needs client_id and client_secret (as ${{ENV_VAR}}) in "
                          f"ledgerlink.toml to connect")
    return client_id, secret


def consent_url(runtime: Any, name: str, redirect_uri: str) -> str:
    """The URL a person opens to let ledgerlink reach the connection's company."""
    connector, connection = _spec(runtime, name)
    client_id, _ = _client_credentials(runtime, name, connection)
    state = pysecrets.token_urlsafe(24)
    runtime.store.set_cursor(f"oauth-state:{state}", jsonio.dumps(
        {"connection": name, "redirect_uri": redirect_uri, "expires": time.time() + STATE_SECONDS}))
    base = connection.settings.get("authorize_url") or connector.oauth.authorize_url
    query = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri, "state": state}
    if connector.oauth.scopes:
        query["scope"] = " ".join(connector.oauth.scopes)
    return f"{base}?{urlencode(query)}"


def _token_request(runtime: Any, name: str, form: dict[str, str]) -> dict[str, Any]:
    connector, connection = _spec(runtime, name)
    client_id, client_secret = _client_credentials(runtime, name, connection)
    url = connection.settings.get("token_url") or connector.oauth.token_url
    auth = None
    if connector.oauth.client_auth == "basic":
        auth = httpx.BasicAuth(client_id, client_secret)
    else:
        form = {**form, "client_id": client_id, "client_secret": client_secret}
    try:
        response = runtime.client.post(url, data=form, auth=auth, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise LedgerlinkError(f"the token endpoint of {name!r} did not answer: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 400 and body.get("error") == "invalid_grant":
        raise NeedsReauth(name, "the token endpoint answered invalid_grant")
    if response.status_code != 200 or "access_token" not in body:
        raise LedgerlinkError(f"the token endpoint of {name!r} answered HTTP {response.status_code} "
                              f"({body.get('error', 'no access token')})")
    now = time.time()
    out = {"access_token": body["access_token"],
           "access_expires_at": now + float(body.get("expires_in", 3600))}
    if body.get("refresh_token"):
        out["refresh_token"] = body["refresh_token"]
    if body.get("x_refresh_token_expires_in"):
        out["refresh_expires_at"] = now + float(body["x_refresh_token_expires_in"])
    return out


def complete(runtime: Any, query: dict[str, str]) -> str:
    """Finish a consent redirect: check ``state``, exchange the code, store the tokens.
    Returns the connection name; its paused runs are resumed."""
    state = query.get("state", "")
    # only a state of the form ledgerlink issues is looked up (a NUL byte is refused by PostgreSQL)
    raw = runtime.store.cursor(f"oauth-state:{state}") if STATE_FORM.fullmatch(state) else None
    if raw is None:
        raise ConfigError("unknown or used OAuth state; start again with `ledgerlink connect NAME`")
    runtime.store.set_cursor(f"oauth-state:{state}", jsonio.dumps({"used": True}))
    saved = jsonio.loads(raw)
    if saved.get("used") or saved.get("expires", 0) < time.time():
        raise ConfigError("this consent link has expired or was used; start again with `ledgerlink connect NAME`")
    if "error" in query:
        raise ConfigError(f"consent was not given: {query.get('error')}")
    name = saved["connection"]
    connector, _ = _spec(runtime, name)
    tokens = _token_request(runtime, name, {"grant_type": "authorization_code", "code": query.get("code", ""),
                                            "redirect_uri": saved["redirect_uri"]})
    if connector.oauth.settings_from_callback is not None:
        tokens["settings"] = dict(connector.oauth.settings_from_callback(query))
    with _lock(name):
        runtime.secret_box.put(name, tokens, status="ok")
    runtime.store.resume_paused(name)
    runtime.wake()
    return name


def _left(values: dict[str, Any]) -> float:
    """Seconds the stored access token has left."""
    return float(values.get("access_expires_at", 0)) - time.time()


def fresh_secrets(runtime: Any, name: str, configured: dict[str, Any]) -> dict[str, Any]:
    """``configured`` overlaid with stored tokens, the access token refreshed if it is about to expire."""
    status = runtime.secret_box.status(name)
    if status is None:
        return configured
    if status == "needs_reauth":
        raise NeedsReauth(name)
    stored = runtime.secret_box.get(name)
    if _left(stored) > REFRESH_MARGIN or not stored.get("refresh_token"):
        return {**configured, **stored}

    def refresh(values: dict[str, Any], status: str | None) -> tuple[Any, Any, Any]:
        # read again under the lock: another thread or process may have refreshed meanwhile
        if status == "needs_reauth":
            return None, None, NeedsReauth(name)
        if _left(values) > REFRESH_MARGIN:
            return None, None, values
        try:
            tokens = _token_request(runtime, name, {"grant_type": "refresh_token",
                                                    "refresh_token": values["refresh_token"]})
        except NeedsReauth as exc:
            return values, "needs_reauth", exc
        runtime.metrics.add("token_refreshes", 1)
        merged = {**values, **tokens}
        return merged, "ok", merged  # the rotated refresh token is stored before it is used

    with _lock(name):
        result = runtime.secret_box.locked_update(name, refresh)
    if isinstance(result, NeedsReauth):
        raise result
    return {**configured, **result}


def expire(runtime: Any, name: str) -> None:
    """The vendor refused the access token (401): refresh it before the next request."""
    def mark(values: dict[str, Any], status: str | None) -> tuple[Any, Any, Any]:
        if not values:
            return None, None, None
        return {**values, "access_expires_at": 0}, status or "ok", None

    with _lock(name):
        runtime.secret_box.locked_update(name, mark)
