"""The accounting resources' common ways: envelopes, lists with ``search[…]`` and pages, reads
with ``include[]``, creates and updates from ``{"<singular>": {…}}``, deletion by ``vis_state``.

As FreshBooks documents them (https://www.freshbooks.com/api/parameters,
https://www.freshbooks.com/api/pagination, https://www.freshbooks.com/api/active_deleted):

- an answer is ``{"response": {"result": {"<singular>": {…}}}}``, a list
  ``{"response": {"result": {"<collection>": […], "page", "pages", "per_page", "total"}}}``;
- a list pages by ``page`` (from 1) and ``per_page`` (15 unless given; **more than 100 gives
  100**, silently); ``pages`` is at least 1;
- ``search[<field>]=v`` keeps the objects whose field is ``v``; ``search[<field>_like]=v`` those
  whose field contains it (any case); ``search[<field>_min]`` / ``_max`` those at or after /
  before it (``updated_min`` reads ``updated``, or ``updated_at`` where the object has that);
  ``search[<ids>][]=1&…`` (a plural id field, ``userids``, ``invoiceids``) those among them.
  A field the objects do not have is refused (400) — FreshBooks may ignore it, but a misspelt
  filter that matched everything would hide a client's bug;
- deleted objects (``vis_state`` 1) are listed only when asked for (``search[vis_state]=1``) but
  read by id still; ``PUT {"<singular>": {"vis_state": 1}}`` deletes, ``0`` undeletes, as
  FreshBooks undoes a deletion (invoices and taxes also take ``DELETE``);
- sub-objects come only when asked for: ``include[]=lines`` for an invoice's or credit note's
  lines (without it, no ``lines`` key at all).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledgerlink import jsonio
from ledgerlink.errors import LedgerlinkError
from ledgerlink.testing.sandbox import Reply

from . import errors, spec
from .businesses import ID_FIELDS, Business
from .errors import Problem

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100
#: an object's create: (the object saved, or None) and the problems that refused it
Create = Callable[[Business, dict[str, Any]], tuple[dict[str, Any] | None, list[Problem]]]
#: an update of ``existing`` (changed in place) by ``changes``: the problems that refused it
Update = Callable[[Business, dict[str, Any], dict[str, Any]], list[Problem]]


@dataclass(frozen=True)
class Kind:
    """One resource: where it lives, its names, its request schemas and its own rules."""

    collection: str            # "clients"
    path: str                  # "users/clients"
    singular: str              # "client"
    create_schema: str | None  # the spec's schema of the POST body (or the sandbox's own, spec.OWN)
    update_schema: str | None
    create: Create
    update: Update
    includes: tuple[str, ...] = ()   # sub-objects answered only with include[]
    deletable: bool = False          # also takes DELETE
    event: str | None = None         # the callback event prefix (``invoice``)
    list_key: str | None = None      # the list's key when not the collection (``other_income``)
    #: why an object may not be deleted now (an invoice with payments), else []
    removable: Callable[[Business, dict[str, Any]], list[Problem]] | None = None
    #: what else moves once an object is created, changed or deleted (a payment's invoice):
    #: the (collection, id) of each object it updated, announced after the object's own event
    after: Callable[[Business, dict[str, Any]], list[tuple[str, int]]] | None = None


#: "users/clients" → Kind, filled by the resource modules (:func:`register`)
KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.path] = kind
    return kind


def envelope(result: Mapping[str, Any]) -> Reply:
    return Reply.json(200, {"response": {"result": dict(result)}})


def present(kind: Kind, business: Business, found: dict[str, Any], includes: set[str]) -> dict[str, Any]:
    """``found`` as FreshBooks answers it: sub-objects only when included."""
    return {key: value for key, value in found.items()
            if key not in kind.includes or key in includes}


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _search(business: Business, kind: Kind, args: Mapping[str, list[str]]) -> tuple[list[dict[str, Any]], list[Problem]]:
    objects = business.all(kind.collection)
    fields = set().union(*(obj.keys() for obj in objects)) if objects else set()
    problems: list[Problem] = []
    wanted_state = "0"
    for key, values in args.items():
        if not key.startswith("search["):
            continue
        name = key[len("search["):].split("]", 1)[0]
        value = values[-1]
        if name == "vis_state":
            wanted_state = value
            continue
        test: Callable[[Any], bool]
        if name.endswith("_like"):
            field = name[:-5]
            test = lambda have, v=value.lower(): have is not None and v in str(have).lower()  # noqa: E731
        elif name.endswith("_min") or name.endswith("_max"):
            field = name[:-4]
            if field == "updated" and "updated" not in fields:
                field = "updated_at"
            high = name.endswith("_max")
            value = value.replace("T", " ").rstrip("Z")  # ISO 8601 as FreshBooks' own stamps write it
            test = lambda have, v=value, high=high: have is not None and (  # noqa: E731
                str(have) <= v if high else str(have) >= v)
        elif key.endswith("[]") and name.endswith("ids"):
            field = name[:-1]
            wanted = set(values)
            test = lambda have, wanted=wanted: str(have) in wanted  # noqa: E731
        else:
            field = name
            test = lambda have, v=value: str(have).lower() == v.lower() if have is not None else v == ""  # noqa: E731
        if objects and field not in fields:
            problems.append(Problem(errors.INVALID_FIELD, f"Unknown search field {name}.", name, kind.singular, value))
            continue
        objects = [obj for obj in objects if test(obj.get(field))]
    objects = [obj for obj in objects if str(obj.get("vis_state", 0)) == wanted_state or wanted_state == "all"]
    return objects, problems


def listing(business: Business, kind: Kind, args: Mapping[str, list[str]], shape: str) -> Reply:
    """``GET …/<path>``: a page of the objects the search keeps."""
    found, problems = _search(business, kind, args)
    page = _number((args.get("page") or ["1"])[-1])
    per_page = _number((args.get("per_page") or [str(DEFAULT_PER_PAGE)])[-1])
    if page is None or page < 1:
        problems.append(Problem(errors.INVALID_FIELD, "page must be a positive number.", "page"))
    if per_page is None or per_page < 1:
        problems.append(Problem(errors.INVALID_FIELD, "per_page must be a positive number.", "per_page"))
    if problems or page is None or per_page is None:
        return errors.invalid(problems, shape)
    per_page = min(per_page, MAX_PER_PAGE)
    includes = set(args.get("include[]", []))
    total = len(found)
    pages = max(1, -(-total // per_page))
    chosen = found[(page - 1) * per_page: page * per_page]
    return envelope({kind.list_key or kind.collection: [present(kind, business, obj, includes) for obj in chosen],
                     "page": page, "pages": pages, "per_page": per_page, "total": total})


def read(business: Business, kind: Kind, number: str, args: Mapping[str, list[str]], shape: str) -> Reply:
    found = business.get(kind.collection, int(number)) if number.isdigit() else None
    if found is None:
        return errors.not_found(kind.singular, ID_FIELDS[kind.collection], number, shape)
    return envelope({kind.singular: present(kind, business, found, set(args.get("include[]", [])))})


def body_of(kind: Kind, body: bytes, schema: str | None, shape: str,
            update: bool = False) -> tuple[dict[str, Any] | None, Reply | None]:
    """The ``{"<singular>": {…}}`` of ``body`` checked against ``schema``, or the refusal."""
    try:
        data = jsonio.loads(body) if body else None
    except (ValueError, LedgerlinkError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get(kind.singular), dict):
        return None, errors.invalid([Problem(errors.INVALID_FIELD, f"The request must hold a {kind.singular} object.",
                                             kind.singular, kind.singular)], shape)
    found = spec.problems(schema, data, update=update) if schema else []
    if found:
        return None, errors.invalid([Problem(errors.INVALID_FIELD, message, path, kind.singular)
                                     for path, message in found], shape)
    return data[kind.singular], None


def create(business: Business, kind: Kind, body: bytes, args: Mapping[str, list[str]], shape: str) -> Reply:
    fields, refused = body_of(kind, body, kind.create_schema, shape)
    if refused is not None:
        return refused
    with business.lock:
        saved, problems = kind.create(business, dict(fields or {}))
        if problems or saved is None:
            return errors.invalid(problems, shape)
        saved.setdefault("vis_state", 0)
        moved = kind.after(business, saved) if kind.after is not None else []
    business.changed(kind.collection, saved["id"], "create")
    _announce(business, moved)
    return envelope({kind.singular: present(kind, business, saved, set(args.get("include[]", [])))})


def update(business: Business, kind: Kind, number: str, body: bytes, args: Mapping[str, list[str]],
           shape: str) -> Reply:
    fields, refused = body_of(kind, body, kind.update_schema, shape, update=True)
    if refused is not None:
        return refused
    with business.lock:
        found = business.get(kind.collection, int(number)) if number.isdigit() else None
        if found is None:
            return errors.not_found(kind.singular, ID_FIELDS[kind.collection], number, shape)
        changes = dict(fields or {})
        state = changes.pop("vis_state", None)
        deleting = state is not None and str(state) == "1" and found.get("vis_state") != 1
        if state is not None and str(state) not in ("0", "1", "2"):
            return errors.invalid([Problem(errors.INVALID_FIELD, "vis_state must be 0, 1 or 2.", "vis_state",
                                           kind.singular, str(state))], shape)
        problems = kind.removable(business, found) if deleting and kind.removable is not None else []
        problems = problems or (kind.update(business, found, changes) if changes else [])
        if problems:
            return errors.invalid(problems, shape)
        verb = "delete" if deleting else "update"
        if state is not None:
            found["vis_state"] = int(state)
        moved = kind.after(business, found) if kind.after is not None else []
        if "updated" in found:
            found["updated"] = business.now()
        if "updated_at" in found:
            found["updated_at"] = business.now()
    business.changed(kind.collection, found["id"], verb)
    _announce(business, moved)
    return envelope({kind.singular: present(kind, business, found, set(args.get("include[]", [])))})


def _announce(business: Business, moved: list[tuple[str, int]]) -> None:
    for collection, number in moved:
        business.changed(collection, number, "update")


def delete(business: Business, kind: Kind, number: str, shape: str) -> Reply:
    """``DELETE …/<id>`` (invoices, taxes): the object's ``vis_state`` becomes 1."""
    with business.lock:
        found = business.get(kind.collection, int(number)) if number.isdigit() else None
        if found is None:
            return errors.not_found(kind.singular, ID_FIELDS[kind.collection], number, shape)
        problems = kind.removable(business, found) if kind.removable is not None else []
        if problems:
            return errors.invalid(problems, shape)
        found["vis_state"] = 1
        moved = kind.after(business, found) if kind.after is not None else []
    business.changed(kind.collection, found["id"], "delete")
    _announce(business, moved)
    return envelope({})


__all__ = ["DEFAULT_PER_PAGE", "KINDS", "Kind", "MAX_PER_PAGE", "body_of", "create", "delete", "envelope",
           "listing", "present", "read", "register", "update"]
