"""QBO's rules about money that a write must pass before it posts: currencies, exchange
rates, the closed books date, and the business rules of transfers and expenses.

Each check raises the :class:`~.faults.QboFault` QBO answers with; they run after the
checks of :func:`.company_checks.check_write` (XSD, required fields, references).
The company's settings are its Preferences entity (:func:`.entities.preferences`):
``CurrencyPrefs.MultiCurrencyEnabled``, ``CurrencyPrefs.HomeCurrency`` and
``AccountingInfoPrefs.BookCloseDate``.

Currency rules (Intuit's multicurrency guide, developer.intuit.com/app/developer/qbo/docs/
workflows/manage-multiple-currencies, and QuickBooks' own product rules):

- without multicurrency every transaction, account and customer is in the home currency;
  another ``CurrencyRef`` is refused (6000; wording the sandbox's);
- a transaction without ``CurrencyRef`` is in its customer's (or vendor's) currency, else
  the home currency; one naming a customer in another currency is refused (6000: a
  customer trades in one currency);
- a transaction in a foreign currency needs ``ExchangeRate`` (home units per foreign
  unit, above zero; 0 is no rate: python-quickbooks sends 0 for every rate not set, and
  QBO accepts its transactions). QBO would take its own rate of the day when none is sent; the
  sandbox has no rate table and refuses (2020), on purpose, so a client that forgets the
  rate is caught. A home-currency transaction's rate, if sent, must be 1 (6000);
- income, expense and equity accounts are in the home currency only (a foreign
  ``CurrencyRef`` on them is refused, 6000); the currency of each account a transaction
  posts to is checked by the ledger (:mod:`.ledger`).

The closed books date: a transaction dated on or before ``BookCloseDate``, or an update,
void or delete of one, is refused with Message "Account Period Closed, Cannot Update
Through Services API" and code 6200. Code 6200 "Account Period Closed Error" is Intuit's
error-code table as mirrored by integrators' code; the Detail's words are those
integrators quote from QBO's answers ("The account period has closed and the account
books cannot be updated through the QBO Services API. Please use the QBO website to make
these changes."). A recorded answer quoted in python-quickbooks issue 208 shows code 5010
with "Account Period Closed": which code QBO sends today is UNVERIFIED.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from . import faults
from .entities import BALANCE_SHEET, CLASSIFICATION, KINDS, Kind, currency_ref, seed
from .ledger import currency_of
from .rules import to_amount

Tables = Mapping[str, Mapping[str, Mapping[str, Any]]]

CLOSED_MESSAGE = "Account Period Closed, Cannot Update Through Services API"
CLOSED_DETAIL = ("The account period has closed and the account books cannot be updated "
                 "through the QBO Services API. Please use the QBO website to make these changes.")
#: which account types each Purchase PaymentType may be paid from (the QBO form's choices)
PAID_FROM = {"Cash": ("Bank", "Credit Card", "Other Current Asset"), "Check": ("Bank",),
             "CreditCard": ("Credit Card",)}


def settings(tables: Tables) -> tuple[str, bool, str | None]:
    """(home currency, multicurrency enabled, BookCloseDate or None) of the company."""
    prefs = tables["preferences"]["1"]
    currency = prefs["CurrencyPrefs"]
    close = prefs["AccountingInfoPrefs"].get("BookCloseDate")
    return currency["HomeCurrency"]["value"], currency["MultiCurrencyEnabled"] is True, close or None


def closed(detail: str = "") -> faults.QboFault:
    return faults.validation(CLOSED_MESSAGE, "6200", CLOSED_DETAIL + (f" ({detail})" if detail else ""),
                             "TxnDate")


def check_open(tables: Tables, *dates: Any) -> None:
    """Every date given (a new TxnDate, the one an update or delete changes) is after the
    books' close date."""
    _, _, close = settings(tables)
    for date in dates:
        if close and isinstance(date, str) and date and date[:10] <= close:
            raise closed(f"TxnDate {date[:10]} is on or before the closing date {close}")


def _not_multicurrency(code: str, home: str, element: str) -> faults.QboFault:
    return faults.business(f"Multicurrency is not turned on for this company: {code} cannot be "
                           f"used, only the home currency {home}", element)


def _used(tables: Tables, key: str, entity_id: str) -> bool:
    """Whether a transaction names the account (``key`` "account") or customer."""
    def refers(value: Any) -> bool:
        if isinstance(value, Mapping):
            return any((k.endswith("AccountRef") if key == "account" else k == "CustomerRef")
                       and isinstance(v, Mapping) and str(v.get("value")) == entity_id
                       or refers(v) for k, v in value.items())
        return isinstance(value, list) and any(refers(item) for item in value)
    return any(refers(row) for name in ("invoice", "payment", "creditmemo", "refundreceipt",
                                        "deposit", "salesreceipt", "purchase", "transfer",
                                        "journalentry")
               for row in tables[name].values()) or (key == "vendor" and any(
                   isinstance(row.get("EntityRef"), Mapping) and str(row["EntityRef"].get("value")) == entity_id
                   for row in tables["purchase"].values()))


