"""Host events: how a plugin raises an event into the inbox, as a webhook's events arrive.

A behaviour hook (:mod:`ledgerlink.contract.hookspecs`) that declares the argument ``host``
receives a :class:`Host`: the running host of the process that called it (``serve`` or
``worker``). A plugin's own upkeep gets the same object from ``ledgerlink_tick(now, host)``,
which every worker calls about once a second (a recipe started by the clock is a ticking
trigger instead: :mod:`ledgerlink.contract.clock`). The one way to raise an event is
:func:`raise_event`::

    from ledgerlink.contract import events, hookimpl

    @hookimpl
    def ledgerlink_run_ended(run, outcome, error, host):
        if outcome == "dead":
            events.raise_event(host, "mysystem.run.dead", f"dead:{run.id}", {"run_id": run.id})

The event is stored as a webhook's events are: in the inbox of the connection named after
the trigger's connector (``ledgerlink.run.failed`` → the connection ``ledgerlink``, which
a recipe names as its trigger's connection), with a run planned for every enabled recipe on
that trigger and connection, in one transaction. The event id deduplicates: raising the
same id twice, in one process or many, on SQLite or PostgreSQL, stores it once and plans
its runs once; so an id built from what the event is about (a recipe and a time window, a
connection and the day) makes every process agree without talking to each other.

What the recipe reads as ``$.event`` is the envelope :func:`envelope` builds:
``{"id", "type", "occurred_at", "data"}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

#: the JSON Schema of an event's envelope; a trigger's schema gives ``data`` its own
ENVELOPE_KEYS = ("id", "type", "occurred_at", "data")


@dataclass(frozen=True)
class Raised:
    """What :func:`raise_event` did: ``stored`` is False when the id was already in the
    inbox (nothing new was planned); ``runs`` are the ids of the runs it planned."""

    event_id: str
    stored: bool
    runs: tuple[int, ...] = ()


class Host(Protocol):
    """The running host, as a behaviour hook or a plugin's loop sees it."""

    def raise_event(self, name: str, event_id: str, data: Mapping[str, Any], occurred_at: float | None = None,
                    connection: str | None = None) -> Raised:
        """Store the event and plan its runs (see :func:`raise_event`)."""

    def now(self) -> float:
        """The host's clock (Unix seconds): what windows and ``occurred_at`` are read on."""

    def settings(self, table: str) -> Mapping[str, Any]:
        """A top-level table of ``ledgerlink.toml`` (``"alerts"``), empty when absent; its
        values are checked by the config schema before the host starts."""

    def tally(self, key: str, length: float, error: str | None = None, run_id: int | None = None,
              at: float | None = None) -> Tally:
        """Count one occurrence of ``key`` at ``at`` (default: now) in its window of
        ``length`` seconds (windows start at multiples of their length, so every process
        files it alike), in the store every process shares; returns the window's
        :class:`Tally` with this occurrence counted."""

    def closed_tallies(self, prefix: str, before: float) -> list[Tally]:
        """The tallies of keys starting with ``prefix`` whose window ended at or before
        ``before`` and that were not yet settled (:meth:`settle`), oldest first."""

    def settle(self, tally: Tally) -> bool:
        """Mark a closed window handled (raise its summary first: if this process dies in
        between, another raises it again and the inbox keeps one); True for the caller that
        marked it."""


@dataclass(frozen=True)
class Tally:
    """The occurrences of one key in one time window, counted by every process together."""

    key: str
    window_start: float
    window_end: float
    count: int
    #: the smallest and largest run id given with an occurrence (None when none was)
    first_run: int | None
    last_run: int | None
    #: the error given most often in the window, and how many times (None, 0: none given)
    top_error: str | None = None
    top_error_count: int = 0


def raise_event(host: Host, name: str, event_id: str, data: Mapping[str, Any], occurred_at: float | None = None,
                connection: str | None = None) -> Raised:
    """Raise event ``event_id`` of trigger ``name`` with ``data`` into the inbox.

    ``connection`` defaults to the trigger's connector (the first part of ``name``).
    ``occurred_at`` defaults to the host's clock. Returns what was stored; raises
    :class:`ledgerlink.errors.EventError` for an id or data that cannot be stored (the
    inbox's rules) and :class:`ledgerlink.errors.ConfigError` for a trigger no plugin
    registered. ``data`` must fit the trigger's event schema (an EventError naming the
    pointer otherwise). Safe to call from any thread of the process."""
    return host.raise_event(name, event_id, data, occurred_at, connection)


def envelope(name: str, event_id: str, data: Mapping[str, Any], occurred_at: float) -> dict[str, Any]:
    """The payload an event raised by a plugin is stored with (and ``$.event`` reads)."""
    when = dt.datetime.fromtimestamp(occurred_at, dt.timezone.utc).isoformat(timespec="seconds")
    return {"id": event_id, "type": name, "occurred_at": when.replace("+00:00", "Z"), "data": dict(data)}


def envelope_schema(data_schema: Mapping[str, Any]) -> dict[str, Any]:
    """The event schema of a trigger whose events are raised with :func:`raise_event`,
    ``data`` validated by ``data_schema``."""
    data = {"description": "What happened, as the trigger describes it.", **dict(data_schema)}
    return {"type": "object", "required": list(ENVELOPE_KEYS), "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "minLength": 1,
                       "description": "The event's id: raising the same id again stores nothing new."},
                "type": {"type": "string", "description": "The trigger's name."},
                "occurred_at": {"type": "string", "format": "date-time",
                                "description": "When it happened, ISO 8601 UTC."},
                "data": data}}
