"""The Accounting API's collections: reads, filtered lists and batch writes, as Xero answers them.

Each collection is a :class:`Kind`: how to check one element Xero would refuse (its
messages) and how to save it. What every collection shares is here
(https://developer.xero.com/documentation/api/accounting/requests-and-responses):

- ``GET /<Collection>[/<id>]`` answers the envelope ``{"<Collection>": [...]}``; an unknown id
  is a 404. Lists take ``where`` (:mod:`.query`), ``IDs`` (comma-separated), ``page`` (100 a
  page, from 1; a paged list says where it is in ``pagination``), ``order=UpdatedDateUTC ASC``, the ``If-Modified-Since`` header (only elements
  updated after it) and, where they apply, ``InvoiceNumbers``, ``ContactIDs``, ``Statuses``;
- ``PUT`` creates, ``POST`` creates or (with the element's id) updates, from the envelope
  ``{"<Collection>": [...]}`` or one bare element. The body is first checked against Xero's
  strict schema: a field Xero does not know, or of the wrong type, refuses the element;
- ``summarizeErrors=false``: 200, every element answered with ``StatusAttributeString`` ``OK``
  (saved) or ``ERROR`` with its ``ValidationErrors`` (not saved). Otherwise (Xero's default),
  one refused element refuses the batch: 400 ``ValidationException`` naming every element
  and its errors, and the sandbox saves none (Xero may save the valid ones: never rely on it).
"""

from __future__ import annotations

import datetime
import email.utils
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledgerlink import jsonio
from ledgerlink.errors import LedgerlinkError
from ledgerlink.testing.sandbox import Reply

from . import errors, spec
from .org import Organisation
from .query import QueryError, where

PAGE_SIZE = 100
MS = re.compile(r"/Date\((-?\d+)")


@dataclass(frozen=True)
class Kind:
    """One collection: its envelope key, the schema of one element, its id field, whether it
    can be written, how to check an element (messages; ``existing`` when it updates one) and
    how to save it (returns the stored element)."""

    collection: str
    element: str
    id_field: str
    check: Callable[[Organisation, dict[str, Any], dict[str, Any] | None], list[str]] | None = None
    save: Callable[[Organisation, dict[str, Any], dict[str, Any] | None], dict[str, Any]] | None = None
    by_key: bool = False  # keyed by a code (Currencies, TaxRates), not an id


#: lower-case path segment → Kind; filled by the entity modules (:func:`register`)
KINDS: dict[str, Kind] = {}
#: list filters: query parameter → the field it matches (comma-separated values)
FILTERS = {"InvoiceNumbers": ("InvoiceNumber",), "ContactIDs": ("Contact", "ContactID"),
           "Statuses": ("Status",)}


#: (collection, sub-resource), lower case → its handler ``(org, method, parent id, args, body)``
#: (``PUT /CreditNotes/<id>/Allocations``)
SUBRESOURCES: dict[tuple[str, str], Callable[..., Reply]] = {}
#: lower-case path → a read-only answer that is not a collection (``Organisation``, ``Reports/TrialBalance``)
SINGLES: dict[str, Callable[[Organisation, Mapping[str, str]], Reply]] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.collection.lower()] = kind
    return kind


def envelope(kind: Kind, elements: list[dict[str, Any]]) -> Reply:
    return Reply.json(200, {kind.collection: elements})


def dispatch(org: Organisation, method: str, path: str, args: Mapping[str, str], body: bytes,
             headers: Mapping[str, str] | None = None) -> Reply:
    """The answer of the collection ``path`` names to ``method`` (see the module docstring)."""
    parts = [part for part in path.split("/") if part]
    if "/".join(parts).lower() in SINGLES:
        return SINGLES["/".join(parts).lower()](org, args) if method == "GET" else errors.not_found()
    if len(parts) == 3 and (parts[0].lower(), parts[2].lower()) in SUBRESOURCES:
        return SUBRESOURCES[(parts[0].lower(), parts[2].lower())](org, method, parts[1], args, body)
    kind = KINDS.get(parts[0].lower()) if parts else None
    if kind is None or len(parts) > 2:
        return errors.not_found()
    entity_id = parts[1] if len(parts) == 2 else None
    if method == "GET":
        return _read(org, kind, entity_id, args, (headers or {}).get("if-modified-since"))
    if method in ("PUT", "POST") and kind.save is not None and not (method == "PUT" and entity_id):
        return _write(org, kind, method, entity_id, args, body)
    return errors.not_found()


def _modified_since(value: str) -> int | None:
    """``If-Modified-Since`` (an HTTP date, or ISO 8601 in UTC as Xero's SDKs send it) in
    milliseconds since 1970; None when unreadable."""
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp() * 1000)


def _updated(element: Mapping[str, Any]) -> int:
    found = MS.match(str(element.get("UpdatedDateUTC") or ""))
    return int(found.group(1)) if found else 0


