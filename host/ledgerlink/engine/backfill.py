"""Backfill: a recipe's past occurrences planned as if each event had arrived.

:func:`backfill` drives the recipe's trigger's ``history`` page after page over the recipe's
connection, through the governor (the connector's limits hold; a Throttled or a 429 waits
and the page is asked again). Each occurrence is fetched inline when its trigger fetches
(enrichment), then each page's events are stored and this recipe's runs planned in one
transaction (:meth:`ledgerlink.store.Store.backfill`). Occurrences make it idempotent: a
recipe that already has a run for an object, from a webhook, a poll or an earlier backfill
(interrupted or not), gets no other. The runs are performed by the workers of ``ledgerlink
serve`` or ``ledgerlink worker``, as any run.

A dry run pages and fetches the same way and writes nothing: it counts what would be
planned (a read-only look at the runs already planned) and shows the first object's run
as ``ledgerlink dry-run`` does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, IncomingEvent, Page, Trigger
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.engine.inbox import check_storable
from ledgerlink.engine.retry import backoff
from ledgerlink.engine.runner import drive
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import (EventError, LedgerlinkError, NeedsNewKey, NeedsReauth, NotFound, NotSent,
                               OutcomeUnknown, Throttled, VendorError)
from ledgerlink.io import keys
from ledgerlink.io.oauth import token_set
from ledgerlink.recipes.recipe import Recipe

log = logging.getLogger("ledgerlink")

Result = TypeVar("Result")


def parse_when(text: str) -> float:
    """A Unix time from an ISO 8601 date (``2026-01-31``: its midnight) or date-time
    (``2026-01-31T12:00:00``, UTC unless it carries an offset such as ``Z`` or ``+01:00``).
    ValueError, in words, when ``text`` is neither."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date (2026-01-31) or date-time (2026-01-31T12:00:00Z)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def iso(when: float) -> str:
    """``when`` as an ISO date-time in UTC, to the second."""
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Progress:
    """How far a backfill has come; updated after every page (the caller may hold it to
    report what was done before an error stopped it)."""

    recipe: str = ""
    version: int = 0
    connection: str = ""
    trigger: str = ""
    since: float = 0.0
    until: float = 0.0
    dry_run: bool = False
    pages: int = 0
    #: occurrences the trigger's history listed
    objects: int = 0
    #: runs planned (a dry run: runs that would be)
    planned: int = 0
    #: occurrences this recipe already has a run for (a webhook, a poll, an earlier backfill)
    already_planned: int = 0
    #: occurrences the recipe's trigger filter does not accept
    filtered_out: int = 0
    #: of the runs planned, those stored as failed: the filter cannot be evaluated on the event
    failed_filter: int = 0
    #: occurrences whose entity was gone when fetched, or that cannot be stored
    skipped: int = 0
    #: from 0 to 1, as the trigger's history tells; None when it cannot tell
    fraction: float | None = None
    warnings: list[str] = field(default_factory=list)
    #: a dry run: the report of ``ledgerlink dry-run`` for the first object the recipe accepts
    first: dict[str, Any] | None = None
    done: bool = False

    def as_json(self) -> dict[str, Any]:
        out = {"recipe": self.recipe, "version": self.version, "connection": self.connection,
               "trigger": self.trigger, "since": iso(self.since), "until": iso(self.until),
               "dry_run": self.dry_run, "done": self.done, "pages": self.pages, "objects": self.objects,
               "runs_planned" if not self.dry_run else "runs_to_plan": self.planned,
               "already_planned": self.already_planned, "filtered_out": self.filtered_out,
               "failed_filter": self.failed_filter, "skipped": self.skipped, "warnings": self.warnings}
        if self.dry_run:
            out["first"] = self.first
        return out


def find_recipe(rt: Runtime, name: str) -> Recipe:
    """The active recipe ``name`` names: its id, or the file it was loaded from."""
    active = rt.registry.active()
    recipe = active.get(name)
    if recipe is None:
        wanted = Path(name).resolve()
        recipe = next((r for r in active.values() if r.file and Path(r.file).resolve() == wanted), None)
    if recipe is None:
        known = ", ".join(sorted(active)) or "none"
        raise NotFound(f"no active recipe {name!r} in the recipe folder (known: {known}); pass a recipe id "
                       f"or the file of a recipe in --recipes")
    if not recipe.enabled:
        raise LedgerlinkError(f"recipe {recipe.id!r} is disabled: enable it (\"enabled\": true) before "
                              f"back-filling it, or its runs would never be planned")
    return recipe


