"""The Stripe connector passes the conformance suite every connector passes; its requests are
held to Stripe's OpenAPI spec (the operations it calls, copied into tests/vendor/stripe/)."""

from collections.abc import Callable

import pytest

from ledgerlink.contract import Request
from ledgerlink.testing import ConnectorConformance
from ledgerlink_stripe.actions import CANNOT_RESTORE, CANNOT_UNPAY
from stripe_openapi_requests import problems


@pytest.fixture(scope="session")
def request_schema() -> Callable[[Request], list[str]]:
    """Each request's form body or query against Stripe's request schema of its operation."""
    return problems


class TestStripeConformance(ConnectorConformance):
    connector = "stripe"
    cannot_undo = {"stripe.mark_invoice_paid": CANNOT_UNPAY, "stripe.add_invoice_note": CANNOT_RESTORE}
