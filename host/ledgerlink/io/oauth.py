"""OAuth 2.0 for connections: consent, code exchange, client credentials, the tenant, token sets.

- ``ledgerlink connect NAME`` prints the consent URL; ``serve`` answers the redirect at
  ``GET /oauth/callback``, checks ``state`` (single use, ten minutes), exchanges the code and
  stores the tokens encrypted (:mod:`ledgerlink.io.secrets`). When the connector's
  :class:`~ledgerlink.contract.OAuth2` declares ``pkce``, the consent URL carries an S256
  code challenge (RFC 7636 §4.2) and the exchange the code verifier, kept with the state.
- After the exchange, the connector's ``learn_tenant`` step learns which tenant the consent
  is for: its requests are sent with the fresh access token, and the settings it returns
  are stored with the tokens and overlay the connection's configured settings.
- A connection whose ``grant`` is ``client_credentials`` (RFC 6749 §4.4) needs no browser:
  :func:`connect_client` asks the token endpoint with the app's own id and secret, learns
  the tenant the same way and stores the token.
- A *token set* is the tokens one consent gave, stored once, in the row of the connection
  that was consented; connections naming it with ``token_set`` (several tenants reached by
  one consent) read that row, each with the tenant it learned. Connecting any of them
  connects the set: every connection on it learns its tenant and has its paused runs resumed.
- :mod:`ledgerlink.io.tokens` keeps the set's access token fresh (one refresh at a time per
  token set, across processes) and marks it ``needs_reauth`` when it is refused.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets as pysecrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from ledgerlink import jsonio
from ledgerlink.config import Config
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.contract import Connection, Connector, OAuth2, Request, Response
from ledgerlink.contract.subscriptions import PENDING, SIGNING
from ledgerlink.errors import (ConfigError, LedgerlinkError, NeedsReauth, NotSent, OutcomeUnknown, TokenRefused,
                               VendorError)
from ledgerlink.io import outbound
from ledgerlink.io.http_pool import HttpPool
from ledgerlink.io.secrets import SecretBox
from ledgerlink.store import Store

#: the form of the OAuth state ledgerlink issues (``secrets.token_urlsafe``)
STATE_FORM = re.compile(r"[A-Za-z0-9_-]{16,100}")

STATE_SECONDS = 600.0
AUTHORIZATION_CODE = "authorization_code"
CLIENT_CREDENTIALS = "client_credentials"
#: what a token set's stored value holds beside the tokens: the settings each connection on
#: it learned (``settings`` is the consented connection's, as stored before token sets), and
#: why it was refused
NOT_TOKENS = ("settings", "settings_of", "refused")

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
    def pool(self) -> HttpPool:
        """The kept-alive connections an action's request goes out on."""

    @property
    def secret_box(self) -> SecretBox: ...

    @property
    def metrics(self) -> Counters: ...

    @property
    def clock(self) -> Callable[[], float]:
        """The wall clock tokens expire by (a simulated one in tests)."""

    def connection(self, name: str) -> Connection:
        """The connection's settings, configured and learned."""

    def forget(self, name: str) -> None:
        """Read the settings of ``name`` and the others on its token set again (they learned
        a tenant)."""

    def wake(self) -> None:
        """Have the workers look for runs now (paused runs were resumed): the call the
        runtime handed to :class:`~ledgerlink.io.connections.Connections`."""


def lock(token_set: str) -> threading.Lock:
    """This process's lock of a token set (the database's lock spans processes)."""
    with _locks_guard:
        return _locks.setdefault(token_set, threading.Lock())


def token_set(host: OAuthHost, name: str) -> str:
    """The connection whose stored tokens ``name`` uses (its ``token_set``, else itself)."""
    return host.config.token_set(name) if name in host.config.connections else name


def sharing(host: OAuthHost, name: str) -> list[str]:
    """Every connection on the token set ``name`` uses, the consented one first."""
    owner = token_set(host, name)
    return host.config.sharing(owner) if owner in host.config.connections else [owner]


