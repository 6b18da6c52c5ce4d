"""QuickBooks Online's OAuth 2.0 endpoints (Intuit's authorization-code flow).

Intuit's consent screen redirects with ``code``, ``state`` and ``realmId``; the realm id
names the company and becomes the connection's ``realm_id``. Access tokens last an hour,
refresh tokens rotate on use (Intuit's OAuth 2.0 FAQ). A connection may point
``authorize_url``/``token_url`` at the loopback sandbox (``/connect/oauth2``,
``/oauth2/v1/tokens/bearer``).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Connection, OAuth2, Request, Response

AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
SCOPES = ("com.intuit.quickbooks.accounting",)


def learn_tenant(query: Mapping[str, str], connection: Connection) -> Generator[Request, Response, dict[str, Any]]:
    """The company the consent is for: Intuit names it in the redirect (``realmId``), so
    nothing is requested."""
    realm = query.get("realmId")
    yield from ()
    return {"realm_id": realm} if realm else {}


OAUTH = OAuth2(authorize_url=AUTHORIZE_URL, token_url=TOKEN_URL, scopes=SCOPES, client_auth="basic",
               learn_tenant=learn_tenant)
