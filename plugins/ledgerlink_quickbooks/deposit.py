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

from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink.catalog import Action, ActionContext, Request, Response

from . import common
from .api import deleter
from .common import Problems

NAME = "quickbooks.create_deposit"
WHAT = "a QuickBooks deposit"
DETAIL = "DepositLineDetail"
_SHORTHAND = ("Amount", "FromAccountRef", "Description", "Entity")
_INPUTS = ("DepositToAccountRef",) + _SHORTHAND + ("Lines", "Total", "TxnDate", "PrivateNote",
                                                     "CurrencyRef", "ExchangeRate")
_LINE_KEYS = ("Amount", "AccountRef", "Description", "Entity", "PaymentMethodRef", "CheckNum",
              "ClassRef")
_ENTITY_TYPES = ("Customer", "Vendor", "Employee")
MAX_CHECK_NUM = 21

INPUT_SCHEMA = common.load("schemas/create_deposit.input.json")
OUTPUT_SCHEMA = common.load("schemas/create_deposit.output.json")
SAMPLE = common.load("samples/create_deposit.input.json")
SAMPLE_RESPONSE = common.load("samples/create_deposit.response.json")


def _entity(value: Any, where: str, problems: Problems) -> dict[str, str] | None:
    """``{"Type": "Customer", "EntityRef": ref}`` as QBO's ``{"value", "name"?, "type": "CUSTOMER"}``."""
    if not isinstance(value, Mapping) or set(value) - {"Type", "EntityRef"}:
        problems.add(where, f"the entity must be {{\"Type\": \"Customer\", \"EntityRef\": \"1\"}}, "
                            f"got {common.show(value)}")
        return None
    kind = value.get("Type")
    if kind not in _ENTITY_TYPES:
        problems.add(f"{where}/Type", f"must be one of {', '.join(_ENTITY_TYPES)}, got "
                                      f"{common.show(kind)}")
        return None
    ref = common.ref(value.get("EntityRef"), f"{where}/EntityRef", "EntityRef", problems)
    if ref is None:
        return None
    return {**ref, "type": kind.upper()}


def _line(raw: Mapping[str, Any], where: str, code: str, *, amount_at: str, account_key: str,
          sign: str, problems: Problems) -> tuple[dict[str, Any], Decimal] | None:
    start = problems.count()
    amount = common.fit_currency(common.money(raw.get("Amount"), amount_at, "Amount", problems,
                                              sign=sign),
                                 code, amount_at, "Amount", problems)
    if amount is not None and amount == 0:
        problems.add(amount_at, "Amount is 0; leave the line out")
    detail: dict[str, Any] = {}
    if "Entity" in raw:
        detail["Entity"] = _entity(raw["Entity"], f"{where}/Entity", problems)
    detail["AccountRef"] = common.ref(raw.get(account_key), f"{where}/{account_key}",
                                      account_key, problems)
    for key in ("PaymentMethodRef", "ClassRef"):
        if key in raw:
            detail[key] = common.ref(raw[key], f"{where}/{key}", key, problems)
    if "CheckNum" in raw:
        detail["CheckNum"] = common.text(raw["CheckNum"], f"{where}/CheckNum", "CheckNum",
                                         MAX_CHECK_NUM, problems)
    line: dict[str, Any] = {}
    if "Description" in raw:
        line["Description"] = common.text(raw["Description"], f"{where}/Description",
                                          "Description", common.MAX_TEXT, problems)
    if problems.count() > start:
        return None
    line.update({"Amount": amount, "DetailType": DETAIL, DETAIL: detail})
    return line, amount


