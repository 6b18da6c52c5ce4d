"""The run queue (``runs``): workers claim due runs under a lease, renew it, and finish,
reschedule, pause or give back what they hold; an operator reopens a closed run.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ledgerlink.store import hot
from ledgerlink.store.base import StoreBase
from ledgerlink.store.schema import links, run_steps, runs

#: run states; a run is "open" while pending, running or retrying
OPEN = ("pending", "running", "retrying")
CLOSED = ("succeeded", "failed", "dead", "undone", "rejected", "skipped")
#: a run of a recipe with ``"review": true`` waits in "awaiting_review" for a person, who
#: approves it (then it is pending) or rejects it (closed; see :mod:`ledgerlink.store.review`)


@dataclass(frozen=True)
class ClaimedRun:
    """A run a worker holds under a lease, with the event it runs on."""

    id: int
    recipe_id: str
    recipe_version: int
    event_pk: int
    attempts: int
    key_generation: int
    connection: str
    event_id: str
    trigger: str
    payload: str
    #: who holds the lease (the ``owner`` that claimed it), and until when (Unix seconds)
    owner: str = ""
    lease_until: float = 0.0


class RunStore(StoreBase):
    """The run queue: claiming, leasing, finishing, pausing and reopening runs."""

    def claim(self, owner: str, lease_seconds: float, limit: int = 1, now: float | None = None,
              exclude: Collection[int] = ()) -> list[ClaimedRun]:
        """Take up to ``limit`` due runs (or runs whose lease expired) for ``owner``, but
        none of the runs ``exclude`` (those ``owner`` is performing).

        One UPDATE picks and leases them (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
        write lock on SQLite), one SELECT reads their events; both through the driver
        (:mod:`ledgerlink.store.hot`).
        """
        now = self._now(now)
        select, skipped = hot.claim(self.engine.dialect.name, exclude)
        with self.write_transaction() as conn:
            claimed = hot.execute(conn, select, {"owner": owner, "until": now + lease_seconds, "now": now,
                                                 "limit": limit, **skipped}).fetchall()
            if not claimed:
                return []
            event_pks = sorted({row[3] for row in claimed})
            found = {row[0]: row[1:] for row in hot.execute(
                conn, hot.claimed_events(len(event_pks)), {f"e{i}": pk for i, pk in enumerate(event_pks)})}
        claimed = sorted(claimed, key=lambda row: (row[6], row[0]))
        return [ClaimedRun(row[0], row[1], row[2], row[3], row[4], row[5], *found[row[3]], owner=owner,
                           lease_until=now + lease_seconds) for row in claimed]

    def renew(self, run_id: int, owner: str, lease_seconds: float, now: float | None = None) -> bool:
        """Extend the lease ``owner`` holds on a running run; False when it was lost."""
        now = self._now(now)
        with self.write_transaction() as conn:
            return conn.execute(runs.update().where(runs.c.id == run_id, runs.c.lease_owner == owner,
                                                    runs.c.status == "running")
                                .values(lease_until=now + lease_seconds)).rowcount == 1

    def finish(self, run_id: int, owner: str, status: str, error: str | None = None,
               due_at: float | None = None, count_attempt: bool = True, now: float | None = None) -> bool:
        """Close or reschedule a run this owner holds. Returns False if the lease was lost."""
        now = self._now(now)
        with self.write_transaction() as conn:
            return hot.execute(conn, hot.FINISH, {"run_id": run_id, "owner": owner, "new_status": status, "now": now,
                                                  "error": error, "due": due_at,
                                                  "uncount": 0 if count_attempt else 1}).rowcount == 1

    def skip(self, run_id: int, owner: str, skipped_as: str, reason: str, now: float | None = None) -> bool:
        """Close a run this owner holds as ``skipped`` before any step: ``skipped_as`` says why in
        a word (``echo``, ``not_linked``, ``conflict``), ``reason`` in a sentence. False if the
        lease was lost."""
        now = self._now(now)
        with self.write_transaction() as conn:
            return conn.execute(runs.update().where(runs.c.id == run_id, runs.c.lease_owner == owner,
                                                    runs.c.status == "running")
                                .values(status="skipped", skipped_as=skipped_as, skip_reason=reason,
                                        lease_owner=None, lease_until=None, updated_at=now)).rowcount == 1

    def release(self, owner: str, now: float | None = None) -> int:
        """Give back every run ``owner`` holds (graceful shutdown); they are due at once."""
        now = self._now(now)
        with self.write_transaction() as conn:
            return conn.execute(runs.update().where(runs.c.lease_owner == owner, runs.c.status == "running")
                                .values(status="pending", lease_owner=None, lease_until=None, due_at=now,
                                        attempts=runs.c.attempts - 1, updated_at=now)).rowcount

    def counts(self) -> dict[str, int]:
        """Runs by status."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs.c.status, sa.func.count()).group_by(runs.c.status)).all()
        return {status: n for status, n in rows}

    def window(self, since: float, until: float, max_failures: int) -> dict[str, Any]:
        """The runs planned from ``since`` up to ``until``: how many per recipe and status, and
        those failed or dead now (at most ``max_failures``, oldest first), each with its error
        and the command that retries it (:class:`ledgerlink.contract.RunsQuery`'s answer)."""
        planned = sa.and_(runs.c.created_at >= since, runs.c.created_at < until)
        with self.engine.connect() as conn:
            counts = conn.execute(sa.select(runs.c.recipe_id, runs.c.status, sa.func.count())
                                  .where(planned).group_by(runs.c.recipe_id, runs.c.status)
                                  .order_by(runs.c.recipe_id, runs.c.status)).all()
            failed = sa.and_(planned, runs.c.status.in_(("failed", "dead")))
            total = conn.execute(sa.select(sa.func.count()).where(failed)).scalar_one()
            rows = conn.execute(sa.select(runs.c.id, runs.c.recipe_id, runs.c.status, runs.c.last_error)
                                .where(failed).order_by(runs.c.id).limit(max_failures)).all()
        return {"since": since, "until": until,
                "counts": [{"recipe_id": r, "status": s, "count": n} for r, s, n in counts],
                "failures": [{"run_id": i, "recipe_id": r, "status": s, "error": e,
                              "retry": f"ledgerlink runs replay {i}"} for i, r, s, e in rows],
                "failures_left_off": max(0, total - len(rows))}

    def reopen(self, run_id: int, now: float | None = None) -> bool:
        """Put a closed, unsuccessful run back in the queue (replay on its own version).

        Every replay raises the run's key generation. The worker then looks up, before
        sending anything, each step that wrote under an earlier key (its entity may exist).
        A step whose last write the vendor did not refuse (its outcome unknown, or a passing
        failure such as a 5xx) is resent under that write's key: the vendor replays its
        answer, or creates the entity once. A step whose last write was refused (a 4xx) gets
        the new generation's key, as the vendor would answer the old one with the same refusal.
        A replay starts with its attempts at zero: it has the retries of a new run (the
        steps already logged keep the history). A rejected run is reopened too; any approval
        is forgotten, so a run of a recipe with ``"review": true`` awaits review again.
        """
        now = self._now(now)
        with self.write_transaction() as conn:
            reopened = conn.execute(
                runs.update().where(runs.c.id == run_id, runs.c.status.in_(("failed", "dead", "rejected", "skipped")))
                .values(status="pending", due_at=now, updated_at=now, last_error=None, attempts=0,
                        key_generation=runs.c.key_generation + 1, approved_digest=None,
                        approved_log_id=None, skipped_as=None, skip_reason=None)).rowcount == 1
            if reopened:
                self._wake_others(conn)
            return reopened

    def reopen_undone(self, run_id: int, created: tuple[str, ...], now: float | None = None) -> bool:
        """Put an undone run back in the queue, to book again what its undo voided or deleted
        (replay on its own version). In the same transaction its succeeded steps are marked
        ``undone`` (the run performs them again; ``ledgerlink export`` no longer lists them)
        and its links of the action types ``created`` are dropped: those entities are gone,
        the new ones are linked as the steps succeed. The key generation is raised, so each
        write is sent under a key the vendor has not seen: it creates again."""
        now = self._now(now)
        with self.write_transaction() as conn:
            reopened = conn.execute(
                runs.update().where(runs.c.id == run_id, runs.c.status == "undone")
                .values(status="pending", due_at=now, updated_at=now, last_error=None, attempts=0,
                        skipped_as=None, skip_reason=None,
                        key_generation=runs.c.key_generation + 1)).rowcount == 1
            if reopened:
                conn.execute(run_steps.update().where(run_steps.c.run_id == run_id,
                                                      run_steps.c.status == "succeeded").values(status="undone"))
                conn.execute(links.delete().where(links.c.run_id == run_id, links.c.target_type.in_(created)))
                self._wake_others(conn)
            return reopened

    def mark_undone(self, run_id: int, now: float | None = None) -> None:
        """Every entity the run created was voided or deleted."""
        now = self._now(now)
        with self.write_transaction() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id)
                         .values(status="undone", updated_at=now))

    # --- runs paused until their connection is connected again ------------------------------

    def pause(self, run_id: int, owner: str, connection: str, error: str, now: float | None = None) -> bool:
        """Park a run until ``connection`` is connected again (not a failure, not an attempt)."""
        now = self._now(now)
        with self.write_transaction() as conn:
            return conn.execute(runs.update().where(runs.c.id == run_id, runs.c.lease_owner == owner,
                                                    runs.c.status == "running")
                                .values(status="paused", paused_on=connection, lease_owner=None,
                                        lease_until=None, updated_at=now, last_error=error,
                                        attempts=runs.c.attempts - 1)).rowcount == 1

    def resume_paused(self, connection: str, now: float | None = None) -> int:
        """Every run paused on ``connection`` is due again."""
        now = self._now(now)
        with self.write_transaction() as conn:
            resumed = conn.execute(runs.update().where(runs.c.status == "paused", runs.c.paused_on == connection)
                                   .values(status="pending", paused_on=None, due_at=now, updated_at=now,
                                           last_error=None)).rowcount
            if resumed:
                self._wake_others(conn)
            return resumed

    def count_paused(self, connection: str) -> int:
        """How many runs wait for ``connection`` to be connected again."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(runs).where(
                runs.c.status == "paused", runs.c.paused_on == connection)).scalar_one()
