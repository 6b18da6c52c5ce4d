"""The settings of a FreshBooks connection (one FreshBooks business reached through its API).

FreshBooks' published addresses (https://www.freshbooks.com/api/authentication): the consent
screen at https://auth.freshbooks.com/service/auth/oauth/authorize, the token endpoint at
https://api.freshbooks.com/auth/oauth/token, the identity of a token at
https://api.freshbooks.com/auth/api/v1/users/me and the accounting API under
https://api.freshbooks.com/accounting/account/{account_id}/. A connection may point all of
them at a loopback sandbox in tests.

A FreshBooks business has two ids (https://www.freshbooks.com/api/me_endpoint): the
``business_id`` (``business.id`` in users/me), which the projects, time tracking and the
callbacks' deliveries name, and the ``account_id`` (``business.account_id``, an alphanumeric
"accounting system id" such as ``6BApk``), which every accounting path carries. Both are
learned after the consent; ``business_id`` set beforehand chooses the business when the user
belongs to several.
"""

from __future__ import annotations

from typing import Any

API_BASE = "https://api.freshbooks.com"
AUTHORIZE_URL = "https://auth.freshbooks.com/service/auth/oauth/authorize"
TOKEN_URL = "https://api.freshbooks.com/auth/oauth/token"
IDENTITY_URL = "https://api.freshbooks.com/auth/api/v1/users/me"

#: FreshBooks publishes no rate limit (its API documentation names none; its official SDK
#: retries 408, 429 and 5xx with back-off, so a 429 does happen). The governor keeps each
#: business at or under this many requests a minute unless the connection says otherwise:
#: 60, one a second on average, is what the stricter of the other ledgers allows one
#: organisation (Xero: 60 a minute), far above what one business's Stripe activity needs and
#: low enough that a backfill cannot look like abuse.
DEFAULT_REQUESTS_PER_MINUTE = 60
#: requests in flight at once for one business (FreshBooks publishes none either)
DEFAULT_CONCURRENT = 3


def _url(default: str, description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": "^https?://", "default": default, "description": description}


SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "FreshBooks connection settings",
    "description": "One FreshBooks business reached through FreshBooks' API. Secrets are written "
                   "as ${ENV_VAR} references; OAuth tokens normally come from `ledgerlink connect "
                   "NAME` and are stored encrypted, not configured.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "client_id": {
            "type": "string",
            "minLength": 1,
            "description": "OAuth 2.0 client id of the app (FreshBooks > Developer Portal > your "
                           "app); used by `ledgerlink connect` and token refresh.",
        },
        "client_secret": {
            "type": "string",
            "description": "OAuth 2.0 client secret of the app, written as a ${ENV_VAR} reference. "
                           "Secret.",
        },
        "access_token": {
            "type": "string",
            "description": "An OAuth access token (valid 12 hours), written as a ${ENV_VAR} "
                           "reference; only for tests and scripts, since `ledgerlink connect` stores "
                           "and refreshes tokens itself. Secret.",
        },
        "refresh_token": {
            "type": "string",
            "description": "An OAuth refresh token (it never expires but can be used once: every "
                           "refresh answers a new one), written as a ${ENV_VAR} reference, to seed a "
                           "connection made outside `ledgerlink connect`. Secret.",
        },
        "redirect_uri": {
            "type": "string",
            "pattern": "^https://[^?#]+$",
            "description": "The redirect URI registered on the FreshBooks app, serve's "
                           "/oauth/callback at its public address: FreshBooks takes only https "
                           "addresses without a query string, and the consent's redirect must be "
                           "one of them. `ledgerlink connect` sends it unless --redirect-uri "
                           "names another.",
        },
        "business_id": {
            "type": "integer",
            "minimum": 1,
            "description": "The business's id (business.id in GET /auth/api/v1/users/me). "
                           "Learned after the consent; set it when the user belongs to several "
                           "businesses, to choose which one this connection books into.",
        },
        "account_id": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_]+$",
            "description": "The business's accounting system id (business.account_id in GET "
                           "/auth/api/v1/users/me, e.g. 6BApk), the id every accounting path "
                           "carries. Learned with business_id after the consent; until then the "
                           "placeholder ACCOUNT_ID, which dry-runs show.",
        },
        "api_base": _url(API_BASE, "FreshBooks' API root. Production: https://api.freshbooks.com; "
                                   "tests: a loopback sandbox such as http://127.0.0.1:8768."),
        "authorize_url": _url(AUTHORIZE_URL, "FreshBooks' consent screen; a loopback sandbox's in "
                                             "tests."),
        "token_url": _url(TOKEN_URL, "FreshBooks' token endpoint; a loopback sandbox's in tests."),
        "identity_url": _url(IDENTITY_URL, "Where a token's user and businesses are read (GET "
                                           "/auth/api/v1/users/me); a loopback sandbox's in tests."),
        "requests_per_minute": {
            "type": "integer",
            "minimum": 1,
            "maximum": 600,
            "default": DEFAULT_REQUESTS_PER_MINUTE,
            "description": "FreshBooks publishes no rate limit: the governor keeps this business's "
                           "requests at or under this many a minute (default 60, one a second). "
                           "Raise it only if FreshBooks has agreed a higher rate; 429 answers are "
                           "obeyed (Retry-After) whatever it says.",
        },
    },
}

SECRET_SETTINGS = ("client_secret", "access_token", "refresh_token")

#: the account_id of a connection not yet connected: ``ledgerlink dry-run`` shows every path
#: with it, and ``ledgerlink connect`` replaces it with the business's. No default
#: business_id: that one chooses among a user's businesses, and a placeholder would be taken
#: for a choice
ACCOUNT_PLACEHOLDER = "ACCOUNT_ID"
DEFAULT_SETTINGS = {"api_base": API_BASE, "account_id": ACCOUNT_PLACEHOLDER}
