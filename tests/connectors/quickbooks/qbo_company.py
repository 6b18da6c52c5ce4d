"""Setting a sandbox company up for a currency, as its owner would in QuickBooks Online.

QuickBooks keeps a company's books in its home currency; another currency needs
multicurrency turned on, and a customer trades in one currency only. Tests that book in a
currency set the company up first, through the sandbox's own hooks and QBO's API.
"""

from __future__ import annotations

import httpx

from ledgerlink import jsonio
from ledgerlink_sandboxes.quickbooks import DEFAULT_REALM

AUTH = {"Authorization": "Bearer sandbox-access-token"}


def trading_in(base_url: str, currency: str, home: str | None = None,
               customers: tuple[str, ...] = ("1", "2", "3"), realm: str = DEFAULT_REALM) -> None:
    """Make the company at ``base_url`` book ``currency``: its home currency when ``home`` is
    None or the same, else a multicurrency company in ``home`` whose ``customers`` trade in
    ``currency`` (changed by a sparse update, as QBO lets a customer without transactions)."""
    currency, home = currency.upper(), (home or currency).upper()
    settings = {"realm_id": realm, "home_currency": home}
    if currency != home:
        settings["multicurrency"] = True
    answer = httpx.post(f"{base_url}/__sandbox/preferences", json=settings, timeout=5)
    answer.raise_for_status()
    if currency == home:
        return
    with httpx.Client(base_url=f"{base_url}/v3/company/{realm}", headers=AUTH, timeout=5,
                      params={"minorversion": "75"}) as client:
        for customer in customers:
            token = jsonio.loads(client.get(f"/customer/{customer}").content)["Customer"]["SyncToken"]
            body = {"Id": customer, "SyncToken": token, "sparse": True,
                    "CurrencyRef": {"value": currency}}
            client.post("/customer", content=jsonio.dumps(body),
                        headers={"Content-Type": "application/json"}).raise_for_status()


__all__ = ["trading_in"]
