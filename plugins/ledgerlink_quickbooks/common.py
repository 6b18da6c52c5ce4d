"""What the QuickBooks create actions share: reading their input exactly, writing, finding.

Journal entries, the sales forms (invoice, credit memo, refund receipt), payments and
deposits use these. Nothing here performs I/O. The helpers read an integrator's input into
the pieces of a QBO body and record every problem (with its JSON pointer) in a
:class:`Problems`, so an integrator sees all of them at once in one
:class:`ledgerlink.errors.InputError`:

- money (:func:`money`): an exact ``Decimal`` from a ``Decimal``, an ``int`` or a plain
  decimal string; floats, booleans, NaN and exponents are refused; :func:`fit_currency`
  then refuses an amount with more decimals than its currency has (ISO 4217: USD 2, JPY 0,
  KWD 3) and writes it with exactly that many (:func:`amount_in` does both);
- currency (:func:`currency`): ``CurrencyRef`` (:func:`currency_ref`) against the
  connection's ``home_currency``; a foreign currency needs an explicit ``ExchangeRate``
  (:func:`exchange_rate`) — never a silent 1:1 rate;
- references (:func:`ref`, :func:`ref_field`), text with QBO's length limits (:func:`text`),
  dates (:func:`date`), and the fields most transactions have (:func:`txn_fields`,
  :func:`payment_fields`).

:func:`post` is the one write every action performs, :func:`query` the one read every
``find_existing`` performs, and :func:`read_output` turns a created entity into the step
output ``{id, sync_token, doc_number?, txn_date?, total, currency?}``.
:func:`create_action` makes the :class:`ledgerlink.connectors.catalog.Action` of one entity from its
``build_body`` and ``matches``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from importlib import resources
from typing import Any

import babel.numbers

from ledgerlink import jsonio
from ledgerlink.contract import Action, ActionContext, Request, Response
from ledgerlink.errors import ConfigError, InputError

from .api import (MAX_REQUEST_ID, classify, deleter, entity_url, params, unreadable_query,
                  unreadable_write)

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


def begin(action: str, what: str, data: Any, inputs: Iterable[str] | None) -> Problems:
    """The :class:`Problems` of reading ``data`` into ``what``: raised at once when ``data``
    is not an object; each key not among ``inputs`` is one (unless ``inputs`` is None)."""
    problems = Problems(action, what)
    if not isinstance(data, Mapping):
        problems.add("/", f"the input must be an object, got {show(data)}")
        problems.raise_if_any()
    if inputs is not None:
        unknown_keys(data, inputs, "", "input", problems)
    return problems


def line_objects(raw_lines: Any, keys: Iterable[str], required: Iterable[str], problems: Problems,
                 *, array_of: str, line_is: str) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    """``(index, pointer, line)`` for each line of the input's ``Lines`` that is an object with
    only ``keys`` and every ``required`` key; every other line, and ``Lines`` that is not a
    non-empty array, is a problem (``array_of``: "lines"; ``line_is``: "an object with …")."""
    if not isinstance(raw_lines, (list, tuple)) or not raw_lines:
        problems.add("/Lines", f"must be a non-empty array of {array_of}, got {show(raw_lines)}")
        return
    keys, required = tuple(keys), tuple(required)
    for index, raw in enumerate(raw_lines):
        where = f"/Lines/{index}"
        if not isinstance(raw, Mapping):
            problems.add(where, f"line {index} must be {line_is}, got {show(raw)}")
            continue
        start = problems.count()
        unknown_keys(raw, keys, where, "line key", problems)
        for key in required:
            if key not in raw:
                problems.add(where, f"line {index} lacks {key}")
        if problems.count() == start:
            yield index, where, raw


# --- money ---------------------------------------------------------------------------------

#: the recipe conversions a money message names (a recipe's ``"$as"``)
RECIPE_MONEY = ("stripe.money", "money", "decimal")


def _either(words: Iterable[str]) -> str:
    """``"a", "b" or "c"``."""
    quoted = [f"\"{word}\"" for word in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def money(value: Any, where: str, what: str, problems: Problems, *,
          sign: str = "positive", recipe_as: Iterable[str] = RECIPE_MONEY,
          why_positive: str = "") -> Decimal | None:
    """An exact Decimal from a Decimal, an int or a plain decimal string; None after a problem.

    ``sign`` is ``"positive"`` (> 0), ``"nonnegative"`` (>= 0) or ``"any"`` (a leading
    ``-`` is allowed in a string too). ``recipe_as`` are the conversions the message about a
    float suggests; ``why_positive`` is added to the message about an amount that is not
    positive.
    """
    example = "\"12.50\"" if sign != "any" else "\"12.50\" or \"-12.50\""
    kind = "a positive decimal" if sign == "positive" else "a decimal"
    if isinstance(value, bool) or value is None:
        problems.add(where, f"{what} must be {kind} such as {example}, got {show(value)}")
        return None
    if isinstance(value, float):
        problems.add(where, f"{what} is the float {value!r}; floats lose cents, so pass a Decimal "
                            f"or a decimal string such as {example} (a recipe's \"$as\": "
                            f"{_either(recipe_as)} gives one)")
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
                                f"{example} (digits and one point, "
                                f"{'no exponent' if sign == 'any' else 'no sign or exponent'})")
            return None
    else:
        problems.add(where, f"{what} must be {kind} such as {example}, got {show(value)}")
        return None
    if not amount.is_finite():
        problems.add(where, f"{what} {value!r} is not a finite number; give {kind}")
        return None
    if sign == "positive" and amount <= 0:
        problems.add(where, f"{what} must be greater than 0, got {amount}"
                            + (f"; {why_positive}" if why_positive else ""))
        return None
    if sign == "nonnegative" and amount < 0:
        problems.add(where, f"{what} must not be negative, got {amount}")
        return None
    amount = plain(amount)  # Decimal("1E+3"): send 1000, not an exponent
    if amount == 0:
        amount = abs(amount)  # never send -0.00
    return amount


def amount_in(value: Any, code: str, where: str, what: str, problems: Problems, *,
              sign: str = "positive") -> Decimal | None:
    """:func:`money` fitted to the currency ``code`` (:func:`fit_currency`)."""
    return fit_currency(money(value, where, what, problems, sign=sign), code, where, what,
                        problems)


@functools.lru_cache(maxsize=256)
def precision(code: str) -> int:
    """ISO 4217 minor-unit digits of an upper-case currency code (CLDR data through babel)."""
    return babel.numbers.get_currency_precision(code)


def is_currency(code: Any) -> bool:
    return isinstance(code, str) and bool(_CURRENCY.fullmatch(code)) and babel.numbers.is_currency(code.upper())


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


def currency_ref(data: Mapping[str, Any], body: dict[str, Any], problems: Problems) -> str | None:
    """Read ``CurrencyRef`` (a code, or ``{"value": code}``) into ``body`` upper-cased; return
    the code, or None when the input has none or a wrong one."""
    if "CurrencyRef" not in data:
        return None
    raw = data["CurrencyRef"]
    if isinstance(raw, Mapping) and set(raw) <= {"value", "name"}:
        raw = raw.get("value")
    if not isinstance(raw, str) or not _CURRENCY.fullmatch(raw):
        problems.add("/CurrencyRef", f"must be a 3-letter ISO 4217 code such as \"USD\", got {show(raw)}")
        return None
    if not babel.numbers.is_currency(raw.upper()):
        problems.add("/CurrencyRef", f"{raw!r} is not an ISO 4217 currency; use a code such as "
                                     f"USD, EUR, JPY")
        return None
    body["CurrencyRef"] = {"value": raw.upper()}
    return raw.upper()


def exchange_rate(data: Mapping[str, Any], problems: Problems) -> Decimal | None:
    """The input's ``ExchangeRate`` as a positive Decimal, or None (absent or wrong)."""
    if "ExchangeRate" not in data:
        return None
    return money(data["ExchangeRate"], "/ExchangeRate", "ExchangeRate", problems)


