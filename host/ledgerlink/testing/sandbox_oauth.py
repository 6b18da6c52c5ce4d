"""The sandbox base's OAuth 2.0 authorization server: codes, tokens, refresh with rotation.

What RFC 6749 says an authorization server does, as the vendors ledgerlink talks to do it
(Intuit, Xero and FreshBooks all follow it), without their consent screens:

- :meth:`OAuthServer.authorize` issues a single-use authorization code, as a consent screen
  would after the user agreed; a ``redirect_uri`` given there must be sent again with the
  code (§4.1.3); a PKCE ``code_challenge`` (RFC 7636, ``S256`` or ``plain``) must be met by
  the ``code_verifier`` sent with it;
- :meth:`OAuthServer.token_endpoint` answers ``POST <token endpoint>`` for the
  ``authorization_code`` and ``refresh_token`` grants, and, when the server allows it, the
  ``client_credentials`` grant (§4.4: an access token, no refresh token; Xero's Custom
  Connections). The client authenticates with HTTP Basic (§2.3.1) → else 401
  ``invalid_client``. Every refresh rotates the refresh token: the one sent is invalid
  afterwards (after ``refresh_grace_seconds``, when a vendor keeps the old one usable for a
  while in case the answer was lost, as Xero does for 30 minutes), as are revoked and
  expired ones → 400 ``invalid_grant`` (§5.2). Answers carry ``Cache-Control: no-store`` (§5.1);
- :meth:`OAuthServer.access_problem` says why a bearer token is refused (or None), for the
  sandbox's API to answer its vendor's 401;
- :meth:`OAuthServer.revoke` revokes a token, or the whole authorization it belongs to
  (RFC 7009).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ledgerlink.testing.sandbox import JSONValue, Reply, SandboxClock

#: seconds an access token lives, and a refresh token, unless the sandbox says otherwise
ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 100 * 86400


@dataclass
class _Token:
    expires_at: float | None  # on the sandbox clock; None = never
    grant: str
    rotated_at: float | None = None  # a refresh token already used once, when


@dataclass
class _Code:
    redirect_uri: str | None
    challenge: str | None
    method: str


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1), else None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def pkce_challenge(verifier: str, method: str = "S256") -> str:
    """The ``code_challenge`` of ``verifier`` (RFC 7636 §4.2)."""
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuthServer:
    """One OAuth client's authorization server, on the sandbox clock.

    ``static_tokens`` are access tokens always accepted (and never revocable);
    ``standing_code``, when given, is an authorization code accepted any number of times
    (for scripted set-ups); ``token_fields`` are added to every token answer (a vendor's own
    fields, such as Intuit's ``x_refresh_token_expires_in``); ``prefix`` starts every code
    and token the server issues, so a log shows where one came from.
    ``refresh_grace_seconds`` keeps a rotated refresh token usable that long after its first
    use (0: never again); ``client_credentials`` allows that grant.
    """

    def __init__(self, clock: SandboxClock, client_id: str, client_secret: str, *,
                 static_tokens: Iterable[str] = (), standing_code: str | None = None,
                 access_seconds: int = ACCESS_TOKEN_SECONDS,
                 refresh_seconds: int = REFRESH_TOKEN_SECONDS,
                 token_fields: Mapping[str, JSONValue] | None = None, prefix: str = "sandbox",
                 refresh_grace_seconds: float = 0.0, client_credentials: bool = False) -> None:
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.static_tokens = frozenset(static_tokens)
        self.standing_code = standing_code
        self.access_seconds = access_seconds
        self.refresh_seconds = refresh_seconds
        self.token_fields = dict(token_fields or {})
        self.prefix = prefix
        self.refresh_grace_seconds = refresh_grace_seconds
        self.client_credentials = client_credentials
        self._lock = threading.Lock()
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._codes: dict[str, _Code] = {}

    def reset(self) -> None:
        """Forget every issued code and token."""
        with self._lock:
            self._access.clear()
            self._refresh.clear()
            self._codes.clear()

    def authorize(self, redirect_uri: str | None = None, code_challenge: str | None = None,
                  method: str = "S256") -> str:
        """A new single-use authorization code, as the consent screen issues it."""
        if method not in ("S256", "plain"):
            raise ValueError(f"code_challenge_method must be S256 or plain, got {method!r}")
        code = f"{self.prefix}-code-" + secrets.token_urlsafe(18)
        with self._lock:
            self._codes[code] = _Code(redirect_uri, code_challenge, method)
        return code

    def client_ok(self, authorization: str | None) -> bool:
        """True when ``authorization`` is HTTP Basic with this client's id and secret."""
        if not authorization:
            return False
        scheme, _, encoded = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, _, client_secret = decoded.partition(":")
        return (secrets.compare_digest(client_id, self.client_id)
                and secrets.compare_digest(client_secret, self.client_secret))

    def token_endpoint(self, form: Mapping[str, str], authorization: str | None) -> Reply:
        """The answer to ``POST <token endpoint>`` with ``form`` (see the module docstring)."""
        if not self.client_ok(authorization):
            return self._error(401, "invalid_client")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code, redirect_uri = form.get("code"), form.get("redirect_uri")
            if not code or not redirect_uri:
                return self._error(400, "invalid_request")
            if code != self.standing_code:
                with self._lock:
                    issued = self._codes.pop(code, None)  # single use, even when refused
                if issued is None or (issued.redirect_uri and issued.redirect_uri != redirect_uri):
                    return self._error(400, "invalid_grant")
                if issued.challenge is not None:
                    verifier = form.get("code_verifier") or ""
                    if not secrets.compare_digest(pkce_challenge(verifier, issued.method), issued.challenge):
                        return self._error(400, "invalid_grant")
            return self._issue(uuid.uuid4().hex)
        if grant_type == "refresh_token":
            token = form.get("refresh_token")
            if not token:
                return self._error(400, "invalid_request")
            now = self.clock.now()
            with self._lock:
                found = self._refresh.get(token)
                if found is not None and found.rotated_at is None:
                    found.rotated_at = now  # rotation: the answer carries its successor
                if found is not None and (self._expired(found)
                                          or now - (found.rotated_at or now) > self.refresh_grace_seconds):
                    del self._refresh[token]
                    found = None
                elif found is not None and self.refresh_grace_seconds <= 0:
                    del self._refresh[token]
            if found is None:
                return self._error(400, "invalid_grant")
            return self._issue(found.grant)
        if grant_type == "client_credentials" and self.client_credentials:
            return self._issue(uuid.uuid4().hex, refresh=False)
        return self._error(400, "unsupported_grant_type")

    def access_problem(self, token: str | None) -> str | None:
        """Why the access ``token`` is refused, or None when it is good."""
        if token is None:
            return "No bearer token in the Authorization header"
        if token in self.static_tokens:
            return None
        with self._lock:
            issued = self._access.get(token)
            if issued is None:
                return "Token unknown or revoked"
            if self._expired(issued):
                del self._access[token]
                return "Token expired"
        return None

    def grant_of(self, token: str) -> str | None:
        """The id of the authorization an issued access token belongs to; ``"static"`` for a
        static token; None when the token is refused."""
        if self.access_problem(token) is not None:
            return None
        with self._lock:
            issued = self._access.get(token)
        return issued.grant if issued is not None else "static"

    def revoke(self, token: str, *, grant: bool = False) -> bool:
        """Invalidate an issued refresh or access token (with ``grant=True``: every token of
        the same authorization). Static tokens cannot be revoked. True if found."""
        with self._lock:
            found = self._refresh.get(token) or self._access.get(token)
            if found is None:
                return False
            if grant:
                for table in (self._refresh, self._access):
                    for key in [k for k, v in table.items() if v.grant == found.grant]:
                        del table[key]
            else:
                self._refresh.pop(token, None)
                self._access.pop(token, None)
            return True

    def _expired(self, token: _Token) -> bool:
        return token.expires_at is not None and token.expires_at <= self.clock.now()

    def _issue(self, grant: str, refresh: bool = True) -> Reply:
        now = self.clock.now()
        access = f"{self.prefix}-at-" + secrets.token_urlsafe(24)
        body: dict[str, JSONValue] = {"token_type": "bearer", "access_token": access}
        with self._lock:
            self._access[access] = _Token(now + self.access_seconds, grant)
            if refresh:
                body["refresh_token"] = f"{self.prefix}-rt-" + secrets.token_urlsafe(24)
                self._refresh[body["refresh_token"]] = _Token(now + self.refresh_seconds, grant)
        body.update({"expires_in": self.access_seconds, **self.token_fields})
        return Reply.json(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _error(self, status: int, error: str) -> Reply:
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="oauth"'
        return Reply.json(status, {"error": error}, headers)


__all__ = ["ACCESS_TOKEN_SECONDS", "OAuthServer", "REFRESH_TOKEN_SECONDS", "bearer", "pkce_challenge"]
