"""The Xero connector passes the conformance suite every connector passes."""

from ledgerlink.testing import ConnectorConformance


class TestXeroConformance(ConnectorConformance):
    connector = "xero"
