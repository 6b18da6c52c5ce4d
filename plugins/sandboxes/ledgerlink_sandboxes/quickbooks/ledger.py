"""The company's general ledger: account balances moved by every posted transaction.

:class:`Ledger` is called from the one place a company commits a change
(:class:`~.company.Company` ``write``, ``void``, ``delete``): :meth:`Ledger.plan` turns a
transaction into postings per account (refusing what QBO refuses), :meth:`Ledger.post`
replaces whatever the transaction posted before with them (so an update re-posts, and a
void or delete posts nothing). Each account keeps two balances, both debit-positive:
in its own currency, and in the home currency at the rates the postings were made.

``Account.CurrentBalance`` (and ``CurrentBalanceWithSubAccounts``, the same here: the
sandbox does not roll sub-accounts up) is the balance in the account's currency, signed
as QBO shows it: an asset or expense account grows with debits, a liability, equity or
income account with credits. Intuit's Account reference documents ``CurrentBalance`` for
balance-sheet accounts; what QBO's API shows on income and expense accounts is
UNVERIFIED, and the sandbox moves them the same way so a test can read them.

Money is Decimal throughout, rounded to the currency's decimals (CLDR through babel:
USD 2, JPY 0, KWD 3) half up.

Multicurrency (Intuit: developer.intuit.com/app/developer/qbo/docs/workflows/
manage-multiple-currencies): ``ExchangeRate`` is home units per foreign unit. A posting to
an account in the transaction's currency moves it by the foreign amount; one to an account
in the home currency by the home amount (amount × rate, rounded to the home currency's
decimals); an account in any third currency is refused (6000). Where the home amounts of
the lines do not sum to zero after rounding, the first line (the receivable, the bank,
the deposit account) takes the difference so every entry balances in the home currency
(UNVERIFIED: how QBO spreads rounding). Accounts Receivable is the company's receivable
account in the transaction's currency; QBO creates "Accounts Receivable (A/R) - EUR" the
first time a EUR transaction needs one, and so does the sandbox (the name as QBO's
chart of accounts shows it; UNVERIFIED for every currency).

Exchange differences: a payment line applying to an invoice credits Accounts Receivable
with the home amount the invoice was booked at (its amount × the invoice's rate), the
bank is debited at the payment's own rate, and the difference goes to the company's
"Exchange Gain or Loss" account (a debit is a loss). A deposit of foreign payments held
in Undeposited Funds credits it at each payment's rate, the same way. QBO books a realised gain or loss
the same way when a payment applies to an invoice at another rate; that it posts it on
the payment, to that account, with this rounding, is the sandbox's reading of Intuit's
multicurrency guide and QBO's reports, UNVERIFIED against a live company.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import babel.numbers

from . import faults
from .entities import CLASSIFICATION, EXCHANGE_ACCOUNT, currency_ref
from .postings import RECEIVABLE, Entry, entries
from .rules import to_amount

Tables = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class Posting:
    """What a transaction moves on one account: ``amount`` in the account's currency and
    ``home`` in the home currency, both debit-positive."""

    account: str
    amount: Decimal
    home: Decimal


def places(code: str) -> int:
    """The decimals of currency ``code`` (ISO 4217 through CLDR)."""
    return babel.numbers.get_currency_precision(code.upper())


def rounded(amount: Decimal, code: str) -> Decimal:
    """``amount`` rounded half up to the decimals of ``code``."""
    return amount.quantize(Decimal(1).scaleb(-places(code)), rounding=ROUND_HALF_UP)


def currency_of(row: Mapping[str, Any], home: str) -> str:
    ref = row.get("CurrencyRef")
    code = ref.get("value") if isinstance(ref, Mapping) else None
    return code.upper() if isinstance(code, str) and code else home


def natural_sign(account: Mapping[str, Any]) -> int:
    """+1 when the account's balance grows with debits (assets, expenses), else -1."""
    classification = account.get("Classification") or CLASSIFICATION.get(account.get("AccountType"), "Asset")
    return 1 if classification in ("Asset", "Expense") else -1


