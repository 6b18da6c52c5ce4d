"""``schedule.cron``: a recipe started at each tick of a cron expression.

The recipe's ``trigger.options``::

    {"cron": "0 7 * * *", "timezone": "Europe/Paris", "catch_up": "once"}

``timezone`` defaults to the recipe's ``timezone`` (itself UTC by default). After downtime
(every process stopped over one or more ticks), ``catch_up`` says what fires: ``"once"``
(the default) one event for the latest missed tick, carrying how many were missed and a
window reaching back to the last tick fired; ``"every"`` an event for every missed tick, at
most ``max_catch_up`` of them (the latest; the first says how many were passed over). A
tick is never fired twice: its event id, ``schedule.cron:{recipe}:{tick in UTC}``, is
stored once in the inbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ledgerlink.contract import IncomingEvent, Schedule, Tick, Trigger, event_prefix
from ledgerlink_schedule import cron

NAME = "schedule.cron"

OPTIONS = {
    "type": "object",
    "required": ["cron"],
    "additionalProperties": False,
    "properties": {
        "cron": {"type": "string", "minLength": 1,
                 "description": "Five-field cron expression (minute hour day-of-month month day-of-week), "
                                "e.g. \"0 7 * * *\" for 07:00 every day; evaluated as Debian's cron does."},
        "timezone": {"type": "string",
                     "description": "IANA time zone the expression is read in (Europe/Paris); "
                                    "default: the recipe's timezone."},
        "catch_up": {"enum": ["once", "every"], "default": "once",
                     "description": "After downtime: \"once\" fires the latest missed tick, saying how many "
                                    "were missed; \"every\" fires each missed tick (up to max_catch_up)."},
        "max_catch_up": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100,
                         "description": "With catch_up \"every\": the most missed ticks fired after downtime "
                                        "(the latest ones; the first event says how many were passed over)."},
    },
}


def _moment(description: str) -> dict[str, Any]:
    return {"type": "object", "description": description, "required": ["utc", "local"],
            "properties": {"utc": {"type": "string", "description": "ISO 8601 in UTC, e.g. 2026-05-01T05:00:00Z."},
                           "local": {"type": "string", "description": "ISO 8601 in the schedule's time zone, "
                                                                      "with its offset."},
                           "unix": {"type": "number", "description": "Unix seconds."}}}


EVENT = {
    "type": "object",
    "required": ["id", "recipe", "cron", "timezone", "tick", "window", "missed", "catch_up"],
    "properties": {
        "id": {"type": "string", "description": "schedule.cron:{recipe}:{tick in UTC}: one per tick."},
        "recipe": {"type": "string", "description": "The recipe the tick starts."},
        "cron": {"type": "string", "description": "The cron expression."},
        "timezone": {"type": "string", "description": "The time zone it is read in."},
        "catch_up": {"type": "string", "description": "once or every."},
        "tick": _moment("When the tick was due."),
        "window": {"type": "object", "required": ["since", "until"],
                   "description": "What the tick covers (a report's period): from the previous tick (the last "
                                  "fired one, after downtime with catch_up once) up to this one.",
                   "properties": {"since": _moment("The window's start."), "until": _moment("The window's end: the tick.")}},
        "missed": {"type": "integer", "description": "Ticks passed over before this one and not fired "
                                                      "(downtime); 0 on time."},
        "missed_at_least": {"type": "boolean", "description": "True when missed stopped counting at its limit."},
    },
}


def _options(options: Mapping[str, Any], default_zone: str) -> tuple[str, str, str, int]:
    return (options["cron"], options.get("timezone") or default_zone, options.get("catch_up", "once"),
            int(options.get("max_catch_up", 100)))


def check_options(options: Mapping[str, Any], timezone: str) -> list[tuple[str, str]]:
    """The cron expression must parse and the time zone exist."""
    expression, zone_name, _, _ = _options(options, timezone)
    problems = []
    why = cron.check(expression)
    if why is not None:
        problems.append(("/cron", f"{expression!r} is not a cron expression ({why}); write five fields, "
                                  f"minute hour day-of-month month day-of-week, e.g. \"0 7 * * *\""))
    if cron.zone(zone_name) is None:
        problems.append(("/timezone", f"unknown time zone {zone_name!r}; use an IANA name such as Europe/Paris"))
    return problems


def _moment_of(moment: datetime, tz) -> dict[str, Any]:
    return {"utc": moment.astimezone(cron.UTC).strftime(cron.ID_FORMAT), "local": moment.astimezone(tz).isoformat(),
            "unix": moment.timestamp()}


def _last(now: Tick) -> datetime | None:
    """The last tick raised for the recipe (in UTC), read from its event id."""
    if now.last_event_id is None:
        return None
    named = now.last_event_id.removeprefix(event_prefix(NAME, now.recipe_id))
    return datetime.strptime(named, cron.ID_FORMAT).replace(tzinfo=cron.UTC)


def tick(now: Tick) -> list[IncomingEvent]:
    """The events due for one recipe (:func:`cron.due`), named by their tick in UTC."""
    expression, zone_name, catch_up, cap = _options(now.options, now.timezone)
    tz = cron.zone(zone_name)
    prefix = event_prefix(NAME, now.recipe_id)
    last = _last(now)
    events = []
    for due in cron.due(expression, tz, now.now, last, catch_up, cap):
        event_id = prefix + due.tick.strftime(cron.ID_FORMAT)
        since = due.since or due.tick - timedelta(days=1)
        payload: dict[str, Any] = {
            "id": event_id, "recipe": now.recipe_id, "cron": expression, "timezone": zone_name,
            "catch_up": catch_up, "tick": _moment_of(due.tick, tz),
            "window": {"since": _moment_of(since, tz), "until": _moment_of(due.tick, tz)},
            "missed": due.missed}
        if due.missed_at_least:
            payload["missed_at_least"] = True
        events.append(IncomingEvent(id=event_id, trigger=NAME, payload=payload))
    return events


def schedule(now: Tick) -> Schedule:
    """The recipe's schedule: its last tick raised and the next due (:func:`cron.next_due`)."""
    expression, zone_name, catch_up, _ = _options(now.options, now.timezone)
    last = _last(now)
    following = cron.next_due(expression, cron.zone(zone_name), now.now, last)
    return Schedule(expression=expression, timezone=zone_name, catch_up=catch_up,
                    last_tick=None if last is None else last.timestamp(),
                    next_tick=None if following is None else following.timestamp())


_SAMPLE_ID = "schedule.cron:daily-sync-report:2026-05-01T05:00:00Z"

CRON = Trigger(
    name=NAME,
    summary="Starts the recipe at each tick of a cron expression in its time zone, once across every process.",
    event_schema=EVENT,
    sample={"id": _SAMPLE_ID, "recipe": "daily-sync-report", "cron": "0 7 * * *", "timezone": "Europe/Paris",
            "catch_up": "once",
            "tick": {"utc": "2026-05-01T05:00:00Z", "local": "2026-05-01T07:00:00+02:00", "unix": 1777611600},
            "window": {"since": {"utc": "2026-04-30T05:00:00Z", "local": "2026-04-30T07:00:00+02:00",
                                 "unix": 1777525200},
                       "until": {"utc": "2026-05-01T05:00:00Z", "local": "2026-05-01T07:00:00+02:00",
                                 "unix": 1777611600}},
            "missed": 0},
    source_id_path="$.id",
    options_schema=OPTIONS,
    check_options=check_options,
    tick=tick,
    schedule=schedule,
)
