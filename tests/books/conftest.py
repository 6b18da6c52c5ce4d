"""The booking modes' tests: ``-m books`` selects the month booked by each mode end to end.

They reuse the Stripe tests' simulated month (``tests/connectors/stripe/stripe_month.py``) and
the Xero tests' check of a request against Xero's strict OpenAPI
(``tests/connectors/xero/xero_openapi_requests.py``), and the FreshBooks tests' sandbox on a
simulated clock and check of a request against FreshBooks' strict OpenAPI
(``tests/connectors/freshbooks/``), and the importers' layouts of the files tests
(``tests/connectors/files/importer_layouts.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "connectors" / "stripe"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "connectors" / "xero"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "connectors" / "freshbooks"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "connectors" / "files"))


def pytest_configure(config):
    config.addinivalue_line("markers", "books: the simulated Stripe month booked into the QuickBooks or "
                                       "Xero or FreshBooks sandbox by a booking mode's recipes, end to end")


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("LL_TEST_STRIPE_KEY", "sk_test_sandbox")
    monkeypatch.setenv("LL_TEST_STRIPE_WHSEC", "whsec_month_of_stripe")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "sandbox-access-token")
    monkeypatch.setenv("LL_TEST_XERO_TOKEN", "xero-sandbox-access-token")
    monkeypatch.setenv("LL_TEST_FRESHBOOKS_TOKEN", "freshbooks-sandbox-access-token")
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # python-quickbooks on the loopback's http


@pytest.fixture(scope="session")
def samples():
    """Every trigger's sample event (``ledgerlink connectors`` shows them), by trigger name."""
    from ledgerlink.connectors.manager import load_catalog
    return {name: trigger.sample for name, trigger in load_catalog().triggers.items()}
