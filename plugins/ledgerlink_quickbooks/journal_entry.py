"""``quickbooks.create_journal_entry``: a balanced journal entry, exact to the last digit.

The input is integrator-friendly (see ``schemas/create_journal_entry.input.json``): either
``Lines`` of ``{PostingType, Amount, AccountRef, …}`` or the two-line shorthand ``Amount`` +
``DebitAccount`` + ``CreditAccount``. :func:`build_body` turns it into a QBO ``JournalEntry``
(VENDOR-FACTS §3.9) with every amount a ``Decimal``, and refuses an entry whose debits and
credits differ before any request exists. :func:`perform` describes the one request —
``POST {base_url}/v3/company/{realm_id}/journalentry?minorversion=…&requestid=<key>``
(the minor version is pinned in :data:`ledgerlink_quickbooks.api.MINORVERSION`) —
and reads QBO's answer; it never does I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Generator, Mapping
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from importlib import resources
from typing import Any

import babel.numbers

from ledgerlink import jsonio
from ledgerlink.catalog import Action, ActionContext, Request, Response
from ledgerlink.errors import InputError, UnbalancedEntryError, VendorError

from .common import quote
from .api import MAX_REQUEST_ID, classify, deleter, entity_url, params

NAME = "quickbooks.create_journal_entry"

_PLAIN_DECIMAL = re.compile(r"^\s*[0-9]+(\.[0-9]+)?\s*$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_ENTITY_TYPES = ("Customer", "Vendor", "Employee")
_POSTING_TYPES = ("Debit", "Credit")
_COMMON = ("TxnDate", "DocNumber", "PrivateNote", "CurrencyRef", "ExchangeRate")
_SHORTHAND = ("Amount", "DebitAccount", "CreditAccount", "Description", "DebitEntity", "CreditEntity")
_LINE_KEYS = ("PostingType", "Amount", "AccountRef", "Description", "Entity", "ClassRef", "DepartmentRef")
MAX_DOC_NUMBER = 21
MAX_TEXT = 4000


def _load(relative: str) -> Any:
    """A JSON file shipped in this package, numbers read as Decimal."""
    return jsonio.loads((resources.files(__package__) / relative).read_text("utf-8"))


INPUT_SCHEMA = _load("schemas/create_journal_entry.input.json")
OUTPUT_SCHEMA = _load("schemas/create_journal_entry.output.json")
SAMPLE = _load("samples/create_journal_entry.input.json")
SAMPLE_RESPONSE = _load("samples/create_journal_entry.response.json")


# --- reading the input ----------------------------------------------------------------

def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "the boolean " + str(value).lower()
    if value is None:
        return "null"
    return f"{type(value).__name__} {value!r}"


class _Problems:
    """Collects every input problem so the integrator sees them all at once."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(f"{NAME}: the input cannot become a QuickBooks journal entry: "
                             + "; ".join(self.items), problems=list(self.items))


def _positive(value: Any, where: str, what: str, problems: _Problems) -> Decimal | None:
    """An exact positive Decimal from a Decimal, an int or a plain decimal string."""
    if isinstance(value, bool) or value is None:
        problems.add(where, f"{what} must be a positive decimal such as \"12.50\", got {_show(value)}")
        return None
    if isinstance(value, float):
        problems.add(where, f"{what} is the float {value!r}; floats lose cents, so pass a Decimal "
                            f"or a decimal string such as \"12.50\" (a recipe's \"$as\": \"decimal\" "
                            f"or \"money\" gives one)")
        return None
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            problems.add(where, f"{what} {value!r} is not a number; write a decimal such as \"12.50\"")
            return None
        if amount.is_finite() and amount > 0 and not _PLAIN_DECIMAL.match(value):
            problems.add(where, f"{what} {value!r} must be written as a plain decimal such as "
                                f"\"1250.00\" (digits and one point, no sign or exponent)")
            return None
    else:
        problems.add(where, f"{what} must be a positive decimal such as \"12.50\", got {_show(value)}")
        return None
    if not amount.is_finite():
        problems.add(where, f"{what} {value!r} is not a finite number; give a positive decimal")
        return None
    if amount <= 0:
        problems.add(where, f"{what} must be greater than 0, got {amount}; QuickBooks journal "
                            f"lines carry positive amounts and PostingType says Debit or Credit")
        return None
    if amount.as_tuple().exponent > 0:  # Decimal("1E+3"): send 1000, not an exponent
        amount = amount.quantize(Decimal(1))
    return amount


