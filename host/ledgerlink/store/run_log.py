"""The run log (``run_steps``): every attempt of every step, what it sent and got back,
and the runs as an operator reads them (a page of runs, one run with its steps and links).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.store import hot
from ledgerlink.store.base import StoreBase, deadlocked, retried_on_deadlock
from ledgerlink.store.database import DEFAULT_URL, unavailable
from ledgerlink.store.group_commit import GroupCommit, Refused
from ledgerlink.store.review import review_fields
from ledgerlink.store.schema import events, links, run_steps, runs

#: a response body longer than this is cut in the run log
MAX_LOGGED_BODY = 8192

_INSERT_STEP = run_steps.insert()


@dataclass(frozen=True)
class EarlierWrite:
    """One attempt of a step that sent a write and did not succeed (the run log)."""

    run_id: int
    idempotency_key: str | None
    #: "failed" (the vendor refused, or the request was not sent) or "unknown" (no answer,
    #: or one that could not be read: the vendor may have done it)
    status: str
    #: the HTTP status of the answer; None when none came
    response_status: int | None
    started_at: float


def bounded(text: str | None, limit: int = MAX_LOGGED_BODY) -> str | None:
    """``text`` cut to ``limit`` characters, saying how many more there were."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"…[{len(text) - limit} more characters]"


def _dump(value: object) -> str | None:
    """A JSON column's text for ``value``; None stays NULL."""
    return None if value is None else jsonio.dumps(value)


def _step_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """A run_steps row with its JSON columns read back."""
    out = dict(row)
    for key in ("input", "request", "output"):
        if out.get(key):
            out[key] = jsonio.loads(out[key])
    return out


@dataclass(frozen=True)
class StepRecord:
    """One step attempt as :meth:`RunLogStore.log_step` writes it: the rows' parameters,
    JSON already serialised."""

    step: dict[str, Any]
    link: dict[str, Any] | None
    wrote: list[dict[str, Any]]
    #: the parameters of :data:`~ledgerlink.store.hot.FINISH` when the attempt closes its run
    finish: dict[str, Any] | None


