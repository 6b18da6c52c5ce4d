"""The reads the trigger side makes: one object by id, and a page of a list changed since a day.

Sans-I/O: each function builds a :class:`Request` or reads a :class:`Response`. The
accounting paths carry the business's ``account_id``
(``{api_base}/accounting/account/{account_id}/…``, https://www.freshbooks.com/api/start);
answers are ``{"response": {"result": {…}}}``; errors are read by :mod:`.errors` (FreshBooks'
three error shapes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response
from ledgerlink.errors import ConfigError, VendorError

from .errors import classify, gone

#: FreshBooks' API root when a connection names none
API_BASE = "https://api.freshbooks.com"
#: object → (its collection's path, the key of one in an answer, the key of a list)
OBJECTS: dict[str, tuple[str, str, str]] = {
    "payment": ("payments/payments", "payment", "payments"),
    "invoice": ("invoices/invoices", "invoice", "invoices"),
    "client": ("users/clients", "client", "clients"),
}
#: what an object is read with: an invoice's lines come only when asked for
INCLUDES: dict[str, tuple[str, ...]] = {"invoice": ("lines",)}
#: FreshBooks returns at most this many a page, whatever per_page asks
PAGE_SIZE = 100
#: ``vis_state`` of a deleted object
DELETED = 1


def business(ctx: ActionContext) -> tuple[str, str]:
    """The connection's API root and its business's ``account_id``."""
    settings = ctx.connection.settings
    account = settings.get("account_id")
    if not account:
        raise ConfigError(f"connection {ctx.connection.name!r} has no account_id yet: run `ledgerlink "
                          f"connect {ctx.connection.name}` first (the consent names the business)")
    return str(settings.get("api_base") or API_BASE).rstrip("/"), str(account)


def collection(ctx: ActionContext, obj: str) -> str:
    """The URL of ``obj``'s collection for the connection's business."""
    root, account = business(ctx)
    return f"{root}/accounting/account/{account}/{OBJECTS[obj][0]}"


def _params(obj: str) -> dict[str, str]:
    # the host sends a mapping: one include each (FreshBooks reads include[]=lines)
    return {"include[]": INCLUDES[obj][0]} if obj in INCLUDES else {}


def read_one(ctx: ActionContext, obj: str, object_id: str) -> Request:
    """``GET`` one object by id."""
    if not object_id.isdigit():
        raise VendorError(f"{object_id!r} is not a FreshBooks {obj} id", kind="permanent")
    return Request("GET", f"{collection(ctx, obj)}/{object_id}", params=_params(obj))


def _result(response: Response, what: str) -> Mapping[str, Any]:
    error = classify(response)
    if error is not None:
        raise error
    body = response.json
    result = body.get("response", {}).get("result") if isinstance(body, Mapping) else None
    if not isinstance(result, Mapping):
        raise VendorError(f"FreshBooks answered the read of {what} without response.result",
                          kind="retry", status=response.status)
    return result


def one(response: Response, obj: str) -> dict[str, Any] | None:
    """The object of a read by id; None when FreshBooks no longer has it (404, or deleted)."""
    if gone(response):
        return None
    found = _result(response, f"a {obj}").get(OBJECTS[obj][1])
    if not isinstance(found, Mapping) or found.get("id") is None:
        raise VendorError(f"FreshBooks answered the read of a {obj} without the {obj}", kind="retry",
                          status=response.status)
    return None if found.get("vis_state") == DELETED else dict(found)


def changed_since(ctx: ActionContext, obj: str, day: str, page: int) -> Request:
    """``GET`` page ``page`` of the objects updated on ``day`` (YYYY-MM-DD) or later."""
    params = {"search[updated_min]": day, "page": str(page), "per_page": str(PAGE_SIZE), **_params(obj)}
    return Request("GET", collection(ctx, obj), params=params)


def listed(response: Response, obj: str) -> tuple[list[dict[str, Any]], int]:
    """The objects of a list page and how many pages the list has."""
    result = _result(response, f"the {OBJECTS[obj][2]}")
    items = result.get(OBJECTS[obj][2])
    if not isinstance(items, list) or not all(isinstance(i, Mapping) and i.get("id") is not None for i in items):
        raise VendorError(f"FreshBooks listed {OBJECTS[obj][2]} without a list of them", kind="retry",
                          status=response.status)
    pages = result.get("pages", 1)
    return [dict(i) for i in items], pages if isinstance(pages, int) and pages >= 0 else 1
