"""A QuickBooks company's books, read through its Accounting API.

:func:`read_ledger` queries every transaction the booking modes write (journal entries,
invoices, payments, deposits, sales receipts, expenses, transfers) and posts each by double
entry, as QuickBooks posts it: a journal entry its lines; an invoice Dr Accounts
Receivable, Cr each line's item income account; a payment Dr the account it is deposited
to, Cr Accounts Receivable; a deposit Dr the bank, Cr each line's account; a sales receipt Dr
the account it is deposited to, Cr each line's item income account; an expense (Purchase) Cr
the account it is paid from, Dr each line's account; a transfer Dr the account it goes to,
Cr the one it comes from. Each transaction is an :class:`Entry` of signed postings (debit
positive, in the home currency: a foreign transaction's amounts times its ``ExchangeRate``,
rounded half up to the cent, each receivable on the company's A/R account), so a test can
check that every entry balances, find the entries of a Stripe object by their
note, and sum an account's postings over any span of time.

:func:`current_balances` and :func:`trial_balance_report` are what QuickBooks itself says:
``Account.CurrentBalance`` by query, and the ``TrialBalance`` report
(developer.intuit.com/app/developer/qbo/docs/api/accounting/report-entities/trialbalance).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.objects.account import Account

from books_month import QBO_TOKEN, query
from ledgerlink_sandboxes.quickbooks import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REALM

Obj = dict[str, Any]
RECEIVABLE = "84"  # the seeded company's Accounts Receivable (A/R)


@dataclass
class Entry:
    """One transaction and what it posts: (account id, signed amount, debit positive)."""

    kind: str
    id: str
    note: str
    date: str
    postings: list[tuple[str, Decimal]] = field(default_factory=list)

    #: home-currency units per unit of the transaction's currency (1 in the home currency)
    rate: Decimal = Decimal(1)

    def post(self, account: Any, amount: Any, debit: bool) -> None:
        value = Decimal(str(amount))
        if self.rate != 1:  # the home amount, rounded half up to the home currency's cents
            value = (value * self.rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        self.postings.append((str(account["value"] if isinstance(account, dict) else account),
                              value if debit else -value))

    @property
    def balanced(self) -> bool:
        return sum((amount for _, amount in self.postings), Decimal(0)) == 0

    def on(self, account: str) -> Decimal:
        return sum((amount for acct, amount in self.postings if acct == account), Decimal(0))


def _entry(kind: str, txn: Obj) -> Entry:
    entry = Entry(kind, txn["Id"], txn.get("PrivateNote", ""), txn.get("TxnDate", ""))
    entry.rate = Decimal(str(txn.get("ExchangeRate") or 1))
    return entry


def read_ledger(qbo: httpx.Client) -> list[Entry]:
    """Every journal entry, invoice, payment and deposit of the company, as postings."""
    income = {item["Id"]: item["IncomeAccountRef"]["value"] for item in query(qbo, "Item") if item.get("IncomeAccountRef")}
    entries: list[Entry] = []
    for txn in query(qbo, "JournalEntry"):
        entry = _entry("JournalEntry", txn)
        for line in txn["Line"]:
            detail = line["JournalEntryLineDetail"]
            entry.post(detail["AccountRef"], line["Amount"], detail["PostingType"] == "Debit")
        entries.append(entry)
    for txn in query(qbo, "Invoice"):
        entry = _entry("Invoice", txn)
        entry.post(RECEIVABLE, txn["TotalAmt"], True)
        for line in txn["Line"]:
            if line.get("DetailType") == "SalesItemLineDetail":
                entry.post(income[line["SalesItemLineDetail"]["ItemRef"]["value"]], line["Amount"], False)
        entries.append(entry)
    for txn in query(qbo, "Payment"):
        entry = _entry("Payment", txn)
        entry.post(txn.get("DepositToAccountRef") or "4", txn["TotalAmt"], True)
        entry.post(RECEIVABLE, txn["TotalAmt"], False)
        entries.append(entry)
    for txn in query(qbo, "SalesReceipt"):
        entry = _entry("SalesReceipt", txn)
        entry.post(txn["DepositToAccountRef"], txn["TotalAmt"], True)
        for line in txn["Line"]:
            if line.get("DetailType") == "SalesItemLineDetail":
                entry.post(income[line["SalesItemLineDetail"]["ItemRef"]["value"]], line["Amount"], False)
        entries.append(entry)
    for txn in query(qbo, "Purchase"):
        entry = _entry("Purchase", txn)
        entry.post(txn["AccountRef"], txn["TotalAmt"], False)
        for line in txn["Line"]:
            entry.post(line["AccountBasedExpenseLineDetail"]["AccountRef"], line["Amount"], True)
        entries.append(entry)
    for txn in query(qbo, "Transfer"):
        entry = _entry("Transfer", txn)
        entry.post(txn["ToAccountRef"], txn["Amount"], True)
        entry.post(txn["FromAccountRef"], txn["Amount"], False)
        entries.append(entry)
    for txn in query(qbo, "Deposit"):
        entry = _entry("Deposit", txn)
        entry.post(txn["DepositToAccountRef"], txn["TotalAmt"], True)
        for line in txn["Line"]:
            entry.post(line["DepositLineDetail"]["AccountRef"], line["Amount"], False)
        entries.append(entry)
    return entries


def trial_balance(entries: list[Entry]) -> dict[str, Decimal]:
    """Account id -> Σ debits − Σ credits over ``entries``."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        for account, amount in entry.postings:
            totals[account] += amount
    return dict(totals)


