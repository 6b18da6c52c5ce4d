"""A Xero loopback sandbox: Xero's Accounting API and identity service, in memory.

Built on the sandbox base (:mod:`ledgerlink.testing.sandbox`: rate windows, idempotency keys,
the OAuth server), it holds only what is Xero's. Serve it on loopback with the base's runner
(``ledgerlink sandbox xero`` serves it on a fixed port)::

    from ledgerlink.testing.sandbox import running
    from ledgerlink_sandboxes.xero import create_sandbox

    with running(create_sandbox()) as served:
        ...  # Accounting API at f"{served.url}/api.xro/2.0", token at f"{served.url}/connect/token"

What it imitates (Xero's developer documentation, developer.xero.com):

- the identity service (:mod:`.identity`): consent at ``/identity/connect/authorize`` (PKCE
  S256), tokens at ``/connect/token`` (authorization code, refresh with rotation and a
  30-minute grace for the old token, ``client_credentials`` for Custom Connections),
  ``GET /connections`` (the tenants of a token set);
- the Accounting API under ``/api.xro/2.0`` (:mod:`.api`): bearer token and
  ``xero-tenant-id`` required, Xero's limits and their headers, ``Idempotency-Key`` kept six
  minutes, envelopes and ``summarizeErrors`` (:mod:`.entities`); Contacts with ``where``
  queries (:mod:`.contacts`, :mod:`.query`); Organisation, Accounts, Currencies, TaxRates and
  Items as seeded (:mod:`.settings`, :mod:`.org`); Invoices with Xero's line, tax and total
  arithmetic, void (:mod:`.invoices`); Payments against an invoice into a bank account
  (:mod:`.payments`); balanced ManualJournals (:mod:`.journals`); BankTransactions (RECEIVE,
  SPEND) and BankTransfers (:mod:`.banking`); CreditNotes and their Allocations to invoices
  (:mod:`.credit_notes`); a ledger moving account balances by double entry (:mod:`.ledger`);
- webhooks (:mod:`.webhooks`): Intent to Receive, and signed id-only events for every change; lock dates refuse documents dated inside them;
- every body read or answered checked against Xero's OpenAPI made strict (:mod:`.spec`).
"""

from __future__ import annotations

from typing import Any

from ledgerlink.lazy import lazy_names

# Importing this package stays cheap (the plugin imports it to register the sandbox with
# every command): Flask, the spec and the state load on first use.
_LAZY = {"Sandbox": "state", "DEFAULT_ACCESS_TOKEN": "state", "DEFAULT_CLIENT_ID": "state",
         "DEFAULT_CLIENT_SECRET": "state", "DEFAULT_TENANT": "state", "create_app": "app"}


__getattr__ = lazy_names(__name__, _LAZY)


#: the options of :func:`create_sandbox`, one line each (``ledgerlink sandbox xero --set``)
OPTIONS = {
    "rate_limit": "enforce Xero's limits (true); false only measures them",
    "minute_limit": "requests per tenant in any 60 s (60)",
    "concurrent": "requests in progress at once per tenant (5)",
    "day_limit": "requests per tenant in any 24 h (5000; 1000 on the Starter tier)",
    "app_minute_limit": "requests of the app in any 60 s, all tenants (10000)",
    "tenants": "the organisations' tenant ids, each seeded alike ([\"70784a63-d24b-46a9-a4db-0e70a274b056\"])",
    "base_currency": "every organisation's base currency, ISO 4217 (USD)",
    "currencies": "the currencies every organisation has enabled ([\"USD\", \"EUR\", \"JPY\", \"KWD\"])",
    "access_tokens": "bearer tokens always accepted ([\"xero-sandbox-access-token\"])",
    "client_id": "the OAuth client id the token endpoint accepts (xero-sandbox-client)",
    "client_secret": "the OAuth client secret the token endpoint accepts (xero-sandbox-secret)",
    "latency": "seconds every admitted API request takes (0)",
    "webhook_url": "where to POST a signed event for every change (none)",
    "webhook_key": "the webhook key events are signed with (with webhook_url)",
}


def create_sandbox(**options: Any) -> Any:
    """A WSGI app imitating Xero; ``app.sandbox`` is its :class:`~.state.Sandbox`.

    Options (all keyword) are those of :data:`OPTIONS`, plus ``clock`` (seconds for limits,
    token expiry and idempotency keys; pass a fake to control time) and ``wall_clock`` (Unix
    time for ``/Date(…)/`` stamps). Unknown options raise ``TypeError``; bad values
    ``ValueError``. Xero's spec is loaded here so the first request is not slow.
    """
    from . import spec
    from .app import create_app
    from .state import Sandbox

    sandbox = Sandbox(**options)
    spec.load()
    return create_app(sandbox)


__all__ = ["DEFAULT_ACCESS_TOKEN", "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_TENANT", "OPTIONS",
           "Sandbox", "create_app", "create_sandbox"]