class Ledger:
    """Postings per transaction and the balances they make, for one company.

    ``tables`` are the company's tables (accounts are updated in place);
    ``new_account(row)`` stores an account the ledger creates (a receivable in a new
    currency) and returns its Id.
    """

    def __init__(self, tables: Tables, home: str, new_account: Callable[[dict[str, Any]], str],
                 *, strict: bool = True) -> None:
        self.tables = tables
        self.home = home
        #: QBO's currency rules (``currency_rules="off"``: an account in a third currency
        #: takes the home amount instead of refusing the transaction)
        self.strict = strict
        self.new_account = new_account
        #: (entity, Id) -> (TxnDate, postings)
        self.posted: dict[tuple[str, str], tuple[str, list[Posting]]] = {}
        #: account Id -> home-currency balance (debit-positive)
        self.home_balances: dict[str, Decimal] = {}

    # --- planning ---------------------------------------------------------------------
    def rate_of(self, txn_type: str, txn_id: str) -> Decimal | None:
        """The exchange rate a stored transaction was booked at (1 for the home currency)."""
        row = self.tables.get(txn_type.lower(), {}).get(txn_id)
        if row is None:
            return None
        return to_amount(row.get("ExchangeRate")) if row.get("ExchangeRate") is not None else Decimal(1)

    def plan(self, name: str, entity: Mapping[str, Any]) -> list[Posting]:
        """The postings of transaction ``entity`` (type ``name``, completed as stored), or
        the fault QBO answers when an account cannot take them. Creates nothing."""
        currency = currency_of(entity, self.home)
        rate = to_amount(entity.get("ExchangeRate")) if currency != self.home else Decimal(1)
        lines = entries(name, entity, self.tables, self.rate_of if currency != self.home else None)
        homes = [rounded(line.home if line.home is not None else line.amount * rate, self.home)
                 for line in lines]
        residual = -sum(homes, Decimal(0))
        if residual and name in ("Payment", "Deposit") and any(line.home is not None for line in lines):
            lines.append(Entry(EXCHANGE_ACCOUNT, Decimal(0)))
            homes.append(residual)
        elif residual and lines:
            homes[0] += residual
        out = []
        for line, home in zip(lines, homes):
            account = line.account
            if account == RECEIVABLE:
                account = self._receivable(currency, create=False) or RECEIVABLE
            elif account not in self.tables["account"]:
                if account == EXCHANGE_ACCOUNT:
                    raise faults.business("Exchange Gain or Loss needs multicurrency turned on",
                                          "ExchangeRate")
                raise faults.invalid_reference("AccountRef", "Account", account)
            if account == RECEIVABLE:
                amount = line.amount
            else:
                row = self.tables["account"][account]
                own = currency_of(row, self.home)
                if own == currency:
                    amount = line.amount
                elif own == self.home or not self.strict:
                    amount = home
                else:
                    raise faults.business(
                        f"The account {row.get('Name')!r} is in {own}; a {currency} transaction "
                        f"can use accounts in {currency} or in the home currency {self.home} "
                        f"only", "CurrencyRef")
            out.append(Posting(account, amount, home))
        return out

    def _receivable(self, currency: str, *, create: bool) -> str | None:
        for row in self.tables["account"].values():
            if (row.get("AccountType") == "Accounts Receivable" and row.get("Active") is not False
                    and currency_of(row, self.home) == currency):
                return row["Id"]
        if not create:
            return None
        return self.new_account({
            "Name": f"Accounts Receivable (A/R) - {currency}", "AccountType": "Accounts Receivable",
            "AccountSubType": "AccountsReceivable", "CurrencyRef": currency_ref(currency)})

    # --- posting ----------------------------------------------------------------------
    def post(self, entity: str, entity_id: str, date: str, postings: list[Posting],
             currency: str | None = None) -> None:
        """Replace what ``entity`` ``entity_id`` posted with ``postings`` (none: unpost)."""
        self._move(self.posted.pop((entity, entity_id), ("", []))[1], -1)
        if not postings:
            return
        resolved = [Posting(self._receivable(currency or self.home, create=True) or "", p.amount, p.home)
                    if p.account == RECEIVABLE else p for p in postings]
        self.posted[(entity, entity_id)] = (date, resolved)
        self._move(resolved, 1)

    def _move(self, postings: list[Posting], sign: int) -> None:
        for posting in postings:
            row = self.tables["account"].get(posting.account)
            if row is None:
                continue
            shown = natural_sign(row) * sign * posting.amount
            row["CurrentBalance"] = to_amount(row.get("CurrentBalance")) + shown
            row["CurrentBalanceWithSubAccounts"] = row["CurrentBalance"]
            self.home_balances[posting.account] = (self.home_balances.get(posting.account, Decimal(0))
                                                   + sign * posting.home)

    def balances(self, end_date: str | None = None) -> dict[str, Decimal]:
        """Home-currency balance per account (debit-positive) of every posting dated on or
        before ``end_date`` (all when None)."""
        if end_date is None:
            return {k: v for k, v in self.home_balances.items() if v}
        out: dict[str, Decimal] = {}
        for date, postings in self.posted.values():
            if date and date > end_date:
                continue
            for posting in postings:
                out[posting.account] = out.get(posting.account, Decimal(0)) + posting.home
        return {k: v for k, v in out.items() if v}


__all__ = ["Ledger", "Posting", "currency_of", "natural_sign", "places", "rounded"]
