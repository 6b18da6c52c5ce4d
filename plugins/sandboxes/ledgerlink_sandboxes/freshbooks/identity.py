"""FreshBooks' identity service in the sandbox: the consent screen, the token endpoint and
``GET /auth/api/v1/users/me``.

On the kit's authorization server (:class:`ledgerlink.testing.sandbox_oauth.OAuthServer`),
configured as FreshBooks documents it (https://www.freshbooks.com/api/authentication,
https://www.freshbooks.com/api/identity_model):

- consent at ``/service/auth/oauth/authorize?client_id&response_type=code&redirect_uri[&scope]
  [&state]``, already given: 302 to ``redirect_uri?code=…[&state=…]``. FreshBooks takes only
  redirect URIs registered on the app, https and without a query string; the sandbox takes any
  https URI, and http on loopback (tests and demos have no certificate), and refuses a query
  string, as FreshBooks does;
- ``POST /auth/oauth/token`` with ``grant_type`` ``authorization_code`` (``code``,
  ``redirect_uri``) or ``refresh_token``, the client's ``client_id`` and ``client_secret`` in the
  body (JSON, as FreshBooks' SDKs send it, or a form) or as HTTP Basic. Access tokens live 12
  hours; a refresh token never expires but is good **once**: each refresh answers a new one,
  and the old one is refused from then on, even when the answer was lost. The answer carries
  FreshBooks' ``token_type: "Bearer"``, ``scope`` and ``created_at``; a refusal is
  ``{"error": …, "error_description": …}``, the shape of FreshBooks' identity errors
  (``auth_response__no_auth.json``);
- ``GET /auth/api/v1/users/me``: ``{"response": {…}}`` (no ``result`` level) with the user's
  ``business_memberships``, each ``business.id`` (the business_id) and ``business.account_id``
  (the account_id the Accounting API is addressed by). An unknown token: 401
  ``{"error": "unauthenticated", …}``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from ledgerlink.testing.sandbox import Reply, SandboxClock
from ledgerlink.testing.sandbox_oauth import OAuthServer, bearer

from .businesses import Business

ACCESS_SECONDS = 12 * 3600
#: FreshBooks' refresh tokens never expire (until used); a century stands for never
REFRESH_SECONDS = 100 * 365 * 86400
#: every scope the consent screen grants here (https://www.freshbooks.com/api/scopes)
SCOPES = ("user:profile:read", "user:clients:read", "user:clients:write", "user:invoices:read",
          "user:invoices:write", "user:payments:read", "user:payments:write", "user:credit_notes:read",
          "user:credit_notes:write", "user:expenses:read", "user:expenses:write",
          "user:other_income:read", "user:other_income:write", "user:taxes:read", "user:taxes:write",
          "user:billable_items:read", "user:billable_items:write", "user:reports:read")
#: the ``error_description`` FreshBooks' identity service gives with each ``error``
DESCRIPTIONS = {
    "invalid_grant": "The provided authorization grant is invalid, expired, revoked, does not match the "
                     "redirection URI used in the authorization request, or was issued to another client.",
    "invalid_client": "Client authentication failed due to unknown client, no client authentication "
                      "included, or unsupported authentication method.",
    "invalid_request": "The request is missing a required parameter, includes an unsupported parameter "
                       "value, or is otherwise malformed.",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
    "unsupported_response_type": "The authorization server does not support this response type.",
    "invalid_redirect_uri": "The requested redirect uri is malformed or doesn't match client redirect URI.",
    "unauthenticated": "This action requires authentication to continue.",
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def identity_error(status: int, error: str) -> Reply:
    """FreshBooks' identity error: ``{"error", "error_description"}``."""
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="FreshBooks", error="invalid_token"'
    return Reply.json(status, {"error": error, "error_description": DESCRIPTIONS.get(error, error)}, headers)


def redirect_problem(uri: str | None) -> str | None:
    """Why FreshBooks would refuse ``uri`` as a redirect URI, or None."""
    if not uri:
        return "invalid_request"
    parts = urlsplit(uri)
    if parts.query or parts.fragment or not parts.netloc:
        return "invalid_redirect_uri"
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return "invalid_redirect_uri"
    return None


