"""The review queue: runs awaiting review, each with the exact requests it would send, approved
or rejected many at once.

Tick the runs and press Approve or Reject (a GET to the confirmation page, which lists every
run chosen and says what will happen); its form POSTs the ids with the CSRF token, and the
console approves or rejects them as ``ledgerlink runs approve|reject`` does, then shows the
queue again with how many were decided and how many had already left it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, redirect, request

from ledgerlink.web.operator import MAX_ID, RunFilter, operator
from ledgerlink_console.blueprint import console
from ledgerlink_console.render import page
from ledgerlink_console.session import actor

PAGE_SIZE = 50
#: the most runs one decision names (as the API's)
MAX_DECIDED = 1000
MAX_REASON = 2000
DECISIONS = {"approve": "Approve", "reject": "Reject"}


def _ids(values: list[str]) -> list[int] | None:
    """The run ids of a form, or None when one is not a run id or there are too many."""
    if not values or len(values) > MAX_DECIDED:
        return None
    ids = []
    for value in values:
        if not (value.isascii() and value.isdigit() and len(value) <= 10 and 1 <= int(value) <= MAX_ID):
            return None
        ids.append(int(value))
    return sorted(set(ids))


def _after() -> int | None:
    value = request.args.get("after", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else None


@console.get("/review")
def review_queue() -> Response:
    op = operator()
    recipe = request.args.get("recipe", "").strip()[:255] or None
    rows = op.run_page(RunFilter(status="awaiting_review", recipe_id=recipe), _after(), PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    runs: list[dict[str, Any]] = [op.run(row["id"]) or row for row in rows[:PAGE_SIZE]]
    decided = {key: request.args.get(key, "") for key in ("approved", "rejected", "left")}
    notice = None
    if any(v.isdigit() for v in decided.values()):
        notice = (f"{decided['approved'] or decided['rejected'] or 0} run(s) "
                  f"{'approved' if decided['approved'] else 'rejected'}"
                  + (f"; {decided['left']} had already left the queue" if decided["left"] not in ("", "0") else ""))
    return page("review.html", runs=runs, recipe=recipe or "", recipes=op.recipe_ids(), notice=notice,
                older=f"/console/review?{urlencode({'after': rows[PAGE_SIZE - 1]['id'], 'recipe': recipe or ''})}"
                if more else None)


@console.get("/review/confirm")
def review_confirm() -> Response:
    action = request.args.get("action", "")
    ids = _ids(request.args.getlist("run"))
    if action not in DECISIONS or ids is None:
        return page("review_confirm.html", 400, runs=[], action=None,
                    problem=f"tick between 1 and {MAX_DECIDED} runs of the queue, then press Approve or Reject")
    op = operator()
    runs = [run for run in (op.run(i) for i in ids) if run is not None]
    return page("review_confirm.html", runs=runs, action=action, label=DECISIONS[action],
                waiting=[r for r in runs if r["status"] == "awaiting_review"])


@console.post("/review/<any(approve, reject):action>")
def review_decide(action: str) -> Response:
    ids = _ids(request.form.getlist("run"))
    if ids is None:
        return page("review_confirm.html", 400, runs=[], action=None,
                    problem=f"the form names no run, or more than {MAX_DECIDED}; start again from the queue")
    op = operator()
    if action == "approve":
        results = op.approve(ids, actor())
    else:
        results = op.reject(ids, actor(), request.form.get("reason", "").strip()[:MAX_REASON] or None)
    done = sum(1 for decided, _ in results.values() if decided)
    word = "approved" if action == "approve" else "rejected"
    return redirect(f"/console/review?{word}={done}&left={len(results) - done}", 303)
