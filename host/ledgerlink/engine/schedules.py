"""What each clock-driven recipe is set to do and has done: ``ledgerlink schedules`` and
``GET /api/schedules``.

For every recipe whose trigger ticks (:mod:`ledgerlink.contract.clock`), enabled or not:
its connection, the schedule its trigger describes (``Trigger.schedule``: the expression,
its time zone, how it catches up), the last tick fired — when it was due, in UTC and in the
schedule's zone, its event and the run it made — the next tick due, and its state. A next
tick due before now was missed: every process was stopped over it, or none runs; it is
``overdue`` and the first worker to run fires it (or catches it up) as the recipe says.

Everything is read from the recipes and the store (the inbox's last tick of each recipe,
its runs), as every process reads them, so any process answers the same; nothing is fired.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledgerlink.contract import Schedule, Tick, event_prefix
from ledgerlink.engine.runtime import Runtime
from ledgerlink.recipes.recipe import Recipe

log = logging.getLogger("ledgerlink")

#: what a recipe's ``state`` may be
STATES = ("active", "paused", "disabled")


def _moment_schema(description: str, **more: Any) -> dict[str, Any]:
    return {"type": "object", "description": description, "required": ["utc", "local", "unix"],
            "properties": {"utc": {"type": "string", "description": "ISO 8601 in UTC."},
                           "local": {"type": "string", "description": "ISO 8601 in the schedule's time zone."},
                           "unix": {"type": "number", "description": "Unix seconds."}, **more}}


_TEXT = {"type": ["string", "null"]}
#: the JSON Schema of the listing (``GET /api/schedules``, ``ledgerlink schedules --format json``)
SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["now", "schedules"],
    "properties": {
        "now": {"type": "string", "description": "The time the listing was read at, ISO 8601 UTC."},
        "schedules": {"type": "array", "items": {
            "type": "object",
            "required": ["recipe", "trigger", "connection", "expression", "timezone", "catch_up", "state",
                         "paused_on", "last_tick", "next_tick"],
            "properties": {
                "recipe": {"type": "string"}, "trigger": {"type": "string"}, "connection": {"type": "string"},
                "expression": {**_TEXT, "description": "The schedule as written (a cron expression); null when "
                                                       "the trigger does not describe it."},
                "timezone": {"type": "string", "description": "The IANA zone the schedule is read in."},
                "catch_up": {**_TEXT, "description": "What fires after downtime (once, every)."},
                "state": {"enum": list(STATES), "description": "disabled: it does not tick; paused: its runs wait "
                                                               "for a connection to be connected again."},
                "paused_on": {"type": "object", "additionalProperties": {"type": "integer"},
                              "description": "Paused runs per connection they wait for."},
                "last_tick": {"oneOf": [{"type": "null"}, {
                    "type": "object", "required": ["event_id", "run"], "description": "The last tick fired.",
                    "properties": {
                        "event_id": {"type": "string"}, "utc": {"type": "string"}, "local": {"type": "string"},
                        "unix": {"type": "number"},
                        "run": {"oneOf": [{"type": "null"}, {
                            "type": "object", "required": ["id", "status"],
                            "properties": {"id": {"type": "integer"}, "status": {"type": "string"}}}]}}}]},
                "next_tick": {"oneOf": [{"type": "null"}, _moment_schema(
                    "The next tick due; null when disabled or never again.",
                    overdue={"type": "boolean", "description": "Due before now: missed while no worker ran."})]},
            }}},
    },
}


def moment(at: float, zone: str) -> dict[str, Any]:
    """``at`` (Unix seconds) in UTC, in ``zone`` (ISO 8601 with its offset) and as is."""
    when = dt.datetime.fromtimestamp(at, dt.timezone.utc)
    try:
        local = when.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local = when
    return {"utc": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "local": local.isoformat(timespec="seconds"), "unix": at}


def _described(recipe: Recipe, now: Tick) -> Schedule | None:
    """The trigger's description of the recipe's schedule; None when it gives none (or
    raised: logged, the other recipes are still listed)."""
    if recipe.trigger.schedule is None:
        return None
    try:
        return recipe.trigger.schedule(now)
    except Exception:  # a bug in the plugin: the listing still shows what the host knows
        log.exception("recipe %r: trigger %s raised while describing its schedule", recipe.id,
                      recipe.trigger.name)
        return None


def _state(recipe: Recipe, paused: dict[str, int]) -> str:
    if not recipe.enabled:
        return "disabled"
    return "paused" if paused else "active"


def one(rt: Runtime, recipe: Recipe, now: float) -> dict[str, Any]:
    """The schedule of one ticking ``recipe`` at ``now``."""
    last_id = rt.store.last_event_id(recipe.connection, event_prefix(recipe.trigger.name, recipe.id))
    schedule = _described(recipe, Tick(recipe_id=recipe.id, options=recipe.trigger_options,
                                       timezone=recipe.timezone, now=now, last_event_id=last_id))
    zone = schedule.timezone if schedule is not None else recipe.timezone
    paused = rt.store.paused_runs(recipe.id)
    last: dict[str, Any] | None = None
    if last_id is not None:
        made = rt.store.runs_of_event(recipe.connection, last_id, recipe.id)
        when = schedule.last_tick if schedule is not None else None
        last = {"event_id": last_id, **(moment(when, zone) if when is not None else {}),
                "run": made[-1] if made else None}
    following: dict[str, Any] | None = None
    if recipe.enabled and schedule is not None and schedule.next_tick is not None:
        following = {**moment(schedule.next_tick, zone), "overdue": schedule.next_tick < now}
    return {"recipe": recipe.id, "trigger": recipe.trigger.name, "connection": recipe.connection,
            "expression": schedule.expression if schedule is not None else None, "timezone": zone,
            "catch_up": schedule.catch_up if schedule is not None else None,
            "state": _state(recipe, paused), "paused_on": paused, "last_tick": last, "next_tick": following}


def schedules(rt: Runtime, now: float) -> dict[str, Any]:
    """Every ticking recipe's schedule at ``now`` (the clock ticks are fired by), by recipe id."""
    ticking = sorted((r for r in rt.registry.active().values() if r.trigger.tick is not None),
                     key=lambda r: r.id)
    return {"now": moment(now, "UTC")["utc"], "schedules": [one(rt, r, now) for r in ticking]}


