"""The reads the trigger side makes: one object by id, and a page of a list changed since a day.

Sans-I/O, on the connector's client (:mod:`.api`: the account's paths, the envelopes, the
error shapes): each function builds a :class:`Request` or reads a :class:`Response`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response
from ledgerlink.errors import ConfigError, VendorError

from . import api
from .errors import classify, gone

#: object → (its collection's path, the key of one in an answer, the key of a list)
OBJECTS: dict[str, tuple[str, str, str]] = {
    "payment": ("payments/payments", "payment", "payments"),
    "invoice": ("invoices/invoices", "invoice", "invoices"),
    "client": ("users/clients", "client", "clients"),
}
#: what an object is read with: an invoice's lines come only when asked for
INCLUDES: dict[str, str] = {"invoice": "lines"}
#: ``vis_state`` of a deleted object
DELETED = api.DELETED


def business(ctx: ActionContext) -> tuple[str, str]:
    """The connection's API root and its business's ``account_id``."""
    settings = ctx.connection.settings
    account = settings.get("account_id")
    if not account:
        raise ConfigError(f"connection {ctx.connection.name!r} has no account_id yet: run `ledgerlink "
                          f"connect {ctx.connection.name}` first (the consent names the business)")
    return str(settings.get("api_base") or api.API_BASE).rstrip("/"), str(account)


def read_one(ctx: ActionContext, obj: str, object_id: str) -> Request:
    """``GET`` one object by id."""
    return api.read(ctx, OBJECTS[obj][0], object_id, include=INCLUDES.get(obj))


def one(response: Response, obj: str) -> dict[str, Any] | None:
    """The object of a read by id; None when FreshBooks no longer has it (404, errno 1012, or
    deleted)."""
    if gone(response):
        return None
    error = classify(response)
    if error is not None:
        raise error
    found = api.result(response, OBJECTS[obj][1])
    if found is None or found.get("id") is None:
        raise VendorError(f"FreshBooks answered the read of a {obj} without the {obj}", kind="retry",
                          status=response.status)
    return None if found.get("vis_state") == DELETED else dict(found)


def changed_since(ctx: ActionContext, obj: str, day: str, page: int) -> Request:
    """``GET`` page ``page`` of the objects updated on ``day`` (YYYY-MM-DD) or later."""
    params = {"search[updated_min]": day, "page": str(page), "per_page": str(api.PER_PAGE)}
    if obj in INCLUDES:
        params["include[]"] = INCLUDES[obj]
    return Request("GET", api.account_url(ctx, OBJECTS[obj][0]), params=params,
                   headers={"Accept": "application/json"})


def listed(response: Response, obj: str) -> tuple[list[dict[str, Any]], int]:
    """The objects of a list page and how many pages the list has."""
    items, pages = api.listing(response, OBJECTS[obj][2])
    if not all(isinstance(i, Mapping) and i.get("id") is not None for i in items):
        raise VendorError(f"FreshBooks listed {OBJECTS[obj][2]} without their ids", kind="retry",
                          status=response.status)
    return [dict(i) for i in items], pages
