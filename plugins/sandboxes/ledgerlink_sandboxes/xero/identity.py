"""Xero's identity service in the sandbox: the consent screen, the token endpoint, the tenants of
a token set (``GET /connections``).

On the kit's authorization server (:class:`ledgerlink.testing.sandbox_oauth.OAuthServer`),
configured as Xero documents it (https://developer.xero.com/documentation/guides/oauth2/auth-flow/,
https://developer.xero.com/faq/oauth2/):

- access tokens live 30 minutes; refresh tokens expire when unused for 60 days and rotate on
  every use, the old one staying usable for a 30-minute grace period in case the answer was
  lost; after that, and for any unknown token, ``400 {"error": "invalid_grant"}``;
- the authorization-code grant checks PKCE (``S256``) when the consent carried a challenge;
- ``client_credentials`` (Custom Connections,
  https://developer.xero.com/documentation/guides/oauth2/custom-connections/) issues an access
  token and no refresh token;
- ``GET /connections`` (``xero-identity.yaml``) lists the tenants a token reaches, each as a
  ``Connection``; here every token reaches every tenant of the sandbox (one consent covering
  several organisations, which then share one token set), a client-credentials token only the
  first (a Custom Connection is bound to one organisation).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from ledgerlink.testing.sandbox import Reply, SandboxClock
from ledgerlink.testing.sandbox_oauth import OAuthServer, bearer

ACCESS_SECONDS = 30 * 60
REFRESH_SECONDS = 60 * 86400
GRACE_SECONDS = 30 * 60
#: the scopes Xero's consent screen grants here (``offline_access`` adds the refresh token)
SCOPES = ("openid", "profile", "email", "offline_access", "accounting.transactions",
          "accounting.contacts", "accounting.settings")


@dataclass(frozen=True)
class Tenant:
    """An organisation the sandbox serves."""

    tenant_id: str
    name: str
    created: str  # ISO 8601, UTC


class Identity:
    """The identity service over ``tenants`` (see the module docstring)."""

    def __init__(self, clock: SandboxClock, client_id: str, client_secret: str,
                 tenants: Iterable[Tenant], access_tokens: Iterable[str] = ()) -> None:
        self.tenants = tuple(tenants)
        if not self.tenants:
            raise ValueError("the sandbox needs at least one tenant")
        self.oauth = OAuthServer(clock, client_id, client_secret, static_tokens=access_tokens,
                                 access_seconds=ACCESS_SECONDS, refresh_seconds=REFRESH_SECONDS,
                                 refresh_grace_seconds=GRACE_SECONDS, client_credentials=True,
                                 token_fields={"scope": " ".join(SCOPES)}, prefix="xero-sandbox")
        self._client_credentials: set[str] = set()
        self._auth_event = {tenant.tenant_id: str(uuid.uuid4()) for tenant in self.tenants}

    def consent(self, args: Mapping[str, str]) -> tuple[int, str]:
        """``GET /identity/connect/authorize?…``, already consented: (302, redirect target) or
        (400, the OAuth error)."""
        if args.get("client_id") != self.oauth.client_id:
            return 400, "invalid_client"
        if args.get("response_type") != "code":
            return 400, "unsupported_response_type"
        redirect_uri = args.get("redirect_uri")
        if not redirect_uri:
            return 400, "invalid_request"
        challenge = args.get("code_challenge")
        method = args.get("code_challenge_method") or ("S256" if challenge else "plain")
        if challenge is not None and method != "S256":
            return 400, "invalid_request"  # Xero takes S256 only
        code = self.oauth.authorize(redirect_uri, challenge, method)
        query = {"code": code, "scope": args.get("scope") or " ".join(SCOPES)}
        if args.get("state") is not None:
            query["state"] = args["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return 302, f"{redirect_uri}{separator}{urlencode(query)}"

    def token_endpoint(self, form: Mapping[str, str], authorization: str | None) -> Reply:
        """``POST /connect/token``."""
        reply = self.oauth.token_endpoint(form, authorization)
        if reply.status == 200 and form.get("grant_type") == "client_credentials":
            token = reply.parsed()
            if isinstance(token, dict) and isinstance(token.get("access_token"), str):
                self._client_credentials.add(token["access_token"])
        return reply

    def tenants_of(self, authorization: str | None) -> list[Tenant] | None:
        """The tenants the bearer token reaches; None when the token is refused."""
        token = bearer(authorization)
        if self.oauth.access_problem(token) is not None or token is None:
            return None
        return list(self.tenants[:1]) if token in self._client_credentials else list(self.tenants)

    def connections(self, authorization: str | None) -> Reply | None:
        """``GET /connections``: the ``Connection`` list; None when the token is refused."""
        tenants = self.tenants_of(authorization)
        if tenants is None:
            return None
        return Reply.json(200, [{
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "connection/" + tenant.tenant_id)),
            "authEventId": self._auth_event[tenant.tenant_id],
            "tenantId": tenant.tenant_id, "tenantType": "ORGANISATION", "tenantName": tenant.name,
            "createdDateUtc": tenant.created, "updatedDateUtc": tenant.created,
        } for tenant in tenants])

    def reaches(self, authorization: str | None, tenant_id: str) -> bool | None:
        """Whether the token may act for ``tenant_id``; None when the token is refused."""
        tenants = self.tenants_of(authorization)
        if tenants is None:
            return None
        return any(tenant.tenant_id == tenant_id for tenant in tenants)


__all__ = ["ACCESS_SECONDS", "GRACE_SECONDS", "Identity", "REFRESH_SECONDS", "SCOPES", "Tenant"]