class RunLogStore(StoreBase):
    """Step attempts as they happen, and runs as an operator reads them."""

    def __init__(self, url: str = DEFAULT_URL, engine: sa.Engine | None = None) -> None:
        super().__init__(url, engine)
        self._step_log: GroupCommit[StepRecord, bool] = GroupCommit(self._log_steps, "ledgerlink-step-log-writer")

    def succeeded_steps(self, run_id: int) -> dict[str, Any]:
        """Outputs of the steps of ``run_id`` that already succeeded (never repeated on retry)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(run_steps.c.step_id, run_steps.c.output)
                                .where(run_steps.c.run_id == run_id,
                                       run_steps.c.status.in_(("succeeded", "skipped")))).all()
        return {step_id: (jsonio.loads(output) if output else None) for step_id, output in rows}

    def ended_attempts(self, run_id: int) -> set[int]:
        """The attempts of run ``run_id`` that logged how they ended (a step failed or in
        doubt); an earlier attempt not among them ended without a word (its worker killed,
        its lease lost), possibly in the middle of a write."""
        query = (sa.select(run_steps.c.attempt).distinct()
                 .where(run_steps.c.run_id == run_id, run_steps.c.status.in_(("failed", "unknown"))))
        with self.engine.connect() as conn:
            return {row.attempt for row in conn.execute(query)}

    def earlier_writes(self, run_id: int, step_id: str) -> list[EarlierWrite]:
        """Every attempt of step ``step_id`` that sent a write (not a read, such as a lookup)
        and did not succeed, oldest first: in run ``run_id``, and in the other runs of its
        recipe on its event (a replay on another version) where that step never succeeded."""
        this = runs.alias("this")
        succeeded = run_steps.alias("succeeded")
        same_event = sa.select(runs.c.id).join(this, sa.and_(this.c.id == run_id,
                                                             runs.c.recipe_id == this.c.recipe_id,
                                                             runs.c.event_pk == this.c.event_pk))
        step_succeeded = sa.exists().where(succeeded.c.run_id == run_steps.c.run_id,
                                           succeeded.c.step_id == step_id,
                                           succeeded.c.status == "succeeded")
        query = (sa.select(run_steps.c.run_id, run_steps.c.idempotency_key, run_steps.c.status,
                           run_steps.c.response_status, run_steps.c.started_at, run_steps.c.request)
                 .where(run_steps.c.run_id.in_(same_event), run_steps.c.step_id == step_id,
                        run_steps.c.request.is_not(None), run_steps.c.status.in_(("failed", "unknown")),
                        sa.or_(run_steps.c.run_id == run_id, ~step_succeeded))
                 .order_by(run_steps.c.id))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        writes = []
        for *fields, request in rows:
            method = (jsonio.loads(request) or {}).get("method") if request else None
            if str(method).upper() not in ("GET", "HEAD"):
                writes.append(EarlierWrite(*fields))
        return writes

    def log_step(self, run_id: int, step_id: str, attempt: int, status: str, *, input: object = None,
                 request: object = None, response_status: int | None = None, response_body: str | None = None,
                 output: object = None, external_id: str | None = None, idempotency_key: str | None = None,
                 started_at: float, finished_at: float | None = None, error: str | None = None,
                 link: tuple[str, str, str, str, str] | None = None,
                 wrote: list[tuple[str, str, str]] | None = None,
                 finish: tuple[str, str] | None = None) -> bool:
        """One attempt of one step, in one transaction with what belongs to it; returns once
        that transaction has committed.

        ``link`` = (source connection, source id, target connection, target type, target id)
        records the created entity; ``wrote`` = [(connection, entity kind, entity id), ...] what
        the step created or changed (its echo is then recognised). ``finish`` = (owner, status) also closes the run; if the
        owner lost its lease meanwhile nothing is written and False is returned (the worker
        that took the run over writes its own record).

        The record is serialised here, in the caller's thread; concurrent workers' records
        are then committed together (:class:`~ledgerlink.store.group_commit.GroupCommit`), one
        transaction and one sync to disk for all of them, each worker still waiting for its own.
        """
        written_at = finished_at or started_at
        record = StepRecord(
            step={"run_id": run_id, "step_id": step_id, "attempt": attempt, "status": status,
                  "input": _dump(input), "request": _dump(request), "response_status": response_status,
                  "response_body": bounded(response_body), "output": _dump(output), "external_id": external_id,
                  "idempotency_key": idempotency_key, "started_at": started_at, "finished_at": finished_at,
                  "error": bounded(error)},
            link=None if link is None else {
                "source_connection": link[0], "source_id": link[1], "target_connection": link[2],
                "target_type": link[3], "target_id": link[4], "run_id": run_id, "step_id": step_id,
                "created_at": written_at},
            wrote=[{"connection": connection, "entity": entity, "entity_id": entity_id, "run_id": run_id,
                    "step_id": step_id, "written_at": written_at} for connection, entity, entity_id in wrote or ()],
            finish=None if finish is None else {
                "run_id": run_id, "owner": finish[0], "new_status": finish[1],
                "now": finished_at or self._now(None), "error": None, "due": None, "uncount": 0})
        return self._step_log.submit(record)

    @retried_on_deadlock
    def _log_steps(self, records: list[StepRecord]) -> list[bool | Refused]:
        """Write a group commit's step records in one transaction. A record that closes its
        run is written only if its worker still holds the run (else it answers False). When
        the transaction fails for a reason of its records (a value the database refuses), each
        record is written again alone, so one bad record fails only its own run."""
        try:
            return self._write_steps(records)
        except Exception as exc:  # a value refused (DataError, a lone surrogate) or the store away
            if len(records) == 1 or unavailable(exc) or deadlocked(exc):
                raise
        out: list[bool | Refused] = []
        for record in records:
            try:
                out.append(self._write_steps([record])[0])
            except Exception as exc:  # this record's caller gets it raised, as if it wrote alone
                out.append(Refused(exc))
        return out

    def _write_steps(self, records: list[StepRecord]) -> list[bool]:
        """One transaction: close the runs first (finding which leases still hold), then
        insert the held records' steps, links and writes, many rows a statement; all through
        the driver (:mod:`ledgerlink.store.hot`)."""
        with self.write_transaction() as conn:
            held = [record.finish is None
                    or hot.execute(conn, hot.FINISH, record.finish).rowcount == 1 for record in records]
            kept = [record for record, ok in zip(records, held) if ok]
            if kept:
                hot.execute(conn, hot.INSERT_STEP, [record.step for record in kept])
            linked = [record.link for record in kept if record.link is not None]
            if linked:
                hot.execute(conn, hot.INSERT_LINK, linked)
            wrote = [row for record in kept for row in record.wrote]
            if wrote:
                hot.execute(conn, hot.INSERT_WRITE, wrote)
        return held

    # --- reading runs ------------------------------------------------------------------------

    def list_runs(self, *, status: str | None = None, recipe_id: str | None = None,
                  since: float | None = None, until: float | None = None, after_id: int | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
        """Runs newest first; ``after_id`` continues a page (runs with a smaller id)."""
        query = (sa.select(runs, events.c.event_id, events.c.connection, events.c.trigger)
                 .join(events, events.c.id == runs.c.event_pk).order_by(runs.c.id.desc()).limit(limit))
        if status:
            query = query.where(runs.c.status == status)
        if recipe_id:
            query = query.where(runs.c.recipe_id == recipe_id)
        if since is not None:
            query = query.where(runs.c.created_at >= since)
        if until is not None:
            query = query.where(runs.c.created_at < until)
        if after_id is not None:
            query = query.where(runs.c.id < after_id)
        with self.engine.connect() as conn:
            return [review_fields(dict(r)) for r in conn.execute(query).mappings()]

    def run_status(self, run_id: int) -> str | None:
        """One run's status alone (None: no such run), for a page that follows it."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(runs.c.status).where(runs.c.id == run_id)).scalar()

    def run(self, run_id: int) -> dict[str, Any] | None:
        """One run with its event and every step attempt."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs, events.c.event_id, events.c.connection, events.c.trigger)
                               .join(events, events.c.id == runs.c.event_pk)
                               .where(runs.c.id == run_id)).mappings().first()
            if row is None:
                return None
            steps = conn.execute(sa.select(run_steps).where(run_steps.c.run_id == run_id)
                                 .order_by(run_steps.c.id)).mappings().all()
            created = conn.execute(sa.select(links).where(links.c.run_id == run_id)
                                   .order_by(links.c.id)).mappings().all()
        out = review_fields(dict(row))
        out["steps"] = [_step_dict(s) for s in steps]
        out["links"] = [dict(link) for link in created]
        return out

    def runs_of_event(self, connection: str, event_id: str, recipe_id: str) -> list[dict[str, Any]]:
        """The runs (``id``, ``status``) event ``event_id`` of ``connection`` planned for
        ``recipe_id``, oldest first (a replay plans none: it reopens the run)."""
        query = (sa.select(runs.c.id, runs.c.status).join(events, events.c.id == runs.c.event_pk)
                 .where(events.c.connection == connection, events.c.event_id == event_id,
                        runs.c.recipe_id == recipe_id).order_by(runs.c.id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def paused_runs(self, recipe_id: str) -> dict[str, int]:
        """How many of ``recipe_id``'s runs are paused, per connection they wait for."""
        query = (sa.select(runs.c.paused_on, sa.func.count()).where(runs.c.recipe_id == recipe_id,
                                                                   runs.c.status == "paused")
                 .group_by(runs.c.paused_on))
        with self.engine.connect() as conn:
            return {str(on or ""): int(n) for on, n in conn.execute(query)}

    def skipped_runs(self, connection: str) -> list[dict[str, Any]]:
        """The runs of ``connection``'s events that a recipe's ``skip`` rule closed — not the
        echoes, whose entity the run that wrote it booked: the run (id, recipe_id, skipped_as)
        and its event (event_id, trigger)."""
        query = (sa.select(runs.c.id, runs.c.recipe_id, runs.c.skipped_as, events.c.event_id, events.c.trigger)
                 .join(events, events.c.id == runs.c.event_pk)
                 .where(runs.c.status == "skipped", runs.c.skipped_as != "echo",
                        events.c.connection == connection)
                 .order_by(runs.c.id))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    # --- what passed through, for ledgerlink export ----------------------------------------

    def booked_steps(self, since: float, until: float) -> Iterator[dict[str, Any]]:
        """Each step that succeeded with an id in its ledger (``external_id``), of the runs
        created in ``[since, until)`` and not undone, oldest first: the run (id, recipe and
        version, status, created_at), its event (id, connection, trigger), the step (id,
        input, output, external_id) and its link, if any (source_id, target_connection,
        target_type). Streamed: rows are read as they are consumed."""
        query = (sa.select(runs.c.id.label("run_id"), runs.c.recipe_id, runs.c.recipe_version,
                           runs.c.status.label("run_status"), runs.c.created_at, events.c.event_id,
                           events.c.connection, events.c.trigger, run_steps.c.step_id, run_steps.c.input,
                           run_steps.c.output, run_steps.c.external_id, links.c.source_id,
                           links.c.target_connection, links.c.target_type)
                 .join(runs, runs.c.id == run_steps.c.run_id)
                 .join(events, events.c.id == runs.c.event_pk)
                 .outerjoin(links, sa.and_(links.c.run_id == run_steps.c.run_id,
                                           links.c.step_id == run_steps.c.step_id))
                 .where(run_steps.c.status == "succeeded", run_steps.c.external_id.is_not(None),
                        runs.c.status != "undone", runs.c.created_at >= since, runs.c.created_at < until)
                 .order_by(runs.c.created_at, runs.c.id, run_steps.c.id))
        with self.engine.connect() as conn:
            for row in conn.execution_options(stream_results=True, yield_per=500).execute(query).mappings():
                yield _step_dict(row)
