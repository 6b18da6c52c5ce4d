"""Past Xero changes as events, one page at a time, for ``ledgerlink backfill``.

Xero keeps no event log to replay: a webhook is sent once (and retried), and what stays is
each record's present state with its ``UpdatedDateUTC``. Each trigger's ``history`` lists its
collection (``GET /Invoices``, ``/Contacts``, ``/CreditNotes``) with ``If-Modified-Since`` the
backfill's ``--since`` (only records created or modified since then;
https://developer.xero.com/documentation/api/accounting/requests-and-responses), oldest change
first (``order=UpdatedDateUTC ASC``), 100 a page (``page``), and stops at the first record
changed at or after ``--until``. Each record is the event its trigger carries once fetched
(``data`` the record, ``via`` "backfill"), so nothing is read again:

- ``xero.*.updated``: the record's present state, id ``{tenant}:{CATEGORY}:{id}:UPDATE:{time
  of change}`` — the id the poll gives the same state, and the same occurrence (``version``)
  a webhook's fetch of that state gives: a state booked by any of the three is booked once;
- ``xero.*.created``: one event per record changed in the range (Xero writes no creation time
  on these records, so an invoice created before ``--since`` and changed inside the range is
  listed); the occurrence is the record's id, so a record a webhook's creation already booked
  is not booked again, and a late webhook of a back-filled creation plans nothing.

Paging follows the poll's rule (:func:`.polling.after_full_page`): after a full page the next
asks from just before the newest change on it, or the next page when the whole page lies
within one second, so a
record changed while the backfill runs is never skipped (it may be listed twice: same id,
stored once). ``progress`` is how far the newest change listed has come from ``--since`` to
``--until``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import replace
from datetime import datetime, timezone

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, IncomingEvent, Page, Request, Response
from ledgerlink.errors import ConfigError, EventError

from . import api
from .polling import PAGE_SIZE, after_full_page, since_header
from .webhook import CATEGORIES, COLLECTIONS, ID_FIELDS, TENANT_SETTING, change, ms_date, utc

History = Callable[[float, float, str | None, ActionContext], Generator[Request, Response, Page]]


def _cursor(text: str | None, since: datetime) -> tuple[datetime, int]:
    """The moment the next page asks from and its number (``{"from", "page"}``)."""
    if not text:
        return since, 1
    try:
        stored = jsonio.loads(text)
    except (jsonio.JSONDecodeError, UnicodeError):
        raise EventError(f"the Xero backfill's cursor {text[:60]!r} is not its JSON") from None
    page = stored.get("page") if isinstance(stored, Mapping) else None
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise EventError(f"the Xero backfill's cursor {text[:60]!r} has no page")
    return utc(stored.get("from"), "cursor/from"), page


def _progress(since: datetime, until: datetime, newest: datetime) -> float:
    span = (until - since).total_seconds()
    return 1.0 if span <= 0 else min(1.0, max(0.0, (newest - since).total_seconds() / span))


def history_of(category: str, operation: str) -> History:
    """The ``history`` of trigger ``xero.<category's word>.<operation>`` (see the module)."""
    entity = CATEGORIES[category][0]
    collection, id_field = COLLECTIONS[entity], ID_FIELDS[entity]

    def history(since: float, until: float, cursor: str | None,
                ctx: ActionContext) -> Generator[Request, Response, Page]:
        tenant = str(ctx.connection.settings.get(TENANT_SETTING, ""))
        if not tenant:
            raise ConfigError(f"connection {ctx.connection.name!r} has no {TENANT_SETTING}: a backfill "
                              f"reads one organisation's records")
        start = datetime.fromtimestamp(since, timezone.utc)
        end = datetime.fromtimestamp(until, timezone.utc)
        asked, page = _cursor(cursor, start)
        listing = api.read(ctx, collection, order="UpdatedDateUTC ASC", page=str(page))
        response = yield replace(listing, headers={**listing.headers, "If-Modified-Since": since_header(asked)})
        records = api.elements(response, collection, entity)
        events: list[IncomingEvent] = []
        newest: datetime | None = None
        ended = len(records) < PAGE_SIZE
        for n, record in enumerate(records):
            where = f"/{collection}/{n}"
            if not isinstance(record.get(id_field), str):
                raise EventError(f"{where}: a record with its {id_field} is required", pointer=where)
            changed = ms_date(record.get("UpdatedDateUTC"), f"{where}/UpdatedDateUTC")
            if changed >= end:
                ended = True  # oldest first: the rest changed after --until too
                break
            if changed < start:
                continue  # Xero's filter is to the second; --since may be finer
            newest = changed if newest is None or changed > newest else newest
            events.append(change(tenant, category, record[id_field], operation, changed, "backfill",
                                 data=record))
        if ended:
            return Page(events, None, 1.0)
        last = ms_date(records[-1].get("UpdatedDateUTC"), f"/{collection}/{len(records) - 1}/UpdatedDateUTC")
        following = after_full_page(asked, page, last)
        return Page(events, jsonio.dumps({"from": following[0].isoformat(), "page": following[1]}),
                    _progress(start, end, newest or asked))

    return history


__all__ = ["History", "history_of"]
