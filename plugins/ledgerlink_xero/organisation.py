"""What ``ledgerlink check`` says about a Xero organisation that its runs depend on.

Read-only: ``GET /Organisation`` (its name, ``BaseCurrency``, and the lock dates an adviser
sets under Settings > Advanced > Financial settings: ``PeriodLockDate`` for everyone but
advisers, ``EndOfYearLockDate`` for everyone — Xero refuses any document dated on or before
them) and ``GET /Currencies`` (the currencies the organisation has enabled: a document in any
other is refused, "Organisation is not subscribed to currency …")
(https://developer.xero.com/documentation/api/accounting/organisation,
https://developer.xero.com/documentation/api/accounting/currencies).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Connection, Request, Response

from . import api
from .fields import DEFAULT_BASE_CURRENCY


def _first(elements: list[dict[str, Any]]) -> Mapping[str, Any]:
    return elements[0] if elements else {}


def check_company(connection: Connection) -> Generator[Request, Response, list[str]]:
    """The organisation's base currency (against the connection's ``base_currency``), its
    enabled currencies and its lock dates, one line each."""
    ctx = ActionContext(connection=connection, idempotency_key="")
    organisation = _first(api.elements((yield api.read(ctx, "Organisation")), "Organisations", "organisation"))
    currencies = api.elements((yield api.read(ctx, "Currencies")), "Currencies", "currency")
    name = organisation.get("Name") or "the organisation"
    base = str(organisation.get("BaseCurrency") or "")
    configured = str(connection.settings.get("base_currency") or DEFAULT_BASE_CURRENCY).upper()
    lines = [f"Xero organisation {name}: base currency {base or 'not given'}"]
    if base and base != configured:
        lines.append(f"the connection's base_currency is {configured}, but {name} keeps its books in {base}: "
                     f"set base_currency = \"{base}\", or every rate sent would be read against the wrong currency")
    codes = sorted(str(item.get("Code")) for item in currencies if item.get("Code"))
    lines.append(f"currencies enabled: {', '.join(codes) or 'none listed'}; a document in any other is refused "
                 f"(Xero > Settings > Currencies to add one)")
    for field, who in (("PeriodLockDate", "everyone but advisers"), ("EndOfYearLockDate", "everyone")):
        day = api.xero_date(organisation.get(field))
        if day is not None:
            lines.append(f"{field} {day.isoformat()}: Xero refuses documents dated on or before it for {who}")
    if not any(organisation.get(field) for field in ("PeriodLockDate", "EndOfYearLockDate")):
        lines.append("no lock date is set: documents of any date are accepted")
    return lines


__all__ = ["check_company"]