def check_list_currency(kind: Kind, body: dict[str, Any], tables: Tables,
                        existing: Mapping[str, Any] | None = None) -> None:
    """An Account or Customer in a foreign currency needs multicurrency; an income,
    expense or equity account is in the home currency; the currency of one a transaction
    uses cannot change (QBO fixes it then; whether QBO lets it change before is
    UNVERIFIED: the sandbox lets it)."""
    if kind.name not in ("Account", "Customer", "Vendor") or not isinstance(body.get("CurrencyRef"), Mapping):
        return
    home, multi, _ = settings(tables)
    code = currency_of(body, home)
    if existing is not None and currency_of(existing, home) != code and _used(
            tables, kind.name.lower(), str(existing["Id"])):
        raise faults.business(f"The currency of {kind.name} {existing.get('DisplayName') or existing.get('Name')!r} "
                              f"cannot change: it has transactions", "CurrencyRef")
    if code == home:
        return
    if not multi:
        raise _not_multicurrency(code, home, "CurrencyRef")
    if kind.name == "Account" and CLASSIFICATION.get(body.get("AccountType")) not in (None, *BALANCE_SHEET[:2]):
        raise faults.business(f"A {body.get('AccountType')} account is kept in the home currency "
                              f"{home}; only balance sheet accounts may be in {code}", "CurrencyRef")
    body["CurrencyRef"] = currency_ref(code)


def prepare_transaction(kind: Kind, body: dict[str, Any], tables: Tables, *, strict: bool = True) -> None:
    """Settle the currency and rate of transaction ``body`` (filled in as QBO fills them)
    or refuse it; then the business rules of its type. ``strict=False`` (the sandbox's
    ``currency_rules="off"``) skips the multicurrency and customer-currency rules: any
    transaction may be in any currency, with its rate."""
    home, multi, _ = settings(tables)
    party = None
    for key, table in (("CustomerRef", "customer"), ("VendorRef", "vendor")):
        ref = body.get(key)
        if isinstance(ref, Mapping):
            party = tables[table].get(str(ref.get("value")))
    entity_ref = body.get("EntityRef")
    if party is None and isinstance(entity_ref, Mapping):
        table = str(entity_ref.get("type") or "Vendor").lower()
        party = tables.get(table, {}).get(str(entity_ref.get("value")))
    sent = body.get("CurrencyRef")
    code = (currency_of(body, home) if isinstance(sent, Mapping) and sent.get("value")
            else currency_of(party, home) if party is not None else home)
    if code != home and not multi and strict:
        raise _not_multicurrency(code, home, "CurrencyRef")
    if party is not None and currency_of(party, home) != code and strict:
        name = party.get("DisplayName") or party.get("Name")
        raise faults.business(f"The transaction is in {code} but {name} trades in "
                              f"{currency_of(party, home)}: a customer's or vendor's "
                              f"transactions are in its own currency", "CurrencyRef")
    rate = body.get("ExchangeRate")
    if rate is not None and to_amount(rate) == 0:
        rate = None  # python-quickbooks sends 0 for every rate not set, and QBO takes it so
    if code != home:
        if rate is None:
            raise faults.required("ExchangeRate")
        if to_amount(rate) <= 0:
            raise faults.business(f"ExchangeRate {rate} must be above zero", "ExchangeRate")
        body["ExchangeRate"] = to_amount(rate)
    elif rate is not None and to_amount(rate) != 1:
        raise faults.business(f"ExchangeRate {rate} given for a transaction in the home currency "
                              f"{home}; it is always 1", "ExchangeRate")
    body["CurrencyRef"] = currency_ref(code)
    if multi or code != home:
        body["ExchangeRate"] = to_amount(body.get("ExchangeRate") or 1)
    if kind.name == "Transfer":
        check_transfer(body, tables)
    elif kind.name == "Purchase":
        check_purchase(body, tables)
    elif kind.name == "Deposit":
        check_deposit(body)


def _account(tables: Tables, ref: Any) -> Mapping[str, Any]:
    return tables["account"].get(str(ref.get("value")) if isinstance(ref, Mapping) else "") or {}


