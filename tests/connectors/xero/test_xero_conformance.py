"""The Xero connector passes the conformance suite every connector passes; its requests are
held to Xero's OpenAPI made strict (``xero_openapi_requests``)."""

from collections.abc import Callable

import pytest

from ledgerlink.contract import Request
from ledgerlink.testing import ConnectorConformance
from xero_openapi_requests import problems


@pytest.fixture(scope="session")
def request_schema() -> Callable[[Request], list[str]]:
    """Each request's path, query, Xero headers and JSON body against Xero's spec."""
    return problems


class TestXeroConformance(ConnectorConformance):
    connector = "xero"
    # voids or deletes an invoice, or renames a contact, another step created: nothing new to undo
    changes_only = frozenset({"xero.void_invoice", "xero.update_contact"})
    cannot_undo = {
        # Xero has no DELETE for contacts, only ContactStatus ARCHIVED
        # (https://developer.xero.com/documentation/api/accounting/contacts), and a contact found
        # or created for a source customer serves every later run
        "xero.find_or_create_contact": "Xero does not delete contacts",
    }
