"""What the QuickBooks sales, payment and deposit actions share: reading their input exactly.

Nothing here performs I/O. The helpers read an integrator's input into the pieces of a QBO
body and record every problem (with its JSON pointer) in a :class:`Problems`, so an
integrator sees all of them at once in one :class:`ledgerlink.errors.InputError`:

- money (:func:`money`): an exact ``Decimal`` from a ``Decimal``, an ``int`` or a plain
  decimal string; floats, booleans, NaN and exponents are refused; :func:`fit_currency`
  then refuses an amount with more decimals than its currency has (ISO 4217: USD 2, JPY 0,
  KWD 3) and writes it with exactly that many;
- currency (:func:`currency`): ``CurrencyRef`` against the connection's ``home_currency``;
  a foreign currency needs an explicit ``ExchangeRate`` — never a silent 1:1 rate;
- references (:func:`ref`), text with QBO's length limits (:func:`text`), dates (:func:`date`).

:func:`post` is the one write every action performs, :func:`query` the one read every
``find_existing`` performs, and :func:`read_output` turns a created entity into the step
output ``{id, sync_token, doc_number?, txn_date?, total, currency?}``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Generator, Iterable, Mapping
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from importlib import resources
from typing import Any

import babel.numbers

from ledgerlink import jsonio
from ledgerlink.catalog import ActionContext, Request, Response
from ledgerlink.errors import ConfigError, InputError, VendorError

from .api import MAX_REQUEST_ID, classify, entity_url, params

_PLAIN = re.compile(r"^\s*[0-9]+(\.[0-9]+)?\s*$")
_SIGNED = re.compile(r"^\s*-?[0-9]+(\.[0-9]+)?\s*$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")

#: QBO keeps at most this many characters of a DocNumber or PaymentRefNum
MAX_DOC_NUMBER = 21
#: … of a PrivateNote or a line Description
MAX_TEXT = 4000
#: … of a CustomerMemo
MAX_MEMO = 1000
#: the home currency when the connection names none (setting ``home_currency``)
DEFAULT_HOME_CURRENCY = "USD"

JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}

#: Decimal arithmetic wide enough that adding or multiplying amounts is always exact
_WIDE = 1000


def load(relative: str) -> Any:
    """A JSON file shipped in this package, numbers read as Decimal."""
    return jsonio.loads((resources.files(__package__) / relative).read_text("utf-8"))


def show(value: Any) -> str:
    """A value as a message names it: ``str '12'``, ``the boolean true``, ``null``."""
    if isinstance(value, bool):
        return "the boolean " + str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"the float {value!r}"
    return f"{type(value).__name__} {value!r}"


class Problems:
    """Collects every input problem of one action so the integrator sees them all at once."""

    def __init__(self, action: str, what: str) -> None:
        self.action = action
        self.what = what
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        item = f"{where or '/'}: {message}"
        if item not in self.items:
            self.items.append(item)

    def count(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(f"{self.action}: the input cannot become {self.what}: "
                             + "; ".join(self.items), problems=list(self.items))


def unknown_keys(data: Mapping[str, Any], allowed: Iterable[str], where: str, what: str,
                 problems: Problems) -> None:
    allowed = tuple(allowed)
    for key in sorted(set(data) - set(allowed), key=str):
        problems.add(f"{where}/{key}", f"unknown {what} {key!r}; {what}s are {', '.join(allowed)}")


# --- money ---------------------------------------------------------------------------------

def money(value: Any, where: str, what: str, problems: Problems, *,
          sign: str = "positive") -> Decimal | None:
    """An exact Decimal from a Decimal, an int or a plain decimal string; None after a problem.

    ``sign`` is ``"positive"`` (> 0), ``"nonnegative"`` (>= 0) or ``"any"`` (a leading
    ``-`` is allowed in a string too).
    """
    example = "\"12.50\"" if sign != "any" else "\"12.50\" or \"-12.50\""
    if isinstance(value, bool) or value is None:
        problems.add(where, f"{what} must be a decimal such as {example}, got {show(value)}")
        return None
    if isinstance(value, float):
        problems.add(where, f"{what} is the float {value!r}; floats lose cents, so pass a Decimal "
                            f"or a decimal string such as {example} (a recipe's \"$as\": "
                            f"\"stripe.money\", \"money\" or \"decimal\" gives one)")
        return None
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            problems.add(where, f"{what} {value!r} is not a number; write a decimal such as {example}")
            return None
        pattern = _SIGNED if sign == "any" else _PLAIN
        if amount.is_finite() and not pattern.match(value) and not (sign != "any" and amount < 0):
            problems.add(where, f"{what} {value!r} must be written as a plain decimal such as "
                                f"{example} (digits and one point, no exponent)")
            return None
    else:
        problems.add(where, f"{what} must be a decimal such as {example}, got {show(value)}")
        return None
    if not amount.is_finite():
        problems.add(where, f"{what} {value!r} is not a finite number")
        return None
    if sign == "positive" and amount <= 0:
        problems.add(where, f"{what} must be greater than 0, got {amount}")
        return None
    if sign == "nonnegative" and amount < 0:
        problems.add(where, f"{what} must not be negative, got {amount}")
        return None
    amount = plain(amount)  # Decimal("1E+3"): send 1000, not an exponent
    if amount == 0:
        amount = abs(amount)  # never send -0.00
    return amount


@functools.lru_cache(maxsize=256)
def precision(code: str) -> int:
    """ISO 4217 minor-unit digits of an upper-case currency code (CLDR data through babel)."""
    return babel.numbers.get_currency_precision(code)


def is_currency(code: Any) -> bool:
    return isinstance(code, str) and bool(_CURRENCY.match(code)) and babel.numbers.is_currency(code.upper())


def fit_currency(amount: Decimal | None, currency: str, where: str, what: str,
                 problems: Problems) -> Decimal | None:
    """``amount`` written with exactly the currency's decimals; None (and a problem) when it
    has more: 12.345 USD is refused, not rounded, and 1500.00 JPY is sent as 1500."""
    if amount is None:
        return None
    places = precision(currency)
    with localcontext() as ctx:
        ctx.prec = _WIDE
        fitted = amount.quantize(Decimal(1).scaleb(-places))
    if fitted != amount:
        problems.add(where, f"{what} {amount} has more decimals than {currency} has ({places}); "
                            f"QuickBooks would round it, so round it yourself (a recipe's \"$as\": "
                            f"\"round\") or check the currency")
        return None
    return fitted


def exact(operation: Callable[[], Decimal]) -> Decimal | None:
    """The result of Decimal arithmetic done exactly, or None when it cannot be exact."""
    with localcontext() as ctx:
        ctx.prec = _WIDE
        ctx.traps[Inexact] = True
        try:
            return operation()
        except (Inexact, InvalidOperation, ZeroDivisionError):
            return None


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of ``amounts``."""
    with localcontext() as ctx:
        ctx.prec = _WIDE
        return sum(amounts, Decimal(0))


