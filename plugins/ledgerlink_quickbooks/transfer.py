"""``quickbooks.create_transfer``: money moved between two of the company's own accounts.

The booking of a Stripe payout through a clearing account: the payout's amount moves from
the clearing account ("Stripe USD", a bank-type account) to the bank account it reached, so
the clearing account falls back to Stripe's balance and the bank feed's payout line matches
one transfer. A negative payout (Stripe debiting the bank) moves the other way: the input's
``Amount`` may be negative, and the transfer is then sent with the accounts swapped and the
amount positive, as QuickBooks keeps it. A failed payout is the transfer undone (its undo
deletes it) or a transfer back.

The input (``schemas/create_transfer.input.json``): ``FromAccountRef``, ``ToAccountRef``,
``Amount``, ``TxnDate``, ``PrivateNote`` and, when an account is in a foreign currency,
``CurrencyRef`` with ``ExchangeRate``. An account reference may declare its currency
(:mod:`.account_currencies`); a declared account in a third currency is refused before any
request. The body is QBO's ``Transfer`` (Finance.xsd): ``FromAccountRef``, ``ToAccountRef``,
``Amount`` and the transaction's date, note, currency and rate
(https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/transfer).

``perform`` yields one ``POST …/transfer?minorversion=…&requestid=<key>``; ``find_existing``
queries the transfers of the date and matches accounts, amount, note and currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import contract

from . import account_currencies, creates, fields, queries

NAME = "quickbooks.create_transfer"
WHAT = "a QuickBooks transfer"
_INPUTS = ("FromAccountRef", "ToAccountRef", "Amount", "TxnDate", "PrivateNote", "CurrencyRef",
           "ExchangeRate")


def build_body(data: Mapping[str, Any],
               home_currency: str = fields.DEFAULT_HOME_CURRENCY) -> tuple[dict[str, Any], Decimal]:
    """The QBO ``Transfer`` body for an input, and its amount.

    Raises :class:`ledgerlink.errors.InputError` listing every problem with its JSON pointer.
    """
    problems = contract.begin(NAME, WHAT, data, _INPUTS)
    body: dict[str, Any] = {}
    code = fields.currency(data, home_currency, body, problems)
    accounts: dict[str, tuple[dict[str, str] | None, str | None]] = {}
    for key, role in (("FromAccountRef", "the account the money leaves (e.g. the Stripe "
                                         "clearing account)"),
                      ("ToAccountRef", "the account the money reaches (e.g. the bank account)")):
        if key in data:
            accounts[key] = account_currencies.account_ref(data[key], f"/{key}", key, problems)
        else:
            problems.add(f"/{key}", f"missing; give {role}")
    amount = None
    if "Amount" in data:
        amount = fields.amount_in(data["Amount"], code, "/Amount", "Amount", problems, sign="any")
        if amount is not None and amount == 0:
            problems.add("/Amount", "Amount is 0; there is nothing to transfer (a payout of 0 "
                                    "needs no entry)")
    else:
        problems.add("/Amount", "missing; give the amount moved, e.g. the Stripe payout's amount "
                                "through \"$as\": \"stripe.money\"")
    fields.txn_fields(data, body, problems, doc_number=False)

    source = accounts.get("FromAccountRef", (None, None))
    target = accounts.get("ToAccountRef", (None, None))
    if source[0] is not None and target[0] is not None and source[0]["value"] == target[0]["value"]:
        problems.add("/ToAccountRef", f"the money would move from account {source[0]['value']} to "
                                      f"itself; name two different accounts")
    declared = [(f"/{key}", accounts[key][1]) for key in accounts]
    account_currencies.third_currency(declared, code, home_currency, WHAT, problems)
    if code != home_currency and declared and all(currency == home_currency for _, currency in declared):
        problems.add("/CurrencyRef", f"CurrencyRef is {code}, but both accounts are in "
                                     f"{home_currency}; leave CurrencyRef out")
    problems.raise_if_any()

    if amount < 0:  # the money moves the other way: QuickBooks keeps a positive amount
        source, target, amount = target, source, -amount
    body["FromAccountRef"] = source[0]
    body["ToAccountRef"] = target[0]
    body["Amount"] = amount
    return body, amount


def matches(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    """Whether a stored transfer is the one ``body`` creates."""
    return contract.answer_decimal(stored.get("Amount")) == body["Amount"] and \
        queries.same_fields(stored, body, home, refs=("FromAccountRef", "ToAccountRef"))


ACTION = creates.create_action(
    action=NAME, entity="Transfer", endpoint="transfer", what=WHAT,
    summary="Move money between two QuickBooks Online accounts (e.g. a Stripe payout from the "
            "clearing account to the bank; a negative amount moves it back).",
    build=build_body, query_keys=("TxnDate",), matches=matches)
perform = ACTION.perform
find_existing = ACTION.find_existing

__all__ = ["ACTION", "NAME", "build_body", "find_existing", "matches", "perform"]
