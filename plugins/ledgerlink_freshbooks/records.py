"""What FreshBooks' creates share: the source id kept on the object, the output that links
it, the lookup of an object a lost answer may have created, and the undo by ``vis_state``.

FreshBooks has no idempotency key, so every create keeps its source's id on the object —
the field named by each action — and the action declares ``idempotency="lookup"``: before a
write that may have been done is sent again, the host runs its ``find_existing``, which lists
the objects of the same parent (a client's invoices, an invoice's payments …) and matches the
source id exactly.

A FreshBooks object is deleted by ``PUT {"<kind>": {"vis_state": 1}}`` and kept, restorable
(https://www.freshbooks.com/api/active_deleted); invoices also take ``DELETE``. Either way the
undo first reads the object: one deleted already is left as it is.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

from ledgerlink.contract import ActionContext, Built, Request, Response
from ledgerlink.contract.writes import Undo

from . import api
from .errors import classify, gone

#: Stripe's ids are at most 255 characters
MAX_SOURCE_ID = 255

SOURCE_ID = {"type": "string", "minLength": 1, "maxLength": MAX_SOURCE_ID, "pattern": r"^\S+$",
             "description": "The id of what this books in the source system (e.g. Stripe's in_…, py_…): "
                            "kept on the FreshBooks object, so a write whose answer was lost is found "
                            "again instead of made twice, and linked to it."}


@dataclass(frozen=True)
class Sourced(Built):
    """A body built from an input, with the source id it keeps (in a note, or a reference)."""

    source: str = ""


def output(entity: Mapping[str, Any], source_id: str, target_type: str, **extra: Any) -> dict[str, Any]:
    """A create's step output: the object's id and the link from the source id to it."""
    return {"id": api.object_id(entity), **extra, "link": {"source_id": source_id, "target_type": target_type}}


def deleted(response: Response, kind: str) -> bool:
    """Whether an answer says the object is gone: 404, FreshBooks' "not found", or an object
    read back with ``vis_state`` 1."""
    return gone(response) or (response.status < 400 and (api.result(response, kind) or {}).get("vis_state")
                              == api.DELETED)


def soft_delete(path: str, kind: str, *, verb: str = "PUT") -> Undo:
    """The undo of a created object: read it (one gone or deleted already is left as it is),
    then delete it the FreshBooks way (``PUT`` ``vis_state`` 1, or ``DELETE`` where the object
    takes it). Returns ``{"id", "status"}``, status ``"deleted"`` or ``"already gone"``."""

    def undo(object_id: str, ctx: ActionContext) -> Generator[Request, Response, dict[str, str]]:
        current = yield api.read(ctx, path, object_id)
        if deleted(current, kind):
            return {"id": object_id, "status": "already gone"}
        error = classify(current)
        if error is not None:
            raise error
        if verb == "DELETE":
            answer = yield Request("DELETE", api.account_url(ctx, path, object_id), headers={"Accept": "application/json"})
        else:
            answer = yield api.update(ctx, path, object_id, kind, {"vis_state": api.DELETED})
        if gone(answer):
            return {"id": object_id, "status": "already gone"}
        error = classify(answer)
        if error is not None:
            raise error
        return {"id": object_id, "status": "deleted"}

    undo.__name__ = f"undo_{kind}"
    return undo


def listed(ctx: ActionContext, path: str, plural: str, filters: Mapping[str, str], *,
           include: str | None = None) -> Generator[Request, Response, list[dict[str, Any]]]:
    """The objects ``filters`` select (deleted ones left out), as plain dicts, for ``lookup``."""
    found = yield from api.search(ctx, path, plural, filters, include=include)
    return [dict(item) for item in found]


__all__ = ["MAX_SOURCE_ID", "SOURCE_ID", "Sourced", "deleted", "listed", "output", "soft_delete"]