def build_body(data: Mapping[str, Any],
               home_currency: str = common.DEFAULT_HOME_CURRENCY) -> tuple[dict[str, Any], Decimal]:
    """The QBO ``Deposit`` body for an input, and its total (Σ lines).

    Raises :class:`ledgerlink.errors.InputError` listing every problem with its JSON pointer.
    """
    problems = Problems(NAME, WHAT)
    if not isinstance(data, Mapping):
        problems.add("/", f"the input must be an object, got {common.show(data)}")
        problems.raise_if_any()
    common.unknown_keys(data, _INPUTS, "", "input", problems)
    body: dict[str, Any] = {}
    code = common.currency(data, home_currency, body, problems)
    bank = None
    if "DepositToAccountRef" in data:
        bank = common.ref(data["DepositToAccountRef"], "/DepositToAccountRef",
                          "DepositToAccountRef", problems)
        if bank is not None:
            body["DepositToAccountRef"] = bank
    else:
        problems.add("/DepositToAccountRef", "missing; give the bank account the money arrives "
                                             "in (e.g. Checking)")
    common.txn_fields(data, body, problems, doc_number=False)

    read: list[tuple[dict[str, Any], Decimal]] = []
    if "Lines" in data:
        mixed = [k for k in _SHORTHAND if k in data]
        if mixed:
            problems.add("/", f"{', '.join(mixed)} cannot be used together with Lines; put "
                              f"amounts, accounts, descriptions and entities on each line, or "
                              f"drop Lines and use the shorthand Amount + FromAccountRef")
        raw_lines = data["Lines"]
        if not isinstance(raw_lines, (list, tuple)) or not raw_lines:
            problems.add("/Lines", f"must be a non-empty array of lines, got "
                                   f"{common.show(raw_lines)}")
            raw_lines = []
        for index, raw in enumerate(raw_lines):
            where = f"/Lines/{index}"
            if not isinstance(raw, Mapping):
                problems.add(where, f"line {index} must be an object with Amount and AccountRef, "
                                    f"got {common.show(raw)}")
                continue
            start = problems.count()
            common.unknown_keys(raw, _LINE_KEYS, where, "line key", problems)
            for key in ("Amount", "AccountRef"):
                if key not in raw:
                    problems.add(where, f"line {index} lacks {key}")
            if problems.count() > start:
                continue
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

    computed = common.total(amount for _, amount in read)
    if computed <= 0:
        problems.add("/Lines", f"the lines add up to {computed} {code}; a deposit must add up to "
                               f"more than 0")
    if "Total" in data:
        expected = common.fit_currency(common.money(data["Total"], "/Total", "Total", problems),
                                       code, "/Total", "Total", problems)
        if expected is not None and expected != computed:
            difference = common.minus(computed, expected)
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
            out.append((common.decimal(line.get("Amount")), common.ref_value(detail.get("AccountRef"))))
    return out


def matches(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    """Whether a stored deposit is the one ``body`` creates."""
    if common.ref_value(stored.get("DepositToAccountRef")) != body["DepositToAccountRef"]["value"]:
        return False
    if not common.same_text(stored.get("PrivateNote"), body.get("PrivateNote")):
        return False
    if not common.same_currency(stored, body, home):
        return False
    return _signature(stored.get("Line")) == _signature(body.get("Line"))


def perform(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Create the deposit: yield one POST (requestid = the step's idempotency key), receive
    QBO's answer, return the output. Input problems raise before any request."""
    body, computed = build_body(input, common.home_currency(ctx))
    return (yield from common.post(ctx, NAME, "deposit", "Deposit", body, computed))


def find_existing(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any] | None]:
    """Look the deposit this step created up (read-only): the deposits of the same date,
    matched on bank account, note, currency and lines."""
    home = common.home_currency(ctx)
    body, computed = build_body(input, home)
    where = [f"TxnDate = {common.quote(body['TxnDate'])}"] if body.get("TxnDate") else []
    found = yield from common.query(ctx, "Deposit", where)
    for stored in found:
        if matches(stored, body, home):
            return common.read_output(Response(status=200, json={"Deposit": stored}), "Deposit",
                                      body, computed)
    return None


ACTION = Action(
    name=NAME,
    summary="Record a deposit into a QuickBooks Online bank account (e.g. a Stripe payout) from "
            "a clearing or Undeposited Funds account.",
    input_schema=INPUT_SCHEMA,
    output_schema=OUTPUT_SCHEMA,
    sample=SAMPLE,
    perform=perform,
    sample_response=SAMPLE_RESPONSE,
    status="stable",
    idempotency="key",
    find_existing=find_existing,
    undo=deleter("Deposit", "deposit"),
)

__all__ = ["ACTION", "NAME", "build_body", "find_existing", "matches", "perform"]