def _text(value: Any, where: str, what: str, limit: int, problems: _Problems) -> str | None:
    if not isinstance(value, str):
        problems.add(where, f"{what} must be a string, got {_show(value)}")
        return None
    if len(value) > limit:
        problems.add(where, f"{what} is {len(value)} characters long; QuickBooks keeps at most "
                            f"{limit}, so shorten it")
        return None
    return value


def _ref(value: Any, where: str, what: str, problems: _Problems) -> dict[str, str] | None:
    """QBO's ``{"value": id, "name"?: name}`` from an id string or that object."""
    if isinstance(value, str):
        if not value.strip():
            problems.add(where, f"{what} is empty; give the QuickBooks Id, e.g. \"84\"")
            return None
        return {"value": value}
    if isinstance(value, Mapping):
        extra = sorted(set(value) - {"value", "name"})
        if extra:
            problems.add(where, f"{what} has unknown key(s) {', '.join(map(repr, extra))}; a "
                                f"reference is {{\"value\": Id, \"name\": display name}}")
            return None
        ref_value = value.get("value")
        if not isinstance(ref_value, str) or not ref_value.strip():
            problems.add(where, f"{what}.value must be the QuickBooks Id as a non-empty string, "
                                f"e.g. \"84\", got {_show(ref_value)}")
            return None
        out = {"value": ref_value}
        if "name" in value:
            if not isinstance(value["name"], str):
                problems.add(where, f"{what}.name must be a string, got {_show(value['name'])}")
                return None
            out["name"] = value["name"]
        return out
    problems.add(where, f"{what} must be a QuickBooks Id string such as \"84\" or "
                        f"{{\"value\": \"84\", \"name\": \"…\"}}, got {_show(value)}")
    return None


def _entity(value: Any, where: str, problems: _Problems) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        problems.add(where, f"the entity must be {{\"Type\": \"Customer\", \"EntityRef\": \"1\"}}, "
                            f"got {_show(value)}")
        return None
    extra = sorted(set(value) - {"Type", "EntityRef"})
    if extra:
        problems.add(where, f"the entity has unknown key(s) {', '.join(map(repr, extra))}; "
                            f"give Type and EntityRef")
        return None
    kind = value.get("Type")
    if kind not in _ENTITY_TYPES:
        problems.add(f"{where}/Type", f"must be one of {', '.join(_ENTITY_TYPES)}, got {_show(kind)}")
        return None
    ref = _ref(value.get("EntityRef"), f"{where}/EntityRef", "EntityRef", problems)
    if ref is None:
        return None
    return {"Type": kind, "EntityRef": ref}


def _line(posting: Any, amount: Any, account: Any, *, where: str, amount_at: str,
          account_at: str, description: Any = None, description_at: str = "",
          entity: Any = None, entity_at: str = "", class_ref: Any = None,
          department_ref: Any = None, problems: _Problems) -> tuple[str, Decimal, dict] | None:
    """One QBO ``Line`` with its posting type and amount, or None after recording problems."""
    count = len(problems.items)
    if posting not in _POSTING_TYPES:
        problems.add(f"{where}/PostingType", f"must be \"Debit\" or \"Credit\", got {_show(posting)}")
    value = _positive(amount, amount_at, "the amount", problems)
    detail: dict[str, Any] = {"PostingType": posting}
    if entity is not None:
        detail["Entity"] = _entity(entity, entity_at, problems)
    detail["AccountRef"] = _ref(account, account_at, "the account", problems)
    if class_ref is not None:
        detail["ClassRef"] = _ref(class_ref, f"{where}/ClassRef", "ClassRef", problems)
    if department_ref is not None:
        detail["DepartmentRef"] = _ref(department_ref, f"{where}/DepartmentRef", "DepartmentRef",
                                       problems)
    line: dict[str, Any] = {}
    if description is not None:
        line["Description"] = _text(description, description_at, "Description", MAX_TEXT, problems)
    if len(problems.items) > count or value is None:
        return None
    line.update({"Amount": value, "DetailType": "JournalEntryLineDetail",
                 "JournalEntryLineDetail": detail})
    return posting, value, line


