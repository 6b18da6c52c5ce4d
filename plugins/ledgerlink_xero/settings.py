"""The settings of a Xero connection (one Xero organisation reached through the Accounting API).

Xero's published addresses: the Accounting API at https://api.xero.com/api.xro/2.0, the
consent screen at https://login.xero.com/identity/connect/authorize, the token endpoint at
https://identity.xero.com/connect/token and the organisations a token reaches at
https://api.xero.com/connections
(https://developer.xero.com/documentation/guides/oauth2/auth-flow). A connection may point
all four at a loopback sandbox in tests.
"""

from __future__ import annotations

from typing import Any

from ledgerlink.contract.reconcile import CLEARING_TIMEZONE_SCHEMA, CLEARING_TIMEZONE_SETTING

API_BASE = "https://api.xero.com/api.xro/2.0"
AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
TOKEN_URL = "https://identity.xero.com/connect/token"
CONNECTIONS_URL = "https://api.xero.com/connections"

#: Xero's daily call limit per organisation: 5,000, or 1,000 on the Starter tier
#: (https://developer.xero.com/documentation/guides/oauth2/limits)
DAILY_LIMITS = (5000, 1000)
DEFAULT_DAILY_LIMIT = 5000


def _url(default: str, description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": "^https?://", "default": default, "description": description}


SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Xero connection settings",
    "description": "One Xero organisation (tenant) reached through Xero's Accounting API 2.0. "
                   "Secrets are written as ${ENV_VAR} references; OAuth tokens normally come from "
                   "`ledgerlink connect NAME` and are stored encrypted, not configured.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "client_id": {
            "type": "string",
            "minLength": 1,
            "description": "OAuth 2.0 client id of the app (Xero developer portal > My Apps > "
                           "Configuration); used by `ledgerlink connect` and token refresh.",
        },
        "client_secret": {
            "type": "string",
            "description": "OAuth 2.0 client secret of the app, written as a ${ENV_VAR} reference. "
                           "Secret.",
        },
        "access_token": {
            "type": "string",
            "description": "An OAuth access token (valid 30 minutes), written as a ${ENV_VAR} "
                           "reference; only for tests and scripts, since `ledgerlink connect` stores "
                           "and refreshes tokens itself. Secret.",
        },
        "refresh_token": {
            "type": "string",
            "description": "An OAuth refresh token (rotates on every use, expires after 60 days "
                           "unused), written as a ${ENV_VAR} reference, to seed a connection made "
                           "outside `ledgerlink connect`. Secret.",
        },
        "grant": {
            "type": "string",
            "enum": ["authorization_code", "client_credentials"],
            "default": "authorization_code",
            "description": "How the connection gets its tokens. authorization_code: a person "
                           "consents in a browser (`ledgerlink connect NAME` prints the address); "
                           "tokens refresh and rotate. client_credentials: a Custom Connection "
                           "(premium, one organisation): `ledgerlink connect NAME` fetches a "
                           "30-minute access token with client_id and client_secret alone, and a "
                           "new one is fetched whenever it expires.",
        },
        "tenant_id": {
            "type": "string",
            "minLength": 1,
            "description": "The organisation's tenant id (tenantId in GET /connections). Learned "
                           "after the consent; set it when one consent covers several "
                           "organisations, to choose which one this connection books into.",
        },
        "short_code": {
            "type": "string",
            "pattern": "^![A-Za-z0-9]+$",
            "description": "The organisation's short code (ShortCode in GET /Organisation, e.g. "
                           "\"!xkY1b\"): links to its invoices and contacts then open this "
                           "organisation; unset, they open the one the person last used.",
        },
        "api_base": _url(API_BASE, "Accounting API root. Production: "
                                   "https://api.xero.com/api.xro/2.0; tests: a loopback sandbox "
                                   "such as http://127.0.0.1:8767/api.xro/2.0."),
        "authorize_url": _url(AUTHORIZE_URL, "Xero's consent screen; a loopback sandbox's in tests."),
        "token_url": _url(TOKEN_URL, "Xero's token endpoint; a loopback sandbox's in tests."),
        "connections_url": _url(CONNECTIONS_URL, "Where the organisations a token reaches are "
                                                 "listed (GET /connections); a loopback "
                                                 "sandbox's in tests."),
        "webhook_key": {
            "type": "string",
            "description": "The app's webhook signing key (Xero developer portal > your app > "
                           "Webhooks), written as a ${ENV_VAR} reference: x-xero-signature is "
                           "checked with it. Secret.",
        },
        "poll_since": {
            "type": "string",
            "format": "date-time",
            "description": "Without webhooks (poll_seconds set): where the first poll starts, an "
                           "ISO 8601 time; unset, it starts at the first poll.",
        },
        "base_currency": {
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "default": "USD",
            "description": "The organisation's base currency, ISO 4217 (Xero: Settings > General "
                           "settings > Financial settings). Documents in any other currency carry "
                           "both CurrencyCode and CurrencyRate; they are refused without an "
                           "exchange_rate, never booked at XE.com's rate of the day. Default: USD.",
        },
        "clearing_account": {
            "type": "string",
            "minLength": 1,
            "maxLength": 10,
            "description": "The code of the account Stripe's money is booked into (the clearing bank "
                           "account, e.g. 099): `ledgerlink reconcile` compares its balance with "
                           "Stripe's at each payout. Unset: no balance is compared.",
        },
        CLEARING_TIMEZONE_SETTING: CLEARING_TIMEZONE_SCHEMA,
        "daily_limit": {
            "type": "integer",
            "enum": list(DAILY_LIMITS),
            "default": DEFAULT_DAILY_LIMIT,
            "description": "Xero's daily call limit for the organisation: 5000, or 1000 on the "
                           "Starter tier. The governor keeps the connection's runs under it.",
        },
    },
}

SECRET_SETTINGS = ("client_secret", "access_token", "refresh_token", "webhook_key")

#: no tenant_id: a placeholder would be taken for the organisation chosen after the consent
DEFAULT_SETTINGS = {"api_base": API_BASE}
