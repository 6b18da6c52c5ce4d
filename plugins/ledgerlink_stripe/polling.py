"""The Stripe connector's poll: ``GET /v1/events`` read with a stored cursor.

For hosts that cannot receive webhooks (a connection with ``poll_seconds``), or as a safety
net beside them. What it follows, from Stripe's API reference:

- **Listing events** (docs.stripe.com/api/events/list): newest first, ``created[gte]`` in
  whole Unix seconds, ``types[]`` of up to 20 event types, pages of ``limit`` 100 followed
  with ``starting_after`` while ``has_more``. Stripe lists the events of the last 30 days
  only; an older ``created[gte]`` is not refused, the listing simply starts 30 days back.
- **The same event** (docs.stripe.com/api/events/object): a listed event is the object a
  webhook delivers, with the same ``evt_`` id. Each is read by the webhook's own parser
  (:func:`ledgerlink_stripe.webhook.event_from_payload`), so an event that arrives by
  webhook and by poll is one event to the host, stored once.
- **Stripe's clock**: the ``Date`` header of Stripe's answer says when "now" is for the
  30-day window and for a first poll (the local clock when the header is missing).

The cursor is JSON text: ``{"created": <Unix second>, "ids": [<evt_ ids seen at or after
that second>]}``. ``created[gte]`` has one-second resolution and several events share a
second; and an event may be listed a moment after a later one (Stripe does not promise
order). So the cursor stays :data:`OVERLAP_SECONDS` behind the newest event seen: the next
poll lists that last minute again and leaves out the ids already returned.

Only the event types the connector has triggers for are requested: an event of another
type would be stored and ignored, and an active account emits many (``invoice.created``,
``payment_intent.succeeded``, ``balance.available`` …), which would fill the inbox and
spend requests for nothing. The webhook endpoint still receives and stores whatever Stripe
sends it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from ledgerlink.contract import ActionContext, Poll, Request, Response
from ledgerlink.errors import ConfigError, VendorError

from . import api
from .webhook import event_from_payload, header_value

#: Stripe lists the events of the last 30 days (docs.stripe.com/api/events/list)
RETENTION_SECONDS = 30 * 86400
#: the most event types one list request may name (``types[]``)
TYPES_PER_REQUEST = 20
#: how far behind the newest event seen the cursor stays, so that an event listed late
#: (created a little before one already seen) is still found
OVERLAP_SECONDS = 60
#: the shortest poll interval: a poll reads at least one page, and at one poll every ten
#: seconds a connection spends a hundredth of test mode's 25 requests a second on it
#: (docs.stripe.com/rate-limits)
MIN_SECONDS = 10.0

#: an ISO 8601 date or date-time, as ``poll_since`` takes it
SINCE_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
                 r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$")
_SINCE = re.compile(SINCE_PATTERN)

Cursor = dict[str, Any]
Steps = Generator[Request, Response, tuple[Any, ...]]


# --- the cursor and the settings ---------------------------------------------------------

def since_setting(settings: Mapping[str, Any]) -> int | None:
    """``poll_since`` (an ISO date, or date-time; UTC unless it names an offset) as Unix
    seconds, or None when unset. ConfigError when it is not such a date."""
    value = settings.get("poll_since")
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, (date, datetime)) else value
    if not isinstance(text, str) or not _SINCE.fullmatch(text.strip()):
        raise ConfigError(f"the Stripe connection's poll_since must be an ISO date or date-time "
                          f"such as \"2026-11-01\" or \"2026-11-01T09:00:00Z\", not {value!r}")
    text = text.strip().replace(" ", "T").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text) if len(text) > 10 else \
            datetime.combine(date.fromisoformat(text), datetime.min.time())
    except ValueError:
        raise ConfigError(f"the Stripe connection's poll_since {value!r} is not a real date "
                          f"and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def read_cursor(cursor: str | None) -> Cursor | None:
    """The stored cursor as ``{"created", "ids"}`` (None before the first poll)."""
    if not cursor:
        return None
    try:
        found = json.loads(cursor)
        created, ids = found["created"], found["ids"]
    except (ValueError, TypeError, KeyError):
        found, created, ids = None, None, None
    if not isinstance(created, int) or isinstance(created, bool) or not isinstance(ids, list) \
            or not all(isinstance(i, str) for i in ids):
        raise ConfigError(f"the stored Stripe poll cursor {cursor[:80]!r} is not one this "
                          f"connector wrote ({{\"created\": <Unix second>, \"ids\": [...]}}); "
                          f"reset the connection's poll cursor")
    return {"created": created, "ids": ids}


def write_cursor(created: int, ids: Iterable[str]) -> str:
    return json.dumps({"created": created, "ids": sorted(set(ids))}, separators=(",", ":"))


def stripe_now(response: Response) -> int:
    """Stripe's clock from its answer's ``Date`` header; the local clock without one."""
    value = header_value(response.headers, "Date")
    if isinstance(value, str):
        try:
            return int(parsedate_to_datetime(value).timestamp())
        except (TypeError, ValueError, IndexError):
            pass
    return int(time.time())


def iso_day(moment: int) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%d")


def iso_time(moment: int) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- listing --------------------------------------------------------------------------------

def _chunks(types: list[str]) -> list[list[str]]:
    return [types[i:i + TYPES_PER_REQUEST] for i in range(0, len(types), TYPES_PER_REQUEST)] or [[]]


def list_events(ctx: ActionContext, types: list[str], since: int,
                seen: list[Response]) -> Generator[Request, Response, list[Mapping[str, Any]]]:
    """Every event of ``types`` created at or after ``since``, as Stripe lists them (newest
    first per group of 20 types); each answer is kept in ``seen`` (its ``Date``)."""
    found: dict[str, Mapping[str, Any]] = {}
    for chunk in _chunks(types):
        after: str | None = None
        while True:
            params: dict[str, Any] = {"created": {"gte": since}, "limit": api.PAGE_LIMIT}
            if chunk:
                params["types"] = chunk
            if after is not None:
                params["starting_after"] = after
            response = yield api.get(ctx, "/v1/events", params=params)
            seen.append(response)
            body = api.checked(response)
            data = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(data, list):
                raise VendorError("Stripe answered the event list without its data array", kind="retry")
            for item in data:
                if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                    found.setdefault(item["id"], item)
            if not body.get("has_more") or not data:
                break
            last = data[-1]
            if not isinstance(last, Mapping) or not isinstance(last.get("id"), str):
                raise VendorError("Stripe answered the event list with an event without an id", kind="retry")
            after = last["id"]
    return list(found.values())


def _oldest_first(events: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Stripe lists newest first; the same second keeps Stripe's order, reversed."""
    indexed = list(enumerate(events))
    indexed.sort(key=lambda pair: (_created(pair[1]), -pair[0]))
    return [event for _, event in indexed]


