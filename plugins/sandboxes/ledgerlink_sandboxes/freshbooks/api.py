"""The API's door: the token, the account, the rate window, then the resource.

Every ``/accounting/account/{account_id}/…`` and ``/events/account/{account_id}/…`` request
passes, in order:

1. ``Authorization: Bearer`` with a good token → else 401 (accounting: the new error shape
   with errno 1003, get_client_response__no_auth.json; events: ``{"errno": 401, …}``,
   get_callback_response__no_auth.json);
2. an ``account_id`` among the user's businesses → else 404 in the resource's shape; a
   FreshBooks Classic account → 403 (its books are in the Classic API, which this one does not
   serve);
3. a scripted fault (:mod:`.faults`), when one matches;
4. the rate window: FreshBooks publishes no limits (https://www.freshbooks.com/api/start), so
   the sandbox holds each account to ``minute_limit`` requests in any 60 seconds and
   ``concurrent`` at once (sandbox settings, 60 and 5 unless given) → else 429 with
   ``Retry-After`` (seconds until a slot frees), creating nothing;
5. the resource (:mod:`.resources` and the modules registering there, :mod:`.callbacks`,
   :mod:`.reports`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ledgerlink import jsonio
from ledgerlink.errors import LedgerlinkError
from ledgerlink.testing.sandbox import Reply, retry_after_header

from . import books, clients, credit_notes, errors, invoices, payments, reports, resources, spec
from .errors import Problem
from .state import Sandbox

#: the resources served (each module registers its own with :mod:`.resources`)
SERVED = (clients.CLIENTS, invoices.INVOICES, payments.PAYMENTS, credit_notes.CREDIT_NOTES, books.EXPENSES,
          books.OTHER_INCOMES, books.TAXES, books.ITEMS, books.CATEGORIES)

CLASSIC_MESSAGE = ("This account uses FreshBooks Classic, whose data the FreshBooks API does not serve; "
                   "use the FreshBooks Classic API.")


def _gate(sandbox: Sandbox, account_id: str, authorization: str | None, events: bool) -> Reply | None:
    """None when the request may go on (then counted in the window), else the refusal."""
    if not sandbox.identity.token_ok(authorization):
        return errors.events(401, errors.EVENTS_UNAUTHORIZED) if events else errors.unauthorized()
    business = sandbox.business(account_id)
    if business is None:
        return errors.events(404, errors.EVENTS_NOT_FOUND) if events else \
            errors.not_found("account", "accountid", account_id, sandbox.error_shape)
    if business.classic:
        return errors.events(403, CLASSIC_MESSAGE) if events else \
            errors.accounting(403, [Problem(errors.NOT_AUTHORIZED, CLASSIC_MESSAGE, "accountid", "account",
                                            account_id)], "new")
    if not sandbox.window.admit(account_id):
        return errors.too_many(retry_after_header(sandbox.window.retry_in(account_id) or 1.0))
    return None


def handle(sandbox: Sandbox, method: str, family: str, account_id: str, rest: str,
           args: Mapping[str, list[str]], headers: Mapping[str, str], body: bytes) -> Reply:
    """The answer to ``method /<family>/account/<account_id>/<rest>`` (``family`` is
    ``accounting`` or ``events``; ``headers`` with lower-case names)."""
    entry: dict[str, Any] = {"method": method, "path": f"/{family}/account/{account_id}/{rest}",
                             "query": {key: values[-1] for key, values in args.items()}, "account_id": account_id}
    events = family == "events"
    refused = _gate(sandbox, account_id, headers.get("authorization"), events)
    if refused is not None:
        reply = refused
    else:
        try:
            resource = "/".join(part for part in rest.split("/")[:2] if part)
            scripted = sandbox.faults.take({"method": method, "resource": resource, "account_id": account_id})
            fault = scripted.answer if scripted is not None else None
            if fault is not None:
                entry["fault"] = dict(scripted.spec)  # type: ignore[union-attr]
            if fault is not None and fault.status is not None:
                reply = fault.reply()
            else:
                delay = sandbox.latency + (fault.timeout if fault is not None and fault.timeout else 0.0)
                if delay:
                    time.sleep(delay)
                business = sandbox.businesses[account_id]
                if events:
                    reply = _events(sandbox, business.account_id, business.business_id, method, rest, args, body)
                else:
                    reply = _accounting(sandbox, method, account_id, rest, args, body)
                if fault is not None and fault.answer is not None:
                    entry["committed_status"] = reply.status
                    reply = fault.spoil(reply)
        finally:
            sandbox.window.release(account_id)
    entry["status"] = reply.status
    sandbox.log(entry)
    sandbox.count(f"{method} {family}/{rest.split('/')[0]}")
    return reply


def _accounting(sandbox: Sandbox, method: str, account_id: str, rest: str, args: Mapping[str, list[str]],
                body: bytes) -> Reply:
    business = sandbox.businesses[account_id]
    shape = sandbox.error_shape
    parts = [part for part in rest.split("/") if part]
    if len(parts) >= 2 and parts[0] == "reports" and method == "GET":
        return reports.report(business, "/".join(parts[1:]), args, shape)
    kind = resources.KINDS.get("/".join(parts[:2]))
    if kind is None or len(parts) > 3:
        return errors.not_found("resource", "path", rest, shape)
    number = parts[2] if len(parts) == 3 else None
    if method == "GET":
        return resources.read(business, kind, number, args, shape) if number else \
            resources.listing(business, kind, args, shape)
    if method == "POST" and number is None and kind.create_schema:
        return resources.create(business, kind, body, args, shape)
    if method == "PUT" and number is not None and kind.update_schema:
        return resources.update(business, kind, number, body, args, shape)
    if method == "DELETE" and number is not None and kind.deletable:
        return resources.delete(business, kind, number, shape)
    return errors.accounting(405, [Problem(405, f"{method} is not allowed here.", "", kind.singular)], shape)


def _fields(body: bytes, schema: str, update: bool) -> tuple[dict[str, Any] | None, Reply | None]:
    try:
        data = jsonio.loads(body) if body else None
    except (ValueError, LedgerlinkError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("callback"), dict):
        return None, errors.events(400, "The request body must hold a callback object.")
    found = spec.problems(schema, data, update=update)
    if found:
        return None, errors.events(422, errors.EVENTS_UNPROCESSABLE,
                                   [f"{path.removeprefix('callback.')}: {message}" for path, message in found])
    return data["callback"], None


def _positive(value: str, default: int) -> int:
    return int(value) if value.isdigit() and int(value) > 0 else default


def _events(sandbox: Sandbox, account_id: str, business_id: int, method: str, rest: str,
            args: Mapping[str, list[str]], body: bytes) -> Reply:
    parts = [part for part in rest.split("/") if part]
    if parts[:2] != ["events", "callbacks"] or len(parts) > 3:
        return errors.events(404, errors.EVENTS_NOT_FOUND)
    callbacks = sandbox.callbacks
    number = parts[2] if len(parts) == 3 else None
    if method == "GET" and number is None:
        found = [callbacks.public(c) for c in callbacks.of(account_id)]
        page = _positive((args.get("page") or ["1"])[-1], 1)
        per_page = min(100, _positive((args.get("per_page") or ["15"])[-1], 15))
        chosen = found[(page - 1) * per_page: page * per_page]
        return resources.envelope({"callbacks": chosen, "page": page, "pages": max(1, -(-len(found) // per_page)),
                                   "per_page": per_page, "total": len(found)})
    if method == "GET":
        callback = callbacks.get(account_id, number or "")
        return resources.envelope({"callback": callbacks.public(callback)}) if callback else \
            errors.events(404, errors.EVENTS_NOT_FOUND)
    if method == "POST" and number is None:
        fields, refused = _fields(body, "CallbackCreateObject", False)
        return refused if refused is not None else callbacks.create(account_id, business_id, fields or {})
    if method == "PUT" and number is not None:
        fields, refused = _fields(body, "CallbackUpdateObject", True)
        return refused if refused is not None else callbacks.update(account_id, number, fields or {})
    if method == "DELETE" and number is not None:
        return callbacks.delete(account_id, number)
    return errors.events(405, f"{method} is not allowed here.")


__all__ = ["CLASSIC_MESSAGE", "SERVED", "handle"]
