"""What every Xero Accounting API request shares: addresses, envelopes, keys, dates, filters.

Nothing here performs I/O; every function builds a :class:`~ledgerlink.contract.Request` or
reads a :class:`~ledgerlink.contract.Response`.

- **Envelopes.** Xero writes and answers collections: ``PUT /Invoices`` takes
  ``{"Invoices": [{…}]}`` and answers ``{"Id": …, "Status": "OK", "Invoices": [{…}]}``
  (https://developer.xero.com/documentation/api/accounting/requests-and-responses).
  :func:`create` sends one element with ``summarizeErrors=false``, so Xero answers 200 and
  marks the element ``StatusAttributeString: "OK" | "ERROR"`` with its ``ValidationErrors``;
  :func:`created` reads it element by element (an element in error is a permanent failure
  naming each message).
- **Idempotency.** Every write carries the step's key in ``Idempotency-Key`` (at most 128
  characters); Xero keeps a key about 6 minutes and replays its first answer, errors
  included (https://developer.xero.com/documentation/guides/idempotent-requests/idempotency).
- **Unit prices** are sent and answered with 4 decimal places (``unitdp=4``) where the
  endpoint takes it; amounts otherwise are Xero's 2 decimal places, as JSON numbers.
- **Dates** are sent ``YYYY-MM-DD``; Xero answers ``/Date(1580607782916+0000)/`` (milliseconds
  since the epoch, UTC), read by :func:`xero_date`.
- **Filters** (``where``) are Xero's expression language with values in double quotes; a
  value Xero cannot parse (a double quote or a backslash: Xero has no escape that works, see
  https://github.com/XeroAPI/Xero-Java/issues/347) is refused before a request exists.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, unreadable_query, unreadable_write
from ledgerlink.errors import ConfigError, InputError, VendorError

from .errors import VENDOR, classify, element_problems, fixes
from .settings import API_BASE

#: Xero's longest Idempotency-Key ([spec] parameter ``idempotencyKey``, maxLength 128)
MAX_IDEMPOTENCY_KEY = 128

#: seconds Xero remembers an Idempotency-Key: about 6 minutes (Xero's idempotency guide);
#: after that a write whose answer was lost is looked up before it is sent again
IDEMPOTENCY_KEY_LIFETIME = 6 * 60.0

#: endpoints that take ``unitdp`` (unit amounts with 4 decimal places): [spec] parameter lists
UNITDP_COLLECTIONS = frozenset({"Invoices", "CreditNotes", "BankTransactions", "Items"})
#: endpoints whose create (PUT) takes ``summarizeErrors``
SUMMARIZE_COLLECTIONS = frozenset({"Contacts", "Invoices", "Payments", "ManualJournals", "BankTransactions",
                                   "CreditNotes", "Items"})

JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_COLLECTION = re.compile(r"^[A-Za-z]+$")
_ID = re.compile(r"^[0-9A-Fa-f-]{1,64}$")
#: what a ``where`` value may not hold: Xero's parser has no working escape for these
_UNQUOTABLE = re.compile(r'["\\\x00-\x1f]')


def url(ctx: ActionContext, collection: str, entity_id: str | None = None) -> str:
    """``{api_base}/{collection}[/{id}]`` for the step's connection."""
    base = ctx.connection.settings.get("api_base") or API_BASE
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise ConfigError(f"Xero setting api_base must be an http(s) URL such as {API_BASE!r}, got {base!r}")
    if not _COLLECTION.match(collection):
        raise ValueError(f"a Xero collection is a word such as 'Invoices', not {collection!r}")
    address = f"{base.rstrip('/')}/{collection}"
    if entity_id is not None:
        address += f"/{checked_id(entity_id)}"
    return address


def checked_id(entity_id: object) -> str:
    """``entity_id`` when it can be a Xero id (a GUID) in a path; InputError otherwise."""
    if not isinstance(entity_id, str) or not _ID.match(entity_id):
        raise InputError(f"{entity_id!r} is not a Xero id (a GUID)")
    return entity_id