def minus(a: Decimal, b: Decimal) -> Decimal:
    """``a - b``, exactly."""
    with localcontext() as ctx:
        ctx.prec = _WIDE
        return a - b


def plain(amount: Decimal) -> Decimal:
    """A Decimal without a positive exponent (2E+3 → 2000), value unchanged."""
    if amount.as_tuple().exponent > 0:
        with localcontext() as ctx:
            ctx.prec = _WIDE
            return amount.quantize(Decimal(1))
    return amount


# --- currency --------------------------------------------------------------------------------

def home_currency(ctx: ActionContext) -> str:
    """The connection's ``home_currency`` setting (default USD), checked."""
    settings = ctx.connection.settings if ctx is not None else {}
    code = settings.get("home_currency") if isinstance(settings, Mapping) else None
    if code is None or code == "":
        return DEFAULT_HOME_CURRENCY
    if not is_currency(code):
        raise ConfigError(f"QuickBooks setting home_currency must be the company's home currency "
                          f"as an ISO 4217 code such as \"USD\", \"GBP\" or \"CAD\" (QuickBooks: "
                          f"Settings > Account and settings > Advanced > Currency), got {code!r}")
    return code.upper()


def currency(data: Mapping[str, Any], home: str, body: dict[str, Any],
             problems: Problems) -> str:
    """Read ``CurrencyRef`` and ``ExchangeRate`` into ``body``; return the transaction currency.

    A currency other than ``home`` needs an explicit ``ExchangeRate`` (home-currency units
    per one unit of the transaction currency): QuickBooks would otherwise apply a rate of its
    own choosing, historically 1:1 for API writes. A rate with the home currency must be 1.
    """
    code = home
    if "CurrencyRef" in data:
        raw = data["CurrencyRef"]
        if isinstance(raw, Mapping) and set(raw) <= {"value", "name"}:
            raw = raw.get("value")
        if not isinstance(raw, str) or not _CURRENCY.match(raw):
            problems.add("/CurrencyRef", f"must be a 3-letter ISO 4217 code such as \"USD\", got {show(raw)}")
        elif not babel.numbers.is_currency(raw.upper()):
            problems.add("/CurrencyRef", f"{raw!r} is not an ISO 4217 currency; use a code such as "
                                         f"USD, EUR, JPY")
        else:
            code = raw.upper()
            body["CurrencyRef"] = {"value": code}
    rate = None
    if "ExchangeRate" in data:
        rate = money(data["ExchangeRate"], "/ExchangeRate", "ExchangeRate", problems)
    if code != home:
        if rate is not None:
            body["ExchangeRate"] = rate
        elif "ExchangeRate" not in data:
            problems.add("/ExchangeRate", f"CurrencyRef is {code}, not the company's home currency "
                                          f"{home} (connection setting home_currency), so give "
                                          f"ExchangeRate: how many {home} one {code} is worth on "
                                          f"the transaction date (e.g. the exchange_rate of the "
                                          f"Stripe balance transaction); without it QuickBooks "
                                          f"would book the amounts at a rate of its own choosing, "
                                          f"such as 1:1")
    elif rate is not None and rate != 1:
        problems.add("/ExchangeRate", f"ExchangeRate is {rate}, but {code} is the company's home "
                                      f"currency (connection setting home_currency), whose rate "
                                      f"is 1; leave ExchangeRate out or check CurrencyRef and "
                                      f"home_currency")
    return code