def backfill(rt: Runtime, recipe_name: str, since: float, until: float, dry: bool = False,
             on_page: Callable[[Progress], None] | None = None, progress: Progress | None = None,
             sleep: Callable[[float], None] = time.sleep, max_attempts: int | None = None) -> Progress:
    """Plan a run of recipe ``recipe_name`` for each occurrence of its trigger between the
    Unix times ``since`` and ``until`` (see the module). ``on_page`` hears the progress after
    every page; ``progress`` (a fresh one when None) is updated as it goes and returned.
    ``sleep`` waits before a page or fetch is asked again (a test's simulated clock)."""
    progress = progress or Progress()
    recipe = find_recipe(rt, recipe_name)
    trigger = recipe.trigger
    progress.recipe, progress.version, progress.trigger = recipe.id, recipe.version, trigger.name
    progress.connection, progress.since, progress.until, progress.dry_run = recipe.connection, since, until, dry
    if trigger.history is None:
        raise LedgerlinkError(f"trigger {trigger.name!r} (recipe {recipe.id!r}) cannot be back-filled: its "
                              f"connector cannot list its past occurrences")
    if since >= until:
        raise LedgerlinkError(f"--since ({iso(since)}) must be before --until ({iso(until)})")
    name = recipe.connection
    check_connected(rt, name)
    connection = rt.connections.connection(name)
    send = rt.connections.transport(name)
    ctx = ActionContext(connection=connection, idempotency_key="", recipe_id=recipe.id,
                        recipe_version=recipe.version)
    fetches = trigger.fetches(connection)
    attempts = max_attempts or rt.settings.max_attempts
    history = trigger.history
    seen: set[str] = set()  # a dry run's occurrences so far: a second listing of one is already planned
    cursor: str | None = None
    while True:
        page: Page = governed(rt, name, dry, sleep, attempts,
                               lambda: drive(history(since, until, cursor, ctx), send))
        events = []
        for listed in page.events:
            event = _prepared(rt, trigger, listed, progress)
            if event is not None and fetches:
                fetched = governed(rt, name, dry, sleep, attempts,
                                    lambda: drive(trigger.fetch(event.payload, ctx), send))
                event = _prepared(rt, trigger, IncomingEvent(event.id, event.trigger, fetched), progress) \
                    if fetched is not None else _gone(event, progress)
            if event is not None:
                events.append(event)
        progress.objects += len(page.events)
        _plan_page(rt, recipe, events, progress, seen)
        progress.pages += 1
        progress.fraction = None if page.progress is None else min(1.0, max(0.0, float(page.progress)))
        if page.cursor is None:
            progress.done = True
            progress.fraction = 1.0 if progress.fraction is not None else None
        if on_page is not None:
            on_page(progress)
        if page.cursor is None:
            return progress
        cursor = page.cursor


def _plan_page(rt: Runtime, recipe: Recipe, events: list[IncomingEvent], progress: Progress,
               seen: set[str]) -> None:
    """Store one page's events and plan this recipe's runs in one transaction; a dry run
    counts what would be planned instead, and keeps the first object's dry-run report."""
    items = []
    for event in events:
        planned = rt.inbox.planned_runs([recipe], event)
        if not planned:
            progress.filtered_out += 1
            continue
        items.append((event, planned))
    if progress.dry_run:
        done = rt.store.already_planned(recipe.id, recipe.connection,
                                        [(event.id, planned[0].occurrence) for event, planned in items])
        for event, planned in items:
            key = planned[0].occurrence
            if event.id in done or (key is not None and key in seen):
                progress.already_planned += 1
                continue
            if key is not None:
                seen.add(key)
            progress.planned += 1
            progress.failed_filter += sum(1 for run in planned if run.error is not None)
            if progress.first is None and not any(run.error for run in planned):
                progress.first = dry_run(recipe, rt.catalog, rt.config, event)
        return
    if not items:
        return
    results = rt.store.backfill(recipe.connection, [
        (event.id, event.trigger, event.raw if event.raw is not None else jsonio.dumps(event.payload), planned)
        for event, planned in items])
    for (_, planned), (_, _, run_ids) in zip(items, results):
        progress.planned += len(run_ids)
        progress.already_planned += len(planned) - len(run_ids)
        if run_ids:
            progress.failed_filter += sum(1 for run in planned if run.error is not None)
    rt.metrics.add("runs_planned", sum(len(run_ids) for _, _, run_ids in results))
    rt.metrics.add("runs_deduplicated", sum(len(planned) for _, planned in items)
                   - sum(len(run_ids) for _, _, run_ids in results))


