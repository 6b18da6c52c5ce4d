"""One run in full — each step attempt's input, request, response (redacted), error with its
fix, idempotency key, links to its source object and to what it wrote in the vendors' own
applications — and what an operator does to it: replay, undo, approve, reject.

Each action is a link to a confirmation page that says exactly what will happen to this run,
whose form POSTs (with its CSRF token) to the same address; the console then makes the call
``ledgerlink runs …`` and ``/api/runs/…`` make (:class:`ledgerlink.web.operator.Operator`), and
shows the run again with what happened. Nothing needs JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Response, redirect, request

from ledgerlink import jsonio
from ledgerlink.errors import Conflict, LedgerlinkError
from ledgerlink.web.operator import MAX_ID, Operator, operator
from ledgerlink_console.blueprint import console
from ledgerlink_console.render import page
from ledgerlink_console.session import actor

#: the longest reason a rejection stores
MAX_REASON = 2000
#: the statuses a run leaves by itself: its page follows it while it is in one of them
MOVING = ("pending", "running", "retrying")


@dataclass(frozen=True)
class Action:
    """A button of the run page: when it is offered, what its confirmation says, what it does."""

    name: str
    label: str
    #: the statuses of a run it applies to
    statuses: tuple[str, ...]
    explain: Callable[[dict[str, Any]], list[str]]
    perform: Callable[[Operator, dict[str, Any], dict[str, str]], str]
    #: what the run page says once it is done
    done: str


def _replay_text(run: dict[str, Any]) -> list[str]:
    return [f"Run {run['id']} ({run['recipe_id']} version {run['recipe_version']}, now {run['status']}) "
            f"becomes pending again on its own recipe version, and a worker runs it at once.",
            "A step that wrote before is looked up in the target system first, and a step whose outcome "
            "was unknown is resent under the same idempotency key, so nothing is booked twice.",
            "The run's earlier attempts stay in its log."]


def _replay_latest_text(run: dict[str, Any]) -> list[str]:
    latest = operator().active_version(run["recipe_id"])
    return [f"A new run of {run['recipe_id']} version {latest} (the version loaded now; run {run['id']} ran "
            f"version {run['recipe_version']}) is planned for the same event {run['event_id']}, and a worker runs "
            f"it at once. Run {run['id']} stays as it is.",
            "Its steps first look up what earlier runs of the event wrote, so an entity that exists is not "
            "created twice."]


def _undo_text(run: dict[str, Any]) -> list[str]:
    created, kept = operator().undo_targets(run)

    def named(links: list[dict[str, Any]]) -> str:
        return ", ".join(f"{link['target_type']} {link['target_id']} in {link['target_connection']}" for link in links)

    lines = [f"Every entity run {run['id']} created is voided or deleted in the target system, newest first, "
             f"and the run's status becomes undone."]
    lines.append(f"Voided or deleted: {named(created)}." if created else
                 "The run created no entity; only its status changes.")
    if kept:
        lines.append(f"Kept, as other runs use them too: {named(kept)}.")
    return lines


def _approve_text(run: dict[str, Any]) -> list[str]:
    shown = run.get("review_plan") or []
    return [f"The {len(shown) if isinstance(shown, list) else ''} request(s) shown below are sent by a worker "
            f"for run {run['id']}, exactly as shown.",
            "If planning the run again gives different requests (a rate, a customer changed), nothing is sent "
            "and the run awaits review again, saying why."]


def _reject_text(run: dict[str, Any]) -> list[str]:
    return [f"Run {run['id']} sends nothing, for good: its status becomes rejected, with your reason.",
            "A replay can show it for review again later."]


def _replay(op: Operator, run: dict[str, Any], form: dict[str, str]) -> str:
    op.replay(run["id"], "own")
    return f"Run {run['id']} is pending again; a worker runs it now."


def _replay_latest(op: Operator, run: dict[str, Any], form: dict[str, str]) -> str:
    result = op.replay(run["id"], "latest")
    return f"Run {result['run']} replays run {run['id']} on version {result['recipe_version']}."


def _undo(op: Operator, run: dict[str, Any], form: dict[str, str]) -> str:
    done = op.undo(run["id"])
    return f"Run {run['id']} is undone ({len(done.get('undone', []))} entities voided or deleted)."


def _decide(op: Operator, run: dict[str, Any], form: dict[str, str], approve: bool) -> str:
    reason = form.get("reason", "").strip()[:MAX_REASON] or None
    results = op.approve([run["id"]], actor()) if approve else op.reject([run["id"]], actor(), reason)
    decided, status = results[run["id"]]
    verb = "approved" if approve else "rejected"
    if not decided:
        raise Conflict(f"run {run['id']} is {status}, not awaiting review; it was not {verb}")
    return f"Run {run['id']} is {verb}."


ACTIONS = {action.name: action for action in (
    Action("replay", "Replay", ("failed", "dead", "rejected", "skipped", "undone"), _replay_text, _replay,
           "The run is pending again; a worker runs it now."),
    Action("replay-latest", "Replay on the latest version", ("failed", "dead", "rejected", "skipped", "undone"),
           _replay_latest_text, _replay_latest, "A new run replays this one on the latest version; see the sync log."),
    Action("undo", "Undo", ("succeeded", "failed", "dead"), _undo_text, _undo,
           "The run is undone: what it created was voided or deleted."),
    Action("approve", "Approve", ("awaiting_review",), _approve_text,
           lambda op, run, form: _decide(op, run, form, True), "The run is approved; a worker sends it now."),
    Action("reject", "Reject", ("awaiting_review",), _reject_text,
           lambda op, run, form: _decide(op, run, form, False), "The run is rejected; it sends nothing."),
)}


def booked(run: dict[str, Any]) -> dict[str, Any] | None:
    """What the run booked: its last succeeded step's output when that names an id."""
    done = [s for s in run["steps"] if s.get("status") == "succeeded" and isinstance(s.get("output"), dict)]
    return done[-1]["output"] if done and "id" in done[-1]["output"] else None


