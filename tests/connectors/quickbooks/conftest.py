"""Fixtures of the QuickBooks connector's tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledgerlink.contract import Request
# the vendor schema QuickBooks requests are held to: Intuit's XSDs, read by the sandbox's checker
from ledgerlink_sandboxes.quickbooks import xsd

#: the last segment of an Accounting API path -> the XSD element of its body
ENTITIES = {name.lower(): name for name in ("JournalEntry", "Invoice", "Payment", "CreditMemo",
                                            "RefundReceipt", "Deposit", "Transfer", "Purchase",
                                            "SalesReceipt", "Customer", "Item", "Account")}


def xsd_problems(request: Request) -> list[str]:
    """Why QuickBooks would refuse the body of ``request`` (none for a body-less read)."""
    if request.json is None:
        return []
    endpoint = request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    entity = ENTITIES.get(endpoint)
    if entity is None:
        return [f"no Accounting API entity is written at {request.url}"]
    return xsd.check(entity, request.json)


@pytest.fixture(scope="session")
def request_schema() -> Callable[[Request], list[str]]:
    """The conformance suite holds every QuickBooks request to Intuit's XSDs."""
    return xsd_problems