#: classifications whose CurrentBalance grows with credits (QuickBooks shows it positive)
CREDIT_NORMAL = ("Liability", "Equity", "Revenue")


def current_balances(qbo: httpx.Client) -> dict[str, Decimal]:
    """Account id -> ``CurrentBalance`` as QuickBooks serves it, turned debit-positive."""
    return {account["Id"]: Decimal(str(account["CurrentBalance"])) * (
                -1 if account["Classification"] in CREDIT_NORMAL else 1)
            for account in query(qbo, "Account")}


def trial_balance_report(qbo: httpx.Client) -> tuple[dict[str, Decimal], Decimal, Decimal]:
    """``reports/TrialBalance``: account id -> debit-positive balance, and the two totals."""
    answer = qbo.get("/reports/TrialBalance")
    assert answer.status_code == 200, answer.text
    rows: dict[str, Decimal] = {}
    totals = (Decimal(0), Decimal(0))
    for row in answer.json()["Rows"]["Row"]:
        if row.get("type") == "Section":
            _, debit, credit = row["Summary"]["ColData"]
            totals = (Decimal(debit["value"] or 0), Decimal(credit["value"] or 0))
            continue
        name, debit, credit = row["ColData"]
        rows[name["id"]] = Decimal(debit["value"] or 0) - Decimal(credit["value"] or 0)
    return rows, totals[0], totals[1]


def official_balances(url: str, names: list[str]) -> dict[str, Decimal]:
    """Account name -> ``CurrentBalance`` as python-quickbooks (the SDK applications use)
    reads it from the company at ``url`` (needs ``OAUTHLIB_INSECURE_TRANSPORT=1`` for the
    loopback's plain HTTP)."""
    auth = AuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "http://127.0.0.1:9/callback",
                      environment=f"{url}/.well-known/openid_sandbox_configuration", access_token=QBO_TOKEN)
    client = QuickBooks(auth_client=auth, company_id=DEFAULT_REALM, minorversion=75)
    client.api_url_v3 = f"{url}/v3"
    accounts = Account.all(qb=client, max_results=1000)
    return {account.Name: Decimal(str(account.CurrentBalance)) for account in accounts if account.Name in names}
