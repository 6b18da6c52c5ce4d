"""The past of ``freshbooks.payment.created``: payments listed by their date, for ``ledgerlink backfill``.

``GET /accounting/account/{account_id}/payments/payments`` with ``search[date_min]`` and
``search[date_max]`` (the payment's ``date``, ``YYYY-MM-DD``; https://www.freshbooks.com/api/payments),
100 a page. Each payment is the event its callback would have brought, under the same id
(``{account_id}:payment.create:{id}``), already carrying the payment: a payment both called
back and back-filled is stored once. FreshBooks' docs and its behaviour may differ on whether
``date_max`` includes its day, so both bounds are asked inclusive and the days are kept here.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timezone

from ledgerlink.contract import ActionContext, IncomingEvent, Page, Request, Response
from ledgerlink.errors import EventError

from . import api, reads
from .polling import event_of


def _day(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).date().isoformat()


def payment_history(since: float, until: float, cursor: str | None,
                    ctx: ActionContext) -> Generator[Request, Response, Page]:
    """One page of the payments dated from ``since``'s day to the day before ``until`` ends."""
    if cursor is not None and not cursor.isdigit():
        raise EventError(f"the FreshBooks payments' back-fill cursor {cursor[:40]!r} is not a page number")
    page = int(cursor or 1)
    first, last = _day(since), _day(max(since, until - 1))
    _, account = reads.business(ctx)
    params = {"search[date_min]": first, "search[date_max]": last, "page": str(page), "per_page": str(api.PER_PAGE)}
    response = yield Request("GET", api.account_url(ctx, reads.OBJECTS["payment"][0]), params=params,
                             headers={"Accept": "application/json"})
    payments, pages = reads.listed(response, "payment")
    events: list[IncomingEvent] = []
    for payment in payments:
        if first <= str(payment.get("date", ""))[:10] <= last:
            event = event_of(account, "payment", payment)
            if event is not None:
                events.append(event)
    more = page < pages and bool(payments)
    return Page(events, cursor=str(page + 1) if more else None, progress=min(1.0, page / max(pages, 1)))
