"""The poll: Xero's changes without webhooks, as the events the webhooks would have brought.

Every ``poll_seconds`` (a host setting of the connection) one read of each of ``GET
/Invoices``, ``/Contacts`` and ``/CreditNotes`` with ``If-Modified-Since`` (only records
created or modified since that moment; https://developer.xero.com/documentation/api/accounting/requests-and-responses),
oldest change first (``order=UpdatedDateUTC ASC``), page 1 (Xero lists at most 100 per
page). Each record listed is an event of its trigger carrying the record as ``data``, so the
trigger's fetch has nothing left to read.

The cursor holds, per collection, the moment the next poll asks from: the answer's
``DateTimeUTC`` (Xero's clock) when the page was not full, else the newest change on it, so
the next poll continues where this one was cut. A poll asks from a minute before its cursor
(a cut page's cursor is a minute past its newest change): records seen twice give the same
event id and are stored once.

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
from .triggers import COLLECTIONS, ID_FIELDS
from .webhook import TENANT_SETTING, change, iso, ms_date, utc

#: the categories polled, with their entity
POLLED = {"INVOICE": "Invoice", "CONTACT": "Contact", "CREDITNOTE": "CreditNote"}
#: Xero lists at most this many records per page
PAGE_SIZE = 100
#: a poll asks again for this much before its cursor (records repeat; they are stored once)
OVERLAP = timedelta(seconds=60)
#: the setting naming where the first poll starts (else it starts now)
SINCE_SETTING = "poll_since"


def since_header(moment: datetime) -> str:
    """``If-Modified-Since`` as Xero's own Python SDK sends it (``datetime.isoformat()``), in
    UTC, to the whole second below: Xero's filter is not known to take milliseconds
    (https://github.com/xero-gateway/xero_gateway/issues/145), and a record of the same
    second seen again is stored once."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _cursor(text: str | None, start: datetime) -> dict[str, datetime]:
    if not text:
        return {category: start for category in POLLED}
    try:
        stored = jsonio.loads(text)
    except (jsonio.JSONDecodeError, UnicodeError):
        raise EventError(f"the Xero poll's cursor {text[:60]!r} is not its JSON") from None
    if not isinstance(stored, Mapping):
        raise EventError(f"the Xero poll's cursor {text[:60]!r} is not an object")
    return {category: utc(stored[category], f"cursor/{category}") if category in stored else start
            for category in POLLED}


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
        return [], jsonio.dumps({category: iso(now) for category in POLLED})
    start = utc(settings.get(SINCE_SETTING), f"connection {ctx.connection.name!r} setting {SINCE_SETTING}") \
        if not cursor else now
    since = _cursor(cursor, start)
    events: list[IncomingEvent] = []
    following: dict[str, str] = {}
    for category, entity in POLLED.items():
        asked = since[category] - (OVERLAP if cursor else timedelta(0))
        listing = api.read(ctx, COLLECTIONS[entity], order="UpdatedDateUTC ASC", page="1")
        response = yield replace(listing, headers={**listing.headers, "If-Modified-Since": since_header(asked)})
        api.elements(response, COLLECTIONS[entity], entity)  # raises what Xero's answer stands for
        body = response.json
        listed, newest = _listed(tenant, category, body)
        events += listed
        if len(listed) >= PAGE_SIZE and newest is not None:
            # cut at a full page: the next poll asks from the newest change seen (the overlap
            # it subtracts is added here), so it moves on even when the page spans one minute
            following[category] = iso(max(newest, since[category]) + OVERLAP)
        elif body.get("DateTimeUTC"):
            following[category] = iso(ms_date(body["DateTimeUTC"], "/DateTimeUTC"))
        else:
            following[category] = iso(max(newest or since[category], since[category]))
    return events, jsonio.dumps(following)


POLL = Poll(summary="invoices, contacts and credit notes changed since the last poll (If-Modified-Since), "
                    "with a stored cursor per list",
            poll=poll, min_seconds=60.0)
