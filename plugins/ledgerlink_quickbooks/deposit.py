"""``quickbooks.create_deposit``: money arriving in a bank account, e.g. a Stripe payout.

The input (``schemas/create_deposit.input.json``): ``DepositToAccountRef`` (the bank
account) and either the shorthand ``Amount`` + ``FromAccountRef`` (the whole amount moved
from one account, typically Undeposited Funds or a Stripe clearing account, so the bank
feed's payout line matches one deposit) or ``Lines`` of ``{Amount, AccountRef, …}``
(several sources; a negative line, e.g. fees to a Bank Charges account, lowers the
deposit). Every line becomes ``Line[{Amount, DetailType: "DepositLineDetail",
DepositLineDetail: {AccountRef, Entity?, …}}]``; the deposit's total must be positive and,
when the input passes ``Total`` (e.g. the payout amount), equal Σ lines exactly.

``perform`` yields one ``POST …/deposit?minorversion=…&requestid=<key>``; ``find_existing``
queries the deposits of the date and matches account, note, currency and lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import Problems

from . import account_currencies, creates, fields, queries

NAME = "quickbooks.create_deposit"
WHAT = "a QuickBooks deposit"
DETAIL = "DepositLineDetail"
_SHORTHAND = ("Amount", "FromAccountRef", "Description", "Entity")
_INPUTS = ("DepositToAccountRef",) + _SHORTHAND + ("Lines", "Total", "TxnDate", "PrivateNote",
                                                     "CurrencyRef", "ExchangeRate")
_LINE_KEYS = ("Amount", "AccountRef", "Description", "Entity", "PaymentMethodRef", "CheckNum",
              "ClassRef")
MAX_CHECK_NUM = 21


def _entity(value: Any, where: str, problems: Problems) -> dict[str, str] | None:
    """``{"Type": "Customer", "EntityRef": ref}`` as QBO's ``{"value", "name"?, "type": "CUSTOMER"}``."""
    read = fields.entity(value, where, problems)
    if read is None:
        return None
    kind, ref = read
    return {**ref, "type": kind.upper()}


def _line(raw: Mapping[str, Any], where: str, code: str, *, amount_at: str, account_key: str,
          sign: str, problems: Problems) -> tuple[dict[str, Any], Decimal] | None:
    start = problems.count()
    amount = fields.amount_in(raw.get("Amount"), code, amount_at, "Amount", problems, sign=sign)
    if amount is not None and amount == 0:
        problems.add(amount_at, "Amount is 0; leave the line out")
    detail: dict[str, Any] = {}
    if "Entity" in raw:
        detail["Entity"] = _entity(raw["Entity"], f"{where}/Entity", problems)
    detail["AccountRef"] = fields.ref(raw.get(account_key), f"{where}/{account_key}",
                                      account_key, problems)
    for key in ("PaymentMethodRef", "ClassRef"):
        if key in raw:
            detail[key] = fields.ref(raw[key], f"{where}/{key}", key, problems)
    if "CheckNum" in raw:
        detail["CheckNum"] = fields.text(raw["CheckNum"], f"{where}/CheckNum", "CheckNum",
                                         MAX_CHECK_NUM, problems)
    line: dict[str, Any] = {}
    fields.description(raw, where, line, problems)
    if problems.count() > start:
        return None
    line.update({"Amount": amount, "DetailType": DETAIL, DETAIL: detail})
    return line, amount