def _run_or_404(run_id: int) -> dict[str, Any] | Response:
    run = operator().run(run_id)
    if run is None:
        return page("missing.html", 404, run_id=run_id)
    return run


def _offered(run: dict[str, Any], action: Action) -> bool:
    """Whether ``action`` applies to ``run`` now (replay on the latest version: only when a
    later version than the run's is loaded)."""
    if run["status"] not in action.statuses:
        return False
    if action.name == "replay-latest":
        latest = operator().active_version(run["recipe_id"])
        return latest is not None and latest != run["recipe_version"]
    return True


def _run_page(run: dict[str, Any], status: int = 200, **extra: Any) -> Response:
    offered = [a for a in ACTIONS.values() if _offered(run, a)]
    links = operator().links_of_runs([run["id"]]).get(run["id"], [])
    return page("run.html", status, run=run, actions=offered, booked=booked(run), deeplinks=links, moving=MOVING,
                **extra)


def _not_applicable(run: dict[str, Any], chosen: Action) -> Response:
    if run["status"] in chosen.statuses:  # replay on the latest version, with no later version
        return _run_page(run, 409, problem=f"run {run['id']} ran the version of {run['recipe_id']} loaded now; "
                                           f"replay it on its own version")
    return _run_page(run, 409, problem=f"{chosen.label} applies to a run that is {' or '.join(chosen.statuses)}; "
                                       f"run {run['id']} is {run['status']}")


@console.get(f"/runs/<int(max={MAX_ID}):run_id>")
def run_detail(run_id: int) -> Response:
    run = _run_or_404(run_id)
    if isinstance(run, Response):
        return run
    done = ACTIONS.get(request.args.get("done", ""))
    return _run_page(run, notice=done.done if done else None)


@console.get(f"/runs/<int(max={MAX_ID}):run_id>/status")
def run_status(run_id: int) -> Response:
    """The run's status as JSON, which a run page still moving polls (static/console.js) to
    show the run again once it changes."""
    status = operator().run_status(run_id)  # polled every few seconds: the status alone, not the steps
    if status is None:
        return Response(jsonio.dumps({"error": f"no run {run_id}"}), 404, mimetype="application/json")
    return Response(jsonio.dumps({"id": run_id, "status": status}), mimetype="application/json")


@console.get(f"/runs/<int(max={MAX_ID}):run_id>/<any({', '.join(map(repr, ACTIONS))}):action>")
def confirm(run_id: int, action: str) -> Response:
    run = _run_or_404(run_id)
    if isinstance(run, Response):
        return run
    chosen = ACTIONS[action]
    if not _offered(run, chosen):
        return _not_applicable(run, chosen)
    return page("confirm.html", run=run, action=chosen, lines=chosen.explain(run))


@console.post(f"/runs/<int(max={MAX_ID}):run_id>/<any({', '.join(map(repr, ACTIONS))}):action>")
def perform(run_id: int, action: str) -> Response:
    run = _run_or_404(run_id)
    if isinstance(run, Response):
        return run
    chosen = ACTIONS[action]
    if not _offered(run, chosen):  # it changed since the confirmation was shown
        return _not_applicable(run, chosen)
    try:
        chosen.perform(operator(), run, dict(request.form))
    except LedgerlinkError as exc:
        return page("confirm.html", exc.status, run=run, action=chosen, lines=chosen.explain(run),
                    problem=str(exc))
    return redirect(f"/console/runs/{run_id}?done={action}", 303)