def currency(data: Mapping[str, Any], home: str, body: dict[str, Any],
             problems: Problems) -> str:
    """Read ``CurrencyRef`` and ``ExchangeRate`` into ``body``; return the transaction currency.

    A currency other than ``home`` needs an explicit ``ExchangeRate`` (home-currency units
    per one unit of the transaction currency): QuickBooks would otherwise apply a rate of its
    own choosing, historically 1:1 for API writes. A rate with the home currency must be 1.
    """
    code = currency_ref(data, body, problems) or home
    rate = exchange_rate(data, problems)
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


def date(value: Any, where: str, problems: Problems) -> str | None:
    """A ``YYYY-MM-DD`` calendar date, or None after a problem."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        problems.add(where, f"must be a date written YYYY-MM-DD, got {show(value)}")
        return None
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        problems.add(where, f"{value!r} is not a calendar date")
        return None
    return value


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
        value = date(data["TxnDate"], "/TxnDate", problems)
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
    tax) or ``computed_total`` when QBO leaves it out. A success answer without the entity's
    Id (truncated JSON, an HTML page) is an unknown outcome (:func:`.api.unreadable_write`):
    the entity may exist, and is looked up before anything is sent again."""
    found = response.json.get(entity) if isinstance(response.json, Mapping) else None
    found_id = found.get("Id") if isinstance(found, Mapping) else None
    if isinstance(found_id, int) and not isinstance(found_id, bool):
        found_id = str(found_id)
    if not isinstance(found_id, str) or not found_id:
        raise unreadable_write(response, entity)
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
    return (yield from run_query(ctx.connection.settings, entity, text_))


