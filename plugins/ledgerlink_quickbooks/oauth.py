"""QuickBooks Online's OAuth 2.0 endpoints (Intuit's authorization-code flow).

Intuit's consent screen redirects with ``code``, ``state`` and ``realmId``; the realm id
names the company and becomes the connection's ``realm_id``. Access tokens last an hour,
refresh tokens rotate on use (Intuit's OAuth 2.0 FAQ). A connection may point
``authorize_url``/``token_url`` at the loopback sandbox (``/connect/oauth2``,
``/oauth2/v1/tokens/bearer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import OAuth2

AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
SCOPES = ("com.intuit.quickbooks.accounting",)


def settings_from_callback(query: Mapping[str, str]) -> dict[str, Any]:
    realm = query.get("realmId")
    return {"realm_id": realm} if realm else {}


OAUTH = OAuth2(authorize_url=AUTHORIZE_URL, token_url=TOKEN_URL, scopes=SCOPES, client_auth="basic",
               settings_from_callback=settings_from_callback)