def lines(listing: dict[str, Any]) -> list[str]:
    """The listing as the table ``ledgerlink schedules`` prints: a line per recipe, then its
    last and next tick indented."""
    if not listing["schedules"]:
        return ["no recipe starts on the clock: a recipe whose trigger is schedule.cron (or another that "
                "ticks) appears here; see docs/schedules.md"]
    out = [f"now {listing['now']}"]
    for each in listing["schedules"]:
        paused = "".join(f" ({n} run(s) wait for connection {c!r}: ledgerlink connect {c})"
                         for c, n in sorted(each["paused_on"].items()))
        out.append(f"{each['recipe']}  {each['state']}{paused}  {each['trigger']} on {each['connection']}  "
                   f"{each['expression'] or '-'}  {each['timezone']}  catch-up {each['catch_up'] or '-'}")
        last = each["last_tick"]
        if last is None:
            out.append("    last tick  none fired yet")
        else:
            run = last["run"]
            made = f"run {run['id']} {run['status']}" if run else "no run"
            out.append(f"    last tick  {last.get('utc', last['event_id'])}  ({last.get('local', '-')})  {made}")
        following = each["next_tick"]
        if following is None:
            why = "disabled" if each["state"] == "disabled" else "none"
            out.append(f"    next tick  {why}")
        else:
            late = "  OVERDUE: due while no worker ran; the next worker catches it up as catch-up says" if following["overdue"] else ""
            out.append(f"    next tick  {following['utc']}  ({following['local']}){late}")
    return out
