"""OAuth 2.0 for connections: consent, code exchange, the tenant, refresh once at a time, re-consent.

- ``ledgerlink connect NAME`` prints the consent URL; ``serve`` answers the redirect at
  ``GET /oauth/callback``, checks ``state`` (single use, ten minutes), exchanges the code and
  stores the tokens encrypted (:mod:`ledgerlink.io.secrets`). When the connector's
  :class:`~ledgerlink.contract.OAuth2` declares ``pkce``, the consent URL carries an S256
  code challenge (RFC 7636 §4.2) and the exchange the code verifier, kept with the state.
- After the exchange, the connector's ``learn_tenant`` step learns which tenant the consent
  is for: its requests are sent with the fresh access token, and the settings it returns
  are stored with the tokens and overlay the connection's configured settings.
- :func:`fresh_secrets` gives a connection's secrets with an access token valid for at least
  a few more minutes, refreshing it first if needed. One refresh at a time per connection:
  threads of a process queue on a lock, and the stored tokens are read again inside it, so
  a refresh another process made is used rather than repeated. The rotated refresh token
  is stored before the new access token is used.
- A refresh answered ``invalid_grant`` marks the connection ``needs_reauth``; its runs are
  paused, not failed, and ``ledgerlink connect NAME`` again resumes them.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets as pysecrets
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from ledgerlink import jsonio
from ledgerlink.config import Config
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.contract import Connection, Connector, OAuth2, Request, Response
from ledgerlink.contract.subscriptions import PENDING, SIGNING
from ledgerlink.errors import ConfigError, LedgerlinkError, NeedsReauth, NotSent, OutcomeUnknown, VendorError
from ledgerlink.io import outbound
from ledgerlink.io.secrets import SecretBox
from ledgerlink.store import Store

#: the form of the OAuth state ledgerlink issues (``secrets.token_urlsafe``)
STATE_FORM = re.compile(r"[A-Za-z0-9_-]{16,100}")

STATE_SECONDS = 600.0
#: refresh when the access token has less than this left
REFRESH_MARGIN = 300.0

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class Counters(Protocol):
    """Where the flow counts what it did (``token_refreshes``)."""

    def add(self, name: str, amount: float) -> None: ...


class OAuthHost(Protocol):
    """What the OAuth flow needs of the process it runs in: the catalog, configuration and
    store, the one HTTP client, the secret box, somewhere to count, a connection's settings,
    and a way to wake the workers. :class:`ledgerlink.io.connections.Connections` offers
    exactly this; the flow never reaches the rest of the runtime."""

    @property
    def catalog(self) -> Catalog: ...

    @property
    def config(self) -> Config: ...

    @property
    def store(self) -> Store: ...

    @property
    def client(self) -> httpx.Client: ...

    @property
    def secret_box(self) -> SecretBox: ...

    @property
    def metrics(self) -> Counters: ...

    def connection(self, name: str) -> Connection:
        """The connection's settings, configured and learned."""

    def wake(self) -> None:
        """Have the workers look for runs now (paused runs were resumed): the call the
        runtime handed to :class:`~ledgerlink.io.connections.Connections`."""


def _lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def _spec(host: OAuthHost, name: str) -> tuple[Connector, OAuth2, Connection]:
    connection = host.connection(name)
    connector = host.catalog.connectors[connection.connector]
    if connector.oauth is None:
        raise ConfigError(f"connection {name!r} ({connector.name}) does not use OAuth; nothing to connect")
    return connector, connector.oauth, connection


def _client_credentials(host: OAuthHost, name: str, connection: Connection) -> tuple[str, str]:
    client_id = connection.settings.get("client_id")
    secret = host.config.secrets(name, host.catalog).get("client_secret") if name in host.config.connections else None
    if not client_id or not secret:
        raise ConfigError(f"connection {name!r} needs client_id and client_secret (as ${{ENV_VAR}}) in "
                          f"ledgerlink.toml to connect")
    return client_id, secret


def code_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE code verifier: BASE64URL(SHA256(verifier)), unpadded
    (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def consent_url(host: OAuthHost, name: str, redirect_uri: str) -> str:
    """The URL a person opens to let ledgerlink reach the connection's company."""
    _, oauth, connection = _spec(host, name)
    client_id, _ = _client_credentials(host, name, connection)
    state = pysecrets.token_urlsafe(24)
    saved: dict[str, Any] = {"connection": name, "redirect_uri": redirect_uri, "expires": time.time() + STATE_SECONDS}
    query = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri, "state": state}
    if oauth.scopes:
        query["scope"] = " ".join(oauth.scopes)
    if oauth.pkce:
        # 86 characters of [A-Za-z0-9_-]: inside RFC 7636's 43-128 unreserved characters
        saved["code_verifier"] = pysecrets.token_urlsafe(64)
        query["code_challenge"] = code_challenge(saved["code_verifier"])
        query["code_challenge_method"] = "S256"
    host.store.set_cursor(f"oauth-state:{state}", jsonio.dumps(saved))
    base = connection.settings.get("authorize_url") or oauth.authorize_url
    return f"{base}?{urlencode(query)}"


