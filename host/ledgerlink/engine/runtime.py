"""The service: recipes hot-reloaded, webhooks into the inbox, workers running the runs.

:class:`Runtime` holds what one process shares: the catalog, the config, the store, the one
HTTP client, the governor and the recipe registry. :meth:`Runtime.receive` is the inbox
(verify, store, plan — in one transaction — then answer); :class:`Worker` claims due runs
with a lease and runs them through :mod:`ledgerlink.engine.runner`.
"""

from __future__ import annotations

import logging
import os
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.contract.http import retry_after
from ledgerlink.io import files, outbound
from ledgerlink.contract import (Action, ActionContext, Connection, FileEffect, FileResult,
                                 IncomingEvent, LinkQuery, Request, Response)
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.config import Config
from ledgerlink.errors import (ConfigError, EventError, LedgerlinkError, MappingError, NeedsReauth,
                               NotSent, OutcomeUnknown, Problem, RecipeError, SignatureError,
                               Throttled, VendorError, quoted)
from ledgerlink.io.governor import Governor
from ledgerlink.io.governor.local import LocalGovernor
from ledgerlink.recipes.mapping import CompiledPath, Scope, compile_path
from ledgerlink.recipes.recipe import Recipe, Step, check_recipe, validate
from ledgerlink.engine.runner import (StepResult, document, drive, find_existing, idempotency_key,
                                      run_step)
from ledgerlink.io.secrets import SecretBox
from ledgerlink.store import ClaimedFetch, ClaimedRun, Store, unavailable

log = logging.getLogger("ledgerlink")


# --- recipes ------------------------------------------------------------------------------

class Registry:
    """The active recipes (newest version of each file) and every compiled version seen.

    A reload is atomic: every file valid, or nothing changes. Versions stay compiled, so a
    run planned on version 1 finishes on version 1 after version 2 is loaded.
    """

    def __init__(self, catalog: Catalog, config: Config, store: Store, directory: str | Path | None) -> None:
        self.catalog = catalog
        self.config = config
        self.store = store
        self.directory = Path(directory) if directory else None
        self._lock = threading.Lock()
        self._active: dict[str, Recipe] = {}
        self._by_trigger: dict[str, list[Recipe]] = {}
        self._versions: dict[tuple[str, int], Recipe] = {}
        self.generation = 0

    def reload(self) -> list[Recipe]:
        """Load every recipe of the directory; RecipeError (with every problem) changes nothing."""
        if self.directory is None:
            return []
        paths = [self.directory] if any(self.directory.glob("*.json")) else []
        recipes, problems = validate(paths, self.catalog, self.config)
        if problems:
            raise RecipeError(problems)
        return self._activate(recipes)

    def _activate(self, recipes: list[Recipe]) -> list[Recipe]:
        saved = self.store.save_recipe_versions(
            (r.id, r.version, jsonio.dumps(r.raw), r.file) for r in recipes)
        if saved:
            raise RecipeError([Problem(p.split(":/")[0], "/version", p.split(": ", 1)[1]) for p in saved])
        by_trigger: dict[str, list[Recipe]] = {}
        for recipe in recipes:
            if recipe.enabled:
                by_trigger.setdefault(recipe.trigger.name, []).append(recipe)
        with self._lock:
            for recipe in recipes:
                self._versions[(recipe.id, recipe.version)] = recipe
            self._active = {r.id: r for r in recipes}
            self._by_trigger = by_trigger
            self.generation += 1
        return recipes

    def active(self) -> dict[str, Recipe]:
        return dict(self._active)

    def idle_reason(self) -> str | None:
        """Why nothing will run (no active recipe), in words that say what to do; None when
        recipes are loaded."""
        if self._active:
            return None
        if self.directory is None:
            return "no recipes: this process was started without a recipe folder, so no event starts a run"
        return (f"no recipes in {self.directory.resolve()}: no event starts a run until recipe files are "
                f"added there (then POST /api/recipes/reload); `ledgerlink init` writes examples to start from")

    def for_trigger(self, trigger: str) -> list[Recipe]:
        return list(self._by_trigger.get(trigger, ()))

    def version(self, recipe_id: str, version: int) -> Recipe:
        """The compiled recipe of a version, from memory or from its stored body."""
        recipe = self._versions.get((recipe_id, version))
        if recipe is not None:
            return recipe
        row = self.store.recipe_version(recipe_id, version)
        if row is None:
            raise ConfigError(f"recipe {recipe_id!r} version {version} is not in the database")
        recipe, problems = check_recipe(jsonio.loads(row["body"]), row["file"] or recipe_id,
                                        self.catalog, self.config)
        if recipe is None:
            raise RecipeError(problems)
        with self._lock:
            self._versions[(recipe_id, version)] = recipe
        return recipe


# --- the process --------------------------------------------------------------------------

@dataclass
class Settings:
    workers: int = 2
    lease_seconds: float = 60.0
    poll_interval: float = 0.05
    batch: int = 8
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    #: how long a worker may wait for a governor slot before rescheduling the run
    max_governor_wait: float = 10.0
    max_body_bytes: int = 1_000_000
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    #: "local" (this process counts vendor limits), "shared" (every process on the database
    #: counts together) or "auto": shared on PostgreSQL, where processes scale out
    #: ($LEDGERLINK_GOVERNOR sets it for serve and worker)
    governor: str = field(default_factory=lambda: os.environ.get("LEDGERLINK_GOVERNOR", "auto"))


