"""Review before posting: a run of a recipe with ``"review": true`` sends nothing nobody saw.

Before a worker performs such a run it plans it as a dry-run does (:func:`plan`): the exact
requests each step would send, secrets redacted, with the run's idempotency keys and link
queries answered from the links table. A value an earlier step returns is not known before
that step runs: it is shown as the action's sample answer has it, and the step names the
steps whose answers it uses (``uses_answers_of``) and the places in its input that hold them
(``answers``), checked with the real answers before the step is sent
(:mod:`ledgerlink.engine.review_steps`). Nobody approved the run yet, or the requests differ
from those approved (a lookup answers otherwise, the event was fetched again, another recipe
version): the run waits in ``awaiting_review`` with these requests and, when they were shown
before, what changed (:func:`gate`). The same requests as approved: it is performed. Once a
step of an approved run was logged, its retries and a takeover after a crash go on with the
requests approved (their idempotency keys), without asking again.

People approve or reject runs through :mod:`ledgerlink.store.review` (``ledgerlink runs
approve|reject``, ``POST /api/runs/approve|reject``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import IncomingEvent, LinkQuery
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.engine.review_steps import ShownAgain, mark, shown_again_plan
from ledgerlink.engine.runner import LiveRun
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import LedgerlinkError
from ledgerlink.recipes.recipe import Recipe

#: what is compared of each step: the mapped input, every request, every link answer
COMPARED = ("status", "input", "request", "later_requests", "link_lookups")
#: a recipe step's reference to an earlier step's output
STEP_REFERENCE = re.compile(r"\$\.steps\.([A-Za-z0-9_-]+)")


def plan(runtime: Runtime, live: LiveRun, recipe: Recipe, done: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The requests run ``live.run`` would send now, as a reviewer reads them; ``done``: the
    real outputs of the steps it already sent (shown ``sent``, their answers no placeholders)."""
    run = live.run
    event = IncomingEvent(run.event_id, run.trigger, jsonio.loads(run.payload))

    def linked(connection: str, query: LinkQuery) -> str | None:
        return runtime.store.linked_target(connection, query.source_id, query.target_type)

    report = dry_run(recipe, runtime.catalog, runtime.config, event, linked=linked,
                     key_generation=run.key_generation, done=done)
    if not report["matched"]:
        raise LedgerlinkError(f"the trigger filter of recipe {recipe.id!r} version {recipe.version} no "
                              f"longer accepts event {run.event_id}, so there is nothing to review; "
                              f"fix the filter, reload the recipe and replay the run on the latest version")
    steps = []
    for step, raw in zip(report["steps"], recipe.raw.get("steps", [])):
        shown = {key: step[key] for key in COMPARED if key in step}
        shown.update(id=step["id"], action=step["action"], connection=step["connection"])
        earlier = sorted(set(STEP_REFERENCE.findall(jsonio.dumps(raw))) - {step["id"]} - set(done or ()))
        if earlier and step["status"] != "sent":  # an earlier answer not known yet: its sample's value
            shown["uses_answers_of"] = earlier
            shown["answers"] = [answer for answer in mark(step.get("input"), raw.get("input"))
                                if _step_of(answer["from"]) in earlier]
            shown["answers_read"] = {path: value for path, value in step.get("answers_read", {}).items()
                                     if _step_of(path) in earlier}  # checked when sent
        steps.append(shown)
    # not the recipe's file: the same version read from another folder sends the same requests
    return {"recipe": {"id": recipe.id, "version": recipe.version}, "event": report["event"], "steps": steps}


def _step_of(path: str) -> str | None:
    """The step whose answer ``path`` reads (``$.steps.<step>…``)."""
    found = STEP_REFERENCE.match(path) or re.match(r"\$\.steps\[['\"]([^'\"]+)['\"]\]", path)
    return found.group(1) if found else None


def digest(shown: dict[str, Any]) -> str:
    """The SHA-256 of the requests shown (canonical JSON: the same requests, the same digest)."""
    return hashlib.sha256(jsonio.dumps(shown, sort_keys=True).encode()).hexdigest()


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    """What differs between the requests shown before and now, in a sentence."""
    if before is None:
        return "the requests changed since they were approved; review them again"
    said = []
    if before.get("recipe", {}).get("version") != after["recipe"]["version"]:
        said.append(f"recipe version {before.get('recipe', {}).get('version')} → {after['recipe']['version']}")
    old_steps = {step["id"]: step for step in before.get("steps", [])}
    for step in after["steps"]:
        old = old_steps.get(step["id"])
        if old is None:
            said.append(f"step {step['id']!r} is new")
            continue
        differ = [key.replace("_", " ") for key in COMPARED if old.get(key) != step.get(key)]
        if differ:
            said.append(f"step {step['id']!r}: {', '.join(differ)}")
    return ("the requests changed since they were approved: " + ("; ".join(said) or "the steps")
            + "; review them again")


def gate(runtime: Runtime, live: LiveRun, recipe: Recipe) -> tuple[str, str | None] | None:
    """None when run ``live.run`` may send (its requests are those approved). Else
    ``("awaiting_review", note)``: the run now awaits review, with the note saying what
    changed when it was approved before (None when it was not); or ``("lost", None)``: the
    lease was lost. Raises what planning raises (a mapping that fails)."""
    store, run = runtime.store, live.run
    state = store.review_state(run.id)
    if state.approved_digest is not None and state.approved_log_id is not None \
            and store.started_since_approval(run.id, state.approved_log_id):
        return None  # the approved requests are being sent: retries go on with them
    resumes = jsonio.loads(state.review_plan).get("resumes_after") if state.review_plan else None
    if state.approved_digest is not None and resumes and set(resumes) <= set(store.succeeded_steps(run.id)):
        return None  # shown again after its earlier steps were sent: each later step is checked
    shown = plan(runtime, live, recipe)
    now = digest(shown)
    if state.approved_digest == now:
        return None
    note = None
    if state.approved_digest is not None:
        note = changes(jsonio.loads(state.review_plan) if state.review_plan else None, shown)
    if not store.await_review(run.id, live.worker, jsonio.dumps(shown), now, note):
        return "lost", None
    runtime.metrics.add("runs_awaiting_review", 1)
    if note:
        runtime.metrics.add("runs_shown_again", 1)
    return "awaiting_review", note


def show_again(runtime: Runtime, live: LiveRun, recipe: Recipe, again: ShownAgain) -> tuple[str, str | None]:
    """Run ``live.run`` awaits review again, its later step ``again.step_id`` showing the input
    and the requests it would send now (planned as the first review was, with the real answers
    of the earlier steps, which were sent) and why. ``("lost", None)``: the lease was lost."""
    store, run = runtime.store, live.run
    plan_text = store.review_state(run.id).review_plan or jsonio.dumps({"steps": []})
    done = store.succeeded_steps(run.id)
    try:
        now: dict[str, Any] | None = plan(runtime, live, recipe, done=done)
    except LedgerlinkError:  # the step fails when sent, as it would have: its input is shown
        now = None
    shown = shown_again_plan(plan_text, now, again, sorted(done))
    if not store.await_review(run.id, live.worker, jsonio.dumps(shown), digest(shown), again.note):
        return "lost", None
    runtime.metrics.add("runs_awaiting_review", 1)
    runtime.metrics.add("runs_shown_again", 1)
    return "awaiting_review", again.note