def _lines_form(lines: Any, problems: _Problems) -> list[tuple[str, Decimal, dict]]:
    if not isinstance(lines, (list, tuple)):
        problems.add("/Lines", f"must be an array of lines, got {_show(lines)}")
        return []
    if len(lines) < 2:
        problems.add("/Lines", f"holds {len(lines)} line(s); a journal entry needs at least one "
                               f"Debit and one Credit line")
    out = []
    for index, raw in enumerate(lines):
        where = f"/Lines/{index}"
        if not isinstance(raw, Mapping):
            problems.add(where, f"line {index} must be an object with PostingType, Amount and "
                                f"AccountRef, got {_show(raw)}")
            continue
        extra = sorted(set(raw) - set(_LINE_KEYS))
        if extra:
            problems.add(where, f"line {index} has unknown key(s) {', '.join(map(repr, extra))}; "
                                f"a line takes {', '.join(_LINE_KEYS)}")
            continue
        missing = [k for k in ("PostingType", "Amount", "AccountRef") if k not in raw]
        if missing:
            problems.add(where, f"line {index} lacks {', '.join(missing)}")
            continue
        line = _line(raw["PostingType"], raw["Amount"], raw["AccountRef"], where=where,
                     amount_at=f"{where}/Amount", account_at=f"{where}/AccountRef",
                     description=raw.get("Description"), description_at=f"{where}/Description",
                     entity=raw.get("Entity"), entity_at=f"{where}/Entity",
                     class_ref=raw.get("ClassRef"), department_ref=raw.get("DepartmentRef"),
                     problems=problems)
        if line is not None:
            out.append(line)
    return out


def _shorthand_form(data: Mapping[str, Any], problems: _Problems) -> list[tuple[str, Decimal, dict]]:
    missing = [k for k in ("Amount", "DebitAccount", "CreditAccount") if k not in data]
    if missing:
        problems.add("/", f"the shorthand needs Amount, DebitAccount and CreditAccount; "
                          f"{', '.join(missing)} missing (or give Lines instead)")
        return []
    out = []
    for side, account_key, entity_key in (("Debit", "DebitAccount", "DebitEntity"),
                                          ("Credit", "CreditAccount", "CreditEntity")):
        line = _line(side, data["Amount"], data[account_key], where="", amount_at="/Amount",
                     account_at=f"/{account_key}", description=data.get("Description"),
                     description_at="/Description", entity=data.get(entity_key),
                     entity_at=f"/{entity_key}", problems=problems)
        if line is not None:
            out.append(line)
    # the same Amount and Description are read twice; report each problem once
    problems.items = list(dict.fromkeys(problems.items))
    return out