def check_transfer(body: Mapping[str, Any], tables: Tables) -> None:
    """A transfer moves an amount above zero between two different balance sheet accounts
    (QBO's transfer form offers only those; the API's wording is the sandbox's)."""
    if to_amount(body.get("Amount")) <= 0:
        raise faults.business(f"Transfer Amount {body.get('Amount')} must be greater than zero",
                               "Amount")
    source, target = _account(tables, body.get("FromAccountRef")), _account(tables, body.get("ToAccountRef"))
    if source.get("Id") == target.get("Id"):
        raise faults.business("A transfer needs two different accounts: FromAccountRef and "
                              "ToAccountRef are the same", "ToAccountRef")
    for element, account in (("FromAccountRef", source), ("ToAccountRef", target)):
        if account.get("Classification") not in BALANCE_SHEET:
            raise faults.business(f"{account.get('Name')!r} is a {account.get('AccountType')} "
                                  f"account; a transfer moves money between balance sheet "
                                  f"accounts only", element)


def check_deposit(body: Mapping[str, Any]) -> None:
    """A deposit's total is not negative: QBO refuses a negative deposit, so money out of a
    bank (a negative payout) is a transfer or a journal entry (help.gazelleapp.io/en/
    articles/5634944, an integrator's account; QBO's wording is UNVERIFIED)."""
    total = sum((to_amount(line.get("Amount")) for line in body.get("Line") or []), Decimal(0))
    if total < 0:
        raise faults.business(f"A deposit's total cannot be negative ({total}); record money "
                              f"leaving the account as a transfer or a journal entry", "Line.Amount")


def check_purchase(body: Mapping[str, Any], tables: Tables) -> None:
    """An expense is paid from a bank (Cash, Check) or credit card (CreditCard) account, and
    its lines are expense lines with an account or an item."""
    payment_type = body.get("PaymentType")
    paid_from = _account(tables, body.get("AccountRef"))
    allowed = PAID_FROM.get(str(payment_type), ())
    if paid_from.get("AccountType") not in allowed:
        raise faults.business(f"A {payment_type} expense is paid from a {' or '.join(allowed) or 'bank'} "
                              f"account; {paid_from.get('Name')!r} is a "
                              f"{paid_from.get('AccountType')} account", "AccountRef")
    for line in body.get("Line") or []:
        detail_type = line.get("DetailType")
        if detail_type not in ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail"):
            raise faults.validation(
                "Request has invalid or unsupported property", "2010",
                f"Property Name:Line.DetailType {detail_type} specified is unsupported or invalid; "
                f"an expense line is an AccountBasedExpenseLineDetail or an "
                f"ItemBasedExpenseLineDetail", "Line.DetailType")
        key = "AccountRef" if detail_type == "AccountBasedExpenseLineDetail" else "ItemRef"
        if not (line.get(detail_type) or {}).get(key):
            raise faults.required(f"Line.{detail_type}.{key}")
        if to_amount(line.get("Amount")) < Decimal(0):
            raise faults.business("An expense line's Amount cannot be negative", "Line.Amount")


def set_preferences(company: Any, *, multicurrency: bool | None = None, book_close_date: Any = ...,
                    home_currency: str | None = None) -> dict[str, Any]:
    """Set the home currency (only while the company has no transaction: every list
    entity in the old one moves to it), turn multicurrency on (it cannot be turned off,
    as in QBO), set or clear the closed books date; returns the Preferences entity."""
    prefs = company.tables["preferences"]["1"]
    old = company.ledger.home
    if home_currency is not None and home_currency != old:
        if any(company.tables[name] for name, kind in KINDS.items() if kind.transaction):
            raise ValueError("the home currency cannot change once the company has transactions")
        for table in ("account", "customer", "vendor"):
            for row in company.tables[table].values():
                if currency_of(row, old) == old:
                    row["CurrencyRef"] = currency_ref(home_currency)
        company.ledger.home = home_currency
        prefs["CurrencyPrefs"]["HomeCurrency"] = {"value": home_currency}
    if multicurrency is not None:
        if not multicurrency and prefs["CurrencyPrefs"]["MultiCurrencyEnabled"]:
            raise ValueError("multicurrency cannot be turned off once on (as in QuickBooks)")
        if multicurrency and not prefs["CurrencyPrefs"]["MultiCurrencyEnabled"]:
            prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] = True
            for row in seed(company.ledger.home, True)["account"]:
                if row["Id"] not in company.tables["account"]:
                    row.update({"domain": "QBO", "sparse": False, "SyncToken": "0",
                                "MetaData": {"CreateTime": company._now, "LastUpdatedTime": company._now}})
                    company._store("account", row, None)
    if book_close_date is not ...:
        if book_close_date:
            prefs["AccountingInfoPrefs"]["BookCloseDate"] = str(book_close_date)
        else:
            prefs["AccountingInfoPrefs"].pop("BookCloseDate", None)
    prefs["SyncToken"] = str(int(prefs["SyncToken"]) + 1)
    return prefs


__all__ = ["CLOSED_DETAIL", "CLOSED_MESSAGE", "check_deposit", "check_list_currency", "check_open",
           "check_purchase", "check_transfer", "closed", "currency_of", "prepare_transaction",
           "set_preferences", "settings"]