# --- other fields ------------------------------------------------------------------------------

def text(value: Any, where: str, what: str, limit: int, problems: Problems) -> str | None:
    if not isinstance(value, str):
        problems.add(where, f"{what} must be a string, got {show(value)}")
        return None
    if len(value) > limit:
        problems.add(where, f"{what} is {len(value)} characters long; QuickBooks keeps at most "
                            f"{limit}, so shorten it")
        return None
    return value


def ref(value: Any, where: str, what: str, problems: Problems) -> dict[str, str] | None:
    """QBO's ``{"value": id, "name"?: name}`` from an id string or that object."""
    if isinstance(value, str):
        if not value.strip():
            problems.add(where, f"{what} is empty; give its QuickBooks Id, e.g. \"1\"")
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
                                f"e.g. \"1\", got {show(ref_value)}")
            return None
        out = {"value": ref_value}
        if "name" in value:
            if not isinstance(value["name"], str):
                problems.add(where, f"{what}.name must be a string, got {show(value['name'])}")
                return None
            out["name"] = value["name"]
        return out
    problems.add(where, f"{what} must be a QuickBooks Id string such as \"1\" or "
                        f"{{\"value\": \"1\", \"name\": \"…\"}}, got {show(value)}")
    return None


def date(value: Any, where: str, what: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not _DATE.match(value):
        problems.add(where, f"{what} must be a date written YYYY-MM-DD, got {show(value)}")
        return None
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        problems.add(where, f"{value!r} is not a calendar date")
        return None
    return value


def txn_fields(data: Mapping[str, Any], body: dict[str, Any], problems: Problems, *,
               doc_number: bool = True) -> None:
    """``TxnDate``, ``DocNumber`` and ``PrivateNote``, as every transaction has them."""
    if "TxnDate" in data:
        value = date(data["TxnDate"], "/TxnDate", "TxnDate", problems)
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


def request_id(key: Any, action: str) -> str:
    """The step's idempotency key as QBO's ``requestid``, checked."""
    if not isinstance(key, str) or not key.strip():
        raise InputError(f"{action}: the step has no idempotency key; QuickBooks needs a requestid "
                         f"to avoid creating the transaction twice")
    if len(key) > MAX_REQUEST_ID:
        raise InputError(f"{action}: the idempotency key is {len(key)} characters long; QuickBooks "
                         f"keeps a requestid of at most {MAX_REQUEST_ID} (use a UUID)")
    return key


# --- the answer ----------------------------------------------------------------------------------

def decimal(value: Any) -> Decimal | None:
    """A number of a QBO answer as a Decimal (a float is read from its shortest text)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def ref_value(value: Any) -> str | None:
    """The id of a QBO reference (``{"value": "1"}``), or None."""
    if isinstance(value, Mapping):
        inner = value.get("value")
        if isinstance(inner, int) and not isinstance(inner, bool):
            return str(inner)
        return inner if isinstance(inner, str) else None
    return None


def read_output(response: Response, entity: str, body: Mapping[str, Any],
                computed_total: Decimal) -> dict[str, Any]:
    """The step output from ``{"<entity>": {...}}``: ``{id, sync_token, doc_number?, txn_date?,
    total, currency?}``. ``total`` is QBO's ``TotalAmt`` (tax included, when QuickBooks added
    tax) or ``computed_total`` when QBO leaves it out. No Id in a 2xx answer is a permanent
    :class:`VendorError`."""
    found = response.json.get(entity) if isinstance(response.json, Mapping) else None
    found_id = found.get("Id") if isinstance(found, Mapping) else None
    if isinstance(found_id, int) and not isinstance(found_id, bool):
        found_id = str(found_id)
    if not isinstance(found_id, str) or not found_id:
        raise VendorError(f"QuickBooks answered HTTP {response.status} without a {entity} Id; "
                          f"check in QuickBooks whether the {entity} was created before replaying",
                          kind="permanent", status=response.status)
    out: dict[str, Any] = {"id": found_id, "sync_token": str(found.get("SyncToken", "0"))}
    if isinstance(found.get("DocNumber"), str) and found["DocNumber"]:
        out["doc_number"] = found["DocNumber"]
    if isinstance(found.get("TxnDate"), str):
        out["txn_date"] = found["TxnDate"]
    amount = decimal(found.get("TotalAmt"))
    out["total"] = amount if amount is not None else computed_total
    code = ref_value(found.get("CurrencyRef")) or ref_value(body.get("CurrencyRef"))
    if code:
        out["currency"] = code
    return out


def post(ctx: ActionContext, action: str, endpoint: str, entity: str, body: dict[str, Any],
         computed_total: Decimal) -> Generator[Request, Response, dict[str, Any]]:
    """Yield the one create request (``requestid`` = the step's idempotency key), read the answer."""
    rid = request_id(ctx.idempotency_key, action)
    url = entity_url(ctx.connection.settings, endpoint)
    response = yield Request(method="POST", url=url, params=params(rid),
                             headers=dict(JSON_HEADERS), json=body)
    error = classify(response)
    if error is not None:
        raise error
    return read_output(response, entity, body, computed_total)


def quote(value: str) -> str:
    """A string literal for the QBO query language (backslash-escaped quotes)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def query(ctx: ActionContext, entity: str, where: list[str]) -> Generator[Request, Response, list[dict[str, Any]]]:
    """Run ``SELECT * FROM <entity> [WHERE …] MAXRESULTS 1000``; return the entities found."""
    text_ = f"SELECT * FROM {entity}" + (" WHERE " + " AND ".join(where) if where else "") \
        + " MAXRESULTS 1000"
    response = yield Request(method="GET", url=entity_url(ctx.connection.settings, "query"),
                             params={**params(None), "query": text_},
                             headers={"Accept": "application/json"})
    error = classify(response)
    if error is not None:
        raise error
    body = response.json if isinstance(response.json, Mapping) else {}
    found = body.get("QueryResponse", {})
    found = found.get(entity, []) if isinstance(found, Mapping) else []
    return [item for item in found if isinstance(item, Mapping)] if isinstance(found, list) else []


def same_text(stored: Any, sent: Any) -> bool:
    """A stored optional text equals the sent one (absent and empty are the same)."""
    return (stored or None) == (sent or None)


def same_currency(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    stored_code = ref_value(stored.get("CurrencyRef"))
    sent_code = ref_value(body.get("CurrencyRef")) or home
    return stored_code is None or stored_code == sent_code


__all__ = ["DEFAULT_HOME_CURRENCY", "MAX_DOC_NUMBER", "MAX_MEMO", "MAX_TEXT", "Problems",
           "currency", "date", "decimal", "exact", "fit_currency", "home_currency", "load",
           "minus", "money", "plain", "post", "precision", "query", "quote", "read_output", "ref",
           "ref_value", "request_id", "same_currency", "same_text", "show", "text", "total",
           "txn_fields", "unknown_keys"]
