"""python-quickbooks against the sandbox's ledger: it writes the new entities (Transfer,
Purchase, SalesReceipt) with its own defaults, reads them back, deletes them, and reads
``Account.CurrentBalance``, the company's Preferences and the TrialBalance report, as an
application does against Intuit.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from quickbooks.objects.account import Account
from quickbooks.objects.detailline import (AccountBasedExpenseLine, AccountBasedExpenseLineDetail,
                                          SalesItemLine, SalesItemLineDetail)
from quickbooks.objects.preferences import Preferences
from quickbooks.objects.purchase import Purchase
from quickbooks.objects.salesreceipt import SalesReceipt
from quickbooks.objects.transfer import Transfer
from quickbooks.exceptions import QuickbooksException

from test_quickbooks_official_clients import REALM, connected, ref

#: a multicurrency company at home in USD
QBO_SANDBOX = {"multicurrency": True}


@pytest.fixture(autouse=True)
def insecure_transport(monkeypatch):
    """oauthlib refuses http:// unless told the transport is a test's loopback."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def money(value) -> Decimal:
    """A figure python-quickbooks parsed (it reads JSON numbers as floats) as exact text."""
    return Decimal(str(value))


def test_python_quickbooks_books_a_day_through_a_clearing_account_and_reads_the_balances(qbo, sandbox):
    client = connected(qbo)
    stripe = Account()
    stripe.Name, stripe.AccountType = "Stripe", "Bank"
    stripe = stripe.save(qb=client)

    receipt = SalesReceipt()
    receipt.DepositToAccountRef = stripe.to_ref()
    line = SalesItemLine()
    line.Amount = Decimal("100.30")
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref("1")
    receipt.Line.append(line)
    receipt = receipt.save(qb=client)

    fee = Purchase()
    fee.PaymentType, fee.AccountRef = "Check", stripe.to_ref()
    cost = AccountBasedExpenseLine()
    cost.Amount = Decimal("3.21")
    cost.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    cost.AccountBasedExpenseLineDetail.AccountRef = ref("62")
    fee.Line.append(cost)
    fee = fee.save(qb=client)

    payout = Transfer()
    payout.FromAccountRef, payout.ToAccountRef, payout.Amount = stripe.to_ref(), ref("35"), Decimal("97.09")
    payout = payout.save(qb=client)

    assert money(Account.get(stripe.Id, qb=client).CurrentBalance) == Decimal("0.00")
    assert money(Account.get("35", qb=client).CurrentBalance) == Decimal("97.09")
    assert money(Account.get("62", qb=client).CurrentBalance) == Decimal("3.21")
    assert money(SalesReceipt.get(receipt.Id, qb=client).TotalAmt) == Decimal("100.30")
    assert Purchase.get(fee.Id, qb=client).AccountRef.value == stripe.Id
    assert money(Transfer.get(payout.Id, qb=client).Amount) == Decimal("97.09")

    report = client.get_report("TrialBalance")
    total = report["Rows"]["Row"][-1]["Summary"]["ColData"]
    assert [cell["value"] for cell in total] == ["TOTAL", "100.30", "100.30"]

    Transfer.get(payout.Id, qb=client).delete(qb=client)
    assert money(Account.get(stripe.Id, qb=client).CurrentBalance) == Decimal("97.09")
    assert money(Account.get("35", qb=client).CurrentBalance) == Decimal("0.00")


def test_python_quickbooks_reads_the_preferences_and_is_refused_in_the_closed_period(qbo, sandbox):
    client = connected(qbo)
    httpx.post(f"{qbo.url}/__sandbox/preferences", json={"realm_id": REALM, "book_close_date": "2026-06-30"})
    prefs = Preferences.get(qb=client)
    assert prefs.AccountingInfoPrefs.BookCloseDate == "2026-06-30"
    assert prefs.CurrencyPrefs.MultiCurrencyEnabled is True
    assert prefs.CurrencyPrefs.HomeCurrency.value == "USD"

    payout = Transfer()
    payout.FromAccountRef, payout.ToAccountRef, payout.Amount = ref("35"), ref("4"), Decimal("1.00")
    payout.TxnDate = "2026-06-30"
    with pytest.raises(QuickbooksException) as refused:
        payout.save(qb=client)
    assert refused.value.error_code == 6200
    assert "The account period has closed" in refused.value.detail
    assert sandbox.entities(REALM, "transfer") == []
