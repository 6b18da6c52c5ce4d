"""A Xero organisation's books for the booking modes: the accounts an integrator creates, the
connection, and the books read back through Xero's Accounting API only.

Not a test module. :data:`XERO` is the :class:`~books_month.Ledger` that books the month into
the Xero sandbox (base currency USD). :func:`create_accounts` adds the accounts the Xero
recipes name by code (``PUT /Accounts``, as an integrator would, or maps their own codes
into the recipes' lookups). :func:`read_books` reads every document the modes write —
``GET /Invoices``, ``/Payments``, ``/BankTransactions``, ``/BankTransfers``,
``/ManualJournals`` (page by page where Xero pages) — and posts each by double entry as Xero
posts it (https://developer.xero.com/documentation/api/accounting/types): a sales invoice
Dr Accounts Receivable, Cr each line's account; a payment Dr the bank it is received into,
Cr Accounts Receivable; money received Dr the bank, Cr each line's account (money spent the
other way round); a transfer Dr the account it goes to, Cr the one it leaves; a posted
manual journal its lines. :func:`trial_balance_report` is what Xero itself says,
``GET /Reports/TrialBalance``; the proof checks the two agree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from ledgerlink import jsonio
from ledgerlink_sandboxes.xero import DEFAULT_ACCESS_TOKEN, DEFAULT_TENANT, create_sandbox
from books_month import Ledger
from vendor_files import REPO

MODES = {"clearing": REPO / "recipes" / "xero" / "mode-1-clearing",
         "payout-summary": REPO / "recipes" / "xero" / "mode-2-payout-summary"}
RECEIVABLE = "610"  # the organisation's Accounts Receivable (system account DEBTORS)
#: the accounts the Xero recipes name that a new organisation lacks: code -> (name, type)
NEW_ACCOUNTS = {
    "099": ("Stripe USD", "BANK"),
    "210": ("Sales Returns", "REVENUE"),
    "405": ("Chargebacks", "EXPENSE"),
    "406": ("Stripe Fees", "EXPENSE"),
    "407": ("Tax on Stripe Fees", "EXPENSE"),
    "615": ("Stripe Failed Payouts", "CURRENT"),
    "616": ("Stripe Payouts in Transit", "CURRENT"),
}
#: the codes the checks name, by what they hold
CODES = {"clearing": "099", "bank": "090", "sales": "200", "refunds": "210", "chargebacks": "405", "fees": "406",
         "fee_tax": "407", "failed": "615", "in_transit": "616", "receivable": RECEIVABLE}

Obj = dict[str, Any]


def client(url: str, tenant: str = DEFAULT_TENANT) -> httpx.Client:
    """The Accounting API of the sandbox at ``url``, as the organisation ``tenant``."""
    return httpx.Client(base_url=f"{url}/api.xro/2.0", timeout=30,
                        headers={"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}", "xero-tenant-id": tenant,
                                 "Accept": "application/json"})


def get(api: httpx.Client, path: str, **params: Any) -> Obj:
    answer = api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return jsonio.loads(answer.content)


def create_accounts(api: httpx.Client, currency: str = "USD", accounts: dict[str, tuple[str, str]] | None = None
                    ) -> dict[str, str]:
    """Every account of :data:`NEW_ACCOUNTS` (``accounts``), created (a bank account in
    ``currency``); name -> code, the seeded accounts' too."""
    for code, (name, kind) in (accounts or NEW_ACCOUNTS).items():
        body: Obj = {"Code": code, "Name": name, "Type": kind}
        if kind == "BANK":
            body.update(BankAccountNumber=f"4000{code}", CurrencyCode=currency)
        answer = api.put("/Accounts", json=body)
        assert answer.status_code == 200, answer.text
    return {account["Name"]: account["Code"] for account in get(api, "/Accounts")["Accounts"]}


def _prepare(url: str) -> dict[str, str]:
    with client(url) as api:
        return create_accounts(api)


def xero_config(url: str) -> list[str]:
    """The lines of ledgerlink.toml for the Xero connection to the sandbox at ``url`` (no
    clearing account: ``reconcile_checks.with_clearing`` names it where a test compares it)."""
    return ["[connections.xero]", 'connector = "xero"', f'api_base = "{url}/api.xro/2.0"',
            f'tenant_id = "{DEFAULT_TENANT}"', 'access_token = "${LL_TEST_XERO_TOKEN}"', 'base_currency = "USD"',
            "[connections.xero.limits]", "requests = 100000", "per_seconds = 1.0", "concurrent = 10", ""]


#: the month is booked as fast as the machine allows: the sandbox's limits as wide as the
#: connection's (its X-MinLimit-Remaining and X-DayLimit-Remaining say so, and the governor
#: reads them), and not enforced
WIDE_LIMITS = {"minute_limit": 6_000_000, "day_limit": 1 << 30, "app_minute_limit": 6_000_000, "concurrent": 10}

XERO = Ledger(sandbox=lambda **options: create_sandbox(rate_limit=False, **{**WIDE_LIMITS, **options}),
              prepare=_prepare, config=xero_config, modes=MODES)


#: a date as Xero's JSON answers it, ``/Date(1700000000000+0000)/``
MS_DATE = re.compile(r"/Date\((-?\d+)")


def day(value: Any) -> str:
    """A Xero date (``/Date(ms+0000)/``) as YYYY-MM-DD."""
    found = MS_DATE.match(str(value))
    assert found, value
    return dt.datetime.fromtimestamp(int(found.group(1)) / 1000, dt.timezone.utc).date().isoformat()


