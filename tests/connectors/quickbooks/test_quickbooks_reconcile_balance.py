"""The QuickBooks side of the clearing-account check: the balance of the account the
connection's ``clearing_account`` names (by name or Id) at the end of a day, read from the
sandbox's TrialBalance report over loopback HTTP — every posting dated up to the day, debit
positive, in the home currency; nothing posted is zero; without the setting, the fix named."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

import ledgerlink_quickbooks.reconcile as reconcile
from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, Connection
from ledgerlink.errors import ConfigError
from ledgerlink.testing import HttpSender, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.quickbooks import DEFAULT_REALM, create_sandbox

AUTH = {"Authorization": "Bearer sandbox-access-token"}


@pytest.fixture
def company():
    """A company with a clearing account "Stripe USD" and a fees account, entries on two days."""
    with running(create_sandbox(rate_limit=False)) as served, httpx.Client(timeout=10) as client:
        def made(entity: str, body: dict) -> dict:
            answer = client.post(f"{served.url}/v3/company/{DEFAULT_REALM}/{entity}", headers=AUTH,
                                 params={"minorversion": "75"}, content=jsonio.dumps(body).encode())
            assert answer.status_code == 200, answer.text
            return jsonio.loads(answer.content)[entity.title() if entity == "account" else "JournalEntry"]
        clearing = made("account", {"Name": "Stripe USD", "AccountType": "Bank"})["Id"]
        fees = made("account", {"Name": "Stripe Fees", "AccountType": "Expense"})["Id"]
        made("account", {"Name": "Stripe EUR", "AccountType": "Bank"})
        for day, amount, debit, credit in (("2026-11-02", "100.00", clearing, fees),
                                           ("2026-11-03", "2.95", fees, clearing)):
            made("journalentry", {"TxnDate": day, "Line": [
                {"DetailType": "JournalEntryLineDetail", "Amount": Decimal(amount),
                 "JournalEntryLineDetail": {"PostingType": posting, "AccountRef": {"value": account}}}
                for posting, account in (("Debit", debit), ("Credit", credit))]})
        yield served.url, clearing, HttpSender(client, AUTH)


def read(url: str, send, at: str, **settings: str):
    ctx = ActionContext(connection=Connection("qbo", "quickbooks", {"base_url": url, "realm_id": DEFAULT_REALM,
                                                                    **settings}), idempotency_key="")
    return drive(reconcile.balance(at, ctx), send)


def test_the_clearing_balance_at_the_end_of_each_day_from_the_trial_balance(company):
    url, clearing, send = company
    assert read(url, send, "2026-11-01", clearing_account="Stripe USD").value == {"USD": 0}
    assert read(url, send, "2026-11-02", clearing_account="Stripe USD").value == {"USD": 10000}
    driven = read(url, send, "2026-11-03", clearing_account=clearing)  # by its Id
    assert driven.value == {"USD": 9705}
    [request] = driven.requests
    assert request.url.endswith("/reports/TrialBalance") and request.params["end_date"] == "2026-11-03"
    # a source's day with its time zone is the same day to books dated by day
    assert read(url, send, "2026-11-03 America/New_York", clearing_account="Stripe USD").value == {"USD": 9705}
    # an account with nothing posted has no row of the report
    assert read(url, send, "2026-11-03", clearing_account="Stripe EUR").value == {"USD": 0}


def test_without_a_clearing_account_the_setting_is_named(company):
    url, _, send = company
    with pytest.raises(ConfigError, match="clearing_account"):
        read(url, send, "2026-11-03")
