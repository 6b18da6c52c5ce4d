"""The FreshBooks connector passes the conformance suite every connector passes; its requests
are held to the community OpenAPI made strict (``freshbooks_openapi_requests``)."""

from collections.abc import Callable

import pytest

from freshbooks_openapi_requests import problems
from ledgerlink.contract import Request
from ledgerlink.testing import ConnectorConformance


@pytest.fixture(scope="session")
def request_schema() -> Callable[[Request], list[str]]:
    """Each request's path, query and JSON body against FreshBooks' description."""
    return problems


class TestFreshBooksConformance(ConnectorConformance):
    connector = "freshbooks"
    # change what another step created (an invoice marked sent, a client renamed): nothing new to undo
    changes_only = frozenset({"freshbooks.mark_invoice_sent", "freshbooks.update_client"})


def test_the_request_check_refuses_what_freshbooks_would():
    base = "https://api.freshbooks.com/accounting/account/ACM123"
    assert problems(Request("POST", f"{base}/users/clients", json={"client": {"organization": "A"}})) == []
    assert any("organisation" in p for p in problems(
        Request("POST", f"{base}/users/clients", json={"client": {"organisation": "A"}})))
    assert problems(Request("GET", f"{base}/users/clients", params={"per_page": "500"}))
    assert problems(Request("GET", f"{base}/users/clients", params={"filter": "x"}))
    assert problems(Request("POST", f"{base}/invoices/invoices", json={"invoice": {"customerid": 1}}))  # create_date
    assert problems(Request("GET", f"{base}/nothing/here"))
