"""The ledgerlink connector (the host's own events) passes the conformance suite."""

from __future__ import annotations

import ledgerlink_events
from ledgerlink.testing import ConnectorConformance


class TestEventsConformance(ConnectorConformance):
    connector = "ledgerlink"
    plugin = ledgerlink_events
