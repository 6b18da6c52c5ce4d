"""Reading a step's input as QuickBooks keeps it: amounts, text, currency, references.

Journal entries, the sales forms (invoice, credit memo, refund receipt), payments, deposits,
items and the update actions read their input with these; nothing here performs I/O. The
generic rules are the host's (:mod:`ledgerlink.contract`): an input's problems are collected
in a :class:`~ledgerlink.contract.Problems`, amounts are exact
(:func:`ledgerlink.contract.amount`) and fitted to their currency, a foreign currency needs
an explicit rate (:func:`ledgerlink.contract.foreign_currency`). Here they meet QuickBooks:

- amounts and text as QuickBooks keeps them (:func:`amount_in`, :func:`fit_currency`,
  :func:`text` with QBO's length limits);
- currency (:func:`currency`): ``CurrencyRef`` (:func:`currency_ref`) against the
  connection's ``home_currency`` (:func:`home_currency`); a foreign currency needs an
  explicit ``ExchangeRate`` (:func:`exchange_rate`);
- references (:func:`ref`, :func:`ref_field`, :func:`entity`, and :func:`ref_value` to read
  one back) and the fields most transactions have (:func:`txn_fields`, :func:`description`,
  :func:`payment_fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import ActionContext, Problems, Sign, show
from ledgerlink.errors import ConfigError

#: QBO keeps at most this many characters of a DocNumber or PaymentRefNum
MAX_DOC_NUMBER = 21
#: … of a PrivateNote or a line Description
MAX_TEXT = 4000
#: … of a CustomerMemo
MAX_MEMO = 1000
#: the home currency when the connection names none (setting ``home_currency``)
DEFAULT_HOME_CURRENCY = "USD"
#: who rounds or cuts what it keeps, in messages
LEDGER = "QuickBooks"


# --- amounts and text as QuickBooks keeps them ---------------------------------------------------

def fit_currency(amount: Decimal | None, currency: str, where: str, what: str,
                 problems: Problems) -> Decimal | None:
    """:func:`ledgerlink.contract.fit_currency`: QuickBooks would round excess decimals."""
    return contract.fit_currency(amount, currency, where, what, problems, ledger=LEDGER)


def amount_in(value: Any, code: str, where: str, what: str, problems: Problems, *,
              sign: Sign = "positive") -> Decimal | None:
    """:func:`ledgerlink.contract.amount` fitted to the currency ``code``."""
    return contract.amount_in(value, code, where, what, problems, ledger=LEDGER, sign=sign)


def text(value: Any, where: str, what: str, limit: int, problems: Problems) -> str | None:
    """:func:`ledgerlink.contract.text`: a string QuickBooks keeps (at most ``limit``)."""
    return contract.text(value, where, what, limit, problems, keeper=LEDGER)


# --- currency --------------------------------------------------------------------------------

def home_currency(ctx: ActionContext | None) -> str:
    """The connection's ``home_currency`` setting (default USD), checked."""
    settings = ctx.connection.settings if ctx is not None else {}
    code = settings.get("home_currency") if isinstance(settings, Mapping) else None
    if code is None or code == "":
        return DEFAULT_HOME_CURRENCY
    if not contract.is_currency(code):
        raise ConfigError(f"QuickBooks setting home_currency must be the company's home currency "
                          f"as an ISO 4217 code such as \"USD\", \"GBP\" or \"CAD\" (QuickBooks: "
                          f"Settings > Account and settings > Advanced > Currency), got {code!r}")
    return code.upper()


def currency_ref(data: Mapping[str, Any], body: dict[str, Any], problems: Problems) -> str | None:
    """Read ``CurrencyRef`` (a code, or ``{"value": code}``) into ``body`` upper-cased; return
    the code, or None when the input has none or a wrong one."""
    if "CurrencyRef" not in data:
        return None
    raw = data["CurrencyRef"]
    if isinstance(raw, Mapping) and set(raw) <= {"value", "name"}:
        raw = raw.get("value")
    if not isinstance(raw, str) or len(raw) != 3 or not raw.isascii() or not raw.isalpha():
        problems.add("/CurrencyRef", f"must be a 3-letter ISO 4217 code such as \"USD\", got {show(raw)}")
        return None
    if not contract.is_currency(raw):
        problems.add("/CurrencyRef", f"{raw!r} is not an ISO 4217 currency; use a code such as "
                                     f"USD, EUR, JPY")
        return None
    body["CurrencyRef"] = {"value": raw.upper()}
    return raw.upper()


