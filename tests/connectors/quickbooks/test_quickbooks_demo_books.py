"""The QuickBooks connector's part in the demo's books: against the sandbox on loopback, it
finds or creates every account a booking recipe's lookups name (each create fits Intuit's XSD,
and python-quickbooks reads the accounts back), and reads their balances as QuickBooks keeps
them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quickbooks.objects.account import Account
from quickbooks.objects.transfer import Transfer

from ledgerlink.contract import Connection, LookupReference
from ledgerlink.errors import DemoError
from ledgerlink.testing.actions import over_http
from ledgerlink_quickbooks import CONNECTOR
from ledgerlink_quickbooks.demo import balances, prepare
from ledgerlink_sandboxes.quickbooks import DEFAULT_ACCESS_TOKEN

from test_quickbooks_official_clients import connected, ref

AUTH = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}
#: the lookup rows of the mode-1 recipes, as they ship (ids of another company)
ROWS = [
    LookupReference("Account", "clearing", "usd", {"value": "96", "name": "Stripe USD"}),
    LookupReference("Account", "fees", "stripe_fee", {"value": "94", "name": "Stripe Fees"}),
    LookupReference("Account", "fees", "tax", {"value": "95", "name": "Tax on Stripe Fees"}),
    LookupReference("Account", "accounts", "chargebacks",
                    {"value": "92", "name": "Chargebacks", "AccountType": "Expense"}),
    LookupReference("Account", "accounts", "failed_payouts",
                    {"value": "97", "name": "Stripe Failed Payouts", "AccountType": "Other Current Asset"}),
    LookupReference("Account", "bank", "usd", {"value": "35", "name": "Checking"}),
    LookupReference("Item", "items", "default", {"value": "1", "name": "Services"}),
    LookupReference("TaxCode", "tax_codes", "default", "NON"),
]


@pytest.fixture(autouse=True)
def insecure_transport(monkeypatch):
    """python-quickbooks' OAuth library refuses http:// unless told it is a test's loopback."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def connection(qbo) -> Connection:
    assert CONNECTOR.demo is not None and CONNECTOR.demo.prepare is prepare and CONNECTOR.demo.balances is balances
    return Connection("quickbooks", "quickbooks", {**CONNECTOR.demo.settings, "base_url": qbo.url})


def xsd_checked(request_schema):
    def check(request):
        problems = list(request_schema(request)) if request.method == "POST" else []
        assert problems == [], problems
    return check


def test_prepare_finds_the_seeded_objects_and_creates_the_accounts_the_company_lacks(qbo, sandbox, request_schema):
    driven = over_http(prepare(connection(qbo), ROWS), AUTH, check=xsd_checked(request_schema))
    ids = driven.value
    # seeded: found by name (the shipped ids of another company are never trusted)
    assert ids[("bank", "usd")] == "35" and ids[("items", "default")] == "1"
    assert ("tax_codes", "default") not in ids  # named by id alone: left as the recipe has it
    created = {key: ids[key] for key in [("clearing", "usd"), ("fees", "stripe_fee"), ("fees", "tax"),
                                        ("accounts", "chargebacks"), ("accounts", "failed_payouts")]}
    assert len(set(created.values())) == 5
    assert sum(r.method == "POST" for r in driven.requests) == 5

    client = connected(qbo)
    read = {key: Account.get(ident, qb=client) for key, ident in created.items()}
    assert (read[("clearing", "usd")].Name, read[("clearing", "usd")].AccountType) == ("Stripe USD", "Bank")
    assert read[("clearing", "usd")].CurrencyRef.value == "USD"
    assert (read[("fees", "stripe_fee")].Name, read[("fees", "stripe_fee")].AccountType) == ("Stripe Fees", "Expense")
    assert (read[("fees", "tax")].Name, read[("fees", "tax")].AccountType) == ("Tax on Stripe Fees", "Expense")
    assert (read[("accounts", "chargebacks")].Name, read[("accounts", "chargebacks")].AccountType) == \
        ("Chargebacks", "Expense")  # as the recipe declares it
    assert read[("accounts", "failed_payouts")].AccountType == "Other Current Asset"

    # a second time (another recipe naming the same accounts) finds them all, creates nothing
    again = over_http(prepare(connection(qbo), ROWS), AUTH)
    assert again.value == ids and all(r.method == "GET" for r in again.requests)


def test_balances_are_each_accounts_current_balance_in_its_currency(qbo, sandbox):
    ids = over_http(prepare(connection(qbo), ROWS[:1]), AUTH).value
    clearing = ids[("clearing", "usd")]
    client = connected(qbo)
    payout = Transfer()
    payout.FromAccountRef, payout.ToAccountRef, payout.Amount = ref(clearing), ref("35"), Decimal("12.34")
    payout.save(qb=client)

    found = over_http(balances(connection(qbo), {"clearing usd": {"value": clearing, "name": "Stripe USD"},
                                                 "bank usd": "35"}), AUTH).value
    assert found == {"clearing usd": (Decimal("-12.34"), "USD"), "bank usd": (Decimal("12.34"), "USD")}
    assert [str(v[0]) for v in found.values()] == ["-12.34", "12.34"]  # exact, never a float

    with pytest.raises(DemoError, match="no account 9999"):
        over_http(balances(connection(qbo), {"clearing usd": "9999"}), AUTH)