def _read(org: Organisation, kind: Kind, entity_id: str | None, args: Mapping[str, str],
          modified_since: str | None = None) -> Reply:
    if entity_id is not None:
        found = org.get(kind.collection, entity_id) if not kind.by_key else \
            org.entities[kind.collection].get(entity_id)
        return envelope(kind, [found]) if found is not None else errors.not_found()
    elements = org.all(kind.collection)
    if modified_since:
        since = _modified_since(modified_since)
        if since is None:
            return errors.bad_request(f"If-Modified-Since is not a date: {modified_since!r}")
        elements = [element for element in elements if _updated(element) > since]
    if args.get("order", "").replace(" ", "").lower() in ("updateddateutc", "updateddateutcasc"):
        elements.sort(key=_updated)
    if args.get("where"):
        try:
            predicate = where(args["where"])
        except QueryError as exc:
            return Reply.json(400, {"ErrorNumber": 16, "Type": "QueryParseException", "Message": str(exc)},
                              errors.correlation())
        elements = [element for element in elements if predicate(element)]
    if args.get("IDs"):
        wanted = {value.strip().lower() for value in args["IDs"].split(",")}
        elements = [element for element in elements if str(element.get(kind.id_field)).lower() in wanted]
    for parameter, path in FILTERS.items():
        if args.get(parameter):
            wanted = {value.strip().lower() for value in args[parameter].split(",")}
            elements = [element for element in elements if str(_at(element, path)).lower() in wanted]
    if args.get("page"):
        try:
            page = max(1, int(args["page"]))
        except ValueError:
            return errors.bad_request(f"page must be a number, got {args['page']!r}")
        count = len(elements)
        elements = elements[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        if "pagination" in spec.load()[kind.collection].get("properties", {}):  # Xero's paged lists
            return Reply.json(200, {"pagination": {"page": page, "pageSize": PAGE_SIZE,
                                                   "pageCount": -(-count // PAGE_SIZE), "itemCount": count},
                                    kind.collection: elements})
    return envelope(kind, elements)


def _at(element: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = element
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _known(kind: Kind, element: dict[str, Any]) -> dict[str, Any]:
    """``element`` as Xero echoes it: read into its model, so only the fields it knows, of
    the types it declares (a field of the wrong type is left out)."""
    properties = spec.load()[kind.element].get("properties", {})

    def fits(key: str, value: Any) -> bool:  # the field alone: the others' absence is no problem of its
        return not [problem for problem in spec.problems(kind.element, {key: value})
                    if not problem.endswith("is a required property")]

    return {key: value for key, value in element.items() if key in properties and fits(key, value)}


def _fit(kind: Kind, element: dict[str, Any]) -> dict[str, Any]:
    """``element`` without the status fields its schema does not have (a BankTransfer has no
    ``StatusAttributeString``)."""
    properties = spec.load()[kind.element].get("properties", {})
    return {key: value for key, value in element.items()
            if key in properties or key not in ("StatusAttributeString", "ValidationErrors")}


def _elements(kind: Kind, data: Any) -> list[Any] | None:
    if isinstance(data, dict) and kind.collection in data and isinstance(data[kind.collection], list):
        return data[kind.collection]
    if isinstance(data, dict) and kind.collection not in data:
        return [data]
    return None


def _write(org: Organisation, kind: Kind, method: str, entity_id: str | None, args: Mapping[str, str],
           body: bytes) -> Reply:
    try:
        data = jsonio.loads(body)
    except (ValueError, LedgerlinkError):
        return errors.bad_request("The request body is not valid JSON")
    elements = _elements(kind, data)
    if not elements:
        return errors.bad_request(f"No {kind.collection} were found in the request")
    summarize = str(args.get("summarizeErrors", "true")).lower() != "false"
    results: list[tuple[dict[str, Any], list[str], dict[str, Any] | None]] = []
    with org.lock:
        org.unit_places = 4 if str(args.get("unitdp", "")) == "4" else 2  # read by the line arithmetic
        for element in elements:
            if not isinstance(element, dict):
                results.append(({}, [f"A {kind.element} must be an object"], None))
                continue
            messages = [kind.element + message[len("(body)"):] if message.startswith("(body)")
                        else f"{kind.element}.{message}" for message in spec.problems(kind.element, element)]
            existing = None
            wanted = element.get(kind.id_field) or (entity_id if len(elements) == 1 else None)
            if wanted and method == "POST":
                existing = org.get(kind.collection, str(wanted))
                if existing is None:
                    messages.append(f"{kind.element} with {kind.id_field} {wanted} was not found")
            elif wanted:
                messages.append(f"{kind.id_field} cannot be set when creating a {kind.element}")
            if existing is not None:  # an update sends only what changes
                messages = [m for m in messages if not (m.startswith(f"{kind.element}: ")
                                                        and m.endswith("is a required property"))]
            if not messages and kind.check is not None:
                messages = kind.check(org, element, existing)
            results.append((element, messages, existing))
        refused = any(messages for _, messages, _ in results)
        if summarize and refused:
            reply = errors.validation([_fit(kind, errors.with_errors(_known(kind, element), messages)) if messages
                                       else _known(kind, element) for element, messages, _ in results])
            reply.headers["X-Sandbox-Element"] = kind.element
            return reply
        answered = []
        for element, messages, existing in results:
            if messages:
                answered.append(_fit(kind, errors.with_errors(_known(kind, element), messages)))
                continue
            saved = kind.save(org, element, existing)  # type: ignore[misc]
            org.changed(kind.collection, str(saved.get(kind.id_field)), existing is None)
            answered.append(_fit(kind, {**saved, "StatusAttributeString": "OK"}) if not summarize else saved)
    return envelope(kind, answered)


__all__ = ["FILTERS", "KINDS", "Kind", "PAGE_SIZE", "SINGLES", "SUBRESOURCES", "dispatch", "envelope", "register"]
