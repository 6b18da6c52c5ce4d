"""The built-in QuickBooks Online connector: an ordinary ledgerlink plugin.

It is listed under the ``ledgerlink`` entry-point group (``quickbooks =
"ledgerlink_quickbooks"``) and registers, through the same hooks a third-party package
uses, the ``quickbooks`` connector and the ``quickbooks.create_journal_entry`` action.

Modules: :mod:`.api` (pinned minor version, URLs, fault classification),
:mod:`.journal_entry` (the action), :mod:`.xsd` (checks QBO JSON bodies against Intuit's
XSDs, shipped in ``xsd/`` under Apache-2.0).
"""

from __future__ import annotations

from ledgerlink import hookimpl
from ledgerlink.governor import QUICKBOOKS as QUICKBOOKS_LIMITS
from ledgerlink.catalog import Connector

from .api import DEFAULT_BASE_URL, MINORVERSION, auth_headers
from .journal_entry import ACTION as CREATE_JOURNAL_ENTRY
from .oauth import OAUTH
from .sandbox import create_sandbox

SETTINGS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "QuickBooks Online connection settings",
    "description": "One QuickBooks Online company (realm) reached through Intuit's Accounting "
                   "API v3. Secrets are written as ${ENV_VAR} references; OAuth tokens normally "
                   "come from `ledgerlink connect NAME` and are stored encrypted, not configured.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "base_url": {
            "type": "string",
            "format": "uri",
            "pattern": "^https?://",
            "default": DEFAULT_BASE_URL,
            "description": "API root. Production: https://quickbooks.api.intuit.com; Intuit's "
                           "sandbox companies: https://sandbox-quickbooks.api.intuit.com; tests: "
                           "a loopback sandbox such as http://127.0.0.1:8766.",
        },
        "realm_id": {
            "type": "string",
            "minLength": 1,
            "description": "The company's realm id (Company ID), returned as realmId by the OAuth "
                           "callback and shown in QuickBooks under Settings > Account and "
                           "settings > Billing & subscription. Learned from the consent "
                           "redirect when the connection is made with `ledgerlink connect`.",
        },
        "authorize_url": {
            "type": "string",
            "pattern": "^https?://",
            "default": OAUTH.authorize_url,
            "description": "Intuit's consent screen; a loopback sandbox's /connect/oauth2 in tests.",
        },
        "token_url": {
            "type": "string",
            "pattern": "^https?://",
            "default": OAUTH.token_url,
            "description": "Intuit's token endpoint; a loopback sandbox's /oauth2/v1/tokens/bearer in tests.",
        },
        "client_id": {
            "type": "string",
            "minLength": 1,
            "description": "OAuth 2.0 client id of the app from the Intuit developer portal "
                           "(Keys & credentials); used by `ledgerlink connect` and token refresh.",
        },
        "client_secret": {
            "type": "string",
            "description": "OAuth 2.0 client secret of the app, written as a ${ENV_VAR} "
                           "reference. Secret.",
        },
        "access_token": {
            "type": "string",
            "description": "An OAuth access token (valid 1 hour), written as a ${ENV_VAR} "
                           "reference; only for tests and scripts, since `ledgerlink connect` "
                           "stores and refreshes tokens itself. Secret.",
        },
        "refresh_token": {
            "type": "string",
            "description": "An OAuth refresh token (rolling, about 100 days), written as a "
                           "${ENV_VAR} reference, to seed a connection made outside "
                           "`ledgerlink connect`. Secret.",
        },
    },
}

CONNECTOR = Connector(
    name="quickbooks",
    summary="QuickBooks Online (Intuit Accounting API v3, minorversion "
            f"{MINORVERSION}): write balanced journal entries into a company.",
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=("client_secret", "access_token", "refresh_token"),
    oauth=OAUTH,
    default_settings={"base_url": DEFAULT_BASE_URL, "realm_id": "REALM_ID"},
    auth=auth_headers,
    sandbox=create_sandbox,
    # QuickBooks' published per-realm limits (VENDOR-FACTS §3.2): 500 requests a minute, 10 at once
    limits=QUICKBOOKS_LIMITS,
    # how long QuickBooks keeps a requestid is not published (VENDOR-FACTS §3.3): assume a
    # day, like Stripe's keys; after that a lost answer is looked up before any resend
    idempotency_key_lifetime=24 * 3600.0,
)


@hookimpl
def ledgerlink_register_connectors(register):
    """Register the ``quickbooks`` connector."""
    register(CONNECTOR)


@hookimpl
def ledgerlink_register_actions(register):
    """Register ``quickbooks.create_journal_entry``."""
    register(CREATE_JOURNAL_ENTRY)