def tokens_of(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A token set's stored value without what is not a token (:data:`NOT_TOKENS`)."""
    return {key: value for key, value in stored.items() if key not in NOT_TOKENS}


def learned_settings(stored: Mapping[str, Any], name: str, owner: str) -> dict[str, Any]:
    """What connection ``name`` learned when its token set ``owner`` was connected."""
    learned = (stored.get("settings_of") or {}).get(name)
    if learned is None and name == owner:
        learned = stored.get("settings")
    return dict(learned or {})


def _spec(host: OAuthHost, name: str) -> tuple[Connector, OAuth2, Connection]:
    connection = host.connection(name)
    connector = host.catalog.connectors[connection.connector]
    if connector.oauth is None:
        raise ConfigError(f"connection {name!r} ({connector.name}) does not use OAuth; nothing to connect")
    return connector, connector.oauth, connection


def grant(oauth: OAuth2, connection: Connection) -> str:
    """The grant ``connection`` uses: its ``grant`` setting, else the connector's first."""
    chosen = connection.settings.get("grant") or oauth.grants[0]
    if chosen not in oauth.grants:
        raise ConfigError(f"connection {connection.name!r} sets grant = {chosen!r}; its connector offers "
                          f"{', '.join(oauth.grants)}")
    return str(chosen)


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
    """The URL a person opens to let ledgerlink reach the connection's company (for a
    connection on a shared token set: the set's consent, which connects every connection on it)."""
    owner = token_set(host, name)
    _, oauth, connection = _spec(host, owner)
    if grant(oauth, connection) != AUTHORIZATION_CODE:
        raise ConfigError(f"connection {owner!r} uses the {grant(oauth, connection)} grant, which needs no "
                          f"consent: `ledgerlink connect {name}` fetches its token")
    client_id, _ = _client_credentials(host, owner, connection)
    state = pysecrets.token_urlsafe(24)
    saved: dict[str, Any] = {"connection": owner, "redirect_uri": redirect_uri,
                             "expires": time.time() + STATE_SECONDS}
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


def client_form(host: OAuthHost, owner: str) -> dict[str, str]:
    """The form that asks for a token with the client credentials grant (no scope: the
    vendor grants what the app was authorised for)."""
    _, oauth, connection = _spec(host, owner)
    if grant(oauth, connection) != CLIENT_CREDENTIALS:
        raise ConfigError(f"connection {owner!r} does not use the client_credentials grant")
    return {"grant_type": CLIENT_CREDENTIALS}


def token_request(host: OAuthHost, name: str, form: dict[str, str]) -> dict[str, Any]:
    """Ask the token endpoint of connection ``name`` (a token set's) for tokens with ``form``.

    Raises TokenRefused for ``invalid_grant`` and ``invalid_client`` (a person must act),
    LedgerlinkError when the endpoint does not answer or answers otherwise (a retry may help)."""
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
    error = body.get("error") if isinstance(body, dict) else None
    if response.status_code == 400 and error == "invalid_grant":
        what = "the refresh token" if form.get("grant_type") == "refresh_token" else "the grant"
        raise TokenRefused(f"the token endpoint answered invalid_grant: {what} was refused")
    if response.status_code in (400, 401) and error == "invalid_client":
        raise TokenRefused(f"the token endpoint refused the app's client_id and client_secret (invalid_client); "
                      f"set the app's current ones in [connections.{name}] (the secret as ${{ENV_VAR}})")
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        raise LedgerlinkError(f"the token endpoint of {name!r} answered HTTP {response.status_code} "
                              f"({error or 'no access token'})")
    now = host.clock()
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
            return outbound.send(host.pool, request, bearer, [access_token])[0]
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


def _store_set(host: OAuthHost, owner: str, tokens: dict[str, Any], query: Mapping[str, str]) -> list[str]:
    """Store a token set's fresh tokens with the tenant each of its connections learned;
    resume their paused runs. Nothing is stored when one of them cannot learn its tenant."""
    _, oauth, _ = _spec(host, owner)
    names = sharing(host, owner)
    if oauth.learn_tenant is not None:
        learned = {name: _learn_tenant(host, oauth, name, query, tokens["access_token"]) for name in names}
        tokens = {**tokens, "settings": learned[owner], "settings_of": learned}
    def connected(values: dict[str, Any], status: str | None) -> tuple[Any, Any, Any]:
        # the tokens replace what was stored, except the secrets webhook subscriptions taught
        kept = {k: v for k, v in values.items() if k.startswith((SIGNING, PENDING))}
        return {**kept, **tokens}, "ok", None

    with lock(owner):
        host.secret_box.locked_update(owner, connected)
    host.forget(owner)
    for name in names:
        host.store.resume_paused(name)
    host.wake()
    return names


def complete(host: OAuthHost, query: dict[str, str]) -> str:
    """Finish a consent redirect: check ``state``, exchange the code, learn the tenant of each
    connection on the token set, store the tokens. Returns the consented connection's name;
    the paused runs of every connection on its token set are resumed."""
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
    form = {"grant_type": AUTHORIZATION_CODE, "code": query.get("code", ""), "redirect_uri": saved["redirect_uri"]}
    if saved.get("code_verifier"):
        form["code_verifier"] = saved["code_verifier"]
    try:
        tokens = token_request(host, name, form)
    except TokenRefused as exc:
        raise NeedsReauth(name, exc.reason) from None
    _store_set(host, name, tokens, query)
    return name


def connect_client(host: OAuthHost, name: str) -> list[str]:
    """Connect a client-credentials connection without a browser: fetch a token, learn the
    tenant, store both. Returns the connections on its token set (their runs resumed)."""
    owner = token_set(host, name)
    try:
        tokens = token_request(host, owner, client_form(host, owner))
    except TokenRefused as exc:
        raise ConfigError(f"connection {name!r} cannot connect: {exc.reason}") from None
    return _store_set(host, owner, tokens, {})
