"""FreshBooks' OAuth 2.0: authorization code, the business chosen after the exchange.

FreshBooks' flow (https://www.freshbooks.com/api/authentication): the consent screen at
``https://auth.freshbooks.com/service/auth/oauth/authorize``, the code (valid 5 minutes)
exchanged at ``POST https://api.freshbooks.com/auth/oauth/token`` with the client id and
secret in the body; the access token lasts 12 hours, the refresh token never expires but
can be used once — every refresh answers a new one. The host's ``fresh_secrets`` stores the
rotated refresh token before the new access token is used, one refresh at a time per
connection (a lock across threads, the stored tokens read again inside it so a refresh another
process made is used rather than repeated), which is what a single-use token needs.

The consent names no business: ``GET https://api.freshbooks.com/auth/api/v1/users/me`` lists
the user's ``business_memberships`` (https://www.freshbooks.com/api/me_endpoint), each with
``business.id`` (the business_id) and ``business.account_id`` (the account_id every
accounting path carries). The membership the connection's ``business_id`` names is taken,
else the only one; several unnamed are listed, not guessed.

FreshBooks Classic, the legacy product, has its own API that this connector does not speak.
How ``users/me`` marks a Classic membership is not documented, so the business chosen is
tried with one read-only request (the first client, ``per_page=1``): a membership without an
``account_id``, or an account the accounting API refuses (403), is refused with a message
saying it is, or may be, FreshBooks Classic.

Scopes (https://www.freshbooks.com/api/scopes) cannot be changed without every business
consenting again, so the whole set the connector and its callbacks need is declared here
once: the profile and business (users/me), clients, invoices, payments, credit notes,
expenses, other income and taxes, read and write where the connector writes, and the reports
(``ledgerlink check`` reads the business's currency from one). A callback
needs the read scope of the object it is about, which this set has.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Connection, Limits, OAuth2, Request, Response, choose_tenant
from ledgerlink.errors import ConfigError, VendorError

from .errors import classify
from .settings import (API_BASE, AUTHORIZE_URL, DEFAULT_CONCURRENT, DEFAULT_REQUESTS_PER_MINUTE,
                       IDENTITY_URL, TOKEN_URL)

SCOPES = ("user:profile:read", "user:business:read",
          "user:clients:read", "user:clients:write",
          "user:invoices:read", "user:invoices:write",
          "user:payments:read", "user:payments:write",
          "user:credit_notes:read", "user:credit_notes:write",
          "user:expenses:read", "user:expenses:write",
          "user:other_income:read", "user:other_income:write",
          "user:taxes:read", "user:reports:read")


def memberships(me: Any) -> dict[str, dict[str, Any]]:
    """The businesses of a ``users/me`` answer by business_id: ``{"account_id", "name"}``
    each (``account_id`` None for a business the accounting API does not serve)."""
    response = me.get("response") if isinstance(me, Mapping) else None
    found: dict[str, dict[str, Any]] = {}
    for membership in (response or {}).get("business_memberships") or []:
        business = membership.get("business") if isinstance(membership, Mapping) else None
        if not isinstance(business, Mapping) or business.get("id") in (None, ""):
            continue
        account = business.get("account_id")
        found[str(business["id"])] = {"account_id": str(account) if account else None,
                                      "name": str(business.get("name") or "")}
    return found


def choose_business(me: Any, connection: Connection) -> dict[str, Any]:
    """``{"business_id", "account_id"}`` of the business ``connection`` books into, from a
    ``users/me`` answer: the one its ``business_id`` names, else the only one
    (:func:`~ledgerlink.contract.choose_tenant`). A Classic business is refused."""
    found = memberships(me)
    if not isinstance(me, Mapping) or not isinstance(me.get("response"), Mapping):
        raise VendorError("FreshBooks answered GET /auth/api/v1/users/me without a user; connect again",
                          kind="retry")
    chosen = choose_tenant({business: entry["name"] for business, entry in found.items()}, connection,
                           "business_id")
    account = found[chosen]["account_id"]
    if not account:
        raise ConfigError(f"FreshBooks business {chosen} ({found[chosen]['name'] or 'unnamed'}) has no "
                          f"account_id: it is a FreshBooks Classic business, whose legacy API "
                          f"ledgerlink does not speak. Move it to the new FreshBooks (or choose "
                          f"another business with business_id) and connect again")
    return {"business_id": int(chosen), "account_id": account}


def classic_probe(connection: Connection, account_id: str) -> Request:
    """One read-only accounting request for ``account_id``: the first client."""
    base = str(connection.settings.get("api_base") or API_BASE).rstrip("/")
    return Request("GET", f"{base}/accounting/account/{account_id}/users/clients",
                   params={"page": "1", "per_page": "1"}, headers={"Accept": "application/json"})


def learn_tenant(query: Mapping[str, str],
                 connection: Connection) -> Generator[Request, Response, dict[str, Any]]:
    """The business the consent is for, from ``GET /auth/api/v1/users/me``, once the
    accounting API has answered for it (a Classic account it refuses is refused here)."""
    url = connection.settings.get("identity_url") or IDENTITY_URL
    answer = yield Request("GET", url, headers={"Accept": "application/json"})
    error = classify(answer)
    if error is not None:
        raise error
    chosen = choose_business(answer.json, connection)
    probe = yield classic_probe(connection, chosen["account_id"])
    error = classify(probe)
    if error is not None and probe.status == 403:
        raise ConfigError(f"FreshBooks' accounting API refuses business {chosen['business_id']} (account "
                          f"{chosen['account_id']}): {error.message}. A FreshBooks Classic business is "
                          f"served by its legacy API, which ledgerlink does not speak; move it to the new "
                          f"FreshBooks, or choose another business with business_id, and connect again")
    if error is not None:
        raise error
    return chosen


OAUTH = OAuth2(authorize_url=AUTHORIZE_URL, token_url=TOKEN_URL, scopes=SCOPES, client_auth="body",
               learn_tenant=learn_tenant)

#: settings auth and limits_for read beside the secrets (Connector.auth_settings)
AUTH_SETTINGS = ("requests_per_minute",)


def auth_headers(values: Mapping[str, Any]) -> dict[str, str]:
    """``Authorization: Bearer <access_token>``. Without an access token none is added:
    FreshBooks answers 401, which asks for a refresh or ``ledgerlink connect``."""
    token = values.get("access_token")
    if isinstance(token, str) and token.strip():
        return {"Authorization": f"Bearer {token.strip()}"}
    return {}


def limits_for(values: Mapping[str, Any]) -> Limits:
    """The connection's ``requests_per_minute`` (FreshBooks publishes no limit: 60 a minute
    by default, :data:`~.settings.DEFAULT_REQUESTS_PER_MINUTE`), 3 in flight at once."""
    rate = values.get("requests_per_minute", DEFAULT_REQUESTS_PER_MINUTE)
    if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
        rate = DEFAULT_REQUESTS_PER_MINUTE
    return Limits(rate, 60.0, concurrent=DEFAULT_CONCURRENT)