def exchange_rate(data: Mapping[str, Any], problems: Problems) -> Decimal | None:
    """The input's ``ExchangeRate`` as a positive Decimal, or None (absent or wrong).

    It is sent exactly as given, never rounded: Intuit's Finance.xsd types ``ExchangeRate``
    ``xs:decimal`` without a limit of digits, and Intuit documents no precision for it
    (https://developer.intuit.com/app/developer/qbo/docs/workflows/manage-multiple-currencies:
    "the number of home currency units it takes to equal one foreign currency unit"), so
    Stripe's ``exchange_rate`` reaches QuickBooks digit for digit."""
    if "ExchangeRate" not in data:
        return None
    return contract.amount(data["ExchangeRate"], "/ExchangeRate", "ExchangeRate", problems)


def currency(data: Mapping[str, Any], home: str, body: dict[str, Any],
             problems: Problems) -> str:
    """Read ``CurrencyRef`` and ``ExchangeRate`` into ``body``; return the transaction currency.

    A currency other than ``home`` needs an explicit ``ExchangeRate`` (home-currency units
    per one unit of the transaction currency; :func:`ledgerlink.contract.foreign_currency`):
    QuickBooks would otherwise apply a rate of its own choosing, historically 1:1 for API
    writes. A rate with the home currency must be 1.
    """
    code = currency_ref(data, body, problems) or home
    rate = contract.foreign_currency(
        code, home, exchange_rate(data, problems), problems, ledger=LEDGER,
        rate_given="ExchangeRate" in data, currency_field="CurrencyRef",
        rate_field="ExchangeRate", rate_example="the exchange_rate of the Stripe balance transaction")
    if rate is not None:
        body["ExchangeRate"] = rate
    return code


# --- references and fields -------------------------------------------------------------------

def ref(value: Any, where: str, what: str, problems: Problems, *,
        example: str = "1") -> dict[str, str] | None:
    """QBO's ``{"value": id, "name"?: name}`` from an id string or that object; ``example`` is
    the Id a message shows."""
    if isinstance(value, str):
        if not value.strip():
            problems.add(where, f"{what} is empty; give the QuickBooks Id, e.g. \"{example}\"")
            return None
        return {"value": value}
    if isinstance(value, Mapping):
        extra = sorted(set(value) - {"value", "name"}, key=str)
        if extra:
            problems.add(where, f"{what} has unknown key(s) {', '.join(map(repr, extra))}; a "
                                f"reference is {{\"value\": Id, \"name\": display name}}")
            return None
        ref_value = value.get("value")
        if not isinstance(ref_value, str) or not ref_value.strip():
            problems.add(where, f"{what}.value must be the QuickBooks Id as a non-empty string, "
                                f"e.g. \"{example}\", got {show(ref_value)}")
            return None
        out = {"value": ref_value}
        if "name" in value:
            if not isinstance(value["name"], str):
                problems.add(where, f"{what}.name must be a string, got {show(value['name'])}")
                return None
            out["name"] = value["name"]
        return out
    problems.add(where, f"{what} must be a QuickBooks Id string such as \"{example}\" or "
                        f"{{\"value\": \"{example}\", \"name\": \"…\"}}, got {show(value)}")
    return None


#: who a journal or deposit line may name (``Entity.Type``)
ENTITY_TYPES = ("Customer", "Vendor", "Employee")


