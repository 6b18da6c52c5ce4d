"""The Stripe connector (triggers only) passes the conformance suite every connector passes."""

from ledgerlink.testing import ConnectorConformance


class TestStripeConformance(ConnectorConformance):
    connector = "stripe"
