"""``quickbooks.create_journal_entry``: a balanced journal entry, exact to the last digit.

The input is integrator-friendly (see ``schemas/create_journal_entry.input.json``): either
``Lines`` of ``{PostingType, Amount, AccountRef, …}`` or the two-line shorthand ``Amount`` +
``DebitAccount`` + ``CreditAccount``. :func:`build_body` turns it into a QBO ``JournalEntry``
(Intuit's Finance.xsd) with every amount a ``Decimal``, and refuses an entry whose debits and
credits differ before any request exists. ``perform`` describes the one request —
``POST {base_url}/v3/company/{realm_id}/journalentry?minorversion=…&requestid=<key>``
(the minor version is pinned in :data:`ledgerlink_quickbooks.api.MINORVERSION`) —
and reads QBO's answer; it never does I/O. ``find_existing`` reads the entries of the same
``TxnDate`` (and ``DocNumber``) and takes the one with the same private note, currency and
total: recipes that put the event id in the private note (as the examples do) make the
match exact.

QuickBooks refuses a line on an Accounts Receivable account without a Customer, and one on
Accounts Payable without a Vendor (error 6000, "When you use Accounts Receivable, you must
choose a customer in the Name field."). The input names accounts by Id, so an account
reference may declare QuickBooks' type of the account, ``{"value": "84", "AccountType":
"Accounts Receivable"}`` (kept beside the Id in a recipe's lookup table; ``ledgerlink check``
confirms it against the company): a declared A/R or A/P line without that name is refused
here, before any request exists, so a dry-run shows it as the live run would meet it.

Reading money, references, text, dates and the currency is :mod:`.fields`'s; what is the
journal entry's own is its two input forms, its lines and their balance. The currency follows
the same rules as every other action (:func:`.fields.currency`): a ``CurrencyRef`` other than
the company's home currency (connection setting ``home_currency``, default USD) needs an
explicit ``ExchangeRate`` — never a silent 1:1 rate — and a home-currency rate must be 1.
Every amount is written with exactly its currency's decimals (``"5.12"`` KWD is sent as
``5.120``, ``"1500.00"`` JPY as ``1500``); one with more (12.345 USD) is refused, not rounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import Problems
from ledgerlink.errors import InputError, UnbalancedEntryError

from . import creates, fields, queries

NAME = "quickbooks.create_journal_entry"
WHAT = "a QuickBooks journal entry"
_POSTING_TYPES = ("Debit", "Credit")
_COMMON = ("TxnDate", "DocNumber", "PrivateNote", "CurrencyRef", "ExchangeRate")
_SHORTHAND = ("Amount", "DebitAccount", "CreditAccount", "Description", "DebitEntity", "CreditEntity")
_LINE_KEYS = ("PostingType", "Amount", "AccountRef", "Description", "Entity", "ClassRef", "DepartmentRef")
#: the conversions a message about a float amount names
_RECIPE_AS = ("decimal", "money")
#: the Id a message about an account shows
_ACCOUNT_EXAMPLE = "84"
#: QuickBooks' account types (``AccountTypeEnum`` in Finance.xsd), which an account
#: reference may declare as ``AccountType``
ACCOUNT_TYPES = ("Bank", "Accounts Receivable", "Other Current Asset", "Fixed Asset",
                 "Other Asset", "Accounts Payable", "Credit Card", "Other Current Liability",
                 "Long Term Liability", "Equity", "Income", "Cost of Goods Sold", "Expense",
                 "Other Income", "Other Expense", "Non-Posting")
#: account types whose lines QuickBooks refuses without an Entity of this type (error 6000)
NAME_REQUIRED = {"Accounts Receivable": "Customer", "Accounts Payable": "Vendor"}


# --- reading the input ----------------------------------------------------------------

def _amount(value: Any, where: str, problems: Problems) -> Decimal | None:
    return contract.amount(value, where, "the amount", problems, recipe_as=_RECIPE_AS,
                        why_positive="QuickBooks journal lines carry positive amounts and "
                                     "PostingType says Debit or Credit")


def _ref(value: Any, where: str, what: str, problems: Problems) -> dict[str, str] | None:
    return fields.ref(value, where, what, problems, example=_ACCOUNT_EXAMPLE)


def _account(value: Any, where: str, problems: Problems) -> tuple[dict[str, str] | None, str | None]:
    """The account reference QBO is sent, and the ``AccountType`` it declares (None: none)."""
    declared = None
    if isinstance(value, Mapping) and "AccountType" in value:
        declared = value["AccountType"]
        if declared not in ACCOUNT_TYPES:
            problems.add(f"{where}/AccountType", f"must be a QuickBooks account type "
                                                 f"({', '.join(ACCOUNT_TYPES)}), got "
                                                 f"{contract.show(declared)}")
            declared = None
        value = {k: v for k, v in value.items() if k != "AccountType"}
    return _ref(value, where, "the account", problems), declared


def _name_required(account_type: str | None, entity: dict[str, Any] | None, given: bool,
                   entity_at: str, problems: Problems) -> None:
    """A problem when a line on a declared A/R or A/P account lacks the name QBO requires."""
    needed = NAME_REQUIRED.get(account_type or "")
    if needed is None:
        return
    rule = (f"QuickBooks refuses a line on an {account_type} account (the account's declared "
            f"AccountType) without a {needed} in the line's name field")
    if not given:
        source = " (e.g. the id of a quickbooks.find_or_create_customer step)" \
            if needed == "Customer" else ""
        problems.add(entity_at, f"missing; {rule}: map {{\"Type\": \"{needed}\", \"EntityRef\": "
                                f"…}}{source}")
    elif entity is not None and entity["Type"] != needed:
        problems.add(f"{entity_at}/Type", f"is {entity['Type']}; {rule}")


def _entity(value: Any, where: str, problems: Problems) -> dict[str, Any] | None:
    read = fields.entity(value, where, problems)
    if read is None:
        return None
    kind, ref = read
    return {"Type": kind, "EntityRef": ref}


#: one read line: its posting type, its amount, the QBO ``Line`` and the pointer of its amount
Read = tuple[str, Decimal, dict, str]


def _line(posting: Any, amount: Any, account: Any, *, where: str, amount_at: str,
          account_at: str, description: Any = None, description_at: str = "",
          entity: Any = None, entity_at: str = "", class_ref: Any = None,
          department_ref: Any = None, problems: Problems) -> Read | None:
    """One QBO ``Line`` with its posting type and amount, or None after recording problems."""
    count = problems.count()
    if posting not in _POSTING_TYPES:
        problems.add(f"{where}/PostingType", f"must be \"Debit\" or \"Credit\", got "
                                             f"{contract.show(posting)}")
    value = _amount(amount, amount_at, problems)
    detail: dict[str, Any] = {"PostingType": posting}
    if entity is not None:
        detail["Entity"] = _entity(entity, entity_at, problems)
    detail["AccountRef"], account_type = _account(account, account_at, problems)
    _name_required(account_type, detail.get("Entity"), entity is not None, entity_at, problems)
    if class_ref is not None:
        detail["ClassRef"] = _ref(class_ref, f"{where}/ClassRef", "ClassRef", problems)
    if department_ref is not None:
        detail["DepartmentRef"] = _ref(department_ref, f"{where}/DepartmentRef", "DepartmentRef",
                                       problems)
    line: dict[str, Any] = {}
    if description is not None:
        line["Description"] = fields.text(description, description_at, "Description",
                                          fields.MAX_TEXT, problems)
    if problems.count() > count or value is None:
        return None
    line.update({"Amount": value, "DetailType": "JournalEntryLineDetail",
                 "JournalEntryLineDetail": detail})
    return posting, value, line, amount_at


def _lines_form(lines: Any, problems: Problems) -> list[Read]:
    if not isinstance(lines, (list, tuple)):
        problems.add("/Lines", f"must be an array of lines, got {contract.show(lines)}")
        return []
    if len(lines) < 2:
        problems.add("/Lines", f"holds {len(lines)} line(s); a journal entry needs at least one "
                               f"Debit and one Credit line")
    out = []
    for index, raw in enumerate(lines):
        where = f"/Lines/{index}"
        if not isinstance(raw, Mapping):
            problems.add(where, f"line {index} must be an object with PostingType, Amount and "
                                f"AccountRef, got {contract.show(raw)}")
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


def _shorthand_form(data: Mapping[str, Any], problems: Problems) -> list[Read]:
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
    return out  # the same Amount and Description are read twice: Problems keeps each once


def build_body(data: Mapping[str, Any],
               home_currency: str = fields.DEFAULT_HOME_CURRENCY) -> dict[str, Any]:
    """The QBO ``JournalEntry`` JSON body for a ``create_journal_entry`` input.

    Amounts become exact ``Decimal`` values with exactly the decimals of the entry's currency
    (``CurrencyRef``, else ``home_currency``); optional fields that are absent are left out.
    Raises :class:`ledgerlink.errors.InputError` listing every problem (each with its JSON
    pointer, e.g. ``/Lines/2/Amount``) — among them a foreign currency without an
    ``ExchangeRate`` and an amount with more decimals than its currency has — and
    :class:`ledgerlink.errors.UnbalancedEntryError` when the debits and credits differ.
    """
    problems = contract.begin(NAME, WHAT, data, None)
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
    fields.txn_fields(data, body, problems)
    currency = fields.currency(data, home_currency, body, problems)
    if "CurrencyRef" not in data or "CurrencyRef" in body:  # a wrong CurrencyRef has no decimals
        lines = _fit(lines, currency, problems)
    problems.raise_if_any()

    body["Line"] = [line for _, _, line, _ in lines]
    _check_balance(lines, currency)
    return body


def _fit(lines: list[Read], currency: str, problems: Problems) -> list[Read]:
    """Every line's amount written with exactly the currency's decimals; one with more is a
    problem at its pointer (QuickBooks would round it)."""
    out = []
    for posting, amount, line, amount_at in lines:
        fitted = fields.fit_currency(amount, currency, amount_at, "Amount", problems)
        if fitted is not None:
            line["Amount"] = fitted
            out.append((posting, fitted, line, amount_at))
    return out


def _debits(body: Mapping[str, Any]) -> Decimal:
    return contract.total(line["Amount"] for line in body["Line"]
                        if line["JournalEntryLineDetail"]["PostingType"] == "Debit")


def _check_balance(lines: list[Read], currency: str) -> None:
    debits = contract.exact(lambda: sum((amount for side, amount, _, _ in lines if side == "Debit"),
                                      Decimal(0)))
    credits = contract.exact(lambda: sum((amount for side, amount, _, _ in lines if side == "Credit"),
                                       Decimal(0)))
    difference = None if debits is None or credits is None else contract.exact(lambda: debits - credits)
    if difference is None:
        raise InputError(f"{NAME}: the amounts have too many digits to add exactly; "
                         f"round them to the currency's decimals")
    if difference != 0:
        unit = f" {currency}"
        heavier = "debits exceed credits" if difference > 0 else "credits exceed debits"
        raise UnbalancedEntryError(
            f"{NAME}: the journal entry does not balance: debits total {debits}{unit}, credits "
            f"total {credits}{unit}, {heavier} by {abs(difference)}{unit}; make the Debit and "
            f"Credit lines add up to the same amount",
            debits=str(debits), credits=str(credits), difference=str(difference))


def _build(data: Mapping[str, Any], home: str) -> tuple[dict[str, Any], Decimal]:
    body = build_body(data, home)
    return body, _debits(body)


def matches(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    """Whether a stored entry is the one ``body`` creates: the same private note, the same
    currency (the body's, else the home currency, when the entry says one) and the same total."""
    if stored.get("PrivateNote") != body.get("PrivateNote"):
        return False
    if not queries.same_currency(stored, body, home):
        return False
    return contract.answer_decimal(stored.get("TotalAmt")) in (None, _debits(body))


ACTION = creates.create_action(
    action=NAME, entity="JournalEntry", endpoint="journalentry", what=WHAT,
    summary="Create a balanced journal entry in QuickBooks Online (debits equal credits, exact "
            "decimals).",
    build=_build, query_keys=("TxnDate", "DocNumber"), matches=matches)
perform = ACTION.perform
find_existing = ACTION.find_existing
INPUT_SCHEMA = ACTION.input_schema
OUTPUT_SCHEMA = ACTION.output_schema
SAMPLE = ACTION.sample
SAMPLE_RESPONSE = ACTION.sample_response
#: QBO deletes journal entries (they cannot be voided); see :func:`api.deleter`
undo = ACTION.undo

__all__ = ["ACTION", "INPUT_SCHEMA", "NAME", "OUTPUT_SCHEMA", "SAMPLE", "SAMPLE_RESPONSE",
           "build_body", "find_existing", "matches", "perform", "undo"]
