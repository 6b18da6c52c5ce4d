"""Read-only checks that the ids a recipe names exist and are active in the company.

``ledgerlink check`` asks, per entity, ``SELECT * FROM <Entity> WHERE Id IN (…) AND Active IN
(true, false)`` and reports every id that is missing or has ``Active = false`` — so "Account
must be valid" and a missing tax code show up before the first live event, not after
(MARKET.md pain 10, 15). The ``Active`` condition is needed: QBO answers a query of a list
entity that names no ``Active`` with the active ones only, so an inactive id would look
missing.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.catalog import Connection, Request, Response
from ledgerlink.errors import ConfigError

from .common import quote
from .api import classify, entity_url, params

#: what QuickBooks calls the entity an annotation names
ENTITIES = {"Account": "Account", "Item": "Item", "TaxCode": "TaxCode", "Class": "Class",
            "Department": "Department", "Customer": "Customer", "Vendor": "Vendor", "Employee": "Employee"}


def check_references(entity: str, ids: list[str], connection: Connection) -> Generator[Request, Response, dict[str, str]]:
    """``{id: problem}`` for the ids of ``entity`` that QuickBooks does not have, or has inactive."""
    name = ENTITIES.get(entity)
    if name is None:
        raise ConfigError(f"QuickBooks has no {entity!r} entity to check")
    verdicts: dict[str, str] = {}
    for start in range(0, len(ids), 100):
        chunk = ids[start:start + 100]
        query = (f"SELECT * FROM {name} WHERE Id IN ({', '.join(quote(i) for i in chunk)}) "
                 f"AND Active IN (true, false) MAXRESULTS 1000")
        response = yield Request(method="GET", url=entity_url(connection.settings, "query"),
                                 params={**params(None), "query": query}, headers={"Accept": "application/json"})
        error = classify(response)
        if error is not None:
            raise error
        found: dict[str, Mapping[str, Any]] = {}
        body = response.json if isinstance(response.json, Mapping) else {}
        for row in body.get("QueryResponse", {}).get(name, []):
            found[str(row.get("Id"))] = row
        for ident in chunk:
            row = found.get(ident)
            if row is None:
                verdicts[ident] = "does not exist"
            elif row.get("Active") is False:
                verdicts[ident] = "is inactive"
    return verdicts