def _prepared(rt: Runtime, trigger: Trigger, event: IncomingEvent, progress: Progress) -> IncomingEvent | None:
    """``event`` when it is one of ``trigger`` and can be stored; else None, with a warning."""
    if event.trigger != trigger.name:
        return _skip(progress, f"the history of {trigger.name!r} listed event {event.id!r} of trigger "
                               f"{event.trigger!r}; it is skipped")
    try:
        check_storable(trigger.connector, event)
    except EventError as exc:
        return _skip(progress, f"an event is skipped: {exc.message}")
    return event


def _gone(event: IncomingEvent, progress: Progress) -> None:
    return _skip(progress, f"the entity of {event.id} no longer exists; it is skipped")


def _skip(progress: Progress, warning: str) -> None:
    log.warning("backfill of recipe %r: %s", progress.recipe, warning)
    progress.skipped += 1
    if len(progress.warnings) < 20:
        progress.warnings.append(warning)
    return None


def check_connected(rt: Runtime, name: str) -> None:
    """NeedsReauth (NeedsNewKey) when connection ``name`` is paused until it is connected
    again (given a new key): nothing it would send could succeed."""
    if keys.waits_for_new_key(rt.connections, name):
        raise NeedsNewKey(name, "the vendor refused its key")
    owner = token_set(rt.connections, name)  # the token set's status is every connection's on it
    status = rt.store.connection_statuses().get(owner)
    if status is not None and status[0] == "needs_reauth":
        raise NeedsReauth(name, "" if owner == name else f"the token set of {owner!r}, which it shares, was refused")


def governed(rt: Runtime, name: str, dry: bool, sleep: Callable[[float], None], attempts: int,
             call: Callable[[], Result]) -> Result:
    """``call()`` (one read: a history page, a fetch, a page a reconciliation lists), asked
    again while the governor has no slot (Throttled), the vendor says "later" (a 429, a 5xx)
    or nothing answered; at most ``attempts`` times but for Throttled. A refused key stops
    the backfill (NeedsNewKey, the connection marked as runs mark it, unless this is a dry
    run); an OAuth token refused is refreshed once."""
    tried = 0
    refreshed = False
    while True:
        try:
            return call()
        except Throttled as throttled:
            sleep(max(0.0, getattr(throttled, "delay", 1.0)))
            continue
        except NeedsReauth:
            raise
        except VendorError as exc:
            if exc.kind == "permanent":
                raise
            oauth = rt.catalog.connectors[rt.connections.connection(name).connector].oauth
            if exc.kind == "reauth" and oauth is None:
                if not dry:
                    keys.refused(rt.connections, name, exc.message)
                raise NeedsNewKey(name, exc.message) from None
            if exc.kind == "reauth" and not refreshed and rt.connections.expire(name):
                refreshed = True
                continue
            if exc.kind == "reauth":
                raise NeedsReauth(name, exc.message) from None
            error: LedgerlinkError = exc
            delay = exc.retry_after
        except (NotSent, OutcomeUnknown) as exc:  # reads only: asking again is safe
            error, delay = exc, None
        tried += 1
        if tried >= attempts:
            raise LedgerlinkError(f"gave up after {tried} attempts: {error.message}")
        sleep(delay if delay is not None else backoff(tried, rt.settings.backoff_base, rt.settings.backoff_cap))
