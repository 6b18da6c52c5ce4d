"""The only module that sequences a recipe's steps.

For each step: evaluate ``when``, map the input (compiled expressions), validate it against
the action's input schema, then drive the action's generator, handing every request it
yields to ``send`` and the response back to it. ``send`` is the live sender (outbound) or
the dry-run sender, which records the request and answers with the action's sample.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import jsonschema_rs

from ledgerlink.contract import Action, ActionContext, Connection, IncomingEvent, Request, Response
from ledgerlink.connectors.catalog import Validator
from ledgerlink.errors import InputError, LedgerlinkError
from ledgerlink.recipes.paths import pointer_join
from ledgerlink.recipes.recipe import Recipe, Step

#: fixed namespace for idempotency keys; never change it, or retries after an upgrade would twin
KEY_NAMESPACE = uuid.UUID("6f1c7d2e-4b8a-5c3d-9e0f-1a2b3c4d5e6f")

Send = Callable[[Step, Action, ActionContext, Request], Response]


def idempotency_key(recipe_id: str, version: int, event_id: str, step_id: str, generation: int = 0) -> str:
    """Stable 36-character key for one step of one recipe version on one event.

    The same inputs give the same key in every process and after every restart, so a
    retried write carries the key of the first attempt. ``generation`` rises with each
    replay of a run; a replayed step whose last write the vendor did not refuse keeps that
    write's key (see ``Store.reopen``). 36 characters fit every vendor (QuickBooks
    ``requestid`` ≤ 50, Xero ≤ 128, Stripe ≤ 255).
    """
    parts = [recipe_id, str(version), event_id, step_id] + ([f"replay-{generation}"] if generation else [])
    return str(uuid.uuid5(KEY_NAMESPACE, "\x1f".join(parts)))


def document(recipe: Recipe, event: IncomingEvent) -> dict[str, Any]:
    """The document expressions read: ``$.event``, ``$.steps``, ``$.lookups``, ``$.recipe``."""
    return {"event": event.payload, "steps": {}, "lookups": recipe.lookups,
            "recipe": {"id": recipe.id, "version": recipe.version}}


@dataclass
class StepResult:
    id: str
    action: str
    connection: str
    status: str  # "succeeded" | "skipped"
    input: Any = None
    output: Any = None
    requests: list[Any] = field(default_factory=list)


_VALIDATORS: dict[int, tuple[Action, Any, Any]] = {}


def _validators(action: Action) -> tuple[Any, Any]:
    """The fast validator (jsonschema-rs) and the one that explains (jsonschema), built once.

    jsonschema-rs answers "valid?" in microseconds, where jsonschema takes about a
    millisecond for an entry; jsonschema then words the errors, and is the judge if the
    two ever disagree.
    """
    cached = _VALIDATORS.get(id(action))
    if cached is None or cached[0] is not action:
        cached = (action, jsonschema_rs.validator_for(dict(action.input_schema)),
                  Validator(action.input_schema))
        _VALIDATORS[id(action)] = cached
    return cached[1], cached[2]


def validate_input(step: Step, recipe: Recipe, value: Any) -> None:
    """Raise InputError listing every way the mapped input breaks the action's schema."""
    fast, validator = _validators(step.action)
    if fast.is_valid(value):
        return
    errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    lines = []
    for error in errors:
        best = jsonschema.exceptions.best_match([error]) if not error.context else \
            jsonschema.exceptions.best_match(error.context)
        where = pointer_join(f"{step.pointer}/input", *best.absolute_path)
        description = best.schema.get("description") if isinstance(best.schema, dict) else None
        lines.append(f"{where}: {best.message}" + (f" — expected: {description}" if description else ""))
    raise InputError(f"recipe {recipe.id!r}, step {step.id!r}: the mapped input does not fit action "
                     f"{step.action.name!r}: " + "; ".join(lines),
                     recipe=recipe.id, step=step.id, problems=lines)


def run_step(recipe: Recipe, step: Step, doc: dict[str, Any], event: IncomingEvent,
             connection: Connection, send: Send,
             on_input: Callable[[int, Any], None] | None = None, key_generation: int = 0,
             key: str | None = None) -> StepResult:
    """Map, validate and perform one step; raises LedgerlinkError subclasses on failure.

    The step's idempotency key is ``key`` when given (an earlier attempt's), else the one of
    ``key_generation``."""
    result = StepResult(step.id, step.action.name, step.connection, "succeeded")
    if step.when is not None and not step.when(doc):
        result.status = "skipped"
        return result
    value = step.input(doc)
    result.input = value
    if on_input is not None:
        on_input(0, value)
    validate_input(step, recipe, value)
    ctx = ActionContext(connection=connection,
                        idempotency_key=key or idempotency_key(recipe.id, recipe.version, event.id,
                                                               step.id, key_generation),
                        recipe_id=recipe.id, recipe_version=recipe.version, step_id=step.id,
                        event_id=event.id)
    generator = step.action.perform(value, ctx)
    try:
        request = next(generator)
        while True:
            response = send(step, step.action, ctx, request)
            request = generator.send(response)
    except StopIteration as stop:
        result.output = stop.value if stop.value is not None else {}
    return result


def drive(generator: Any, send: Callable[[Request], Response]) -> Any:
    """Run an action generator to its return value, answering each request with ``send``."""
    try:
        request = next(generator)
        while True:
            request = generator.send(send(request))
    except StopIteration as stop:
        return stop.value


def find_existing(recipe: Recipe, step: Step, doc: dict[str, Any], event: IncomingEvent,
                  connection: Connection, send: Send, key_generation: int = 0,
                  key: str | None = None) -> Any:
    """The output of the entity an earlier attempt of ``step`` created, or None.

    For writes whose outcome is unknown (no answer, or one that could not be read) when a
    resend could create a twin, and before a replay: the action's ``find_existing`` reads,
    it never writes.
    """
    if step.action.find_existing is None:
        return None
    value = step.input(doc)
    validate_input(step, recipe, value)
    ctx = ActionContext(connection=connection,
                        idempotency_key=key or idempotency_key(recipe.id, recipe.version, event.id,
                                                               step.id, key_generation),
                        recipe_id=recipe.id, recipe_version=recipe.version, step_id=step.id, event_id=event.id)
    return drive(step.action.find_existing(value, ctx), lambda request: send(step, step.action, ctx, request))


def run(recipe: Recipe, event: IncomingEvent, connection_for: Callable[[str], Connection],
        send: Send, on_step: Callable[[StepResult], None] | None = None) -> list[StepResult]:
    """Run every step of ``recipe`` on ``event`` in order; outputs feed later steps."""
    doc = document(recipe, event)
    results = []
    for step in recipe.steps:
        result = run_step(recipe, step, doc, event, connection_for(step.connection), send)
        doc["steps"][step.id] = result.output if result.status == "succeeded" else None
        results.append(result)
        if on_step is not None:
            on_step(result)
    return results


__all__ = ["LedgerlinkError", "Send", "StepResult", "document", "idempotency_key", "run", "run_step"]
