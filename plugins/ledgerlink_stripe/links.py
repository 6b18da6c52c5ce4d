"""Where a person sees a Stripe object: its page in the Stripe Dashboard
(``Connector.entity_url``, :mod:`ledgerlink.contract.deeplinks`).

Test-mode objects are under ``/test/``: an object is taken as a test one when the event it
came in says ``"livemode": false``, or when the connection's ``api_base`` is not Stripe's
(a sandbox). An object a step wrote comes with no event: it is linked in live mode unless the
connection points at a sandbox. A connection acting on a connected account (``stripe_account``)
gets no links: its objects are not in the platform's own Dashboard.
"""

from __future__ import annotations

from ledgerlink.contract.deeplinks import EntityRef, url_table

from . import api

DASHBOARD = "https://dashboard.stripe.com"

#: the Dashboard page of each kind the triggers name (``Trigger.entity``: the event type's object)
PAGES = {
    "invoice": "/invoices/{id}",
    "charge": "/payments/{id}",
    "payment_intent": "/payments/{id}",
    "payout": "/payouts/{id}",
    "customer": "/customers/{id}",
    "product": "/products/{id}",
    "charge.dispute": "/disputes/{id}",
}


def dashboard(ref: EntityRef) -> str | None:
    """The Dashboard's root for ``ref``: live, ``/test`` or, for a connected account, None."""
    if ref.settings.get("stripe_account"):
        return None
    sandboxed = str(ref.settings.get("api_base") or api.API_BASE).rstrip("/") != api.API_BASE.rstrip("/")
    test = sandboxed or (ref.event is not None and ref.event.get("livemode") is False)
    return DASHBOARD + "/test" if test else DASHBOARD


entity_url = url_table(dashboard, PAGES)