@dataclass
class Runtime:
    catalog: Catalog
    config: Config
    store: Store
    recipes_dir: str | Path | None = None
    settings: Settings = field(default_factory=Settings)

    def __post_init__(self) -> None:
        self.registry = Registry(self.catalog, self.config, self.store, self.recipes_dir)
        self.store.recovery_probe_bytes = self.settings.max_body_bytes
        self.client = outbound.new_client(self.settings.connect_timeout, self.settings.read_timeout)
        shared = self.settings.governor == "shared" or (
            self.settings.governor == "auto" and self.store.engine.dialect.name == "postgresql")
        if shared:
            from ledgerlink.io.governor.shared import SharedGovernor
            self.governor: Governor = SharedGovernor(self.store)
        else:
            self.governor = LocalGovernor()
        self.secret_box = SecretBox(self.store)
        self._connections: dict[str, Connection] = {}
        self._source_paths: dict[str, CompiledPath | None] = {}
        self.metrics = Metrics()
        self._wake = threading.Event()
        #: set when this process stored a notification to fetch; workers then look at once
        self._fetch_pending = False

    # connections and their secrets ------------------------------------------------------

    def connection(self, name: str) -> Connection:
        """The connection's settings: ledgerlink.toml, then what its OAuth consent told (realm)."""
        connection = self._connections.get(name)
        if connection is None:
            connection = self.config.connection(name, self.catalog)
            connector = self.catalog.connectors[connection.connector]
            if connector.oauth is not None and self.secret_box.enabled:
                learned = self.secret_box.get(name).get("settings") or {}
                if learned:
                    connection = Connection(name, connection.connector, {**connection.settings, **learned},
                                            connection.implicit)
            self._connections[name] = connection
        return connection

    def forget(self, name: str) -> None:
        """Drop what is cached about a connection (after it was connected again)."""
        self._connections.pop(name, None)

    def secrets(self, name: str) -> dict[str, Any]:
        """Configured secrets (from the environment) overlaid with stored tokens, refreshed
        when they are about to expire. Raises NeedsReauth for a connection that must be
        connected again."""
        from ledgerlink.io.oauth import fresh_secrets

        values = self.config.secrets(name, self.catalog) if name in self.config.connections else {}
        if not self.secret_box.enabled:
            return values
        connector = self.catalog.connectors[self.connection(name).connector]
        if connector.oauth is not None:
            return fresh_secrets(self, name, values)
        values.update(self.secret_box.get(name))
        return values

    def credentials(self, name: str) -> tuple[dict[str, str], list[str]]:
        """The headers that authenticate a request on connection ``name``, and every secret
        value to redact from what is logged of it."""
        secrets = self.secrets(name)
        connector = self.catalog.connectors[self.connection(name).connector]
        auth = dict(connector.auth(secrets)) if connector.auth else {}
        return auth, [v for v in secrets.values() if isinstance(v, str)]

    def transport(self, name: str, sent: list[outbound.Sent] | None = None) -> Callable[[Any], Response | FileResult]:
        """``send(request) -> response`` on connection ``name`` as a worker sends: through the
        governor, authenticated, a ``LinkQuery`` answered from the links table, a file effect
        performed by :mod:`ledgerlink.io.files`; each
        request's redacted record is appended to ``sent``. Raises Throttled when no slot
        frees within ``max_governor_wait``."""
        connection = self.connection(name)
        connector = self.catalog.connectors[connection.connector]
        auth, secret_values = self.credentials(name)
        governor_key = f"{connection.connector}:{connection.name}"
        limits = self.config.limits(connection.name, connector.limits)
        records = sent if sent is not None else []

        def send(request: Any) -> Response | FileResult:
            if isinstance(request, LinkQuery):
                target = self.store.linked_target(connection.name, request.source_id, request.target_type)
                return Response(status=200, json={"target_id": target})
            if isinstance(request, FileEffect):  # not HTTP: the host writes the file, ungoverned
                return files.perform_logged(request, connection.settings, secret_values, records)
            # the governor also holds back a connector without published limits after a Retry-After
            with self.governor.slot(governor_key, limits, max_wait=self.settings.max_governor_wait):
                try:
                    response, record = outbound.send(self.client, request, auth, secret_values)
                except (NotSent, OutcomeUnknown) as exc:
                    if exc.sent is not None:
                        records.append(exc.sent)  # the run log shows what was attempted
                    raise
            records.append(record)
            self.metrics.add("requests_sent", 1)
            if response.status == 429 or (response.status == 503 and retry_after(response.headers)):
                self.metrics.add("responses_throttled", 1)
                self.governor.pause(governor_key, retry_after(response.headers) or 1.0)
            return response

        return send

    def sender(self, name: str) -> Callable[[Request | FileEffect], Response | FileResult]:
        """``send(request) -> response`` on connection ``name``, for requests (and file
        effects) outside a run (``ledgerlink check``, ``runs undo``)."""
        auth, values = self.credentials(name)
        settings = self.connection(name).settings

        def send(request: Any) -> Response | FileResult:
            if isinstance(request, FileEffect):
                return files.perform(request, settings)
            return outbound.send(self.client, request, auth, values)[0]

        return send

    # the inbox ----------------------------------------------------------------------------

    def receive(self, connection_name: str, headers: Mapping[str, str], body: bytes,
                now: float | None = None) -> dict[str, Any]:
        """Verify, parse, store and plan a webhook delivery. Returns what was stored.

        Raises SignatureError (nothing stored), EventError (nothing stored) or ConfigError.
        Returns only after the commit, so the caller may acknowledge. A notification that
        carries ids only (its trigger has ``fetch``) is stored now and its runs are planned
        by a worker once the entity is fetched. What a recipe makes of an event never
        refuses it: a trigger filter that cannot be evaluated on it plans a failed run (see
        :meth:`planned_runs`).
        """
        connection = self.connection(connection_name)
        connector = self.catalog.connectors[connection.connector]
        if connector.webhook is None:
            raise ConfigError(f"connector {connector.name!r} of connection {connection_name!r} does not "
                              f"receive webhooks")
        verify_with = {**connection.settings, **self.secrets(connection_name)}
        connector.webhook.verify(headers, body, verify_with, time.time() if now is None else now)
        by_connection: dict[str, list[IncomingEvent]] = {}
        unrouted: list[IncomingEvent] = []
        for event in connector.webhook.parse(headers, body):
            check_storable(connector.name, event)
            target = self._route(connection_name, connector, event)
            if target is None:
                unrouted.append(event)
            else:
                by_connection.setdefault(target, []).append(event)
        results = []
        for target, events in by_connection.items():
            results += self.store.ingest(target, self.plan_items(target, events))
        if unrouted:  # kept for the record; no connection here is that tenant's, so nothing runs
            log.warning("connection %r received %d event(s) for tenant(s) %s, which no configured %s "
                        "connection has; they are stored and not run", connection_name, len(unrouted),
                        ", ".join(sorted({str(e.tenant) for e in unrouted})), connector.name)
            self.metrics.add("events_unrouted", len(unrouted))
            results += self.store.ingest(connection_name, [
                (e.id, e.trigger, e.raw if e.raw is not None else jsonio.dumps(e.payload), []) for e in unrouted])
        stored = sum(1 for _, new, _ in results if new)
        planned_runs = sum(len(r) for _, _, r in results)
        self.metrics.add("webhooks_received", 1)
        self.metrics.add("events_stored", stored)
        self.metrics.add("events_duplicate", len(results) - stored)
        self.metrics.add("runs_planned", planned_runs)
        if planned_runs or self._fetch_pending:
            self.wake()
        return {"received": len(results), "stored": stored, "duplicates": len(results) - stored,
                "runs_planned": planned_runs}

    def plan_items(self, connection_name: str, events: list[IncomingEvent]) -> list[tuple[Any, ...]]:
        """What the store is handed for ``events`` of one connection: each event with the
        runs its recipes plan, or marked to be fetched first when its trigger fetches."""
        items: list[tuple[Any, ...]] = []
        for event in events:
            recipes = [r for r in self.registry.for_trigger(event.trigger) if r.connection == connection_name]
            text = event.raw if event.raw is not None else jsonio.dumps(event.payload)
            trigger = self.catalog.triggers.get(event.trigger)
            if trigger is not None and trigger.fetch is not None and recipes:
                items.append((event.id, event.trigger, text, [], True))
                self._fetch_pending = True
                continue
            items.append((event.id, event.trigger, text, self.planned_runs(recipes, event)))
        return items

    def planned_runs(self, recipes: list[Recipe], event: IncomingEvent) -> list[tuple[Any, ...]]:
        """The runs ``recipes`` plan for ``event``: ``(recipe id, version)`` for each recipe
        whose trigger filter accepts it, and ``(recipe id, version, error)`` for each whose
        filter cannot be evaluated on it (a value of an unexpected type, say).

        The second kind is stored as a failed run, never retried: the event stays stored
        and acknowledged, the run's error names the recipe file, the filter's pointer and the
        fix, and once the filter is fixed the run is replayed on the recipe's latest version.
        """
        planned: list[tuple[Any, ...]] = []
        for recipe in recipes:
            try:
                if recipe.matches(document(recipe, event)):
                    planned.append((recipe.id, recipe.version))
            except LedgerlinkError as exc:
                error = (f"the trigger filter cannot be evaluated on event {event.id}: {exc.message}; "
                         f"fix the filter in {recipe.file or recipe.id}, then replay this run on the "
                         f"latest version")
                log.warning("recipe %r version %d: %s", recipe.id, recipe.version, error)
                self.metrics.add("runs_failed", 1)
                planned.append((recipe.id, recipe.version, error))
        return planned

    def _route(self, received_on: str, connector: Any, event: IncomingEvent) -> str | None:
        """The connection an event belongs to: the one it arrived on, unless the connector
        names tenants and the event is another connection's tenant's (None: nobody's)."""
        setting = connector.webhook.tenant_setting
        if not setting or event.tenant is None:
            return received_on
        if str(self.connection(received_on).settings.get(setting)) == str(event.tenant):
            return received_on
        for name, raw in self.config.connections.items():
            if raw.get("connector") == connector.name and name != received_on:
                if str(self.connection(name).settings.get(setting)) == str(event.tenant):
                    return name
        return None

    # waking workers -----------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def wait_for_work(self, timeout: float) -> None:
        if self._wake.wait(timeout):
            self._wake.clear()

    def polled_connections(self) -> list[str]:
        """Configured connections that poll (``poll_seconds`` set, connector with a poll)."""
        out = []
        for name, raw in self.config.connections.items():
            connector = self.catalog.connectors.get(raw.get("connector", ""))
            if connector is not None and connector.poll is not None and self.config.poll_seconds(name):
                out.append(name)
        return out

    def source_id(self, recipe: Recipe, payload: Any) -> str | None:
        path_text = recipe.trigger.source_id_path
        if not path_text:
            return None
        if path_text not in self._source_paths:
            scope = Scope(file="", recipe_id="", step_id="", transforms={}, lookups={})
            self._source_paths[path_text] = compile_path("$.event" + path_text[1:], "", scope)
        path = self._source_paths[path_text]
        value = path.get({"event": payload}) if path else None
        return value if isinstance(value, str) else None

    def close(self) -> None:
        self.client.close()
        self.governor.close()
        self.store.dispose()


