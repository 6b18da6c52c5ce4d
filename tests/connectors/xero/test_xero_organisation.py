"""What `ledgerlink check` says about a Xero organisation: its base currency against the
connection's, the currencies it has enabled, its lock dates — read from the Xero sandbox."""

from __future__ import annotations

import httpx
import pytest

from ledgerlink.contract import Connection
from ledgerlink.testing import HttpSender, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_ACCESS_TOKEN, DEFAULT_TENANT, create_sandbox
from ledgerlink_xero.oauth import auth_headers
from ledgerlink_xero.organisation import check_company
from xero_openapi_requests import problems


def checked(request):
    assert problems(request) == [] and request.method == "GET"


@pytest.fixture
def xero():
    with running(create_sandbox()) as served, httpx.Client(timeout=10.0) as client:
        yield served, HttpSender(client, auth_headers({"access_token": DEFAULT_ACCESS_TOKEN,
                                                       "tenant_id": DEFAULT_TENANT}), check=checked)


def check(served, send, **settings):
    connection = Connection("books", "xero", {"api_base": f"{served.url}/api.xro/2.0", **settings})
    return drive(check_company(connection), send).value


def test_the_base_currency_the_enabled_currencies_and_no_lock_date(xero):
    served, send = xero
    lines = check(served, send, base_currency="USD")
    assert lines[0].endswith("base currency USD")
    assert "currencies enabled: EUR, JPY, KWD, USD;" in lines[1]
    assert lines[2] == "no lock date is set: documents of any date are accepted"
    assert [answer.request.url.path.rsplit("/", 1)[1] for answer in send.sent] == ["Organisation", "Currencies"]


def test_a_base_currency_that_differs_from_the_settings_and_lock_dates_are_named(xero):
    served, send = xero
    served.sandbox.orgs[DEFAULT_TENANT].set_lock_dates("2026-10-31", "2025-12-31")
    lines = check(served, send, base_currency="EUR")
    assert any("base_currency is EUR" in line and "set base_currency = \"USD\"" in line for line in lines)
    assert "PeriodLockDate 2026-10-31: Xero refuses documents dated on or before it for everyone but advisers" \
        in lines
    assert "EndOfYearLockDate 2025-12-31: Xero refuses documents dated on or before it for everyone" in lines