def _created(event: Mapping[str, Any]) -> int:
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, int):
        raise VendorError(f"Stripe listed the event {event.get('id')} without a created time",
                          kind="retry")
    return created


def recent(events: list[Mapping[str, Any]], since: int) -> set[str]:
    """The ids of ``events`` created at or after ``since``."""
    return {event["id"] for event in events if _created(event) >= since}


def gap_warning(connection: str, cursor_at: int, window_start: int) -> list[str]:
    """The warning of a poll whose cursor is older than Stripe's 30 days of events."""
    return [f"Stripe lists only the last 30 days of events, and connection {connection!r} last "
            f"polled events up to {iso_time(cursor_at)}: events from {iso_time(cursor_at)} to "
            f"{iso_time(window_start)} may be missing. "
            f"Recover them from Stripe's objects: for each recipe on connection {connection!r}, "
            f"run `ledgerlink backfill RECIPE --since {iso_day(cursor_at)} --until "
            f"{iso_day(window_start + 86400)}` (events already stored are not run twice)."]


# --- the poll -------------------------------------------------------------------------------

def make_poll(event_types: Callable[[], list[str]]) -> Callable[[str | None, ActionContext], Steps]:
    """The connector's ``Poll.poll`` for the event types ``event_types()`` names."""

    def poll(cursor: str | None, ctx: ActionContext) -> Steps:
        """One poll: ``(events, cursor)``, the events since ``cursor`` oldest first; and
        ``(events, cursor, warnings)`` only when the cursor is older than Stripe keeps events."""
        state = read_cursor(cursor)
        types = sorted(event_types())
        seen: list[Response] = []
        if state is None:
            since = since_setting(ctx.connection.settings)
            if since is None:  # from now: nothing old is replayed (backfill is for history)
                response = yield api.get(ctx, "/v1/events", params={"limit": 1, "types": types[:TYPES_PER_REQUEST]})
                api.checked(response)
                return [], write_cursor(stripe_now(response), [])
            state = {"created": since, "ids": []}
        listed = yield from list_events(ctx, types, state["created"], seen)
        now = stripe_now(seen[0])
        known = set(state["ids"])
        fresh = [event for event in _oldest_first(listed)
                 if event["id"] not in known and _created(event) >= state["created"]]
        events = [event_from_payload(dict(event)) for event in fresh]
        newest = max([state["created"]] + [_created(event) for event in listed])
        start = max(state["created"], newest - OVERLAP_SECONDS)
        # everything at or after ``start`` was listed now (the list began at the old cursor)
        ids = [event["id"] for event in listed if _created(event) >= start]
        if start == state["created"]:
            ids += state["ids"]
        window_start = now - RETENTION_SECONDS
        if state["created"] < window_start:
            warnings = gap_warning(ctx.connection.name, state["created"], window_start)
            if start < window_start:  # nothing recent listed: the gap is reported once
                kept = recent(listed, window_start)
                start, ids = window_start, [i for i in ids if i in kept]
            return events, write_cursor(start, ids), warnings
        return events, write_cursor(start, ids)

    return poll


def stripe_poll(event_types: Callable[[], list[str]]) -> Poll:
    """The :class:`~ledgerlink.contract.Poll` of the Stripe connector."""
    return Poll(summary="Reads Stripe's /v1/events (the event types with a trigger) with a cursor; "
                        "the first poll starts at poll_since, or now. Stripe keeps events 30 days: "
                        "a longer gap is reported with the backfill that recovers it.",
                poll=make_poll(event_types), min_seconds=MIN_SECONDS)


__all__ = ["MIN_SECONDS", "OVERLAP_SECONDS", "RETENTION_SECONDS", "SINCE_PATTERN", "TYPES_PER_REQUEST", "gap_warning",
           "list_events", "make_poll", "read_cursor", "since_setting", "stripe_now", "stripe_poll",
           "write_cursor"]