class Identity:
    """The identity service over ``businesses`` (see the module docstring)."""

    def __init__(self, clock: SandboxClock, client_id: str, client_secret: str,
                 businesses: list[Business], user: Mapping[str, Any], access_tokens: tuple[str, ...] = ()) -> None:
        self.clock = clock
        self.businesses = businesses
        self.user = dict(user)
        self.oauth = OAuthServer(clock, client_id, client_secret, static_tokens=access_tokens,
                                 access_seconds=ACCESS_SECONDS, refresh_seconds=REFRESH_SECONDS,
                                 refresh_grace_seconds=0.0, token_fields={"scope": " ".join(SCOPES)},
                                 prefix="freshbooks-sandbox")

    def consent(self, args: Mapping[str, str]) -> tuple[int, str]:
        """The consent screen, already agreed to: (302, where to) or (400, the error)."""
        if args.get("client_id") != self.oauth.client_id:
            return 400, "invalid_client"
        if args.get("response_type") != "code":
            return 400, "unsupported_response_type"
        problem = redirect_problem(args.get("redirect_uri"))
        if problem is not None:
            return 400, problem
        redirect_uri = args["redirect_uri"]
        query = {"code": self.oauth.authorize(redirect_uri)}
        if args.get("state") is not None:
            query["state"] = args["state"]
        return 302, f"{redirect_uri}?{urlencode(query)}"

    def token_endpoint(self, data: Mapping[str, Any], authorization: str | None) -> Reply:
        """``POST /auth/oauth/token`` with the body's fields ``data``."""
        form = {key: str(value) for key, value in data.items() if value is not None}
        if "client_id" in form and "client_secret" in form:
            pair = f"{form.pop('client_id')}:{form.pop('client_secret')}".encode()
            authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        if form.get("grant_type") == "authorization_code" and redirect_problem(form.get("redirect_uri")):
            return identity_error(400, "invalid_grant")
        reply = self.oauth.token_endpoint(form, authorization)
        body = reply.parsed()
        if reply.status != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else "invalid_request"
            return identity_error(reply.status, str(error))
        body.update({"token_type": "Bearer", "created_at": int(self.clock.wall())})
        return Reply.json(200, body, reply.headers)

    def token_ok(self, authorization: str | None) -> bool:
        """Whether the bearer token of ``authorization`` is good now."""
        token = bearer(authorization)
        return token is not None and self.oauth.access_problem(token) is None

    def me(self, authorization: str | None) -> Reply:
        """``GET /auth/api/v1/users/me``."""
        if not self.token_ok(authorization):
            return identity_error(401, "unauthenticated")
        user = self.user
        memberships = [business.membership(user["identity_id"]) for business in self.businesses]
        return Reply.json(200, {"response": {
            "id": user["identity_id"], "identity_id": user["identity_id"],
            "identity_uuid": user["identity_uuid"], "first_name": user["first_name"],
            "last_name": user["last_name"], "email": user["email"], "language": "en",
            "confirmed_at": "2020-01-01T00:00:00Z", "created_at": "2020-01-01T00:00:00Z",
            "unconfirmed_email": None, "setup_complete": True,
            "profile": {"setup_complete": True, "first_name": user["first_name"],
                        "last_name": user["last_name"], "phone_number": None, "address": None,
                        "professions": [], "has_password": True},
            "phone_numbers": [], "addresses": [], "profession": None,
            "links": {"me": f"/service/auth/api/v1/users?id={user['identity_id']}",
                      "roles": f"/service/auth/api/v1/users/role/{user['identity_id']}"},
            "permissions": {business.account_id or str(business.business_id): {} for business in self.businesses},
            "groups": [{"id": index + 1, "group_id": 7000 + index, "role": "owner",
                        "identity_id": user["identity_id"], "identity_uuid": user["identity_uuid"],
                        "business_id": business.business_id, "active": True}
                       for index, business in enumerate(self.businesses)],
            "subscription_statuses": {business.account_id or str(business.business_id): "active"
                                      for business in self.businesses},
            "integrations": {}, "business_memberships": memberships, "identity_origin": "magnum",
            "roles": [{"id": 60000 + index, "role": "admin", "systemid": business.business_id, "userid": 1,
                       "created_at": "2020-01-01T00:00:00Z",
                       "links": {"destroy": f"/service/auth/api/v1/users/role/{60000 + index}"},
                       "accountid": business.account_id}
                      for index, business in enumerate(self.businesses)],
        }})


__all__ = ["ACCESS_SECONDS", "DESCRIPTIONS", "Identity", "REFRESH_SECONDS", "SCOPES", "identity_error",
           "redirect_problem"]