def build_body(data: Mapping[str, Any]) -> dict[str, Any]:
    """The QBO ``JournalEntry`` JSON body for a ``create_journal_entry`` input.

    Amounts become exact ``Decimal`` values (``"5.120"`` stays ``5.120``); optional fields
    that are absent are left out. Raises :class:`ledgerlink.errors.InputError` listing every
    problem (each with its JSON pointer, e.g. ``/Lines/2/Amount``), and
    :class:`ledgerlink.errors.UnbalancedEntryError` when the debits and credits differ.
    """
    problems = _Problems()
    if not isinstance(data, Mapping):
        problems.add("/", f"the input must be an object, got {_show(data)}")
        problems.raise_if_any()
    allowed = ("Lines",) + _SHORTHAND + _COMMON
    for key in sorted(set(data) - set(allowed)):
        problems.add(f"/{key}", f"unknown input {key!r}; the inputs are {', '.join(allowed)}")

    if "Lines" in data:
        mixed = [k for k in _SHORTHAND if k in data]
        if mixed:
            problems.add("/", f"{', '.join(mixed)} cannot be used together with Lines; put amounts, "
                              f"accounts, descriptions and entities on each line, or drop Lines "
                              f"and use the shorthand Amount + DebitAccount + CreditAccount")
        lines = _lines_form(data["Lines"], problems)
    elif any(k in data for k in ("Amount", "DebitAccount", "CreditAccount")):
        lines = _shorthand_form(data, problems)
    else:
        problems.add("/", "give either Lines (the entry line by line) or the shorthand Amount + "
                          "DebitAccount + CreditAccount")
        lines = []

    body: dict[str, Any] = {}
    if "TxnDate" in data:
        date = data["TxnDate"]
        if not isinstance(date, str) or not _DATE.match(date):
            problems.add("/TxnDate", f"must be a date written YYYY-MM-DD, got {_show(date)}")
        else:
            try:
                dt.date.fromisoformat(date)
                body["TxnDate"] = date
            except ValueError:
                problems.add("/TxnDate", f"{date!r} is not a calendar date")
    if "DocNumber" in data:
        doc = _text(data["DocNumber"], "/DocNumber", "DocNumber", MAX_DOC_NUMBER, problems)
        if doc == "":
            problems.add("/DocNumber", "DocNumber is empty; leave it out to let QuickBooks number the entry")
        elif doc is not None:
            body["DocNumber"] = doc
    if "PrivateNote" in data:
        note = _text(data["PrivateNote"], "/PrivateNote", "PrivateNote", MAX_TEXT, problems)
        if note is not None:
            body["PrivateNote"] = note
    currency = None
    if "CurrencyRef" in data:
        code = data["CurrencyRef"]
        if not isinstance(code, str) or not _CURRENCY.match(code):
            problems.add("/CurrencyRef", f"must be a 3-letter ISO 4217 code such as \"USD\", got {_show(code)}")
        elif not babel.numbers.is_currency(code.upper()):
            problems.add("/CurrencyRef", f"{code!r} is not an ISO 4217 currency; use a code such as "
                                         f"USD, EUR, JPY")
        else:
            currency = code.upper()
            body["CurrencyRef"] = {"value": currency}
    if "ExchangeRate" in data:
        rate = _positive(data["ExchangeRate"], "/ExchangeRate", "ExchangeRate", problems)
        if rate is not None:
            body["ExchangeRate"] = rate
    problems.raise_if_any()

    body["Line"] = [line for _, _, line in lines]
    _check_balance(lines, currency)
    return body


def _check_balance(lines: list[tuple[str, Decimal, dict]], currency: str | None) -> None:
    with localcontext() as ctx:
        ctx.prec = 1000
        ctx.traps[Inexact] = True
        try:
            debits = sum((amount for side, amount, _ in lines if side == "Debit"), Decimal(0))
            credits = sum((amount for side, amount, _ in lines if side == "Credit"), Decimal(0))
        except Inexact:
            raise InputError(f"{NAME}: the amounts have too many digits to add exactly; "
                             f"round them to the currency's decimals") from None
        difference = debits - credits
    if difference != 0:
        unit = f" {currency}" if currency else ""
        heavier = "debits exceed credits" if difference > 0 else "credits exceed debits"
        raise UnbalancedEntryError(
            f"{NAME}: the journal entry does not balance: debits total {debits}{unit}, credits "
            f"total {credits}{unit}, {heavier} by {abs(difference)}{unit}; make the Debit and "
            f"Credit lines add up to the same amount",
            debits=str(debits), credits=str(credits), difference=str(difference))


def _request_id(key: Any) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InputError(f"{NAME}: the step has no idempotency key; QuickBooks needs a requestid "
                         f"to avoid creating the entry twice")
    if len(key) > MAX_REQUEST_ID:
        raise InputError(f"{NAME}: the idempotency key is {len(key)} characters long; QuickBooks "
                         f"keeps a requestid of at most {MAX_REQUEST_ID} (use a UUID)")
    return key


# --- the answer -----------------------------------------------------------------------

