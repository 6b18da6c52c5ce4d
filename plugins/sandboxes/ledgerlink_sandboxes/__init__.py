"""Loopback imitations of vendor APIs, registered with ledgerlink as sandboxes.

This distribution (``ledgerlink-sandboxes``) lists this module under the ``ledgerlink``
entry-point group and registers, through ``ledgerlink_register_sandboxes``, one sandbox per
vendor; ``ledgerlink sandbox NAME`` serves it and ``ledgerlink demo`` points a connection at
it. Nothing here imports a connector: each sandbox is written from the vendor's documentation,
so a connector and the imitation it is tested against cannot agree on the same mistake.

- :mod:`.freshbooks`: FreshBooks (the accounting API, callbacks, FreshBooks' identity service).
- :mod:`.quickbooks`: QuickBooks Online (Accounting API v3, Intuit OAuth 2.0).
- :mod:`.stripe`: Stripe (API v1, 2023-08-16: invoicing, payments, balance, payouts, events).
- :mod:`.xero`: Xero (Accounting API 2.0, Xero's identity service).
"""

from __future__ import annotations

from collections.abc import Callable

from ledgerlink import hookimpl
from ledgerlink.contract import Sandbox

from .freshbooks import OPTIONS as FRESHBOOKS_OPTIONS, create_sandbox as create_freshbooks
from .quickbooks import OPTIONS as QUICKBOOKS_OPTIONS, create_sandbox as create_quickbooks
from .stripe import OPTIONS as STRIPE_OPTIONS, create_sandbox as create_stripe
from .xero import OPTIONS as XERO_OPTIONS, create_sandbox as create_xero

FRESHBOOKS = Sandbox(
    name="freshbooks",
    summary="FreshBooks API and identity service in memory: businesses, single-use refresh tokens, "
            "callbacks with the verifier handshake; bodies checked against the community OpenAPI made strict",
    factory=create_freshbooks,
    options=FRESHBOOKS_OPTIONS,
)

QUICKBOOKS = Sandbox(
    name="quickbooks",
    summary="QuickBooks Online Accounting API v3 and Intuit OAuth 2.0, in memory; bodies "
            "checked against Intuit's XSDs",
    factory=create_quickbooks,
    options=QUICKBOOKS_OPTIONS,
)

STRIPE = Sandbox(
    name="stripe",
    summary="Stripe API v1 (2023-08-16) in memory: invoices, payments with fees and exchange "
            "rates, refunds, disputes, payouts, balance transactions, signed webhooks",
    factory=create_stripe,
    options=STRIPE_OPTIONS,
)

XERO = Sandbox(
    name="xero",
    summary="Xero Accounting API 2.0 and Xero's identity service in memory: tenants, limits, "
            "idempotency keys; bodies checked against Xero's OpenAPI made strict",
    factory=create_xero,
    options=XERO_OPTIONS,
)


@hookimpl
def ledgerlink_register_sandboxes(register: Callable[[Sandbox], None]) -> None:
    """Register the FreshBooks, QuickBooks Online, Stripe and Xero sandboxes."""
    register(FRESHBOOKS)
    register(QUICKBOOKS)
    register(STRIPE)
    register(XERO)


__all__ = ["FRESHBOOKS", "QUICKBOOKS", "STRIPE", "XERO", "ledgerlink_register_sandboxes"]
