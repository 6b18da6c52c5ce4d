"""Undoing what an action created: Xero deletes nothing by ``DELETE``; a document is undone by
writing its ``Status`` (``DELETED`` for a draft, ``VOIDED`` once it is posted or authorised,
``DELETED`` for a payment) — https://developer.xero.com/documentation/api/accounting/invoices
("Deleting and voiding invoices"), /manualjournals, /payments ("Deleting payments").

:func:`status_undo` reads the document first: one already gone (404), deleted or voided
counts as undone; otherwise it writes the status Xero takes for the one it holds, and a
refusal (a paid invoice, a reconciled payment) is the undo's error, with Xero's message.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response
from ledgerlink.contract.writes import Undo

from . import api
from .errors import classify

GONE = ("DELETED", "VOIDED")


def current(response: Response, collection: str) -> Mapping[str, Any]:
    """The one document of a read's ``collection`` (empty when there is none)."""
    listed = response.json.get(collection) if isinstance(response.json, Mapping) else None
    if isinstance(listed, list) and listed and isinstance(listed[0], Mapping):
        return listed[0]
    return {}


def current_status(response: Response, collection: str) -> str | None:
    """The ``Status`` of the one document of a read's ``collection``, or None."""
    return current(response, collection).get("Status")


def status_undo(collection: str, id_field: str, what: str, *, target: Callable[[str | None], str],
                body: Callable[[str, str, Mapping[str, Any]], dict[str, Any]] | None = None) -> Undo:
    """The undo of a ``collection`` document: ``target(current status)`` is the status to
    write; ``body(id, status, document as read)`` the write's body (default: the enveloped
    document with its id and status), POSTed to ``/{collection}/{id}``."""

    def write_body(entity_id: str, status: str, read: Mapping[str, Any]) -> dict[str, Any]:
        if body is not None:
            return body(entity_id, status, read)
        return {collection: [{id_field: entity_id, "Status": status}]}

    def undo(entity_id: str, ctx: ActionContext) -> Generator[Request, Response, dict[str, str]]:
        answer = yield api.read(ctx, collection, entity_id)
        if answer.status == 404 or current_status(answer, collection) in GONE:
            return {"id": entity_id, "status": "already gone"}
        error = classify(answer)
        if error is not None:
            raise error
        status = target(current_status(answer, collection))
        written = yield Request("POST", api.url(ctx, collection, entity_id),
                                json=write_body(entity_id, status, current(answer, collection)),
                                headers=api.JSON_HEADERS)
        if written.status == 404:
            return {"id": entity_id, "status": "already gone"}
        api.created(written, collection, what, id_field)
        return {"id": entity_id, "status": "deleted" if status == "DELETED" else "voided"}

    undo.__name__ = f"undo_{what.replace(' ', '_')}"
    undo.__doc__ = f"Delete or void the {what} (already gone, deleted or voided: undone)."
    return undo


__all__ = ["GONE", "current", "current_status", "status_undo"]