def _token_request(host: OAuthHost, name: str, form: dict[str, str]) -> dict[str, Any]:
    _, oauth, connection = _spec(host, name)
    client_id, client_secret = _client_credentials(host, name, connection)
    url = connection.settings.get("token_url") or oauth.token_url
    auth = None
    if oauth.client_auth == "basic":
        auth = httpx.BasicAuth(client_id, client_secret)
    else:
        form = {**form, "client_id": client_id, "client_secret": client_secret}
    try:
        response = host.client.post(url, data=form, auth=auth, headers={"Accept": "application/json"})
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


def _learn_tenant(host: OAuthHost, oauth: OAuth2, name: str, query: Mapping[str, str],
                  access_token: str) -> dict[str, Any]:
    """Run the connector's ``learn_tenant`` step; its requests carry the fresh access token.

    The step sees the configured settings (not what an earlier consent taught), so the
    tenant a person chose in ledgerlink.toml decides."""
    if oauth.learn_tenant is None:
        return {}
    configured = host.config.connection(name, host.catalog)
    bearer = {"Authorization": f"Bearer {access_token}"}

    def send(request: Request) -> Response:
        try:
            return outbound.send(host.client, request, bearer, [access_token])[0]
        except (NotSent, OutcomeUnknown) as exc:
            raise VendorError(f"connection {name!r}: the request that learns the tenant was not answered: "
                              f"{exc}; connect again", kind="retry") from None

    step = oauth.learn_tenant(query, configured)
    try:  # io stays below the engine: the step is driven here, as the runner drives an action
        request = next(step)
        while True:
            request = step.send(send(request))
    except StopIteration as done:
        return dict(done.value or {})


def complete(host: OAuthHost, query: dict[str, str]) -> str:
    """Finish a consent redirect: check ``state``, exchange the code, learn the tenant,
    store the tokens. Returns the connection name; its paused runs are resumed."""
    state = query.get("state", "")
    # only a state of the form ledgerlink issues is looked up (a NUL byte is refused by PostgreSQL)
    raw = host.store.cursor(f"oauth-state:{state}") if STATE_FORM.fullmatch(state) else None
    if raw is None:
        raise ConfigError("unknown or used OAuth state; start again with `ledgerlink connect NAME`")
    host.store.set_cursor(f"oauth-state:{state}", jsonio.dumps({"used": True}))
    saved = jsonio.loads(raw)
    if saved.get("used") or saved.get("expires", 0) < time.time():
        raise ConfigError("this consent link has expired or was used; start again with `ledgerlink connect NAME`")
    if "error" in query:
        raise ConfigError(f"consent was not given: {query.get('error')}")
    name = saved["connection"]
    _, oauth, _ = _spec(host, name)
    form = {"grant_type": "authorization_code", "code": query.get("code", ""), "redirect_uri": saved["redirect_uri"]}
    if saved.get("code_verifier"):
        form["code_verifier"] = saved["code_verifier"]
    tokens = _token_request(host, name, form)
    if oauth.learn_tenant is not None:
        tokens["settings"] = _learn_tenant(host, oauth, name, query, tokens["access_token"])
    def connected(values: dict[str, Any], status: str | None) -> tuple[Any, Any, Any]:
        # the tokens replace what was stored, except the secrets webhook subscriptions taught
        kept = {k: v for k, v in values.items() if k.startswith((SIGNING, PENDING))}
        return {**kept, **tokens}, "ok", None

    with _lock(name):
        host.secret_box.locked_update(name, connected)
    host.store.resume_paused(name)
    host.wake()
    return name


def _left(values: dict[str, Any]) -> float:
    """Seconds the stored access token has left."""
    return float(values.get("access_expires_at", 0)) - time.time()


def fresh_secrets(host: OAuthHost, name: str, configured: dict[str, Any]) -> dict[str, Any]:
    """``configured`` overlaid with stored tokens, the access token refreshed if it is about to expire."""
    status = host.secret_box.status(name)
    if status is None:
        return configured
    if status == "needs_reauth":
        raise NeedsReauth(name)
    stored = host.secret_box.get(name)
    if _left(stored) > REFRESH_MARGIN or not stored.get("refresh_token"):
        return {**configured, **stored}

    def refresh(values: dict[str, Any], status: str | None) -> tuple[Any, Any, Any]:
        # read again under the lock: another thread or process may have refreshed meanwhile
        if status == "needs_reauth":
            return None, None, NeedsReauth(name)
        if _left(values) > REFRESH_MARGIN:
            return None, None, values
        try:
            tokens = _token_request(host, name, {"grant_type": "refresh_token",
                                                    "refresh_token": values["refresh_token"]})
        except NeedsReauth as exc:
            return values, "needs_reauth", exc
        host.metrics.add("token_refreshes", 1)
        merged = {**values, **tokens}
        return merged, "ok", merged  # the rotated refresh token is stored before it is used

    with _lock(name):
        result = host.secret_box.locked_update(name, refresh)
    if isinstance(result, NeedsReauth):
        raise result
    return {**configured, **result}


def expire(host: OAuthHost, name: str) -> None:
    """The vendor refused the access token (401): refresh it before the next request."""
    def mark(values: dict[str, Any], status: str | None) -> tuple[Any, Any, Any]:
        if not values:
            return None, None, None
        return {**values, "access_expires_at": 0}, status or "ok", None

    with _lock(name):
        host.secret_box.locked_update(name, mark)
