"""Which connectors' example webhooks ``ledgerlink demo`` sends: those whose events run as
delivered. A ledger's examples (Xero's, FreshBooks') are notifications its triggers read
from the vendor first; the demo, which runs no such vendor as a source, leaves them out."""

from __future__ import annotations

from ledgerlink.cli.demo import _sends_whole_events
from ledgerlink.connectors.manager import load_catalog


def test_only_examples_carrying_their_events_whole_are_sent():
    catalog = load_catalog()
    with_examples = {name for name, c in catalog.connectors.items() if c.examples}
    assert {"stripe", "xero", "freshbooks"} <= with_examples
    assert {name for name in with_examples if _sends_whole_events(catalog.connectors[name], catalog)} == {"stripe"}
