"""FreshBooks' answers in its shapes, for scripted tests of the connector.

Not a test module. Envelopes as the official SDKs' recorded answers have them:
``{"response": {"result": {kind: {…}}}}`` for one object, ``{"response": {"result": {plural:
[…], "page", "pages", "per_page", "total"}}}`` for a list.
"""

from __future__ import annotations

from typing import Any

from ledgerlink.contract import ActionContext, Connection

ACCOUNT = "ACM123"
SETTINGS = {"api_base": "http://127.0.0.1:9", "account_id": ACCOUNT, "business_id": 439000}
BASE = f"http://127.0.0.1:9/accounting/account/{ACCOUNT}"


def ctx(key: str = "run-1-step", **settings: Any) -> ActionContext:
    return ActionContext(connection=Connection("books", "freshbooks", {**SETTINGS, **settings}),
                         idempotency_key=key)


def one(kind: str, entity: dict[str, Any]) -> dict[str, Any]:
    return {"response": {"result": {kind: entity}}}


def page(plural: str, items: list[dict[str, Any]], number: int = 1, pages: int = 1) -> dict[str, Any]:
    return {"response": {"result": {plural: items, "page": number, "pages": pages, "per_page": 100,
                                    "total": len(items)}}}
