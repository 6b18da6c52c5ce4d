"""What the QuickBooks create actions share: QBO's fields, requests, queries and matching.

Journal entries, the sales forms (invoice, credit memo, refund receipt), payments and
deposits use these. Nothing here performs I/O. The generic rules are the host's
(:mod:`ledgerlink.contract`): an input's problems are collected in a
:class:`~ledgerlink.contract.Problems`, amounts are exact
(:func:`ledgerlink.contract.amount`) and fitted to their currency, a foreign currency needs
an explicit rate (:func:`ledgerlink.contract.foreign_currency`), and a create is written once
(:func:`ledgerlink.contract.create_action`). Here they meet QuickBooks:

- amounts and text as QuickBooks keeps them (:func:`amount_in`, :func:`fit_currency`,
  :func:`text` with QBO's length limits);
- currency (:func:`currency`): ``CurrencyRef`` (:func:`currency_ref`) against the
  connection's ``home_currency``; a foreign currency needs an explicit ``ExchangeRate``
  (:func:`exchange_rate`);
- references (:func:`ref`, :func:`ref_field`, :func:`entity`) and the fields most
  transactions have (:func:`txn_fields`, :func:`payment_fields`);
- the ``requestid`` (:func:`request_id`), the query language (:func:`quote`, :func:`query`,
  :func:`query_by`), the step output of a created entity (:func:`read_output`) and QBO's
  matching of a stored entity (:func:`same_fields`).

:func:`create_action` makes the :class:`ledgerlink.contract.Action` of one entity from its
``build_body`` and ``matches``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from decimal import Decimal
from importlib import resources
from typing import Any

from ledgerlink import contract, jsonio
from ledgerlink.contract import (Action, ActionContext, Built, CreateSteps, Problems, Request,
                                 Response, Schemas, Sign, show, unreadable_query, unreadable_write)
from ledgerlink.errors import ConfigError, InputError

from .api import MAX_REQUEST_ID, classify, deleter, entity_url, params

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

JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


def load(relative: str) -> Any:
    """A JSON file shipped in this package, numbers read as Decimal."""
    return jsonio.loads((resources.files(__package__) / relative).read_text("utf-8"))


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
    """The input's ``ExchangeRate`` as a positive Decimal, or None (absent or wrong)."""
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
    Id (truncated JSON, an HTML page) is an unknown outcome
    (:func:`ledgerlink.contract.unreadable_write`):
    the entity may exist, and is looked up before anything is sent again."""
    found = response.json.get(entity) if isinstance(response.json, Mapping) else None
    found_id = found.get("Id") if isinstance(found, Mapping) else None
    if isinstance(found_id, int) and not isinstance(found_id, bool):
        found_id = str(found_id)
    if not isinstance(found_id, str) or not found_id:
        raise unreadable_write(response, LEDGER, entity)
    out: dict[str, Any] = {"id": found_id, "sync_token": str(found.get("SyncToken", "0"))}
    if isinstance(found.get("DocNumber"), str) and found["DocNumber"]:
        out["doc_number"] = found["DocNumber"]
    if isinstance(found.get("TxnDate"), str):
        out["txn_date"] = found["TxnDate"]
    amount = contract.answer_decimal(found.get("TotalAmt"))
    out["total"] = amount if amount is not None else computed_total
    code = ref_value(found.get("CurrencyRef")) or ref_value(body.get("CurrencyRef"))
    if code:
        out["currency"] = code
    return out


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
    without a ``QueryResponse`` is never read as "nothing found"
    (:func:`ledgerlink.contract.unreadable_query`)."""
    response = yield Request(method="GET", url=entity_url(settings, "query"),
                             params={**params(None), "query": text},
                             headers={"Accept": "application/json"})
    error = classify(response)
    if error is not None:
        raise error
    body = response.json if isinstance(response.json, Mapping) else {}
    if not isinstance(body.get("QueryResponse"), Mapping):
        raise unreadable_query(response, LEDGER, entity, expected="a QueryResponse")
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
    """The :class:`Action` that creates one ``entity`` from ``build``'s body
    (:func:`ledgerlink.contract.create_action` in QuickBooks' terms).

    Its ``perform`` builds the body (every input problem raises before a request exists) and
    yields one ``POST …/<endpoint>?minorversion=…&requestid=<key>``; its ``find_existing``
    reads the ``entity`` rows with the body's ``query_keys`` (e.g. ``CustomerRef``,
    ``TxnDate``) and returns the output of the first that ``matches``; its ``undo`` deletes.
    Schemas and samples are ``schemas/<name>.input.json`` … of the action's name.
    """
    query_keys = tuple(query_keys)

    def build_body(input: Mapping[str, Any], ctx: ActionContext) -> Built:
        body, total = build(input, home_currency(ctx))
        return Built(body, total)

    def request(built: Built, ctx: ActionContext) -> Request:
        rid = request_id(ctx.idempotency_key, action)
        return Request(method="POST", url=entity_url(ctx.connection.settings, endpoint),
                       params=params(rid), headers=dict(JSON_HEADERS), json=built.body)

    def lookup(built: Built, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
        return (yield from query(ctx, entity, query_by(built.body, query_keys)))

    steps = CreateSteps(
        build=build_body, request=request, classify=classify,
        read=lambda response, built: read_output(response, entity, built.body, built.total),
        read_stored=lambda stored, built: read_output(Response(status=200, json={entity: stored}),
                                                      entity, built.body, built.total),
        lookup=lookup,
        matches=lambda stored, built, ctx: matches(stored, built.body, home_currency(ctx)))
    name = action.split(".", 1)[1]
    return contract.create_action(
        name=action, summary=summary, what=what, lookup_keys=", ".join(query_keys),
        schemas=Schemas(input=load(f"schemas/{name}.input.json"),
                        output=load(f"schemas/{name}.output.json"),
                        sample=load(f"samples/{name}.input.json"),
                        sample_response=load(f"samples/{name}.response.json")),
        steps=steps, undo=deleter(entity, endpoint))


__all__ = ["DEFAULT_HOME_CURRENCY", "ENTITY_TYPES", "JSON_HEADERS", "LEDGER", "MAX_DOC_NUMBER",
           "MAX_MEMO", "MAX_TEXT", "amount_in", "create_action", "currency", "currency_ref",
           "description", "entity", "exchange_rate", "fit_currency", "home_currency",
           "load", "query", "query_by", "quote", "read_output", "ref", "ref_field", "ref_value",
           "request_id", "run_query", "same_currency", "same_fields", "same_text", "text",
           "txn_fields"]
