"""The poll: FreshBooks' changes without callbacks, as the events the callbacks would have brought.

Every ``poll_seconds`` (a host setting of the connection) the payments, invoices and clients
changed since the cursor are listed, each with ``search[updated_min]`` and paging
(https://www.freshbooks.com/api/parameters). FreshBooks filters ``updated`` by the *day*
(``YYYY-MM-DD``; a time is not taken) and caps ``per_page`` at 100, so:

- the cursor holds, per list, the day it asks from and the page it reads next;
- a poll reads at most :data:`MAX_PAGES` pages of each list; a list with more goes on from
  the next page at the next poll. When its last page is read, the next pass starts again at
  page 1 of the day of the newest change seen: the changes of that day are listed again
  (every record of a day, however many share one second, is read whole) and, their event ids
  being the same, stored once;
- the first poll starts at the connection's ``poll_since`` (an ISO date or time; a time with
  its offset is taken on FreshBooks' US/Eastern day), or the day before today (history is ``ledgerlink backfill``'s job).
- a list read to its last page asks next from the newest change's day, or from FreshBooks' own
  day less one when that is later: the day of the ``Date`` header of the pass's first answer
  (FreshBooks' clock, never the local one), less a day since FreshBooks writes ``updated`` in
  US/Eastern time, hours behind the header's UTC. Every change made after that answer is
  dated that day or later, so none is lost, and a list with no changes stops asking again and
  again from the day the connection started.

Each record listed is the event of its trigger carrying the record as ``data``, so the
trigger's fetch has nothing left to read. A payment is one ``freshbooks.payment.created``
with the id its callback's event has (the two are stored once). A listing cannot tell an
invoice's or a client's creation from a change: each is a ``freshbooks.<object>.updated``
of its state (``version``); the same state delivered by a callback and polled runs once.
Deleted records (``vis_state`` 1) start nothing.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, IncomingEvent, Poll, Request, Response, answered_at
from ledgerlink.errors import EventError

from . import reads
from .webhook import EASTERN, notice, version

#: the lists polled, with the operation each record listed is
POLLED = {"payment": "created", "invoice": "updated", "client": "updated"}
#: a poll reads at most this many pages of one list (the rest at the next poll)
MAX_PAGES = 10
#: the setting naming where the first poll starts
SINCE_SETTING = "poll_since"
#: the connection settings the poll reads, added to the connector's
SETTINGS = {SINCE_SETTING: {
    "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "description": "Without callbacks (poll_seconds set): the day the first poll starts from, an ISO "
                   "8601 date or time (FreshBooks filters changes by the day); unset, the day before "
                   "the first poll."}}

#: one list's next request: the day it asks from and its page
Next = tuple[str, int]


def _day(text: Any, where: str) -> str:
    """``YYYY-MM-DD`` of an ISO date or time (FreshBooks' ``updated`` too)."""
    if isinstance(text, str) and len(text) >= 10:
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            pass
    raise EventError(f"{where}: {text!r} is not a date (YYYY-MM-DD…)", pointer=where)


def _eastern_day(text: Any, where: str) -> str:
    """The day FreshBooks dates a moment (an ISO time with its offset: US/Eastern, as it writes
    ``updated``), or the date itself of a date or a time without offset."""
    day = _day(text, where)
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return day
    return moment.astimezone(EASTERN).date().isoformat() if moment.tzinfo is not None else day


def _cursor(text: str) -> dict[str, Next]:
    try:
        stored = jsonio.loads(text)
    except (jsonio.JSONDecodeError, UnicodeError):
        raise EventError(f"the FreshBooks poll's cursor {text[:60]!r} is not its JSON") from None
    if not isinstance(stored, Mapping) or not all(isinstance(stored.get(obj), Mapping) for obj in POLLED):
        raise EventError(f"the FreshBooks poll's cursor {text[:60]!r} has no entry for each list")
    found: dict[str, Next] = {}
    for obj in POLLED:
        page = stored[obj].get("page")
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            raise EventError(f"the FreshBooks poll's cursor has page {page!r} for {obj}s")
        found[obj] = (_day(stored[obj].get("day"), f"cursor/{obj}/day"), page)
    return found


def _dump(cursor: Mapping[str, Next]) -> str:
    return jsonio.dumps({obj: {"day": day, "page": page} for obj, (day, page) in cursor.items()})


def _settled(response: Response) -> str:
    """The day before FreshBooks' day when it answered (its ``Date`` header); ``""`` without
    one. Any change made after the answer is dated that day or later, in US/Eastern or UTC."""
    answered = answered_at(response.headers)
    return (answered.date() - timedelta(days=1)).isoformat() if answered is not None else ""


def _start(ctx: ActionContext) -> str:
    since = ctx.connection.settings.get(SINCE_SETTING)
    if since:
        return _eastern_day(since, f"connection {ctx.connection.name!r} setting {SINCE_SETTING}")
    return (datetime.now(timezone.utc).date() - timedelta(days=1)).isoformat()


def event_of(account: str, obj: str, record: Mapping[str, Any]) -> IncomingEvent | None:
    """The event a listed record stands for (None for a deleted one)."""
    if record.get("vis_state") == reads.DELETED:
        return None
    operation = POLLED[obj]
    state = version(record)
    event = notice(account, obj, str(record["id"]), operation, "poll", data=dict(record))
    payload = {**event.payload, "version": state}
    if operation == "updated":  # one id per state read, so a state listed again is stored once
        return IncomingEvent(id=f"{account}:{obj}.update:{state or record['id']}", trigger=event.trigger,
                             payload=payload, tenant=account)
    return IncomingEvent(id=event.id, trigger=event.trigger, payload=payload, tenant=account)


def poll(cursor: str | None, ctx: ActionContext) -> Generator[Request, Response, tuple[list[IncomingEvent], str]]:
    """The payments, invoices and clients changed since ``cursor``, and the next cursor."""
    _, account = reads.business(ctx)
    asked = _cursor(cursor) if cursor else {obj: (_start(ctx), 1) for obj in POLLED}
    events: list[IncomingEvent] = []
    following: dict[str, Next] = {}
    for obj in POLLED:
        day, page = asked[obj]
        newest = day
        for _ in range(MAX_PAGES):
            response = yield reads.changed_since(ctx, obj, day, page)
            records, pages = reads.listed(response, obj)
            if page == 1:
                newest = max(newest, _settled(response))
            for n, record in enumerate(records):
                if record.get("updated"):
                    newest = max(newest, _day(record["updated"], f"/{obj}s/{n}/updated"))
                event = event_of(account, obj, record)
                if event is not None:
                    events.append(event)
            if page >= pages or not records:
                following[obj] = (newest, 1)
                break
            page += 1
        else:
            following[obj] = (day, page)
    return events, _dump(following)


POLL = Poll(summary="payments, invoices and clients changed since the last poll (search[updated_min], "
                    "by day, 100 a page), with a stored cursor per list",
            poll=poll, min_seconds=60.0)
