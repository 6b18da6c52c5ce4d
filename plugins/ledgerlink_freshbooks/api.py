"""What every FreshBooks accounting request shares: addresses, envelopes, money, searches, pages.

Nothing here performs I/O; every function builds a :class:`~ledgerlink.contract.Request` or
reads a :class:`~ledgerlink.contract.Response`.

- **Addresses.** Accounting objects live under
  ``{api_base}/accounting/account/{account_id}/{family}/{objects}`` (``users/clients``,
  ``invoices/invoices``, ``payments/payments`` …), with the business's ``account_id`` learned
  at the consent (https://www.freshbooks.com/api/start).
- **Envelopes.** A write sends ``{"client": {…}}`` and FreshBooks answers
  ``{"response": {"result": {"client": {…}}}}``; a list answers ``{"response": {"result":
  {"clients": [...], "page", "pages", "per_page", "total"}}}``.
- **Money** is ``{"amount": "10.00", "code": "USD"}``, the amount a decimal string: sent with
  the currency's ISO 4217 decimals, at most the two FreshBooks keeps of any amount (``"1500"``
  yen, ``"1.25"`` dinars: a dinar amount with a third decimal is refused before a request,
  never rounded by FreshBooks), and read back as an exact Decimal, never a float.
- **Searches, includes, pages** (https://www.freshbooks.com/api/parameters): ``search[name]=
  value`` filters a list, ``include[]=lines`` asks for what a list leaves out (an invoice's
  lines), ``per_page`` is silently capped at 100 and ``page`` counts from 1; a list is read
  page after page until ``pages``.
- **No idempotency key.** FreshBooks documents none: every create keeps its source's id
  where a lookup finds it (:data:`SOURCE_MARK`), and the actions declare
  ``idempotency="lookup"`` so that the host looks a write that may have been done up before
  it sends it again.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, unreadable_query, unreadable_write
from ledgerlink.contract.money import exponent
from ledgerlink.errors import ConfigError, InputError, VendorError

from .errors import VENDOR, classify
from .settings import API_BASE

#: the decimal places FreshBooks keeps of every amount, whatever the currency ("to two decimal
#: places": https://www.freshbooks.com/api/invoices, https://www.freshbooks.com/api/payments)
FRESHBOOKS_PLACES = 2
#: FreshBooks' page size cap (larger values are silently capped)
PER_PAGE = 100
#: more pages than this in one lookup means the search did not narrow the list: refused
#: rather than read for minutes
MAX_PAGES = 50

JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}

#: vis_state of an object FreshBooks keeps but no longer shows (deleted, restorable)
DELETED = 1
#: vis_state of an archived object
ARCHIVED = 2

#: how a source's id is written in the text field FreshBooks searches or lists it by
SOURCE_MARK = "ledgerlink source {source}"
_MARK = re.compile(r"ledgerlink source (\S+)")
#: FreshBooks' account ids are letters and digits; ACCOUNT_ID is the placeholder of a
#: connection not yet connected (settings.ACCOUNT_PLACEHOLDER)
_ACCOUNT = re.compile(r"^[A-Za-z0-9_]+$")
_PATH = re.compile(r"^[a-z_]+(/[a-z_]+)+$")


def account_url(ctx: ActionContext, path: str, object_id: object = None) -> str:
    """``{api_base}/accounting/account/{account_id}/{path}[/{id}]`` for the step's connection."""
    settings = ctx.connection.settings
    base = settings.get("api_base") or API_BASE
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise ConfigError(f"FreshBooks setting api_base must be an http(s) URL such as {API_BASE!r}, "
                          f"got {base!r}")
    account = settings.get("account_id")
    if not isinstance(account, str) or not _ACCOUNT.match(account):
        raise ConfigError(f"connection {ctx.connection.name!r} has no FreshBooks account_id yet; run "
                          f"`ledgerlink connect {ctx.connection.name}` (it is learned from the consent) "
                          f"or set account_id")
    if not _PATH.match(path):
        raise ValueError(f"a FreshBooks accounting path is 'family/objects[/…]', not {path!r}")
    address = f"{base.rstrip('/')}/accounting/account/{account}/{path}"
    if object_id is not None:
        address += f"/{checked_id(object_id)}"
    return address


def checked_id(object_id: object) -> str:
    """``object_id`` as FreshBooks' ids are written in a path (a positive integer); InputError
    otherwise."""
    text = str(object_id) if isinstance(object_id, (int, str)) and not isinstance(object_id, bool) else ""
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"{object_id!r} is not a FreshBooks id (a positive integer)")
    return str(int(text))


