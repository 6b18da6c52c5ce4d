"""The FreshBooks connector passes the conformance suite every connector passes."""

from collections.abc import Callable

import pytest

from ledgerlink.contract import Request
from ledgerlink.testing import ConnectorConformance


@pytest.fixture(scope="session")
def request_schema() -> Callable[[Request], list[str]]:
    """No request is held to FreshBooks' spec yet: the connector sends none."""
    return lambda request: [f"no FreshBooks operation is known for {request.method} {request.url}"]


class TestFreshBooksConformance(ConnectorConformance):
    connector = "freshbooks"
