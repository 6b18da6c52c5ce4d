"""The poll: Xero's changes without webhooks, as the events the webhooks would have brought.

Every ``poll_seconds`` (a host setting of the connection) one read of each of ``GET
/Invoices``, ``/Contacts`` and ``/CreditNotes`` with ``If-Modified-Since`` (only records
created or modified since that moment; https://developer.xero.com/documentation/api/accounting/requests-and-responses),
oldest change first (``order=UpdatedDateUTC ASC``), one page (Xero lists at most 100 per
page). Each record listed is an event of its trigger carrying the record as ``data``, so the
trigger's fetch has nothing left to read.

The cursor holds, per collection, the next request: the moment it asks from and its page.
After a page that was not full, the next poll asks from a minute before the answer's
``DateTimeUTC`` (Xero's clock; the newest change seen when Xero sent none), page 1. After a
full page, it asks from just before the newest change on it (the next second's records may
follow; Xero lists what changed strictly after the second asked), or, when that is the
second it asked from (the whole page lies within it), the same moment's next page: a poll
never asks for the same page twice in a row (:func:`after_full_page`). Records seen twice give the same event id
and are stored once.

A listing cannot tell a creation from a change (Xero's records carry ``UpdatedDateUTC``
only): every polled record is an ``updated`` event. A change both delivered by a webhook and
polled is two events, and one occurrence: the state read (``version``) is the same, so each
recipe runs once for it.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, IncomingEvent, Poll, Request, Response
from ledgerlink.errors import ConfigError, EventError

from . import api
from .webhook import COLLECTIONS, ID_FIELDS, TENANT_SETTING, change, iso, ms_date, utc

#: the categories polled, with their entity
POLLED = {"INVOICE": "Invoice", "CONTACT": "Contact", "CREDITNOTE": "CreditNote"}
#: Xero lists at most this many records per page
PAGE_SIZE = 100
#: a poll asks again for this much before Xero's clock said (records repeat; they are stored once)
OVERLAP = timedelta(seconds=60)
#: the setting naming where the first poll starts (else it starts now)
SINCE_SETTING = "poll_since"


def since_header(moment: datetime) -> str:
    """``If-Modified-Since`` as Xero's own Python SDK sends it (``datetime.isoformat()``), in
    UTC, to the whole second below: Xero's filter is not known to take milliseconds
    (https://github.com/xero-gateway/xero_gateway/issues/145), and a record of the same
    second seen again is stored once."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


#: one collection's next request: the moment it asks from, and the page
Next = tuple[datetime, int]


def _cursor(text: str, start: datetime) -> dict[str, Next]:
    try:
        stored = jsonio.loads(text)
    except (jsonio.JSONDecodeError, UnicodeError):
        raise EventError(f"the Xero poll's cursor {text[:60]!r} is not its JSON") from None
    if not isinstance(stored, Mapping):
        raise EventError(f"the Xero poll's cursor {text[:60]!r} is not an object")
    found: dict[str, Next] = {}
    for category in POLLED:
        entry = stored.get(category)
        if not isinstance(entry, Mapping):
            found[category] = (start, 1)
            continue
        page = entry.get("page", 1)
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            raise EventError(f"the Xero poll's cursor has page {page!r} for {category}")
        found[category] = (utc(entry.get("from"), f"cursor/{category}/from"), page)
    return found


def after_full_page(since: datetime, page: int, newest: datetime) -> Next:
    """The next request after a full page whose newest change is ``newest``: from just before
    it (Xero lists what changed strictly after the whole second asked, so a record of
    exactly ``hh:mm:ss.000`` beyond the page is still listed), or, when that is the second
    already asked from (the whole page lies within it), that second's next page."""
    back = newest - timedelta(milliseconds=1)
    if back.replace(microsecond=0) > since.replace(microsecond=0):
        return back, 1
    return since, page + 1


def _after(asked: Next, listed: int, newest: datetime | None, body: Mapping[str, Any]) -> Next:
    """The next request of one collection, after a page of ``listed`` records."""
    since, page = asked
    if listed >= PAGE_SIZE and newest is not None:
        return after_full_page(since, page, newest)
    if body.get("DateTimeUTC"):
        return ms_date(body["DateTimeUTC"], "/DateTimeUTC") - OVERLAP, 1
    return max(newest or since, since), 1


def _listed(tenant: str, category: str, body: Mapping[str, Any]) -> tuple[list[IncomingEvent], datetime | None]:
    """The events of one listing and the newest change on it."""
    entity = POLLED[category]
    records = body.get(COLLECTIONS[entity])
    if not isinstance(records, list):
        raise EventError(f"Xero listed {COLLECTIONS[entity]} without a {COLLECTIONS[entity]} list")
    events, newest = [], None
    for n, record in enumerate(records):
        where = f"/{COLLECTIONS[entity]}/{n}"
        if not isinstance(record, Mapping) or not isinstance(record.get(ID_FIELDS[entity]), str):
            raise EventError(f"{where}: a record with its {ID_FIELDS[entity]} is required", pointer=where)
        changed = ms_date(record.get("UpdatedDateUTC"), f"{where}/UpdatedDateUTC")
        newest = changed if newest is None or changed > newest else newest
        events.append(change(tenant, category, record[ID_FIELDS[entity]], "updated", changed, "poll",
                             data=dict(record)))
    return events, newest


def poll(cursor: str | None, ctx: ActionContext) -> Generator[Request, Response, tuple[list[IncomingEvent], str]]:
    """The changes of invoices, contacts and credit notes since ``cursor``, and the next cursor.

    The first poll starts at the ``poll_since`` setting, or now (history is not replayed into
    the books unless asked for: ``ledgerlink backfill`` is for that).
    """
    settings = ctx.connection.settings
    tenant = str(settings.get(TENANT_SETTING, ""))
    if not tenant:
        raise ConfigError(f"connection {ctx.connection.name!r} has no {TENANT_SETTING}: the poll reads "
                          f"one organisation's changes")
    now = datetime.now(timezone.utc)
    if not cursor and not settings.get(SINCE_SETTING):
        return [], _dump({category: (now - OVERLAP, 1) for category in POLLED})
    if cursor:
        asked = _cursor(cursor, now - OVERLAP)
    else:
        start = utc(settings.get(SINCE_SETTING), f"connection {ctx.connection.name!r} setting {SINCE_SETTING}")
        asked = {category: (start, 1) for category in POLLED}
    events: list[IncomingEvent] = []
    following: dict[str, Next] = {}
    for category, entity in POLLED.items():
        since, page = asked[category]
        listing = api.read(ctx, COLLECTIONS[entity], order="UpdatedDateUTC ASC", page=str(page))
        response = yield replace(listing, headers={**listing.headers, "If-Modified-Since": since_header(since)})
        api.elements(response, COLLECTIONS[entity], entity)  # raises what Xero's answer stands for
        listed, newest = _listed(tenant, category, response.json)
        events += listed
        following[category] = _after(asked[category], len(listed), newest, response.json)
    return events, _dump(following)


def _dump(cursor: Mapping[str, Next]) -> str:
    return jsonio.dumps({category: {"from": iso(since), "page": page} for category, (since, page) in cursor.items()})


POLL = Poll(summary="invoices, contacts and credit notes changed since the last poll (If-Modified-Since), "
                    "with a stored cursor per list",
            poll=poll, min_seconds=60.0)
