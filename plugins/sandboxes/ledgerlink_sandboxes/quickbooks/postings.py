"""What each QuickBooks transaction posts: its double-entry lines, as QBO posts them.

:func:`entries` turns a stored transaction into :class:`Entry` lines in the transaction's
own currency, debits positive and credits negative, summing to zero. The ledger
(:mod:`.ledger`) converts them to each account's currency and moves the balances. What
each type posts (QuickBooks Online's own accounting, as its reports show it):

=============  =======================================  ======================================
transaction    debit                                    credit
=============  =======================================  ======================================
Invoice        Accounts Receivable: TotalAmt            each line's item income account
               a discount line's DiscountAccountRef
CreditMemo     each line's item income account          Accounts Receivable: TotalAmt
SalesReceipt   DepositToAccountRef (Undeposited Funds   each line's item income account
               when none): TotalAmt
RefundReceipt  each line's item income account          DepositToAccountRef: TotalAmt
Payment        DepositToAccountRef (Undeposited Funds)  Accounts Receivable: each applied
                                                        invoice line, and what is unapplied
Deposit        DepositToAccountRef: TotalAmt            each line's AccountRef, or for a line
                                                        linking a payment or sales receipt the
                                                        account that payment went to
JournalEntry   its Debit lines                          its Credit lines
Purchase       each line's AccountRef (or item's        AccountRef (the bank or card paid
               ExpenseAccountRef)                       from); ``Credit: true`` the other way
Transfer       ToAccountRef: Amount                     FromAccountRef: Amount
=============  =======================================  ======================================

A payment line applying a credit memo (``LinkedTxn`` of type CreditMemo) debits
Accounts Receivable instead. In a foreign currency, a payment line leaves Accounts
Receivable at the invoice's rate and a deposit line leaves Undeposited Funds at the
deposited payment's rate; the ledger books the difference as an exchange gain or loss. Sales tax is not posted: the sandbox computes no tax, and
``TotalAmt`` is the sum of the lines. Accounts Receivable is :data:`RECEIVABLE`, a marker
the ledger resolves to the receivable account in the transaction's currency.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import faults
from .entities import ADDING_LINES, DISCOUNT_LINE
from .rules import to_amount

#: stands for "the Accounts Receivable account in the transaction's currency"
RECEIVABLE = "<A/R>"
#: where a payment or sales receipt without ``DepositToAccountRef`` goes (seeded Id 4)
UNDEPOSITED_FUNDS = "4"

Tables = Mapping[str, Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class Entry:
    """One posting: ``amount`` in the transaction's currency (debit positive); ``home``,
    when given, is its home-currency value fixed by another transaction (a payment line
    takes the rate of the invoice it pays), else the ledger converts at the transaction's
    own rate."""

    account: str
    amount: Decimal
    home: Decimal | None = None


def _ref(value: Any) -> str | None:
    return str(value["value"]) if isinstance(value, Mapping) and value.get("value") is not None else None


def _sales_lines(tables: Tables, lines: Any) -> Iterator[tuple[str, Decimal]]:
    """(income account, amount) of each sales line; a discount line is negative."""
    first_income: str | None = None
    for line in lines or []:
        if not isinstance(line, Mapping):
            continue
        detail_type = line.get("DetailType")
        if detail_type == "GroupLineDetail":
            group = line.get("GroupLineDetail") or {}
            yield from _sales_lines(tables, group.get("Line"))
            continue
        if detail_type in ADDING_LINES:
            item = tables["item"].get(_ref((line.get(detail_type) or {}).get("ItemRef")) or "")
            account = _ref(item.get("IncomeAccountRef")) if item else None
            if account is None:
                raise faults.business(f"Item {(line.get(detail_type) or {}).get('ItemRef')} has "
                                      f"no income account to post a sale to",
                                      "Line.SalesItemLineDetail.ItemRef")
            first_income = first_income or account
            yield account, to_amount(line.get("Amount"))
        elif detail_type == DISCOUNT_LINE:
            account = _ref((line.get(DISCOUNT_LINE) or {}).get("DiscountAccountRef")) or first_income
            if account is not None:
                yield account, -to_amount(line.get("Amount"))


def _income(tables: Tables, entity: Mapping[str, Any], sign: int) -> list[Entry]:
    return [Entry(account, sign * amount) for account, amount in _sales_lines(tables, entity.get("Line"))
            if amount]


def entries(name: str, entity: Mapping[str, Any], tables: Tables,
            rate_of: Any = None) -> list[Entry]:
    """The lines transaction ``entity`` (type ``name``, as stored) posts. ``rate_of(txn_type,
    txn_id)`` gives the exchange rate another transaction was booked at (a payment's
    invoices); None treats every rate as the payment's own."""
    total = to_amount(entity.get("TotalAmt"))
    if name == "Invoice":
        return [Entry(RECEIVABLE, total), *_income(tables, entity, -1)]
    if name == "CreditMemo":
        return [Entry(RECEIVABLE, -total), *_income(tables, entity, 1)]
    if name == "SalesReceipt":
        deposit = _ref(entity.get("DepositToAccountRef")) or UNDEPOSITED_FUNDS
        return [Entry(deposit, total), *_income(tables, entity, -1)]
    if name == "RefundReceipt":
        return [Entry(_ref(entity.get("DepositToAccountRef")) or UNDEPOSITED_FUNDS, -total),
                *_income(tables, entity, 1)]
    if name == "Payment":
        return _payment(entity, total, rate_of)
    if name == "Deposit":
        return _deposit(entity, total, tables, rate_of)
    if name == "JournalEntry":
        out = []
        for line in entity.get("Line") or []:
            detail = line.get("JournalEntryLineDetail") or {}
            sign = 1 if detail.get("PostingType") == "Debit" else -1
            out.append(Entry(_ref(detail.get("AccountRef")) or "", sign * to_amount(line.get("Amount"))))
        return out
    if name == "Purchase":
        return _purchase(entity, total, tables)
    if name == "Transfer":
        amount = to_amount(entity.get("Amount"))
        return [Entry(_ref(entity.get("ToAccountRef")) or "", amount),
                Entry(_ref(entity.get("FromAccountRef")) or "", -amount)]
    return []