def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):  # a body parsed without Decimal: its shortest repr is the JSON text
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def read_output(response: Response, body: Mapping[str, Any]) -> dict[str, Any]:
    """The step output from a successful create response (``{"JournalEntry": {...}}``).

    ``total`` is QBO's ``TotalAmt`` as a Decimal, or the entry's debit total when QBO leaves
    it out. A 2xx answer without a JournalEntry Id is a permanent :class:`VendorError`.
    """
    entry = response.json.get("JournalEntry") if isinstance(response.json, Mapping) else None
    entry_id = entry.get("Id") if isinstance(entry, Mapping) else None
    if isinstance(entry_id, int) and not isinstance(entry_id, bool):
        entry_id = str(entry_id)
    if not isinstance(entry_id, str) or not entry_id:
        raise VendorError(f"QuickBooks answered HTTP {response.status} without a JournalEntry Id; "
                          f"check in QuickBooks whether the entry was created before replaying",
                          kind="permanent", status=response.status)
    out: dict[str, Any] = {"id": entry_id, "sync_token": str(entry.get("SyncToken", "0"))}
    if isinstance(entry.get("DocNumber"), str):
        out["doc_number"] = entry["DocNumber"]
    if isinstance(entry.get("TxnDate"), str):
        out["txn_date"] = entry["TxnDate"]
    total = _decimal(entry.get("TotalAmt"))
    if total is None:
        total = sum((line["Amount"] for line in body.get("Line", [])
                     if line["JournalEntryLineDetail"]["PostingType"] == "Debit"), Decimal(0))
    out["total"] = total
    currency = entry.get("CurrencyRef")
    code = currency.get("value") if isinstance(currency, Mapping) else None
    if isinstance(code, str) and code:
        out["currency"] = code
    elif isinstance(body.get("CurrencyRef"), Mapping):
        out["currency"] = body["CurrencyRef"]["value"]
    return out


def perform(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Create the journal entry: yield one POST, receive QBO's answer, return the output.

    Everything is checked before the request is yielded: the input (``InputError``), the
    balance (``UnbalancedEntryError``), the idempotency key and the connection settings.
    ``ctx.idempotency_key`` is sent as QBO's ``requestid``, so a retried step replays the
    original answer instead of creating a twin. A fault becomes the ``VendorError`` of
    :func:`ledgerlink_quickbooks.api.classify`.
    """
    body = build_body(input)
    request_id = _request_id(ctx.idempotency_key)
    url = entity_url(ctx.connection.settings, "journalentry")
    response = yield Request(method="POST", url=url, params=params(request_id),
                             headers={"Accept": "application/json",
                                      "Content-Type": "application/json"},
                             json=body)
    error = classify(response)
    if error is not None:
        raise error
    return read_output(response, body)


def find_existing(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any] | None]:
    """Look for the entry this step would create, when an earlier attempt's answer was lost.

    QBO's query language cannot filter on ``PrivateNote``, so the entries of the same
    ``TxnDate`` (and ``DocNumber`` when the input has one) are read and the one with the
    same private note, currency and total is taken. Recipes that put the event id in the
    private note (as the examples do) make the match exact.
    """
    body = build_body(input)
    where = [f"TxnDate = {quote(body['TxnDate'])}"] if body.get("TxnDate") else []
    if body.get("DocNumber"):
        where.append(f"DocNumber = {quote(body['DocNumber'])}")
    query = "SELECT * FROM JournalEntry" + (" WHERE " + " AND ".join(where) if where else "") + " MAXRESULTS 1000"
    response = yield Request(method="GET", url=entity_url(ctx.connection.settings, "query"),
                             params={**params(None), "query": query}, headers={"Accept": "application/json"})
    error = classify(response)
    if error is not None:
        raise error
    found = (response.json or {}).get("QueryResponse", {}).get("JournalEntry", []) if isinstance(response.json, Mapping) else []
    total = sum((line["Amount"] for line in body["Line"]
                 if line["JournalEntryLineDetail"]["PostingType"] == "Debit"), Decimal(0))
    currency = (body.get("CurrencyRef") or {}).get("value")
    for entry in found:
        if entry.get("PrivateNote") != body.get("PrivateNote"):
            continue
        if currency and (entry.get("CurrencyRef") or {}).get("value") not in (None, currency):
            continue
        if _decimal(entry.get("TotalAmt")) not in (None, total):
            continue
        return read_output(Response(status=200, json={"JournalEntry": entry}), body)
    return None


#: QBO deletes journal entries (they cannot be voided); see :func:`api.deleter`
undo = deleter("JournalEntry", "journalentry")


ACTION = Action(
    name=NAME,
    summary="Create a balanced journal entry in QuickBooks Online (debits equal credits, exact decimals).",
    input_schema=INPUT_SCHEMA,
    output_schema=OUTPUT_SCHEMA,
    sample=SAMPLE,
    perform=perform,
    sample_response=SAMPLE_RESPONSE,
    status="stable",
    idempotency="key",
    find_existing=find_existing,
    undo=undo,
)
