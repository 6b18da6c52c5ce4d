"""The create actions' one shape: a body built from the input, one POST, the step output.

:func:`create_action` makes the :class:`ledgerlink.contract.Action` that creates one
QuickBooks entity from its ``build`` (the body and its total, every input problem raised
before a request exists) and ``matches`` (a stored entity is the one the body would make):
the host's :func:`ledgerlink.contract.create_action` in QuickBooks' terms, with the
idempotency key as QBO's ``requestid``, ``find_existing`` by a query (:mod:`.queries`), a
delete as the undo, and a refusal for the closed period explained (:mod:`.books`). :func:`read_output` reads QBO's answer into the step output; the
schemas and samples are the package's JSON files (:func:`load`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from importlib import resources
from typing import Any

from ledgerlink import contract, jsonio
from ledgerlink.contract import (Action, ActionContext, Built, CreateSteps, Request, Response,
                                 Schemas, unreadable_write)

from .api import JSON_HEADERS, deleter, entity_url, params, request_id
from .books import classify_write, perform_in_open_period
from .fields import LEDGER, home_currency, ref_value
from .queries import query, query_by

def load(relative: str) -> Any:
    """A JSON file shipped in this package, numbers read as Decimal."""
    return jsonio.loads((resources.files(__package__) / relative).read_text("utf-8"))

def read_output(response: Response, entity: str, body: Mapping[str, Any],
                computed_total: Decimal) -> dict[str, Any]:
    """The step output from ``{"<entity>": {...}}``: ``{id, sync_token, doc_number?, txn_date?,
    total, currency?}``. ``total`` is QBO's ``TotalAmt`` (tax included, when QuickBooks added
    tax) or ``computed_total`` when QBO leaves it out. A success answer without the entity's
    Id (truncated JSON, an HTML page) is an unknown outcome
    (:func:`ledgerlink.contract.unreadable_write`):
    the entity may exist, and is looked up before anything is sent again."""
    found = response.json.get(entity) if isinstance(response.json, Mapping) else None
    found_id = found.get("Id") if isinstance(found, Mapping) else None
    if isinstance(found_id, int) and not isinstance(found_id, bool):
        found_id = str(found_id)
    if not isinstance(found_id, str) or not found_id:
        raise unreadable_write(response, LEDGER, entity)
    out: dict[str, Any] = {"id": found_id, "sync_token": str(found.get("SyncToken", "0"))}
    if isinstance(found.get("DocNumber"), str) and found["DocNumber"]:
        out["doc_number"] = found["DocNumber"]
    if isinstance(found.get("TxnDate"), str):
        out["txn_date"] = found["TxnDate"]
    amount = contract.answer_decimal(found.get("TotalAmt"))
    out["total"] = amount if amount is not None else computed_total
    code = ref_value(found.get("CurrencyRef")) or ref_value(body.get("CurrencyRef"))
    if code:
        out["currency"] = code
    return out

#: ``build(input, home_currency) -> (body, total)``
Build = Callable[[Mapping[str, Any], str], tuple[dict[str, Any], Decimal]]
#: ``matches(stored, body, home_currency) -> bool``
Matches = Callable[[Mapping[str, Any], Mapping[str, Any], str], bool]


def create_action(*, action: str, entity: str, endpoint: str, what: str, summary: str,
                  build: Build, query_keys: Iterable[str], matches: Matches) -> Action:
    """The :class:`Action` that creates one ``entity`` from ``build``'s body
    (:func:`ledgerlink.contract.create_action` in QuickBooks' terms).

    Its ``perform`` builds the body (every input problem raises before a request exists) and
    yields one ``POST …/<endpoint>?minorversion=…&requestid=<key>``; its ``find_existing``
    reads the ``entity`` rows with the body's ``query_keys`` (e.g. ``CustomerRef``,
    ``TxnDate``) and returns the output of the first that ``matches``; its ``undo`` deletes. A
    write refused for QuickBooks' closed period fails naming the closed books date
    (:func:`.books.perform_in_open_period`).
    Schemas and samples are ``schemas/<name>.input.json`` … of the action's name.
    """
    query_keys = tuple(query_keys)

    def build_body(input: Mapping[str, Any], ctx: ActionContext) -> Built:
        body, total = build(input, home_currency(ctx))
        return Built(body, total)

    def request(built: Built, ctx: ActionContext) -> Request:
        rid = request_id(ctx.idempotency_key, action)
        return Request(method="POST", url=entity_url(ctx.connection.settings, endpoint),
                       params=params(rid), headers=dict(JSON_HEADERS), json=built.body)

    def lookup(built: Built, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
        return (yield from query(ctx, entity, query_by(built.body, query_keys)))

    steps = CreateSteps(
        build=build_body, request=request, classify=classify_write,
        read=lambda response, built: read_output(response, entity, built.body, built.total),
        read_stored=lambda stored, built: read_output(Response(status=200, json={entity: stored}),
                                                      entity, built.body, built.total),
        lookup=lookup,
        matches=lambda stored, built, ctx: matches(stored, built.body, home_currency(ctx)))
    name = action.split(".", 1)[1]
    created = contract.create_action(
        name=action, summary=summary, what=what, lookup_keys=", ".join(query_keys),
        schemas=Schemas(input=load(f"schemas/{name}.input.json"),
                        output=load(f"schemas/{name}.output.json"),
                        sample=load(f"samples/{name}.input.json"),
                        sample_response=load(f"samples/{name}.response.json")),
        steps=steps, undo=deleter(entity, endpoint))
    return replace(created, perform=perform_in_open_period(created.perform), entity=entity)


__all__ = ["Build", "Matches", "create_action", "load", "read_output"]
