"""Runs awaiting review (a recipe with ``"review": true``): parking a run with the requests
it would send, approving and rejecting runs, and what a worker needs to know to send only
what was approved.

A run's review columns (see :mod:`ledgerlink.store.schema`): ``review_plan`` (the requests
shown, JSON), ``review_digest`` (their digest), ``approved_digest`` and ``approved_log_id``
(set on approval), ``reviewed_by`` and ``review_note``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.store.base import StoreBase
from ledgerlink.store.schema import run_steps, runs

AWAITING = "awaiting_review"
REJECTED = "rejected"
#: the run log's last row of the run being updated (0 when it has none)
LAST_LOGGED = (sa.select(sa.func.coalesce(sa.func.max(run_steps.c.id), 0))
               .where(run_steps.c.run_id == runs.c.id).scalar_subquery())


@dataclass(frozen=True)
class ReviewState:
    """What a worker reads before it performs a run of a review recipe."""

    #: the digest of the requests a person approved; None when nobody approved them
    approved_digest: str | None
    #: the requests last shown (JSON text), to say what changed when they are shown again
    review_plan: str | None
    #: the run log's last row of the run when it was approved (0: none): a step logged
    #: after it means the approved run has started sending
    approved_log_id: int | None


def review_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A run row as an operator reads it: ``review_plan`` as JSON, the digests left out."""
    plan = row.pop("review_plan", None)
    row.pop("approved_digest", None)
    row.pop("approved_log_id", None)
    row["review_plan"] = jsonio.loads(plan) if plan else None
    return row


class ReviewStore(StoreBase):
    """Runs awaiting review, approved and rejected."""

    def review_state(self, run_id: int) -> ReviewState:
        """The review columns a worker checks before performing run ``run_id``."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs.c.approved_digest, runs.c.review_plan, runs.c.approved_log_id)
                               .where(runs.c.id == run_id)).one()
        return ReviewState(*row)

    def started_since_approval(self, run_id: int, approved_log_id: int) -> bool:
        """Whether a step was logged since the approval: the approved requests are being
        sent, and a retry goes on with them (their idempotency keys) without asking again."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(run_steps).where(
                run_steps.c.run_id == run_id, run_steps.c.id > approved_log_id)).scalar_one() > 0

    def await_review(self, run_id: int, owner: str, plan: str, digest: str, note: str | None,
                     now: float | None = None) -> bool:
        """Park a run ``owner`` holds until a person approves or rejects the requests ``plan``
        (not an attempt: nothing was sent). Any earlier approval no longer holds. Returns
        False when the lease was lost."""
        now = self._now(now)
        with self.write_transaction() as conn:
            return conn.execute(
                runs.update().where(runs.c.id == run_id, runs.c.lease_owner == owner, runs.c.status == "running")
                .values(status=AWAITING, lease_owner=None, lease_until=None, updated_at=now,
                        attempts=runs.c.attempts - 1, review_plan=plan, review_digest=digest,
                        approved_digest=None, approved_log_id=None, review_note=note,
                        last_error=None)).rowcount == 1

    def approve(self, run_ids: list[int], by: str, now: float | None = None) -> dict[int, tuple[bool, str | None]]:
        """Approve the requests each run awaiting review showed: it is due at once, and the
        worker sends them only if planning again gives the same requests. Returns, per id,
        whether it was approved and the run's status now (None: no such run): of two people
        approving at once, one approves and the other is told the run is already pending."""
        return self._decide(run_ids, dict(status="pending", due_at=self._now(now),
                                          approved_digest=runs.c.review_digest,
                                          approved_log_id=LAST_LOGGED, reviewed_by=by,
                                          review_note=None), now)

    def reject(self, run_ids: list[int], by: str, reason: str | None,
               now: float | None = None) -> dict[int, tuple[bool, str | None]]:
        """Reject runs awaiting review, for good (``runs replay`` shows one again): nothing is
        sent. Returns, per id, whether it was rejected and its status now (None: no such run)."""
        return self._decide(run_ids, dict(status=REJECTED, reviewed_by=by, review_note=reason,
                                          approved_digest=None), now)

    def _decide(self, run_ids: list[int], values: dict[str, Any],
                now: float | None) -> dict[int, tuple[bool, str | None]]:
        now = self._now(now)
        results: dict[int, tuple[bool, str | None]] = {}
        with self.write_transaction() as conn:
            for run_id in dict.fromkeys(run_ids):
                changed = conn.execute(runs.update().where(runs.c.id == run_id, runs.c.status == AWAITING)
                                       .values(updated_at=now, **values)).rowcount == 1
                results[run_id] = (True, values["status"]) if changed else (False, conn.execute(
                    sa.select(runs.c.status).where(runs.c.id == run_id)).scalar())
            if values["status"] == "pending" and any(done for done, _ in results.values()):
                self._wake_others(conn)
        return results

    def awaiting_review(self, recipe_id: str | None = None) -> list[int]:
        """The ids of the runs awaiting review (of ``recipe_id`` when given), oldest first."""
        query = sa.select(runs.c.id).where(runs.c.status == AWAITING).order_by(runs.c.id)
        if recipe_id is not None:
            query = query.where(runs.c.recipe_id == recipe_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())