@dataclass
class Posted:
    """One Xero document and what it posts: (account code, signed amount, debit positive);
    with its total as Xero answers it (a manual journal's: its debits), currency and date."""

    kind: str
    id: str
    reference: str
    postings: list[tuple[str, Decimal]] = field(default_factory=list)
    total: Decimal = Decimal(0)
    currency: str = ""
    date: str = ""

    def post(self, code: Any, amount: Any, debit: bool) -> None:
        value = Decimal(str(amount))
        self.postings.append((str(code), value if debit else -value))

    @property
    def balanced(self) -> bool:
        return sum((amount for _, amount in self.postings), Decimal(0)) == 0

    def on(self, code: str) -> Decimal:
        return sum((amount for account, amount in self.postings if account == code), Decimal(0))

    def key(self) -> tuple[str, str, str, tuple[tuple[str, Decimal], ...]]:
        return self.kind, self.id, self.reference, tuple(sorted(self.postings))


def pages(api: httpx.Client, collection: str) -> list[Obj]:
    """Every element of ``collection``, 100 a page as Xero pages its lists."""
    found: list[Obj] = []
    while True:
        page = get(api, f"/{collection}", page=len(found) // 100 + 1)[collection]
        found += page
        if len(page) < 100:
            return found


def read_books(api: httpx.Client) -> list[Posted]:
    """Every posted document the booking modes write, as postings (see the module docstring)."""
    codes = {a["AccountID"]: a["Code"] for a in get(api, "/Accounts")["Accounts"]}
    books: list[Posted] = []
    for invoice in pages(api, "Invoices"):
        if invoice["Type"] == "ACCREC" and invoice["Status"] in ("AUTHORISED", "PAID"):
            entry = Posted("Invoice", invoice["InvoiceID"], invoice.get("Reference", ""), total=Decimal(
                str(invoice["Total"])), currency=invoice["CurrencyCode"], date=day(invoice["Date"]))
            entry.post(RECEIVABLE, invoice["Total"], True)
            for line in invoice["LineItems"]:
                entry.post(line["AccountCode"], line["LineAmount"], False)
            books.append(entry)
    for payment in pages(api, "Payments"):
        if payment["Status"] == "AUTHORISED":
            entry = Posted("Payment", payment["PaymentID"], payment.get("Reference", ""), total=Decimal(
                str(payment["Amount"])), currency=payment.get("CurrencyCode", ""), date=day(payment["Date"]))
            entry.post(codes[payment["Account"]["AccountID"]], payment["Amount"], True)
            entry.post(RECEIVABLE, payment["Amount"], False)
            books.append(entry)
    for transaction in pages(api, "BankTransactions"):
        if transaction["Status"] == "AUTHORISED":
            received = transaction["Type"] == "RECEIVE"
            entry = Posted(f"BankTransaction {transaction['Type']}", transaction["BankTransactionID"],
                           transaction.get("Reference", ""), total=Decimal(str(transaction["Total"])),
                           currency=transaction["CurrencyCode"], date=day(transaction["Date"]))
            entry.post(codes[transaction["BankAccount"]["AccountID"]], transaction["Total"], received)
            for line in transaction["LineItems"]:
                entry.post(line["AccountCode"], line["LineAmount"], not received)
            books.append(entry)
    for transfer in get(api, "/BankTransfers")["BankTransfers"]:  # Xero does not page transfers
        entry = Posted("BankTransfer", transfer["BankTransferID"], transfer.get("Reference", ""),
                       total=Decimal(str(transfer["Amount"])), currency=transfer.get("CurrencyCode", ""),
                       date=day(transfer["Date"]))
        entry.post(codes[transfer["ToBankAccount"]["AccountID"]], transfer["Amount"], True)
        entry.post(codes[transfer["FromBankAccount"]["AccountID"]], transfer["Amount"], False)
        books.append(entry)
    for journal in pages(api, "ManualJournals"):
        if journal["Status"] == "POSTED":
            entry = Posted("ManualJournal", journal["ManualJournalID"], journal["Narration"], date=day(journal["Date"]))
            for line in journal["JournalLines"]:
                entry.post(line["AccountCode"], line["LineAmount"], True)  # debits positive, credits negative
            entry.total = sum((amount for _, amount in entry.postings if amount > 0), Decimal(0))
            books.append(entry)
    return books


def balances(books: list[Posted]) -> dict[str, Decimal]:
    """Account code -> Σ debits − Σ credits over ``books``."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entry in books:
        for code, amount in entry.postings:
            totals[code] += amount
    return dict(totals)


def trial_balance_report(api: httpx.Client, date: str | None = None) -> tuple[dict[str, Decimal], Decimal, Decimal]:
    """``GET /Reports/TrialBalance``: account code -> debit-positive balance, and the report's
    Debit and Credit totals."""
    [report] = get(api, "/Reports/TrialBalance", **({"date": date} if date else {}))["Reports"]
    rows: dict[str, Decimal] = {}
    debits = credits = Decimal(0)
    for section in report["Rows"][1:]:
        for row in section["Rows"]:
            cells = [cell["Value"] for cell in row["Cells"]]
            if row["RowType"] == "SummaryRow":
                debits, credits = Decimal(cells[1] or 0), Decimal(cells[2] or 0)
            else:
                code = cells[0].rsplit("(", 1)[1].rstrip(")")
                rows[code] = Decimal(cells[1] or 0) - Decimal(cells[2] or 0)
    return rows, debits, credits


def shipped(mode: str) -> list[Path]:
    return sorted(MODES[mode].glob("*.json"))


__all__ = ["CODES", "MODES", "NEW_ACCOUNTS", "Posted", "XERO", "balances", "client", "create_accounts", "day", "get",
           "pages", "read_books", "shipped", "trial_balance_report", "xero_config"]