def build_body(data: Mapping[str, Any],
               home_currency: str = fields.DEFAULT_HOME_CURRENCY) -> tuple[dict[str, Any], Decimal]:
    """The QBO ``Deposit`` body for an input, and its total (Σ lines).

    Raises :class:`ledgerlink.errors.InputError` listing every problem with its JSON pointer.
    """
    data = account_currencies.undeclared(data, ("DepositToAccountRef", "FromAccountRef"),
                                         home_currency, WHAT, NAME)
    problems = contract.begin(NAME, WHAT, data, _INPUTS)
    body: dict[str, Any] = {}
    code = fields.currency(data, home_currency, body, problems)
    bank = fields.ref_field(data, "DepositToAccountRef", body, problems,
                            missing="give the bank account the money arrives in (e.g. Checking)")
    fields.txn_fields(data, body, problems, doc_number=False)

    read: list[tuple[dict[str, Any], Decimal]] = []
    if "Lines" in data:
        mixed = [k for k in _SHORTHAND if k in data]
        if mixed:
            problems.add("/", f"{', '.join(mixed)} cannot be used together with Lines; put "
                              f"amounts, accounts, descriptions and entities on each line, or "
                              f"drop Lines and use the shorthand Amount + FromAccountRef")
        for _, where, raw in contract.line_objects(
                data["Lines"], _LINE_KEYS, ("Amount", "AccountRef"), problems,
                array_of="lines", line_is="an object with Amount and AccountRef"):
            line = _line(raw, where, code, amount_at=f"{where}/Amount", account_key="AccountRef",
                         sign="any", problems=problems)
            if line is not None:
                read.append(line)
    elif "Amount" in data or "FromAccountRef" in data:
        for key in ("Amount", "FromAccountRef"):
            if key not in data:
                problems.add(f"/{key}", "missing; the shorthand needs Amount and FromAccountRef "
                                        "(or give Lines instead)")
        if "Amount" in data and "FromAccountRef" in data:
            line = _line(data, "", code, amount_at="/Amount", account_key="FromAccountRef",
                         sign="positive", problems=problems)
            if line is not None:
                read.append(line)
    else:
        problems.add("/", "give either the shorthand Amount + FromAccountRef (the account the "
                          "money comes from, e.g. Undeposited Funds) or Lines")
    if bank is not None:
        for index, (line, _) in enumerate(read):
            if line[DETAIL]["AccountRef"]["value"] == bank["value"]:
                where = f"/Lines/{index}/AccountRef" if "Lines" in data else "/FromAccountRef"
                problems.add(where, f"the money would come from account {bank['value']}, the "
                                    f"account it is deposited to; name the account it comes from "
                                    f"(e.g. Undeposited Funds)")
    problems.raise_if_any()

    computed = contract.total(amount for _, amount in read)
    if computed <= 0:
        problems.add("/Lines", f"the lines add up to {computed} {code}; a deposit must add up to "
                               f"more than 0")
    if "Total" in data:
        expected = fields.amount_in(data["Total"], code, "/Total", "Total", problems)
        if expected is not None and expected != computed:
            difference = contract.minus(computed, expected)
            problems.add("/Total", f"the lines add up to {computed} {code}, but Total is "
                                   f"{expected} {code}: the lines are {difference.copy_abs()} {code} "
                                   f"{'over' if difference > 0 else 'short'}")
    problems.raise_if_any()
    body["Line"] = [line for line, _ in read]
    return body, computed


def _signature(lines: Any) -> list[tuple[Decimal | None, str | None]]:
    out = []
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, Mapping) and line.get("DetailType") == DETAIL:
            detail = line.get(DETAIL) if isinstance(line.get(DETAIL), Mapping) else {}
            out.append((contract.answer_decimal(line.get("Amount")), fields.ref_value(detail.get("AccountRef"))))
    return out


def matches(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    """Whether a stored deposit is the one ``body`` creates."""
    return queries.same_fields(stored, body, home, refs=("DepositToAccountRef",)) and \
        _signature(stored.get("Line")) == _signature(body.get("Line"))


ACTION = creates.create_action(
    action=NAME, entity="Deposit", endpoint="deposit", what=WHAT,
    summary="Record a deposit into a QuickBooks Online bank account (e.g. a Stripe payout) from "
            "a clearing or Undeposited Funds account.",
    build=build_body, query_keys=("TxnDate",), matches=matches)
perform = ACTION.perform
find_existing = ACTION.find_existing

__all__ = ["ACTION", "NAME", "build_body", "find_existing", "matches", "perform"]
