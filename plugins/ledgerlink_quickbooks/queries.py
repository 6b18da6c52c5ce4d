"""Finding what QuickBooks has: the query language and the matching of a stored entity.

:func:`query` and :func:`run_query` send a ``SELECT`` (:func:`quote` makes its string
literals, :func:`query_by` its ``Key = 'value'`` conditions from a body) and read the
entities found; a success answer without a ``QueryResponse`` is never read as "nothing
found". :func:`same_fields` (with :func:`same_text` and :func:`same_currency`) tells whether a
stored entity is the one a create would have made: the create actions' ``find_existing``
asks it before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, unreadable_query

from .api import classify, entity_url, params
from .fields import LEDGER, ref_value

def quote(value: str) -> str:
    """A string literal for the QBO query language (backslash-escaped quotes)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def query(ctx: ActionContext, entity: str, where: list[str]) -> Generator[Request, Response, list[dict[str, Any]]]:
    """Run ``SELECT * FROM <entity> [WHERE …] MAXRESULTS 1000``; return the entities found."""
    text_ = f"SELECT * FROM {entity}" + (" WHERE " + " AND ".join(where) if where else "") \
        + " MAXRESULTS 1000"
    return (yield from run_query(ctx.connection.settings, entity, text_))


def run_query(settings: Mapping[str, Any], entity: str, text: str) -> Generator[Request, Response,
                                                                                 list[dict[str, Any]]]:
    """Send the query ``text`` (of ``entity``); return the entities found. A success answer
    without a ``QueryResponse`` is never read as "nothing found"
    (:func:`ledgerlink.contract.unreadable_query`)."""
    response = yield Request(method="GET", url=entity_url(settings, "query"),
                             params={**params(None), "query": text},
                             headers={"Accept": "application/json"})
    error = classify(response)
    if error is not None:
        raise error
    body = response.json if isinstance(response.json, Mapping) else {}
    if not isinstance(body.get("QueryResponse"), Mapping):
        raise unreadable_query(response, LEDGER, entity, expected="a QueryResponse")
    found = body["QueryResponse"].get(entity, [])
    return [item for item in found if isinstance(item, Mapping)] if isinstance(found, list) else []


def same_text(stored: Any, sent: Any) -> bool:
    """A stored optional text equals the sent one (absent and empty are the same)."""
    return (stored or None) == (sent or None)


def same_currency(stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    stored_code = ref_value(stored.get("CurrencyRef"))
    sent_code = ref_value(body.get("CurrencyRef")) or home
    return stored_code is None or stored_code == sent_code


def same_fields(stored: Mapping[str, Any], body: Mapping[str, Any], home: str, *,
                refs: Iterable[str] = (), texts: Iterable[str] = ("PrivateNote",)) -> bool:
    """Whether a stored entity has the body's references ``refs`` (those the body has), texts
    ``texts`` and currency."""
    for key in refs:
        if key in body and ref_value(stored.get(key)) != body[key]["value"]:
            return False
    if not all(same_text(stored.get(key), body.get(key)) for key in texts):
        return False
    return same_currency(stored, body, home)


def query_by(body: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    """``Key = 'value'`` conditions for the ``keys`` that ``body`` has (a reference by its id)."""
    where = []
    for key in keys:
        value = body.get(key)
        value = ref_value(value) if isinstance(value, Mapping) else value
        if value:
            where.append(f"{key} = {quote(value)}")
    return where


__all__ = ["query", "query_by", "quote", "run_query", "same_currency", "same_fields", "same_text"]
