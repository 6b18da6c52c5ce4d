"""A QuickBooks Online loopback sandbox: Intuit's Accounting API v3 and OAuth, in memory.

Built on the sandbox base (:mod:`ledgerlink.testing.sandbox`: rate window, ``requestid``
replay, scripted faults, OAuth token endpoint, webhook emitter), it holds only what is
Intuit's. Serve it on loopback with the base's runner (``ledgerlink sandbox quickbooks``
serves it on a fixed port)::

    from ledgerlink.testing.sandbox import running
    from ledgerlink_sandboxes.quickbooks import create_sandbox

    with running(create_sandbox(window_seconds=1.0, requests_per_window=20)) as served:
        ...  # point a connection's base_url at served.url; served.sandbox.stats()

What it imitates (Intuit's QuickBooks Online Accounting API documentation, developer.intuit.com):

- ``POST /v3/company/<realm>/<entity>?minorversion=75&requestid=<id>`` creates (or, with
  ``Id`` + ``SyncToken`` in the body, updates) a JournalEntry, Invoice, Payment,
  CreditMemo, RefundReceipt, Deposit, Transfer, Purchase, SalesReceipt, Customer, Vendor,
  Item or Account; the body is read as
  leniently as QBO reads JSON (amounts as strings, ``SyncToken`` as a number, ``""`` for
  an optional date, as python-quickbooks sends them), checked against Intuit's XSD and
  QBO's write rules (see :mod:`.company`) and answered with
  ``{"<Entity>": {...}, "time": ...}`` or a 400 ``ValidationFault``. A repeated
  ``requestid`` (per realm, kept for the sandbox's life) replays the first answer byte for
  byte, errors included, and creates nothing. A missing ``minorversion`` or one below 75
  is served as 75 and counted in the stats.
- ``POST …/invoice?operation=void`` (also ``payment``, ``salesreceipt``) with ``{Id,
  SyncToken}`` voids it (amounts zeroed, ``"Voided"`` before its PrivateNote; a second
  void changes nothing), with ``requestid`` replay; ``POST …/<entity>?operation=delete``
  deletes a transaction.
- Every posted transaction moves the accounts' ``CurrentBalance`` by double entry, as QBO
  posts it (:mod:`.postings`, :mod:`.ledger`); an update re-posts, a void or delete takes
  back. ``GET …/reports/TrialBalance`` serves the trial balance in QBO's Report shape
  (:mod:`.reports`). ``GET …/preferences`` (and ``select * from Preferences``) answers the
  company's home currency, multicurrency setting and closed books date; a write dated on
  or before that date, a foreign transaction without its rate, a customer's transaction in
  another currency are refused as QBO refuses them (:mod:`.books`).
- ``GET …/cdc?entities=Invoice,Payment&changedSince=<ISO>``: change data capture from the
  company's change log (whole entities, deleted ones as ``status: "Deleted"``, at most
  1,000, 30 days back at most); see :mod:`.notify`.
- ``GET …/<entity>/<id>`` reads (610 when absent); ``GET …/query?query=…`` (or ``POST``
  with an ``application/text`` body) runs the query language (:mod:`.query` reads it,
  :mod:`.query_eval` answers it); a list
  entity (Customer, Item, Account, Vendor, TaxCode) is answered active only unless the
  WHERE names ``Active`` (``Active IN (true, false)``), as QBO does; TaxCode is
  seeded and readable but not writable.
- Every ``/v3`` call needs ``Authorization: Bearer <token>`` (401 ``AuthenticationFault``
  otherwise); per realm, at most ``requests_per_window`` requests in any sliding
  ``window_seconds`` and ``concurrent`` requests in progress (429 throttle fault
  otherwise, which creates nothing).
- ``POST /oauth2/v1/tokens/bearer``: authorization-code and refresh grants, client
  authenticated by HTTP Basic; every refresh rotates the refresh token.
- ``GET /.well-known/openid_sandbox_configuration``: Intuit's discovery document naming
  the sandbox's own OAuth endpoints, so Intuit's ``intuit-oauth`` works unchanged::

      AuthClient(client_id, client_secret, redirect_uri,
                 environment=f"{url}/.well-known/openid_sandbox_configuration")
- Test hooks under ``/__sandbox`` (see :mod:`.app`): stats, request log, entities, fault
  scripts, reset, authorize, revoke, clock advance, a company's preferences. They are for tests only: never
  authenticated, never rate-limited.

Answers are always JSON (QBO would answer XML to a request without ``Accept:
application/json``; the sandbox does not), and request bodies are read as JSON whatever
their ``Content-Type``. Tokens are good for every realm of the sandbox.
"""

from __future__ import annotations

from typing import Any

from ledgerlink.lazy import lazy_names

# Importing this package stays cheap (the plugin imports it to register the sandbox with
# every command): Flask, the XSDs and the state machinery load on first use.
_LAZY = {
    "Sandbox": "state", "DEFAULT_ACCESS_TOKEN": "state",
    "DEFAULT_CLIENT_ID": "state", "DEFAULT_CLIENT_SECRET": "state", "DEFAULT_CODE": "state",
    "DEFAULT_REALM": "state", "QboFault": "faults", "create_app": "app",
}


__getattr__ = lazy_names(__name__, _LAZY)


