"""Review of multi-step recipes: a later step is sent only as it was reviewed.

A later step's request often carries a value an earlier step returns (the customer id
step ``customer`` finds or creates): when the run is reviewed that value is not known, so
the plan shows the earlier action's sample answer there. The mapping records each earlier
answer it reads (``answers_read``: path → the sample value shown), and the plan marks the
places of the input made from one (``answers``: where, from which answer, whole or
``within`` an expression such as a ``$concat``, the value shown). When the approved run is
performed, before each later step writes, its input is mapped with the earlier steps' real
answers, and mapped once more with the answers read as they were shown: that must give
the reviewed input (:func:`step_check`). It does: the step's input differs from the one
reviewed only by what the real answers make of it, wherever and through whatever
expression they are used, and it is sent. It does not (the event changed, a link answers
otherwise, an answer read that was not read before): nothing of the step is sent; the run
goes back to ``awaiting_review`` showing the step's new input and requests and why
(:func:`show_again`), having sent the earlier steps only (each a reviewed write, logged,
never sent twice). Approved again, the run goes on from that step.

The comparison is of the step's mapped input: an action builds its requests from its input
and the run's idempotency key alone, so the same input sends the same requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ledgerlink import jsonio
from ledgerlink.errors import LedgerlinkError
from ledgerlink.recipes.mapping import PRIMARY
from ledgerlink.recipes.paths import ANSWERS_SHOWN
from ledgerlink.recipes.recipe import Recipe, Step

#: an earlier step's answer used whole: ``$.steps.<step>.<field>...``
WHOLE_ANSWER = re.compile(r"\$\.steps\.([A-Za-z0-9_-]+)((?:\.[A-Za-z0-9_-]+)*)$")
#: an earlier step's answer read anywhere inside an expression
ANSWER_PATH = re.compile(r"\$\.steps\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+|\[[^\]]*\])*")


class ShownAgain(Exception):
    """A later step's input, with the earlier steps' real answers, is not the one reviewed."""

    def __init__(self, step_id: str, live_input: Any, note: str) -> None:
        super().__init__(note)
        self.step_id, self.live_input, self.note = step_id, live_input, note


def answers_used(raw: Any, at: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Where a step's input (its recipe text ``raw``) is made from an earlier step's answer:
    ``[{"at": [key or index, ...], "from": "$.steps.customer.id"}]`` for an answer used
    whole, with ``"within": "$concat"`` (the expression) for one read inside an expression."""
    if isinstance(raw, Mapping):
        path = raw.get("$path")
        if set(raw) == {"$path"} and isinstance(path, str) and WHOLE_ANSWER.match(path):
            return [{"at": list(at), "from": path}]
        if any(str(key).startswith("$") for key in raw):
            within = next((key for key in PRIMARY if key in raw), "$path")
            paths = dict.fromkeys(ANSWER_PATH.findall(jsonio.dumps(raw)))
            return [{"at": list(at), "from": found, "within": within} for found in paths]
        return [found for key, value in raw.items() for found in answers_used(value, (*at, key))]
    if isinstance(raw, list):
        return [found for index, value in enumerate(raw) for found in answers_used(value, (*at, index))]
    return []


def _get(value: Any, at: list[Any]) -> Any:
    for key in at:
        value = value[key]
    return value


def mark(shown_input: Any, raw_input: Any) -> list[dict[str, Any]]:
    """The ``answers`` a plan shows for a step: each marked place with the sample value shown."""
    marked = []
    for found in answers_used(raw_input):
        try:
            found["shown_as"] = _get(shown_input, found["at"])
        except (KeyError, IndexError, TypeError):
            continue  # an optional field left out of the input: nothing shown, nothing marked
        marked.append(found)
    return marked


def _canonical(value: Any) -> str:
    return jsonio.dumps(jsonio.loads(jsonio.dumps(value)), sort_keys=True)


def step_check(review_plan: str | None, recipe: Recipe) -> Callable[[Step, dict[str, Any]], None]:
    """What the runner asks before performing a later step of an approved run: raises
    :class:`ShownAgain` unless the step's input, mapped with the earlier answers it read as
    they were shown (``answers_read``), is the reviewed one."""
    reviewed = {step["id"]: step for step in jsonio.loads(review_plan)["steps"]} if review_plan else {}

    def check(step: Step, doc: dict[str, Any]) -> None:
        shown = reviewed.get(step.id)
        if shown is None:
            raise ShownAgain(step.id, None, f"step {step.id!r} was not reviewed")
        try:
            if step.when is not None and not step.when(doc):
                return  # skipped: sends nothing
            live = step.input(doc)
            as_shown = step.input({**doc, ANSWERS_SHOWN: shown.get("answers_read") or {}})
        except LedgerlinkError:
            return  # the step fails as it would have, sending nothing
        if _canonical(as_shown) != _canonical(shown.get("input")):
            earlier = ", ".join(repr(s) for s in doc["steps"])
            raise ShownAgain(step.id, live, f"step {step.id!r}: its input with the real answers of step(s) "
                                            f"{earlier} is not the one reviewed; only the earlier steps were "
                                            f"sent; review step {step.id!r} again")
    return check


def shown_again_plan(review_plan: str, now: dict[str, Any] | None, again: ShownAgain,
                     done: list[str]) -> dict[str, Any]:
    """The plan shown when a later step changed: the steps ``done`` marked sent as they were
    reviewed, ``resumes_after`` naming them; the later steps as planned ``now`` with the real
    answers of those sent, the changed one ``shown_again``. Without a plan ``now`` (the
    step's input cannot be sent as it is), or when its input is not the one the run would
    send, the changed step shows its new input alone."""
    plan = jsonio.loads(review_plan)
    planned = {step["id"]: step for step in (now or {}).get("steps", [])}
    rebuilt = planned.get(again.step_id)
    if rebuilt is None or _canonical(rebuilt.get("input")) != _canonical(again.live_input):
        planned = {}
    for index, step in enumerate(plan["steps"]):
        if step["id"] in done:
            step["status"] = "sent"
        elif step["id"] in planned:
            plan["steps"][index] = step = planned[step["id"]]
        elif step["id"] == again.step_id:
            for key in ("request", "later_requests", "answers"):
                step.pop(key, None)
            step.update(input=again.live_input, status="would_run")
        if step["id"] == again.step_id:
            step["shown_again"] = True
    plan["resumes_after"] = sorted(done)
    return plan
