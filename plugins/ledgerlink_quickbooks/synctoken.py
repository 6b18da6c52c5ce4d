"""Changing an entity QuickBooks has: the SyncToken read-modify-write.

Every change of an existing QBO entity carries its ``Id`` and its current ``SyncToken``
(Intuit docs, "Update"); a token another writer has moved on is refused with the Stale Object
fault, code 5010. :func:`write` is the one way this connector changes an entity, for the
actions of :mod:`.updates`, the item undo of :mod:`.items` and any update action to come:

1. read the entity (``GET …/<endpoint>/<Id>``) for its ``SyncToken``;
2. ask a ``plan`` what to send given what is there — None when it is so already (the
   invoice is void, the fields hold those values), then nothing is written;
3. ``POST …/<endpoint>`` (``?operation=void`` for a void) with ``Id``, ``SyncToken`` and the
   plan's fields, ``"sparse": true`` for an update so QuickBooks keeps every field not sent;
4. on 5010, read again, plan again and write once more; a second 5010 is the error.

The write's ``requestid`` is the step's idempotency key, so a resent write is answered
from QuickBooks' memory instead of applied twice. The retry after a 5010 uses a requestid
derived from it (:func:`retry_request_id`): QuickBooks answers a requestid it has seen
with its first answer, and that was the 5010.

:func:`sparse_update` is the common case: send only the fields given, and nothing at all
when the entity already holds them, so a replayed step is a no-op. Nothing here reads a
step's input beyond the entity Id (:func:`entity_id`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import ActionContext, Request, Response
from ledgerlink.errors import InputError, VendorError

from .api import JSON_HEADERS, MAX_REQUEST_ID, classify, entity_url, params, request_id

#: ``Error.code`` of QBO's Stale Object fault: the SyncToken sent is not the current one
STALE_CODE = "5010"
#: ``Error.code`` of Object Not Found
NOT_FOUND_CODE = "610"
#: writes after the first one that a stale SyncToken earns (read again, write again)
STALE_RETRIES = 1

_ID = re.compile(r"^[A-Za-z0-9-]{1,50}$")
ID_SCHEMA_PATTERN = _ID.pattern

#: ``plan(current) -> fields to send, or None``: what a write changes, given the entity as read
Plan = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Written:
    """What :func:`write` did: the entity as QuickBooks last answered it, whether a write was
    made (False: the plan found nothing to do), and how many writes were sent."""

    entity: dict[str, Any]
    written: bool
    writes: int


def id_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a QuickBooks entity Id (it becomes a path segment), or None."""
    if isinstance(value, str) and _ID.fullmatch(value):
        return None
    return (f"must be the QuickBooks Id of the entity as a string such as \"130\" (letters, "
            f"digits and '-'), got {contract.show(value)}")


def entity_id(value: Any, action: str, what: str = "Id") -> str:
    """A QuickBooks entity Id from the input, checked; else an :class:`InputError`."""
    problem = id_problem(value)
    if problem is not None:
        raise InputError(f"{action}: {what} {problem}")
    return value


def is_stale(error: VendorError | None) -> bool:
    """True for QuickBooks' Stale Object fault (5010): the SyncToken sent is outdated."""
    return error is not None and (error.vendor_code == STALE_CODE
                                  or f"code {STALE_CODE}:" in error.message)


def is_not_found(error: VendorError | None) -> bool:
    """True for QuickBooks' Object Not Found fault (610)."""
    return error is not None and error.vendor_code == NOT_FOUND_CODE


def retry_request_id(request_id: str, attempt: int) -> str:
    """The requestid of write number ``attempt`` (0 is the first) for a step's ``request_id``.

    Derived, so that a replayed step sends the same ids again, and at most
    :data:`~.api.MAX_REQUEST_ID` characters long.
    """
    if attempt == 0:
        return request_id
    suffix = f"-r{attempt}"
    if len(request_id) + len(suffix) <= MAX_REQUEST_ID:
        return request_id + suffix
    digest = hashlib.sha256(request_id.encode("utf-8")).hexdigest()
    return digest[:MAX_REQUEST_ID - len(suffix)] + suffix