#: the longest event id and trigger name the inbox holds (its event_id and trigger columns)
MAX_EVENT_ID = 255
MAX_TRIGGER = 200
#: characters no id is made of, and PostgreSQL cannot store (NUL) or encode (surrogates)
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
#: characters no text a run stores may hold: PostgreSQL text refuses NUL, UTF-8 surrogates
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


#: what reading stored text raises when the text itself is at fault (a lone surrogate,
#: nesting too deep): every attempt would raise it again, so it fails at once
UNREADABLE = (jsonio.JSONDecodeError, UnicodeError, RecursionError)


def every_attempt(exc: BaseException) -> str:
    """An error that every attempt would meet again, in words (a database's own words,
    never the statement or its parameters)."""
    detail = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    return f"{type(detail).__name__}: {detail}; it would fail the same way on every attempt"


def check_storable(connector: str, event: IncomingEvent) -> None:
    """EventError unless ``event`` can be stored and processed as it is, on SQLite and
    PostgreSQL alike: its id and trigger are non-empty text of at most :data:`MAX_EVENT_ID`
    (:data:`MAX_TRIGGER`) characters without control characters or surrogates, and no
    string of its payload (key or value) holds NUL (U+0000) or a surrogate — a run copies
    such strings into ids, links and requests, where they cannot be stored or sent."""
    for what, value, limit in (("id", event.id, MAX_EVENT_ID), ("trigger", event.trigger, MAX_TRIGGER)):
        if not isinstance(value, str) or not value:
            raise EventError(f"a {connector} event needs a non-empty {what}; got {quoted(value)}")
        if len(value) > limit:
            raise EventError(f"the {what} of a {connector} event is {len(value)} characters long "
                             f"({quoted(value, 40)}); the inbox holds at most {limit}")
        bad = _UNSTORABLE.search(value)
        if bad is not None:
            raise EventError(f"the {what} of a {connector} event, {quoted(value, 60)}, holds the character "
                             f"U+{ord(bad.group()):04X}, which an {what} cannot hold")
    found = _unstorable_text(event.payload)
    if found is not None:
        # the pointer may name a key holding the character: write it escaped, as JSON does
        pointer = _UNSTORABLE_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", found[0])
        char = found[1]
        raise EventError(f"{connector} event {event.id} holds the character U+{ord(char):04X} at "
                         f"{pointer or '/'}; it cannot be stored as text (PostgreSQL refuses NUL, "
                         f"UTF-8 has no surrogates), so the event cannot be processed",
                         pointer=pointer or "/")


