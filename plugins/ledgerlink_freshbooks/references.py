"""Read-only checks that the FreshBooks ids a recipe names exist and are not deleted.

``ledgerlink check`` walks a recipe's step inputs beside the actions' schemas and collects
every literal id that reaches a field marked ``"x-ledgerlink-ref"`` (:data:`REFERENCES`): a
client (``customerid``, ``clientid``), an invoice (``invoiceid``) or an expense category
(``categoryid``). A client or an invoice is read by id (``GET …/{id}``: 404 or FreshBooks'
"not found" is *does not exist*, ``vis_state`` 1 *is deleted*); the categories are listed once
(``GET …/expenses/categories``), which FreshBooks keeps read-only.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Connection, Request, Response
from ledgerlink.errors import ConfigError

from . import api
from .errors import classify, gone

#: entity → (path, the object's kind in an answer)
ENTITIES = {"client": ("users/clients", "client"), "invoice": ("invoices/invoices", "invoice")}
CATEGORIES = "expenses/categories"


def ref(entity: str) -> dict[str, str]:
    """The annotation that marks an input field as naming a FreshBooks ``entity`` by id."""
    return {"x-ledgerlink-ref": entity}


def check_references(entity: str, ids: list[str], connection: Connection,
                     declared: Mapping[str, Mapping[str, Any]] | None = None
                     ) -> Generator[Request, Response, dict[str, str]]:
    """``{id: problem}`` for the ids of ``entity`` FreshBooks does not have, or has deleted."""
    ctx = ActionContext(connection=connection, idempotency_key="")
    verdicts: dict[str, str] = {}
    if entity == "category":
        found = yield from api.search(ctx, CATEGORIES, "categories", {})
        known = {str(item.get("categoryid") or item.get("id")) for item in found}
        return {ident: "does not exist" for ident in ids if ident not in known}
    if entity not in ENTITIES:
        raise ConfigError(f"FreshBooks has no {entity!r} entity to check")
    path, kind = ENTITIES[entity]
    for ident in ids:
        if not ident.isdigit():
            verdicts[ident] = "is not a FreshBooks id (a positive integer)"
            continue
        answer = yield api.read(ctx, path, ident)
        if gone(answer):
            verdicts[ident] = "does not exist"
            continue
        error = classify(answer)
        if error is not None:
            raise error
        if (api.result(answer, kind) or {}).get("vis_state") == api.DELETED:
            verdicts[ident] = "is deleted (restore it in FreshBooks, or name another)"
    return verdicts


__all__ = ["ENTITIES", "check_references", "ref"]
