"""The Stripe tests' marker: ``-m stripe_month`` selects the simulated month end to end."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line("markers", "stripe_month: the sandbox's simulated month through "
                                       "ledgerlink end to end (webhooks, polling)")