def _unstorable_text(value: Any) -> tuple[str, str] | None:
    """The JSON pointer of the first key or string in ``value`` holding NUL or a surrogate,
    and that character; None when there is none. Iterative: nesting depth costs no stack."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        pointer, node = stack.pop()
        if isinstance(node, str):
            bad = _UNSTORABLE_TEXT.search(node)
            if bad is not None:
                return pointer, bad.group()
        elif isinstance(node, Mapping):
            for key, item in node.items():
                here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
                bad = _UNSTORABLE_TEXT.search(key) if isinstance(key, str) else None
                if bad is not None:
                    return here, bad.group()
                stack.append((here, item))
        elif isinstance(node, list):
            stack.extend((f"{pointer}/{i}", item) for i, item in enumerate(node))
    return None


class Metrics:
    """Counters for /metrics (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, float] = {}

    def add(self, name: str, amount: float) -> None:
        with self._lock:
            self.values[name] = self.values.get(name, 0) + amount


# --- workers ------------------------------------------------------------------------------

class _Retry(Exception):
    def __init__(self, message: str, delay: float | None = None, count_attempt: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.delay = delay
        self.count_attempt = count_attempt


class _Lost(Exception):
    """The run's lease was lost; the worker that took it over finishes it."""


class _Fail(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Worker:
    """Claims due runs and runs them, step by step, logging every attempt."""

    #: how often a worker looks for due polls and for fetches stored by other processes
    LOOK_EVERY = 1.0

    def __init__(self, runtime: Runtime, name: str | None = None) -> None:
        self.runtime = runtime
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stop = threading.Event()
        self.idle = threading.Event()
        self._next_look = 0.0
        self._fetches = any(t.fetch is not None for t in runtime.catalog.triggers.values())
        self._listens = runtime.store.engine.dialect.name == "postgresql"
        #: runs claimed when the store stopped taking writes: handed back, uncounted, once it does
        self._hand_back: list[int] = []

    def _store_ready(self) -> bool:
        """False while the store cannot take writes (the store logs when that starts and
        ends); then runs this worker had claimed are handed back without counting an attempt."""
        store = self.runtime.store
        if not store.last_health.writable and not store.health().writable:
            return False
        while self._hand_back:
            try:
                store.finish(self._hand_back[0], self.name, "pending", due_at=time.time(), count_attempt=False)
            except sa.exc.DBAPIError as exc:
                if not unavailable(exc):
                    raise
                return False
            self._hand_back.pop(0)
        return True

    def run_forever(self) -> None:
        settings = self.runtime.settings
        while not self.stop.is_set():
            try:
                ready = self._store_ready()
            except Exception:  # a bug: the lease of the runs to hand back expires instead
                log.exception("worker %s cannot hand back runs %s", self.name, self._hand_back)
                self._hand_back.clear()
                ready = True
            if not ready:
                self.stop.wait(1.0)
                continue
            try:
                self.side_work()
            except sa.exc.DBAPIError as exc:  # the database is away: runs wait for it too
                if not unavailable(exc):
                    log.warning("worker %s cannot fetch notifications or poll: %s", self.name, exc.orig)
            except Exception:  # a bug: runs still go on
                log.exception("worker %s: fetching notifications or polling failed", self.name)
            try:
                claimed = self.runtime.store.claim(self.name, settings.lease_seconds, settings.batch)
            except Exception as exc:  # the database is away: wait, never lose the loop
                if not unavailable(exc):  # a store error is logged once by the store
                    log.warning("worker %s cannot claim runs: %s", self.name, exc)
                self.stop.wait(1.0)
                continue
            if not claimed:
                self.idle.set()
                # on PostgreSQL, other processes' work arrives by NOTIFY: polling is the fallback
                self.runtime.wait_for_work(settings.poll_interval if not self._listens
                                           else max(settings.poll_interval, 0.5))
                continue
            self.idle.clear()
            for index, run in enumerate(claimed):
                if self.stop.is_set():
                    # graceful stop: hand back what we have not started
                    for rest in claimed[index:]:
                        self.runtime.store.finish(rest.id, self.name, "pending", due_at=time.time(),
                                                  count_attempt=False)
                    break
                try:
                    self.process(run)
                except Exception as exc:
                    if unavailable(exc):
                        # the store cannot take writes (it says so once): this run and the rest
                        # go back uncounted once it can; a step already sent is sent again
                        # with its idempotency key, so nothing is created twice
                        self.runtime.store.note_unavailable(exc)
                        self._hand_back += [r.id for r in claimed[index:]]
                        break
                    # a bug must not stop the worker or strand the run
                    log.exception("worker %s: run %s failed unexpectedly; it will be retried", self.name, run.id)
                    try:
                        self._reschedule(run, _Retry("unexpected error in ledgerlink (see the server log)"))
                    except Exception:  # the database is away too: the lease expires and another worker retries
                        log.exception("worker %s: cannot reschedule run %s", self.name, run.id)

    def process(self, run: ClaimedRun) -> str:
        """Run one claimed run to success, failure or its next retry. Returns the new status."""
        rt = self.runtime
        store = rt.store
        started = time.time()
        try:
            recipe = rt.registry.version(run.recipe_id, run.recipe_version)
            payload = jsonio.loads(run.payload)
            event = IncomingEvent(run.event_id, run.trigger, payload)
            done = store.succeeded_steps(run.id) if run.attempts > 1 else {}
            doc = document(recipe, event)
            source_id = rt.source_id(recipe, payload)
            for index, step in enumerate(recipe.steps):
                if step.id in done:
                    doc["steps"][step.id] = done[step.id]
                    continue
                if index and not store.renew(run.id, self.name, rt.settings.lease_seconds):
                    return "lost"  # another worker took the run over; it will finish it
                doc["steps"][step.id] = self._step(run, recipe, step, doc, event, source_id,
                                                   last_step=index == len(recipe.steps) - 1)
        except _Lost:
            rt.metrics.add("runs_lost_lease", 1)
            return "lost"
        except NeedsReauth as exc:
            store.pause(run.id, self.name, exc.connection, exc.message)
            rt.metrics.add("runs_paused", 1)
            return "paused"
        except _Retry as retry:
            return self._reschedule(run, retry)
        except _Fail as fail:
            store.finish(run.id, self.name, "failed", error=fail.message)
            rt.metrics.add("runs_failed", 1)
            return "failed"
        except LedgerlinkError as exc:  # recipe version missing or broken
            store.finish(run.id, self.name, "failed", error=exc.message)
            rt.metrics.add("runs_failed", 1)
            return "failed"
        except (*UNREADABLE, sa.exc.DataError) as exc:
            # the event's text cannot be read or encoded (a lone surrogate, nesting too deep),
            # or the database refuses a value of it (NUL, too long for its column): every
            # attempt would fail the same way, so the run fails now instead of retrying
            error = f"event {run.event_id} cannot be processed: {every_attempt(exc)}"
            log.warning("run %s: %s", run.id, error)
            store.finish(run.id, self.name, "failed", error=error)
            rt.metrics.add("runs_failed", 1)
            return "failed"
        if recipe.steps and recipe.steps[-1].id in done:  # every step had succeeded before
            store.finish(run.id, self.name, "succeeded")
        rt.metrics.add("runs_succeeded", 1)
        rt.metrics.add("run_seconds", time.time() - started)
        return "succeeded"

    # --- notifications to fetch, polls to run ------------------------------------------------

    def side_work(self) -> int:
        """Fetch due notifications and run due polls. Looks every ``LOOK_EVERY`` seconds, or
        at once after this process stored a notification to fetch. Returns how many."""
        rt = self.runtime
        now = time.monotonic()
        if now < self._next_look and not rt._fetch_pending:
            return 0
        self._next_look = now + self.LOOK_EVERY
        done = 0
        if self._fetches:
            rt._fetch_pending = False
            for claimed in rt.store.claim_fetches(self.name, rt.settings.lease_seconds, rt.settings.batch):
                self.fetch(claimed)
                done += 1
        for name in rt.polled_connections():
            if self.stop.is_set():
                break
            done += self.poll(name)
        return done

    def _backoff(self, attempts: int) -> float:
        settings = self.runtime.settings
        delay = min(settings.backoff_cap, settings.backoff_base * 2 ** max(0, attempts - 1))
        return random.uniform(delay / 2, delay)

    def fetch(self, claimed: ClaimedFetch) -> str:
        """Fetch one notification's entity, then plan its runs (in one transaction).
        Returns "done", "gone", "retrying", "failed" or "lost"."""
        rt = self.runtime
        store = rt.store
        trigger = rt.catalog.triggers.get(claimed.trigger)
        if trigger is None or trigger.fetch is None:
            store.fetch_later(claimed.id, self.name, f"trigger {claimed.trigger!r} is not installed or "
                              f"does not fetch; install its connector and fetch the event again", None)
            return "failed"
        try:
            connection = rt.connection(claimed.connection)
            ctx = ActionContext(connection=connection, idempotency_key="", event_id=claimed.event_id)
            entity = drive(trigger.fetch(jsonio.loads(claimed.payload), ctx), rt.transport(claimed.connection))
        except Throttled as throttled:
            store.fetch_later(claimed.id, self.name, f"waiting for a {throttled.reason} slot",
                              time.time() + max(0.0, getattr(throttled, "delay", 1.0)), count_attempt=False)
            return "retrying"
        except NeedsReauth as exc:
            store.fetch_later(claimed.id, self.name, exc.message, time.time() + 60.0, count_attempt=False)
            return "retrying"
        except (NotSent, OutcomeUnknown) as exc:
            return self._fetch_retry(claimed, f"fetching the entity: {exc}", None)
        except VendorError as exc:
            if exc.kind == "permanent":
                return self._fetch_failed(claimed, exc.message)
            if exc.kind == "reauth" and rt.secret_box.enabled:
                from ledgerlink.io.oauth import expire
                expire(rt, claimed.connection)
                return self._fetch_retry(claimed, exc.message, 0.0)
            return self._fetch_retry(claimed, exc.message, exc.retry_after)
        except LedgerlinkError as exc:
            return self._fetch_failed(claimed, exc.message)
        except UNREADABLE as exc:  # the stored notification cannot be read: fail now, never retry
            return self._fetch_failed(claimed, f"the notification {claimed.event_id} cannot be read: "
                                               f"{every_attempt(exc)}")
        if entity is None:
            if store.fetched(claimed.id, self.name, None, [], gone=True) is None:
                return "lost"
            rt.metrics.add("events_gone", 1)
            return "gone"
        event = IncomingEvent(claimed.event_id, claimed.trigger, entity)
        try:
            check_storable(trigger.connector, event)
        except EventError as exc:  # PostgreSQL would refuse it on every attempt
            return self._fetch_failed(claimed, exc.message)
        planned = rt.planned_runs([r for r in rt.registry.for_trigger(claimed.trigger)
                                   if r.connection == claimed.connection], event)
        run_ids = store.fetched(claimed.id, self.name, jsonio.dumps(entity), planned)
        if run_ids is None:
            return "lost"
        rt.metrics.add("events_fetched", 1)
        rt.metrics.add("runs_planned", len(run_ids))
        if run_ids:
            rt.wake()
        return "done"

    def _fetch_retry(self, claimed: ClaimedFetch, error: str, delay: float | None) -> str:
        if claimed.attempts >= self.runtime.settings.max_attempts:
            return self._fetch_failed(claimed, f"gave up after {claimed.attempts} attempts: {error}")
        delay = self._backoff(claimed.attempts) if delay is None else delay
        self.runtime.store.fetch_later(claimed.id, self.name, error, time.time() + delay)
        return "retrying"

    def _fetch_failed(self, claimed: ClaimedFetch, error: str) -> str:
        log.warning("event %s on %r: its entity could not be fetched: %s", claimed.event_id,
                    claimed.connection, error)
        self.runtime.store.fetch_later(claimed.id, self.name, error, None)
        self.runtime.metrics.add("fetches_failed", 1)
        return "failed"

    def poll(self, connection_name: str) -> int:
        """Run connection ``connection_name``'s poll if it is due and no other process holds
        it. Returns 1 when this worker polled, else 0."""
        rt = self.runtime
        store = rt.store
        interval = rt.config.poll_seconds(connection_name) or 60.0
        name = f"poll:{connection_name}"
        taken, cursor = store.claim_poll(name, self.name, rt.settings.lease_seconds)
        if not taken:
            return 0
        try:
            connection = rt.connection(connection_name)
            connector = rt.catalog.connectors[connection.connector]
            ctx = ActionContext(connection=connection, idempotency_key="")
            events, new_cursor = drive(connector.poll.poll(cursor, ctx), rt.transport(connection_name))
        except Throttled as throttled:
            store.fail_poll(name, self.name, f"waiting for a {throttled.reason} slot",
                            time.time() + max(0.0, getattr(throttled, "delay", 1.0)))
            return 1
        except LedgerlinkError as exc:
            message = getattr(exc, "message", None) or str(exc)
            log.warning("poll of connection %r failed; the cursor stays and it is tried again: %s",
                        connection_name, message)
            rt.metrics.add("polls_failed", 1)
            store.fail_poll(name, self.name, message, time.time() + interval)
            return 1
        events = self._storable(connection_name, connector.name, events)
        results = store.finish_poll(name, self.name, connection_name, rt.plan_items(connection_name, events),
                                    new_cursor, time.time() + interval)
        rt.metrics.add("polls_run", 1)
        if results:
            stored = sum(1 for _, new, _ in results if new)
            planned = sum(len(r) for _, _, r in results)
            rt.metrics.add("events_stored", stored)
            rt.metrics.add("events_duplicate", len(results) - stored)
            rt.metrics.add("runs_planned", planned)
            if planned or rt._fetch_pending:
                rt.wake()
        return 1

    def _storable(self, connection_name: str, connector: str, events: list[IncomingEvent]) -> list[IncomingEvent]:
        """The polled ``events`` that can be stored (see :func:`check_storable`). Any other is
        skipped with a warning: it would fail the poll the same way on every try, so the
        cursor would never move past it, and the events polled with it would never be stored."""
        storable = []
        for event in events:
            try:
                check_storable(connector, event)
            except EventError as exc:
                pointer = exc.details.get("pointer")
                where = f"its payload at {pointer}" if pointer else "its id or trigger"
                log.warning("poll of connection %r: an event is skipped (%s cannot be stored), the "
                            "other events are stored and the cursor moves on: %s", connection_name,
                            where, exc.message)
                self.runtime.metrics.add("events_unstorable", 1)
                continue
            storable.append(event)
        return storable

    def _reschedule(self, run: ClaimedRun, retry: _Retry) -> str:
        settings = self.runtime.settings
        if retry.count_attempt and run.attempts >= settings.max_attempts:
            self.runtime.store.finish(run.id, self.name, "dead",
                                      error=f"gave up after {run.attempts} attempts: {retry.message}")
            self.runtime.metrics.add("runs_dead", 1)
            return "dead"
        if retry.delay is not None:
            delay = retry.delay + random.uniform(0, 0.1 * max(retry.delay, 0.1))
        else:
            delay = self._backoff(run.attempts)
        self.runtime.store.finish(run.id, self.name, "retrying", error=retry.message,
                                  due_at=time.time() + delay, count_attempt=retry.count_attempt)
        self.runtime.metrics.add("runs_retried", 1)
        return "retrying"

    def _earlier_writes(self, run: ClaimedRun, recipe: Recipe, step: Step, event: IncomingEvent,
                        connector: Any) -> tuple[str, bool]:
        """The idempotency key this attempt of ``step`` sends, and whether to look its entity
        up first (the action's ``find_existing``, read-only) because an earlier write may
        have created it.

        The key is the run's key generation's, unless the step's last write in this run was
        not refused (its outcome is unknown, or it failed without a 4xx refusal): then that
        write's key, which the vendor either answers as it did the first time or has never
        seen (see :meth:`Store.reopen`). The entity is looked up first when resending could
        create a twin or cannot tell:

        - an earlier write was answered with something that could not be read: the vendor
          may answer its key with that very answer again;
        - a write whose answer was lost was first sent longer ago than the connector's
          ``idempotency_key_lifetime``: the vendor may have forgotten its key;
        - the step wrote under another key before: a replay (of this run, or on another
          recipe version), whose earlier write may have created the entity.
        """
        key = idempotency_key(recipe.id, recipe.version, event.id, step.id, run.key_generation)
        if run.attempts <= 1 and not run.key_generation:
            return key, False  # a first attempt: nothing was sent before
        writes = self.runtime.store.earlier_writes(run.id, step.id)
        own = [w for w in writes if w.run_id == run.id and w.idempotency_key]
        replayed = any(w.idempotency_key != key for w in writes)
        if own and not (own[-1].status == "failed" and 400 <= (own[-1].response_status or 0) < 500):
            key = own[-1].idempotency_key or key
        if step.action.find_existing is None:
            return key, False
        in_doubt = [w for w in writes if w.status == "unknown"]
        unreadable = any(w.response_status is not None for w in in_doubt)
        lifetime = connector.idempotency_key_lifetime
        first_sent = min((w.started_at for w in in_doubt if w.idempotency_key == key), default=None)
        forgotten = lifetime is not None and first_sent is not None and time.time() - first_sent >= lifetime
        return key, replayed or unreadable or forgotten

    def _step(self, run: ClaimedRun, recipe: Recipe, step: Step, doc: dict[str, Any],
              event: IncomingEvent, source_id: str | None, last_step: bool = False) -> Any:
        rt = self.runtime
        store = rt.store
        started = time.time()
        connection = rt.connection(step.connection)
        connector = rt.catalog.connectors[connection.connector]
        key = idempotency_key(recipe.id, recipe.version, event.id, step.id, run.key_generation)
        sent: list[outbound.Sent] = []
        transport = rt.transport(step.connection, sent)

        def send(step_: Step, action: Action, ctx: ActionContext, request: Request) -> Response:
            return transport(request)

        def log(status: str, error: str | None = None, output: Any = None, external_id: str | None = None,
                link: tuple[str, str, str, str, str] | None = None, input_: Any = None,
                finish: tuple[str, str] | None = None) -> bool:
            last = sent[-1] if sent else None
            return store.log_step(run.id, step.id, run.attempts, status, input=input_,
                                  request=last.request if last else None,
                                  response_status=last.status if last else None,
                                  response_body=last.body_text if last else None, output=output,
                                  external_id=external_id, idempotency_key=key, started_at=started,
                                  finished_at=time.time(), error=error, link=link, finish=finish)

        mapped: list[Any] = [None]
        try:
            key, look_up = self._earlier_writes(run, recipe, step, event, connector)
            existing = None
            if look_up:
                rt.metrics.add("lost_writes_looked_up", 1)
                existing = find_existing(recipe, step, doc, event, connection, send, key=key)
            if existing is not None:
                result = StepResult(step.id, step.action.name, step.connection, "succeeded",
                                    input=step.input(doc), output=existing)
            else:
                result = run_step(recipe, step, doc, event, connection, send, on_input=mapped.__setitem__,
                                  key=key)
        except Throttled as throttled:
            raise _Retry(f"waiting for a {throttled.reason} slot of {connection.name!r}",
                         delay=max(0.0, getattr(throttled, "delay", 1.0)), count_attempt=False) from None
        except NotSent as exc:
            log("failed", error=str(exc), input_=mapped[0])
            raise _Retry(f"step {step.id!r}: request not sent: {exc}") from None
        except OutcomeUnknown as exc:
            log("unknown", error=str(exc), input_=mapped[0])
            raise _Retry(f"step {step.id!r}: outcome unknown, retrying with the same idempotency key: {exc}") from None
        except VendorError as exc:
            if exc.kind == "unknown":  # answered, but not readably: the write may have been done
                log("unknown", error=exc.message, input_=mapped[0])
                raise _Retry(f"step {step.id!r}: outcome unknown, looking it up before resending: "
                             f"{exc.message}") from None
            log("failed", error=exc.message, input_=mapped[0])
            if exc.kind == "permanent":
                raise _Fail(f"step {step.id!r}: {exc.message}") from None
            if exc.kind == "reauth" and connector.oauth is not None and rt.secret_box.enabled:
                from ledgerlink.io.oauth import expire
                expire(rt, connection.name)  # refresh once, then retry; invalid_grant pauses the run
                raise _Retry(f"step {step.id!r}: {exc.message}", delay=0.0) from None
            raise _Retry(f"step {step.id!r}: {exc.message}", delay=exc.retry_after) from None
        except NeedsReauth:
            raise
        except (MappingError, EventError, SignatureError) as exc:
            log("failed", error=exc.message, input_=mapped[0])
            raise _Fail(exc.message) from None
        except LedgerlinkError as exc:
            log("failed", error=exc.message, input_=mapped[0])
            raise _Fail(f"step {step.id!r}: {exc.message}") from None
        finish = (self.name, "succeeded") if last_step else None
        if result.status == "skipped":
            if not log("skipped", finish=finish):
                raise _Lost()
            return None
        output = result.output
        external_id = output.get("id") if isinstance(output, Mapping) else None
        link = None
        if isinstance(output, Mapping) and output.get("link") and external_id is not None:
            # the action names what it linked, e.g. a Stripe customer ↔ a QuickBooks customer
            link = (run.connection, str(output["link"]["source_id"]), step.connection,
                    str(output["link"]["target_type"]), str(external_id))
        elif external_id is not None and source_id:
            link = (run.connection, source_id, step.connection, step.action.name, str(external_id))
        if not log("succeeded", output=output, external_id=None if external_id is None else str(external_id),
                   link=link, input_=result.input, finish=finish):
            raise _Lost()
        return output


class WorkerPool:
    """N worker threads in this process."""

    def __init__(self, runtime: Runtime, count: int) -> None:
        self.runtime = runtime
        self.workers = [Worker(runtime) for _ in range(count)]
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for worker in self.workers:
            thread = threading.Thread(target=worker.run_forever, name=f"worker-{worker.name}", daemon=True)
            thread.start()
            self.threads.append(thread)
        # other processes' webhooks and replays wake these workers at once (PostgreSQL NOTIFY);
        # polling every poll_interval remains the fallback
        self._stop_listening = threading.Event()
        if self.runtime.store.engine.dialect.name == "postgresql":
            listener = threading.Thread(target=self.runtime.store.listen,
                                        args=(self.runtime.wake, self._stop_listening),
                                        name="ledgerlink-listener", daemon=True)
            listener.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the run in hand, hand back the rest, then release any lease still held."""
        for worker in self.workers:
            worker.stop.set()
        if getattr(self, "_stop_listening", None) is not None:
            self._stop_listening.set()
        self.runtime.wake()
        deadline = time.time() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.time()))
        for worker in self.workers:
            self.runtime.store.release(worker.name)