#: the options of :func:`create_sandbox`, one line each (``ledgerlink sandbox quickbooks --set``)
OPTIONS = {
    "rate_limit": "enforce the per-realm limits (true); false only measures them",
    "requests_per_window": "requests admitted per realm in any sliding window (500)",
    "window_seconds": "the window's length in seconds (60)",
    "concurrent": "requests in progress at once per realm (10)",
    "retry_after": "seconds sent in Retry-After on a 429 (none)",
    "realms": "the companies (realm ids), each seeded alike ([\"9130350000000000\"])",
    "access_tokens": "bearer tokens always accepted ([\"sandbox-access-token\"])",
    "client_id": "the OAuth client id the token endpoint accepts (sandbox-client)",
    "client_secret": "the OAuth client secret the token endpoint accepts (sandbox-secret)",
    "latency": "seconds every admitted /v3 request takes (0)",
    "webhook_url": "where to POST a signed notification of every change (none)",
    "webhook_verifier_token": "the verifier token webhook notifications are signed with",
    "webhook_format": "legacy or cloudevents (legacy)",
    "webhook_retry_seconds": "the retry schedule of unacknowledged notifications (QBO's)",
    "home_currency": "every company's home currency, ISO 4217 (USD)",
    "multicurrency": "companies start with multicurrency turned on (false)",
    "book_close_date": "every company's closed books date, YYYY-MM-DD (none)",
    "currency_rules": "qbo (QBO's multicurrency rules) or off, for load tests (qbo)",
}


def create_sandbox(**options: Any) -> Any:
    """A WSGI app imitating QuickBooks Online; ``app.sandbox`` is its :class:`Sandbox`.

    State lives in memory and is thread-safe. Options (all keyword):

    ``rate_limit=True``
        Enforce the per-realm limits below; when False they are only measured (stats
        ``per_window_max`` and ``max_concurrent_seen``), so a test can check that the
        host's own governor kept inside them.
    ``requests_per_window=500``
        Requests admitted per realm in any sliding window of ``window_seconds``
        (QBO: 500 a minute).
    ``window_seconds=60.0``
        The window's length. Tests compress time with e.g. ``1.0``: same algorithm.
    ``concurrent=10``
        Requests in progress at once per realm (QBO: 10).
    ``retry_after=None``
        Seconds to send in ``Retry-After`` on a 429 (rounded up to a whole number);
        None sends none, as QBO is not known to send one.
    ``realms=("9130350000000000",)``
        The companies, each seeded with accounts (Id, AcctNum) 1 Services 4000,
        4 Undeposited Funds 1200, 33 Accounts Payable (A/P) 2000, 35 Checking 1000,
        62 Bank Charges 6100, 84 Accounts Receivable (A/R) 1100, 90 Sales Returns 4900 and
        the inactive 91 Old Merchant Clearing 1290; customers 1 Amy's Bird Sanctuary,
        2 Bill's Windsurf Shop, 3 Cool Cars; items 1 Services, 2 Hours, 3 Design (Service),
        4 Gadget (NonInventory) and the inactive 5 Retired Plan, all selling into account 1;
        vendor 56; tax codes TAX and NON.
    ``access_tokens=("sandbox-access-token",)``
        Bearer tokens always accepted, besides those issued by the token endpoint.
    ``client_id="sandbox-client"``, ``client_secret="sandbox-secret"``
        The OAuth client the token endpoint accepts (HTTP Basic).
    ``latency=0.0``
        Seconds every admitted ``/v3`` request sleeps while holding its concurrency
        slot, to make concurrency observable.
    ``clock=time.monotonic``
        Seconds for rate windows and token expiry; pass a fake to control time.
    ``wall_clock=time.time``
        Unix time for ``time``, ``MetaData`` and ``TxnDate`` stamps.
    ``webhook_url=None``, ``webhook_verifier_token=None``, ``webhook_format="legacy"``, ``webhook_retry_seconds=None``
        Send a signed webhook notification of every change (create, update, void, delete)
        to the URL, in the ``legacy`` or ``cloudevents`` format, in order, each held until
        the one before was acknowledged within 3 s, retried on QBO's schedule unless
        ``webhook_retry_seconds`` (a list) compresses it; see :mod:`.notify`. Also
        configurable at run time: ``POST /__sandbox/webhooks``.

    ``home_currency="USD"``, ``multicurrency=False``, ``book_close_date=None``
        Every company's Preferences (``GET …/preferences``): its home currency, whether
        multicurrency is on (it then also has account 9100 "Exchange Gain or Loss"), and
        the closed books date, on or before which no transaction may be written. Also
        changeable per company at run time: ``POST /__sandbox/preferences``.
    ``currency_rules="qbo"``
        ``"off"`` lets any transaction be in any currency (given its rate) whatever the
        company's multicurrency setting and its customer's currency, and posts home amounts
        to accounts in other currencies: QBO refuses such writes; a load test that measures
        throughput rather than books may turn the rules off.

    Every posted transaction moves the accounts' ``CurrentBalance`` by double entry
    (:mod:`.ledger`, :mod:`.postings`); ``GET …/reports/TrialBalance`` reads the ledger.

    Unknown options raise ``TypeError``; bad values ``ValueError``. Intuit's XSDs are
    loaded here (about two seconds, once per process) so the first request is not slow.
    """
    from . import xsd
    from .app import create_app
    from .state import Sandbox

    sandbox = Sandbox(**options)
    xsd.load()
    return create_app(sandbox)


__all__ = ["OPTIONS", "DEFAULT_ACCESS_TOKEN", "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_CODE",
           "DEFAULT_REALM", "QboFault", "Sandbox", "create_app", "create_sandbox"]
