"""The inbox (``events``): storing deliveries and planning their runs, and notifications
whose entity is fetched before their runs are planned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.store.base import StoreBase, retried_on_deadlock
from ledgerlink.store.database import DEFAULT_URL, insert_ignore, insert_ignore_returning_id
from ledgerlink.store.group_commit import GroupCommit
from ledgerlink.store.prepared import Prepared
from ledgerlink.store.schema import events, runs


class PlannedRun(NamedTuple):
    """A run to plan for an event. A plain ``(recipe_id, version)`` or ``(recipe_id,
    version, error)`` tuple is read the same way."""

    recipe_id: str
    version: int
    #: stored as failed with this error (its trigger filter cannot be evaluated on the event)
    error: str | None = None
    #: the occurrence key (:mod:`ledgerlink.engine.occurrence`): the recipe gets no run when
    #: it already has one for this occurrence; None: the event is an occurrence of its own
    occurrence: str | None = None


#: a delivery: ``(event_id, trigger, payload, [planned run, ...])``, or ``(…, True)`` for a
#: notification whose entity is fetched before its runs are planned; the payload is JSON
#: text or a JSON value
InboxItem = tuple[str, str, object, list[PlannedRun]] | tuple[str, str, object, list[PlannedRun], bool]
#: per delivery: ``(event pk, newly stored?, new run ids)``
Stored = tuple[int, bool, list[int]]
#: one caller's share of an inbox group commit: ``(connection, deliveries, now)``
InboxShare = tuple[str, list[InboxItem], float | None]

# statements built once: building a statement costs more than running it on SQLite
_INSERT_EVENT_BY_DIALECT = insert_ignore_returning_id(events, "connection", "event_id")
_EVENT_KEYS = ("connection", "event_id", "trigger", "received_at", "payload", "fetch_state", "fetch_attempts",
               "fetch_due_at")
_RUN_KEYS = ("recipe_id", "recipe_version", "event_pk", "due_at", "created_at", "updated_at", "occurrence")
_FIND_EVENT = sa.select(events.c.id).where(events.c.connection == sa.bindparam("connection"),
                                           events.c.event_id == sa.bindparam("event_id"))
_FIND_EVENT_STATE = sa.select(events.c.id, events.c.fetch_state).where(
    events.c.connection == sa.bindparam("connection"), events.c.event_id == sa.bindparam("event_id"))
# a run the recipe already has (for this occurrence, or for this version and event) is
# skipped, never an error: no IntegrityError fails the rest of a group commit, and of two
# processes storing the same occurrence at once, the second waits for the first and skips
_INSERT_RUN_BY_DIALECT = {dialect: stmt.values(status="pending", attempts=0).returning(runs.c.id)
                          for dialect, stmt in insert_ignore(runs).items()}
#: a run that failed as it was planned (its trigger filter cannot be evaluated on the event)
_INSERT_FAILED_RUN_BY_DIALECT = {dialect: stmt.values(status="failed", attempts=0).returning(runs.c.id)
                                 for dialect, stmt in insert_ignore(runs).items()}
# the two statements of every stored event run on the DB-API cursor (:mod:`ledgerlink.store.prepared`)
_STORE_EVENT = {dialect: Prepared(stmt, _EVENT_KEYS) for dialect, stmt in _INSERT_EVENT_BY_DIALECT.items()}
_PLAN_RUN = {dialect: Prepared(stmt, _RUN_KEYS) for dialect, stmt in _INSERT_RUN_BY_DIALECT.items()}
_RUN_OF_OCCURRENCE = sa.select(runs.c.occurrence).where(runs.c.recipe_id == sa.bindparam("recipe_id"),
                                                        runs.c.occurrence.in_(sa.bindparam("keys", expanding=True)))
_RUN_OF_EVENT = (sa.select(events.c.event_id).join(runs, runs.c.event_pk == events.c.id)
                 .where(runs.c.recipe_id == sa.bindparam("recipe_id"),
                        events.c.connection == sa.bindparam("connection"),
                        events.c.event_id.in_(sa.bindparam("ids", expanding=True))))


def deduplicated(items: Sequence[InboxItem], results: Sequence[Stored]) -> int:
    """How many of the runs ``items`` planned for their newly stored events were not
    inserted: each was a run its recipe already had for that occurrence."""
    return sum(len(item[3]) - len(new_runs) for item, (_, new, new_runs) in zip(items, results) if new)


@dataclass(frozen=True)
class ClaimedFetch:
    """A stored notification whose entity is to be fetched before its runs are planned."""

    id: int
    connection: str
    event_id: str
    trigger: str
    payload: str
    attempts: int


def store_events(conn: sa.Connection, connection: str, items: Iterable[InboxItem], now: float,
                 backfilled: bool = False) -> list[Stored]:
    """Insert events (ignoring those already stored) and plan their runs, inside ``conn``.

    An item is ``(event_id, trigger, payload, planned)`` or, for a notification whose
    entity is fetched before runs are planned, ``(…, planned, True)``. An event already in
    the inbox plans nothing new — unless ``backfilled``: then (stored by an earlier backfill
    for another recipe) it still gets the runs planned now, except one still waiting for its
    fetch, whose fetch plans them.
    """
    insert_event = _STORE_EVENT[conn.dialect.name]
    results = []
    for item in items:
        event_id, trigger, payload, planned = item[:4]
        fetch = len(item) > 4 and bool(item[4])
        pk = insert_event.scalar(conn, {
            "connection": connection, "event_id": event_id, "trigger": trigger, "received_at": now,
            "payload": payload if isinstance(payload, str) else jsonio.dumps(payload),
            "fetch_state": "pending" if fetch else None, "fetch_attempts": 0,
            "fetch_due_at": now if fetch else None})
        if pk is not None:
            results.append((pk, True, plan_runs(conn, pk, planned, now)))
        elif not backfilled:  # already in the inbox
            existing = conn.execute(_FIND_EVENT, {"connection": connection, "event_id": event_id}).scalar()
            results.append((existing, False, []))
        else:
            existing, fetch_state = conn.execute(_FIND_EVENT_STATE, {"connection": connection,
                                                                     "event_id": event_id}).one()
            new_runs = [] if fetch_state == "pending" else plan_runs(conn, existing, planned, now)
            results.append((existing, False, new_runs))
    return results


def plan_runs(conn: sa.Connection, pk: int, planned: Iterable[PlannedRun | tuple[Any, ...]],
              now: float) -> list[int]:
    """Insert the planned runs (:class:`PlannedRun`): due now, or stored as failed with the
    run's ``error`` (it is replayed, never retried). A run the recipe already has for the
    run's occurrence, or for this version of it and this event, is skipped: the ids returned
    are those inserted."""
    dialect = conn.dialect.name
    ids = []
    for run in planned:
        run = run if isinstance(run, PlannedRun) else PlannedRun(*run)
        params: dict[str, Any] = {"recipe_id": run.recipe_id, "recipe_version": run.version, "event_pk": pk,
                                  "due_at": now, "created_at": now, "updated_at": now,
                                  "occurrence": run.occurrence}
        if run.error is not None:
            params["last_error"] = run.error
            run_id = conn.execute(_INSERT_FAILED_RUN_BY_DIALECT[dialect], params).scalar()
        else:
            run_id = _PLAN_RUN[dialect].scalar(conn, params)
        if run_id is not None:
            ids.append(run_id)
    return ids


class EventStore(StoreBase):
    """The inbox: ``events`` rows and the runs planned from them."""

    def __init__(self, url: str = DEFAULT_URL, engine: sa.Engine | None = None) -> None:
        super().__init__(url, engine)
        self._committer: GroupCommit[InboxShare, list[Stored]] = GroupCommit(self._ingest_batch)

    def ingest(self, connection: str, items: Iterable[InboxItem], now: float | None = None) -> list[Stored]:
        """Store events and plan their runs; returns only once they are committed.

        ``items``: ``(event_id, trigger, payload, [PlannedRun, ...])``; a planned run with an
        ``error`` is stored as failed with that error, and one whose recipe already has a run
        for its occurrence is skipped. An event already in the inbox is not stored again and
        plans nothing new. Returns, per item, ``(event pk, newly stored?, new run ids)``.

        Concurrent callers are committed together (group commit): one writer thread takes
        every delivery waiting and stores them in one transaction, so a burst of webhooks
        costs one commit, not one each. Each caller still waits for its own commit.
        """
        return self._committer.submit((connection, list(items), now))

    @retried_on_deadlock
    def _ingest_batch(self, batch: list[InboxShare]) -> list[list[Stored]]:
        """Store every caller's deliveries of a group commit in one transaction."""
        with self.write_transaction() as conn:
            out = [store_events(conn, connection, items, self._now(now))
                   for connection, items, now in batch]
            if any(new for results in out for _, new, _ in results):
                self._wake_others(conn)
            return out

    def plan(self, event_pk: int, recipe_id: str, version: int, now: float | None = None,
             key_generation: int = 0) -> int | None:
        """Plan one run; None when (recipe, version, event) already has one. A replay plans
        with ``key_generation`` 1, so its steps first look up what earlier runs wrote."""
        now = self._now(now)
        try:
            with self.write_transaction() as conn:
                run_id: int = conn.execute(runs.insert().values(
                    recipe_id=recipe_id, recipe_version=version, event_pk=event_pk, status="pending",
                    attempts=0, due_at=now, created_at=now, updated_at=now,
                    key_generation=key_generation)).inserted_primary_key[0]
                self._wake_others(conn)
                return run_id
        except sa.exc.IntegrityError:
            return None

    @retried_on_deadlock
    def backfill(self, connection: str, items: Iterable[InboxItem], now: float | None = None) -> list[Stored]:
        """Store one page of back-filled events and plan their runs, in one transaction
        (:func:`store_events`, ``backfilled``). Returns, per item, ``(event pk, newly stored?, new run ids)``."""
        now = self._now(now)
        with self.write_transaction() as conn:
            results = store_events(conn, connection, items, now, backfilled=True)
            if any(new_runs for _, _, new_runs in results):
                self._wake_others(conn)
            return results

    def already_planned(self, recipe_id: str, connection: str, events: Iterable[tuple[str, str | None]]) -> set[str]:
        """Read-only: which of ``events`` (``(event id, occurrence key or None)``) recipe
        ``recipe_id`` already has a run for, by its occurrence or by the stored event.
        Returns their event ids."""
        wanted = list(events)
        if not wanted:
            return set()
        keys = {key: event_id for event_id, key in wanted if key is not None}
        with self.engine.connect() as conn:
            found = {keys[key] for (key,) in conn.execute(
                _RUN_OF_OCCURRENCE, {"recipe_id": recipe_id, "keys": list(keys)})} if keys else set()
            found |= {event_id for (event_id,) in conn.execute(
                _RUN_OF_EVENT, {"recipe_id": recipe_id, "connection": connection,
                                "ids": [event_id for event_id, _ in wanted]})}
        return found

    def event(self, pk: int) -> dict[str, Any] | None:
        """The stored event ``pk`` (every column); None when there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(events).where(events.c.id == pk)).mappings().first()
        return dict(row) if row else None

    def payloads(self, connection: str, event_ids: Iterable[str]) -> dict[str, str]:
        """event id → stored payload (JSON text) of those of ``event_ids`` that ``connection``
        received."""
        wanted = sorted(set(event_ids))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                found.update(conn.execute(sa.select(events.c.event_id, events.c.payload).where(
                    events.c.connection == connection,
                    events.c.event_id.in_(wanted[start:start + 500]))).all())
        return found

    def last_event_id(self, connection: str, prefix: str) -> str | None:
        """The greatest id among the events of ``connection`` whose id begins with ``prefix``
        (a clock-driven trigger's last tick for a recipe); None when there is none."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(events.c.event_id)).where(
                events.c.connection == connection,
                events.c.event_id.like(f"{escaped}%", escape="\\"))).scalar()

    def recent_events(self, connection: str, trigger: str, limit: int = 20) -> list[dict[str, Any]]:
        """The latest events of ``trigger`` that ``connection`` received, newest first: each
        with its ``id`` (pk), ``event_id`` and ``received_at``, without its payload."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(events.c.id, events.c.event_id, events.c.trigger, events.c.received_at)
                                .where(events.c.connection == connection, events.c.trigger == trigger)
                                .order_by(events.c.id.desc()).limit(limit)).mappings().all()
        return [dict(row) for row in rows]

    def count_events(self) -> int:
        """How many events the inbox holds."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()

    # --- notifications fetched before planning ----------------------------------------------

    def claim_fetches(self, owner: str, lease_seconds: float, limit: int = 1,
                      now: float | None = None) -> list[ClaimedFetch]:
        """Take up to ``limit`` due notifications whose entity must be fetched (or whose
        fetch lease expired), like :meth:`~ledgerlink.store.runs.RunStore.claim` takes runs."""
        now = self._now(now)
        claimable = sa.and_(events.c.fetch_state == "pending", events.c.fetch_due_at <= now,
                            sa.or_(events.c.fetch_until.is_(None), events.c.fetch_until < now))
        pick = (sa.select(events.c.id).where(claimable).order_by(events.c.fetch_due_at, events.c.id)
                .limit(limit).with_for_update(skip_locked=True).scalar_subquery())
        with self.write_transaction() as conn:
            rows = conn.execute(
                events.update().where(events.c.id.in_(pick))
                .values(fetch_owner=owner, fetch_until=now + lease_seconds,
                        fetch_attempts=events.c.fetch_attempts + 1)
                .returning(events.c.id, events.c.connection, events.c.event_id, events.c.trigger,
                           events.c.payload, events.c.fetch_attempts)).all()
        return [ClaimedFetch(*row) for row in sorted(rows)]

    @retried_on_deadlock
    def fetched(self, pk: int, owner: str, payload: object, planned: Iterable[PlannedRun],
                gone: bool = False, now: float | None = None) -> list[int] | None:
        """Store the fetched entity as the event's payload and plan its runs, in one
        transaction. ``gone``: the entity no longer exists; nothing is planned. Returns the
        new run ids, or None when the lease was lost (another worker fetches it)."""
        now = self._now(now)
        values: dict[str, object] = {"fetch_state": "gone" if gone else "done", "fetch_owner": None,
                                     "fetch_until": None, "fetch_error": None}
        if payload is not None:
            values["payload"] = payload if isinstance(payload, str) else jsonio.dumps(payload)
        with self.write_transaction() as conn:
            held = conn.execute(events.update().where(events.c.id == pk, events.c.fetch_owner == owner,
                                                      events.c.fetch_state == "pending")
                                .values(**values)).rowcount == 1
            if not held:
                return None
            if gone:
                return []
            run_ids = plan_runs(conn, pk, planned, now)
            if run_ids:
                self._wake_others(conn)
            return run_ids

    def fetch_later(self, pk: int, owner: str, error: str, due_at: float | None, count_attempt: bool = True,
                    now: float | None = None) -> bool:
        """Give a fetch back: due again at ``due_at``, or ``failed`` for good when None."""
        values: dict[str, object] = {"fetch_owner": None, "fetch_until": None, "fetch_error": error}
        if due_at is None:
            values["fetch_state"] = "failed"
        else:
            values["fetch_due_at"] = due_at
        if not count_attempt:
            values["fetch_attempts"] = events.c.fetch_attempts - 1
        with self.write_transaction() as conn:
            return conn.execute(events.update().where(events.c.id == pk, events.c.fetch_owner == owner,
                                                      events.c.fetch_state == "pending")
                                .values(**values)).rowcount == 1

    def pause_fetch(self, pk: int, owner: str, error: str) -> bool:
        """Park a fetch until its connection is usable again (a key the vendor refused):
        ``paused``, not failed, the attempt not counted; :meth:`resume_fetches` makes it due."""
        with self.write_transaction() as conn:
            return conn.execute(events.update().where(events.c.id == pk, events.c.fetch_owner == owner,
                                                      events.c.fetch_state == "pending")
                                .values(fetch_state="paused", fetch_owner=None, fetch_until=None,
                                        fetch_error=error, fetch_attempts=events.c.fetch_attempts - 1)
                                ).rowcount == 1

    def resume_fetches(self, connection: str, now: float | None = None) -> int:
        """Every fetch paused on ``connection`` is due again; returns how many."""
        now = self._now(now)
        with self.write_transaction() as conn:
            return conn.execute(events.update().where(events.c.connection == connection,
                                                      events.c.fetch_state == "paused")
                                .values(fetch_state="pending", fetch_due_at=now, fetch_error=None)).rowcount

    def count_paused_fetches(self, connection: str) -> int:
        """How many notifications wait for ``connection`` to be usable again before they are fetched."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(events).where(
                events.c.connection == connection, events.c.fetch_state == "paused")).scalar_one()

    def refetch(self, pk: int, now: float | None = None) -> bool:
        """Fetch a ``failed`` or ``gone`` notification again (an operator's replay)."""
        now = self._now(now)
        with self.write_transaction() as conn:
            return conn.execute(events.update().where(events.c.id == pk,
                                                      events.c.fetch_state.in_(("failed", "gone")))
                                .values(fetch_state="pending", fetch_due_at=now, fetch_attempts=0,
                                        fetch_error=None)).rowcount == 1

    def fetch_counts(self) -> dict[str, int]:
        """Notifications by fetch state (pending, paused, done, gone, failed)."""
        with self.engine.connect() as conn:
            return {state: count for state, count in conn.execute(
                sa.select(events.c.fetch_state, sa.func.count()).where(events.c.fetch_state.is_not(None))
                .group_by(events.c.fetch_state))}