def envelope(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``{kind: body}``, as every FreshBooks write is sent."""
    return {kind: dict(body)}


def create(ctx: ActionContext, path: str, kind: str, body: Mapping[str, Any]) -> Request:
    """``POST`` one object in its envelope."""
    return Request("POST", account_url(ctx, path), headers=JSON_HEADERS, json=envelope(kind, body))


def update(ctx: ActionContext, path: str, object_id: object, kind: str, body: Mapping[str, Any]) -> Request:
    """``PUT`` the fields ``body`` names on one object (the others stay as they are)."""
    return Request("PUT", account_url(ctx, path, object_id), headers=JSON_HEADERS, json=envelope(kind, body))


def read(ctx: ActionContext, path: str, object_id: object, *, include: str | None = None) -> Request:
    """``GET`` one object (with ``include[]`` when a part is only sent on request)."""
    params = {"include[]": include} if include else {}
    return Request("GET", account_url(ctx, path, object_id), params=params, headers={"Accept": "application/json"})


def result(response: Response, kind: str) -> Mapping[str, Any] | None:
    """The object ``kind`` of a ``{"response": {"result": {kind: {…}}}}`` answer, or None."""
    body = response.json
    inner = body.get("response") if isinstance(body, Mapping) else None
    found = inner.get("result") if isinstance(inner, Mapping) else None
    entity = found.get(kind) if isinstance(found, Mapping) else None
    return entity if isinstance(entity, Mapping) else None


def object_id(entity: Mapping[str, Any]) -> str:
    """An object's id: ``id``, or the one of its own FreshBooks answers without ``id`` (an
    other income's ``incomeid``); ``""`` when it has none."""
    for field in ("id", "incomeid"):
        if entity.get(field) not in (None, ""):
            return str(entity[field])
    return ""


def written(response: Response, kind: str) -> Mapping[str, Any]:
    """The object a write answered, after the answer is classified: an error raises, a success
    without the object is an unknown outcome (the host looks it up before resending)."""
    error = classify(response)
    if error is not None:
        raise error
    entity = result(response, kind)
    if entity is None or not object_id(entity):
        raise unreadable_write(response, VENDOR, kind)
    return entity


def listing(response: Response, plural: str) -> tuple[list[Mapping[str, Any]], int]:
    """The objects of one page of a list, and how many pages there are. An error raises; a
    success without the list is retried, never read as "nothing found"."""
    error = classify(response)
    if error is not None:
        raise error
    body = response.json
    inner = body.get("response") if isinstance(body, Mapping) else None
    found = inner.get("result") if isinstance(inner, Mapping) else None
    items = found.get(plural) if isinstance(found, Mapping) else None
    if not isinstance(items, list):
        raise unreadable_query(response, VENDOR, plural, expected=f"a list of {plural}")
    pages = found.get("pages")
    return [item for item in items if isinstance(item, Mapping)], pages if isinstance(pages, int) else 1


def search(ctx: ActionContext, path: str, plural: str, filters: Mapping[str, str], *,
           include: str | None = None) -> Generator[Request, Response, list[Mapping[str, Any]]]:
    """Every object of ``path`` the ``search[…]`` ``filters`` select, read page after page
    (100 a page), deleted ones left out."""
    found: list[Mapping[str, Any]] = []
    page = 1
    while True:
        params = {f"search[{name}]": value for name, value in filters.items()}
        params.update({"page": str(page), "per_page": str(PER_PAGE)})
        if include:
            params["include[]"] = include
        answer = yield Request("GET", account_url(ctx, path), params=params, headers={"Accept": "application/json"})
        items, pages = listing(answer, plural)
        found += [item for item in items if item.get("vis_state") != DELETED]
        if page >= pages or not items:
            return found
        if page >= MAX_PAGES:
            raise VendorError(f"FreshBooks lists more than {MAX_PAGES * PER_PAGE} {plural} for "
                              f"{dict(filters)}: too many to look one up among", kind="permanent")
        page += 1


def money(value: Decimal, currency: str) -> dict[str, str]:
    """``{"amount": "12.50", "code": "USD"}`` with the currency's decimals, at most the two
    FreshBooks keeps (``"1500"`` yen, ``"1.25"`` dinars). ``value`` was fitted to both already
    (:func:`.fields.money_in`)."""
    places = min(exponent(currency), FRESHBOOKS_PLACES)
    return {"amount": f"{value.quantize(Decimal(1).scaleb(-places)):f}", "code": currency}


def read_money(value: object) -> tuple[Decimal, str] | None:
    """``(amount, code)`` of a FreshBooks money object, or None when it is not one."""
    if not isinstance(value, Mapping) or not isinstance(value.get("amount"), str):
        return None
    try:
        amount = Decimal(value["amount"])
    except InvalidOperation:
        return None
    return (amount, str(value.get("code") or "")) if amount.is_finite() else None


def mark(source_id: str) -> str:
    """The text that keeps a source's id on a FreshBooks object (:data:`SOURCE_MARK`)."""
    return SOURCE_MARK.format(source=source_id)


def marked(text: object, source_id: str) -> bool:
    """Whether ``text`` carries exactly ``source_id``'s mark (not one that merely starts
    with it: ``cus_1`` is not ``cus_12``)."""
    return isinstance(text, str) and source_id in _MARK.findall(text)


__all__ = ["ARCHIVED", "DELETED", "FRESHBOOKS_PLACES", "JSON_HEADERS", "MAX_PAGES", "PER_PAGE", "SOURCE_MARK", "account_url",
           "checked_id", "create", "envelope", "listing", "mark", "marked", "money", "object_id", "read", "read_money",
           "result", "search", "update", "written"]