def entity(value: Any, where: str, problems: Problems) -> tuple[str, dict[str, str]] | None:
    """A line's ``{"Type": "Customer", "EntityRef": ref}`` as ``(type, reference)``, or None
    after a problem."""
    if not isinstance(value, Mapping):
        problems.add(where, f"the entity must be {{\"Type\": \"Customer\", \"EntityRef\": \"1\"}}, "
                            f"got {show(value)}")
        return None
    extra = sorted(set(value) - {"Type", "EntityRef"}, key=str)
    if extra:
        problems.add(where, f"the entity has unknown key(s) {', '.join(map(repr, extra))}; "
                            f"give Type and EntityRef")
        return None
    kind = value.get("Type")
    if kind not in ENTITY_TYPES:
        problems.add(f"{where}/Type", f"must be one of {', '.join(ENTITY_TYPES)}, got {show(kind)}")
        return None
    found = ref(value.get("EntityRef"), f"{where}/EntityRef", "EntityRef", problems)
    if found is None:
        return None
    return kind, found


def ref_field(data: Mapping[str, Any], key: str, body: dict[str, Any], problems: Problems, *,
              missing: str | None = None) -> dict[str, str] | None:
    """The reference ``data[key]`` into ``body[key]``, returned too. When the input has none,
    ``missing`` (what to give, for a required reference) is a problem."""
    if key not in data:
        if missing is not None:
            problems.add(f"/{key}", f"missing; {missing}")
        return None
    value = ref(data[key], f"/{key}", key, problems)
    if value is not None:
        body[key] = value
    return value


def txn_fields(data: Mapping[str, Any], body: dict[str, Any], problems: Problems, *,
               doc_number: bool = True) -> None:
    """``TxnDate``, ``DocNumber`` and ``PrivateNote``, as every transaction has them."""
    if "TxnDate" in data:
        value = contract.date(data["TxnDate"], "/TxnDate", problems)
        if value is not None:
            body["TxnDate"] = value
    if doc_number and "DocNumber" in data:
        value = text(data["DocNumber"], "/DocNumber", "DocNumber", MAX_DOC_NUMBER, problems)
        if value == "":
            problems.add("/DocNumber", "DocNumber is empty; leave it out to let QuickBooks number it")
        elif value is not None:
            body["DocNumber"] = value
    if "PrivateNote" in data:
        value = text(data["PrivateNote"], "/PrivateNote", "PrivateNote", MAX_TEXT, problems)
        if value is not None:
            body["PrivateNote"] = value


def description(raw: Mapping[str, Any], where: str, line: dict[str, Any],
                problems: Problems) -> None:
    """A line's ``Description`` (when given) into ``line``."""
    if "Description" in raw:
        line["Description"] = text(raw["Description"], f"{where}/Description", "Description",
                                   MAX_TEXT, problems)


def payment_fields(data: Mapping[str, Any], body: dict[str, Any], problems: Problems) -> None:
    """``DepositToAccountRef``, ``PaymentMethodRef`` and ``PaymentRefNum`` of a transaction
    that moves money (a payment, a refund receipt)."""
    for key in ("DepositToAccountRef", "PaymentMethodRef"):
        ref_field(data, key, body, problems)
    if "PaymentRefNum" in data:
        value = text(data["PaymentRefNum"], "/PaymentRefNum", "PaymentRefNum", MAX_DOC_NUMBER,
                     problems)
        if value:
            body["PaymentRefNum"] = value



def ref_value(value: Any) -> str | None:
    """The id of a QBO reference (``{"value": "1"}``), or None."""
    if isinstance(value, Mapping):
        inner = value.get("value")
        if isinstance(inner, int) and not isinstance(inner, bool):
            return str(inner)
        return inner if isinstance(inner, str) else None
    return None


__all__ = ["DEFAULT_HOME_CURRENCY", "ENTITY_TYPES", "LEDGER", "MAX_DOC_NUMBER", "MAX_MEMO",
           "MAX_TEXT", "amount_in", "currency", "currency_ref", "description", "entity",
           "exchange_rate", "fit_currency", "home_currency", "payment_fields", "ref", "ref_field",
           "ref_value", "text", "txn_fields"]