def idempotency_key(ctx: ActionContext, action: str) -> str:
    """The step's idempotency key, as Xero's ``Idempotency-Key`` takes it."""
    key = ctx.idempotency_key
    if not isinstance(key, str) or not key.strip():
        raise InputError(f"{action}: the step has no idempotency key; Xero needs one to create it only once")
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise InputError(f"{action}: the idempotency key is {len(key)} characters long; Xero takes at most "
                         f"{MAX_IDEMPOTENCY_KEY}")
    return key


def create(ctx: ActionContext, collection: str, element: Mapping[str, Any], action: str, *,
           method: str = "PUT") -> Request:
    """The one write of ``element`` into ``collection``, in Xero's envelope, carrying the
    step's key; ``summarizeErrors=false`` and ``unitdp=4`` where the endpoint takes them."""
    params = {}
    if collection in SUMMARIZE_COLLECTIONS and method == "PUT":
        params["summarizeErrors"] = "false"
    if collection in UNITDP_COLLECTIONS:
        params["unitdp"] = "4"
    return Request(method, url(ctx, collection), json={collection: [dict(element)]}, params=params,
                   headers={**JSON_HEADERS, "Idempotency-Key": idempotency_key(ctx, action)})


def read(ctx: ActionContext, collection: str, entity_id: str | None = None, *,
         where: str | None = None, **params: str) -> Request:
    """A GET of ``collection`` (one entity by id, or a list filtered by ``where``)."""
    query = dict(params)
    if where:
        query["where"] = where
    if collection in UNITDP_COLLECTIONS:
        query["unitdp"] = "4"
    return Request("GET", url(ctx, collection, entity_id), params=query, headers={"Accept": "application/json"})


def elements(response: Response, collection: str, entity: str) -> list[dict[str, Any]]:
    """The ``collection`` list of a successful answer (errors raise, classified)."""
    error = classify(response)
    if error is not None:
        raise error
    listed = response.json.get(collection) if isinstance(response.json, Mapping) else None
    if not isinstance(listed, list) or not all(isinstance(item, Mapping) for item in listed):
        raise unreadable_query(response, VENDOR, entity, expected=f"a {collection} list")
    return [dict(item) for item in listed]


def created(response: Response, collection: str, entity: str, id_field: str) -> dict[str, Any]:
    """The one element a create answered with: an element in error fails for good, naming
    each of its messages; an answer without the element leaves the outcome unknown."""
    error = classify(response)
    if error is not None:
        raise error
    listed = response.json.get(collection) if isinstance(response.json, Mapping) else None
    if not isinstance(listed, list) or len(listed) != 1 or not isinstance(listed[0], Mapping):
        raise unreadable_write(response, VENDOR, entity)
    element = dict(listed[0])
    problems = element_problems(element, f"/{collection}/0")
    if problems:
        raise VendorError(f"Xero refused the {entity}: " + "; ".join(problems + fixes(problems)), kind="permanent",
                          status=response.status, vendor_code="ValidationException")
    if not element.get(id_field):
        raise unreadable_write(response, VENDOR, entity)
    return element


def quoted(value: object, field: str) -> str:
    """``value`` as a double-quoted string of a ``where`` filter; InputError for what Xero's
    parser cannot read inside quotes."""
    text = str(value)
    if _UNQUOTABLE.search(text):
        raise InputError(f"{field} {text!r} holds a double quote, a backslash or a control character, "
                         f"which Xero cannot match in a filter; use a value without them")
    return f'"{text}"'


def where_all(conditions: Iterable[tuple[str, object]]) -> str:
    """``A=="x" AND B=="y"`` for (field, value) pairs, each value quoted."""
    return " AND ".join(f"{field}=={quoted(value, field)}" for field, value in conditions)


def xero_date(value: object) -> dt.date | None:
    """A date as Xero answers it (``/Date(ms+0000)/``, or ``YYYY-MM-DD[T…]``); None when it is not one."""
    if not isinstance(value, str):
        return None
    match = _MS_DATE.match(value)
    if match:
        return dt.datetime.fromtimestamp(int(match.group(1)) / 1000, tz=dt.timezone.utc).date()
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def send_date(value: dt.date) -> str:
    """A date as Xero takes it in a body: ``YYYY-MM-DD``."""
    return value.isoformat()