def _entity(response: Response, entity: str) -> dict[str, Any]:
    found = response.json.get(entity) if isinstance(response.json, Mapping) else None
    if not isinstance(found, Mapping) or not found.get("Id"):
        raise VendorError(f"QuickBooks answered HTTP {response.status} without the {entity}",
                          kind="permanent", status=response.status)
    return dict(found)


def read(ctx: ActionContext, entity: str, endpoint: str,
         target: str) -> Generator[Request, Response, dict[str, Any]]:
    """``GET …/<endpoint>/<target>``: the entity as it is now (a fault raises its VendorError)."""
    url = entity_url(ctx.connection.settings, endpoint)
    response = yield Request(method="GET", url=f"{url}/{target}", params=params(None),
                             headers={"Accept": "application/json"})
    error = classify(response)
    if error is not None:
        raise error
    return _entity(response, entity)


def write(ctx: ActionContext, action: str, entity: str, endpoint: str, target: str, plan: Plan, *,
          operation: str | None = None, sparse: bool = True,
          current: Mapping[str, Any] | None = None) -> Generator[Request, Response, Written]:
    """Read ``entity`` ``target`` for its SyncToken (unless ``current`` was just read), write
    what ``plan`` says, and on a stale SyncToken (5010) read again and write once more.

    ``operation`` is QBO's ``?operation=`` (``"void"``); ``sparse`` adds ``"sparse": true``
    (QuickBooks keeps every field not sent). The requestid is the step's idempotency key
    (checked by :func:`.api.request_id`). A fault other than 5010, or a second 5010,
    raises its :class:`VendorError`.
    """
    key = request_id(ctx.idempotency_key, action)
    url = entity_url(ctx.connection.settings, endpoint)
    extra = {"operation": operation} if operation else {}
    if current is None:
        current = yield from read(ctx, entity, endpoint, target)
    attempt = 0
    while True:
        fields = plan(current)
        if fields is None:
            return Written(dict(current), written=False, writes=attempt)
        body: dict[str, Any] = {"Id": str(current.get("Id", target)),
                                "SyncToken": str(current.get("SyncToken", "0"))}
        if sparse:
            body["sparse"] = True
        body.update(fields)
        response = yield Request(method="POST", url=url,
                                 params={**params(retry_request_id(key, attempt)), **extra},
                                 headers=dict(JSON_HEADERS), json=body)
        error = classify(response)
        if error is None:
            return Written(_entity(response, entity), written=True, writes=attempt + 1)
        if not is_stale(error):
            raise error
        if attempt == STALE_RETRIES:
            raise VendorError(f"{action}: the {entity} {target} changed again while it was being "
                              f"written ({attempt + 1} writes, each with the SyncToken just read); "
                              f"{error.message}", kind=error.kind, status=error.http_status,
                              vendor_code=error.vendor_code)
        current = yield from read(ctx, entity, endpoint, target)
        attempt += 1


def same(current: Any, wanted: Any) -> bool:
    """Whether an entity's field already holds ``wanted``: objects compare by the keys given
    (``{"Address": …}`` against an address with more keys), other values exactly."""
    if isinstance(wanted, Mapping):
        return isinstance(current, Mapping) and all(same(current.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, bool) or isinstance(current, bool):
        return current is wanted
    return current == wanted


def sparse_update(ctx: ActionContext, action: str, entity: str, endpoint: str, target: str,
                  fields: Mapping[str, Any]) -> Generator[Request, Response, Written]:
    """Send only ``fields`` (a sparse update), retried once on a stale SyncToken; nothing
    when the entity already holds every one of them."""
    def plan(current: Mapping[str, Any]) -> dict[str, Any] | None:
        if all(same(current.get(key), value) for key, value in fields.items()):
            return None
        return dict(fields)

    return (yield from write(ctx, action, entity, endpoint, target, plan))



__all__ = ["ID_SCHEMA_PATTERN", "NOT_FOUND_CODE", "STALE_CODE", "STALE_RETRIES", "Plan", "Written",
           "entity_id", "id_problem", "is_not_found", "is_stale", "read", "retry_request_id", "same",
           "sparse_update", "write"]