def run_query(settings: Mapping[str, Any], entity: str, text: str) -> Generator[Request, Response,
                                                                                 list[dict[str, Any]]]:
    """Send the query ``text`` (of ``entity``); return the entities found. A success answer
    without a ``QueryResponse`` is never read as "nothing found" (:func:`.api.unreadable_query`)."""
    response = yield Request(method="GET", url=entity_url(settings, "query"),
                             params={**params(None), "query": text},
                             headers={"Accept": "application/json"})
    error = classify(response)
    if error is not None:
        raise error
    body = response.json if isinstance(response.json, Mapping) else {}
    if not isinstance(body.get("QueryResponse"), Mapping):
        raise unreadable_query(response, entity)
    found = body["QueryResponse"].get(entity, [])
    return [item for item in found if isinstance(item, Mapping)] if isinstance(found, list) else []


def same_text(stored: Any, sent: Any) -> bool:
    """A stored optional text equals the sent one (absent and empty are the same)."""
    return (stored or None) == (sent or None)


def same_currency(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    stored_code = ref_value(stored.get("CurrencyRef"))
    sent_code = ref_value(body.get("CurrencyRef")) or home
    return stored_code is None or stored_code == sent_code


def same_fields(stored: Mapping[str, Any], body: Mapping[str, Any], home: str, *,
                refs: Iterable[str] = (), texts: Iterable[str] = ("PrivateNote",)) -> bool:
    """Whether a stored entity has the body's references ``refs`` (those the body has), texts
    ``texts`` and currency."""
    for key in refs:
        if key in body and ref_value(stored.get(key)) != body[key]["value"]:
            return False
    if not all(same_text(stored.get(key), body.get(key)) for key in texts):
        return False
    return same_currency(stored, body, home)


def query_by(body: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    """``Key = 'value'`` conditions for the ``keys`` that ``body`` has (a reference by its id)."""
    where = []
    for key in keys:
        value = body.get(key)
        value = ref_value(value) if isinstance(value, Mapping) else value
        if value:
            where.append(f"{key} = {quote(value)}")
    return where


#: ``build(input, home_currency) -> (body, total)``
Build = Callable[[Mapping[str, Any], str], tuple[dict[str, Any], Decimal]]
#: ``matches(stored, body, home_currency) -> bool``
Matches = Callable[[Mapping[str, Any], Mapping[str, Any], str], bool]


def create_action(*, action: str, entity: str, endpoint: str, what: str, summary: str,
                  build: Build, query_keys: Iterable[str], matches: Matches) -> Action:
    """The :class:`Action` that creates one ``entity`` from ``build``'s body.

    Its ``perform`` builds the body (every input problem raises before a request exists) and
    yields one ``POST …/<endpoint>?minorversion=…&requestid=<key>``; its ``find_existing``
    reads the ``entity`` rows with the body's ``query_keys`` (e.g. ``CustomerRef``,
    ``TxnDate``) and returns the output of the first that ``matches``; its ``undo`` deletes.
    Schemas and samples are ``schemas/<name>.input.json`` … of the action's name.
    """
    query_keys = tuple(query_keys)

    def perform(input: Mapping[str, Any],
                ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
        body, computed = build(input, home_currency(ctx))
        return (yield from post(ctx, action, endpoint, entity, body, computed))

    def find_existing(input: Mapping[str, Any],
                      ctx: ActionContext) -> Generator[Request, Response, dict[str, Any] | None]:
        home = home_currency(ctx)
        body, computed = build(input, home)
        found = yield from query(ctx, entity, query_by(body, query_keys))
        for stored in found:
            if matches(stored, body, home):
                return read_output(Response(status=200, json={entity: stored}), entity, body,
                                   computed)
        return None

    perform.__name__ = f"perform_{endpoint}"
    perform.__doc__ = (f"Create {what}: yield one POST (requestid = the step's idempotency key), "
                       f"receive QBO's answer, return the output. Input problems raise before "
                       f"any request.")
    find_existing.__name__ = f"find_existing_{endpoint}"
    find_existing.__doc__ = (f"Look {what} this step created up (read-only), when an earlier "
                             f"attempt's answer was lost: the {entity} rows of the same "
                             f"{', '.join(query_keys)}, matched on what the step sends.")
    name = action.split(".", 1)[1]
    return Action(
        name=action,
        summary=summary,
        input_schema=load(f"schemas/{name}.input.json"),
        output_schema=load(f"schemas/{name}.output.json"),
        sample=load(f"samples/{name}.input.json"),
        perform=perform,
        sample_response=load(f"samples/{name}.response.json"),
        status="stable",
        idempotency="key",
        find_existing=find_existing,
        undo=deleter(entity, endpoint),
    )


__all__ = ["DEFAULT_HOME_CURRENCY", "ENTITY_TYPES", "MAX_DOC_NUMBER", "MAX_MEMO", "MAX_TEXT",
           "RECIPE_MONEY", "Problems", "amount_in", "begin", "create_action", "currency",
           "currency_ref", "date", "decimal", "description", "entity", "exact", "exchange_rate",
           "fit_currency", "home_currency", "line_objects", "load", "minus", "money",
           "payment_fields", "plain", "post", "precision", "query", "query_by", "quote",
           "read_output", "ref", "ref_field", "ref_value", "request_id", "same_currency",
           "same_fields", "same_text", "show", "text", "total", "txn_fields", "unknown_keys"]
