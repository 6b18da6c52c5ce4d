"""What the QuickBooks connector declares for the host: its limits and its part in the demo."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.contract import Limits
from ledgerlink_quickbooks import CONNECTOR, SETTINGS_SCHEMA
from ledgerlink_quickbooks.demo import booked_amount
from ledgerlink_sandboxes.quickbooks import DEFAULT_ACCESS_TOKEN, DEFAULT_REALM


def test_the_connector_declares_the_published_per_realm_limits():
    # 500 requests a minute and 10 at once per realm (Intuit blog 2016-08-08, "QuickBooks
    # Online API throttling changes")
    assert CONNECTOR.limits == Limits(500, 60.0, concurrent=10)
    assert CONNECTOR.limits.describe() == "500 requests per 60 s (490 used, headroom 0.98), 10 at once"


def test_the_demo_connects_to_the_company_the_sandbox_seeds():
    demo = CONNECTOR.demo
    assert demo is not None and demo.entry_title == "QuickBooks entry"
    assert set(demo.settings) <= set(SETTINGS_SCHEMA["properties"])
    assert demo.settings["realm_id"] == DEFAULT_REALM
    assert demo.settings["access_token"] == DEFAULT_ACCESS_TOKEN
    assert "access_token" in CONNECTOR.secret_settings  # so the demo passes it through the environment


@pytest.mark.parametrize("data, expected", [
    ({"Amount": "5.120", "CurrencyRef": "KWD"}, (Decimal("5.120"), "KWD")),
    ({"Lines": [{"PostingType": "Debit", "Amount": 7}, {"PostingType": "Debit", "Amount": "0.5"},
                {"PostingType": "Credit", "Amount": "7.5"}], "CurrencyRef": {"value": "EUR"}},
     (Decimal("7.5"), "EUR")),
    ({"Amount": "12000"}, None),  # no currency
    ({"Amount": "0", "CurrencyRef": "USD"}, None),
    ({"Amount": "twelve", "CurrencyRef": "USD"}, None),
    ({"Lines": [{"PostingType": "Debit"}], "CurrencyRef": "USD"}, None),
])
def test_the_demo_reads_what_a_refused_input_was_to_book(data, expected):
    assert booked_amount(data) == expected