def _payment(entity: Mapping[str, Any], total: Decimal, rate_of: Any) -> list[Entry]:
    out = [Entry(_ref(entity.get("DepositToAccountRef")) or UNDEPOSITED_FUNDS, total)]
    applied = Decimal(0)
    for line in entity.get("Line") or []:
        amount = to_amount(line.get("Amount"))
        for txn in line.get("LinkedTxn") or []:
            txn_type = txn.get("TxnType")
            if txn_type not in ("Invoice", "CreditMemo"):
                continue
            sign = -1 if txn_type == "Invoice" else 1
            rate = rate_of(txn_type, str(txn.get("TxnId"))) if rate_of else None
            home = None if rate is None else sign * amount * rate
            out.append(Entry(RECEIVABLE, sign * amount, home))
            applied += -sign * amount
            break  # one line applies to one transaction
    unapplied = total - applied
    if unapplied:
        out.append(Entry(RECEIVABLE, -unapplied))
    return out


def _deposit(entity: Mapping[str, Any], total: Decimal, tables: Tables, rate_of: Any) -> list[Entry]:
    out = [Entry(_ref(entity.get("DepositToAccountRef")) or "", total)]
    for line in entity.get("Line") or []:
        amount = to_amount(line.get("Amount"))
        account = _ref((line.get("DepositLineDetail") or {}).get("AccountRef"))
        home = None
        if account is None:
            for txn in line.get("LinkedTxn") or []:
                txn_type, txn_id = str(txn.get("TxnType") or ""), str(txn.get("TxnId"))
                source = tables.get(txn_type.lower(), {}).get(txn_id)
                if source is not None:
                    # the deposited payment leaves its account at the rate it came in at
                    account = _ref(source.get("DepositToAccountRef")) or UNDEPOSITED_FUNDS
                    rate = rate_of(txn_type, txn_id) if rate_of else None
                    home = None if rate is None else -amount * rate
                    break
        out.append(Entry(account or UNDEPOSITED_FUNDS, -amount, home))
    return out


def _purchase(entity: Mapping[str, Any], total: Decimal, tables: Tables) -> list[Entry]:
    sign = -1 if entity.get("Credit") is True else 1  # a card credit (refund) runs the other way
    out = [Entry(_ref(entity.get("AccountRef")) or "", -sign * total)]
    for line in entity.get("Line") or []:
        amount = to_amount(line.get("Amount"))
        if line.get("DetailType") == "ItemBasedExpenseLineDetail":
            item = tables["item"].get(_ref((line.get("ItemBasedExpenseLineDetail") or {}).get("ItemRef")) or "")
            account = _ref(item.get("ExpenseAccountRef")) if item else None
            if account is None:
                raise faults.business("The item on an expense line has no expense account "
                                      "(ExpenseAccountRef) to post the purchase to",
                                      "Line.ItemBasedExpenseLineDetail.ItemRef")
        else:
            account = _ref((line.get("AccountBasedExpenseLineDetail") or {}).get("AccountRef")) or ""
        out.append(Entry(account, sign * amount))
    return out


__all__ = ["Entry", "RECEIVABLE", "UNDEPOSITED_FUNDS", "entries"]
