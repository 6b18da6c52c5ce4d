"""Xero's OAuth 2.0: authorization code with PKCE, the organisation chosen after the exchange.

Xero's flow (https://developer.xero.com/documentation/guides/oauth2/auth-flow): the consent
screen takes an S256 ``code_challenge``; ``offline_access`` is what gets a refresh token at
all; access tokens last 30 minutes and refresh tokens rotate on every refresh. The consent
names no organisation: ``GET https://api.xero.com/connections`` with the fresh access token
lists the tenants it reaches (``tenantId``, ``tenantType``, ``tenantName``), and every
Accounting API request carries the chosen one in ``xero-tenant-id``.

Scopes are Xero's granular accounting scopes, the only ones apps created since 2 March 2026
may ask for (https://developer.xero.com/documentation/guides/oauth2/scopes): contacts,
invoices (and items, credit notes), payments, bank transactions and transfers, manual
journals, and settings (accounts, tax rates, currencies, the organisation's lock dates).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Connection, OAuth2, Request, Response, choose_tenant
from ledgerlink.errors import VendorError

from .errors import classify
from .settings import AUTHORIZE_URL, CONNECTIONS_URL, TOKEN_URL

SCOPES = ("offline_access", "accounting.contacts", "accounting.invoices", "accounting.payments",
          "accounting.banktransactions", "accounting.manualjournals", "accounting.settings")

#: the tenants the Accounting API serves (a PRACTICE tenant is Xero Practice Manager's)
ORGANISATION = "ORGANISATION"

TENANT_HEADER = "xero-tenant-id"


def learn_tenant(query: Mapping[str, str],
                 connection: Connection) -> Generator[Request, Response, dict[str, Any]]:
    """The organisation the consent is for: the organisations ``GET /connections`` lists,
    the one the connection's ``tenant_id`` names, else the only one (``choose_tenant``)."""
    url = connection.settings.get("connections_url") or CONNECTIONS_URL
    answer = yield Request("GET", url, headers={"Accept": "application/json"})
    error = classify(answer)
    if error is not None:
        raise error
    if not isinstance(answer.json, list):
        raise VendorError(f"Xero answered GET /connections with HTTP {answer.status} but no list of "
                          f"connections; connect again", kind="retry", status=answer.status)
    tenants = {str(item["tenantId"]): str(item.get("tenantName") or "") for item in answer.json
               if isinstance(item, Mapping) and item.get("tenantId")
               and str(item.get("tenantType", ORGANISATION)).upper() == ORGANISATION}
    return {"tenant_id": choose_tenant(tenants, connection, "tenant_id")}


#: a Custom Connection (https://developer.xero.com/documentation/guides/oauth2/custom-connections/)
#: takes the client credentials grant: the app's id and secret fetch a 30-minute access token
#: for the one organisation it was authorised for, with no refresh token and no browser; the
#: organisation is still read from GET /connections
GRANTS = ("authorization_code", "client_credentials")

OAUTH = OAuth2(authorize_url=AUTHORIZE_URL, token_url=TOKEN_URL, scopes=SCOPES, client_auth="basic",
               pkce=True, learn_tenant=learn_tenant, grants=GRANTS)

#: settings auth and limits_for read beside the secrets (Connector.auth_settings)
AUTH_SETTINGS = ("tenant_id", "daily_limit")


def auth_headers(values: Mapping[str, Any]) -> dict[str, str]:
    """``Authorization: Bearer <access_token>`` and ``xero-tenant-id: <tenant_id>``.

    ``values`` are the connection's secrets and stored tokens with the settings
    :data:`AUTH_SETTINGS` names. Without an access token no Authorization is added: Xero
    answers 401, which asks for a refresh or ``ledgerlink connect``."""
    headers = {}
    token = values.get("access_token")
    if isinstance(token, str) and token.strip():
        headers["Authorization"] = f"Bearer {token.strip()}"
    tenant = values.get("tenant_id")
    if isinstance(tenant, str) and tenant.strip():
        headers[TENANT_HEADER] = tenant.strip()
    return headers
