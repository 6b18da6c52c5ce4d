"""The only module that sequences a recipe's steps.

For each step: evaluate ``when``, map the input (compiled expressions), validate it against
the action's input schema, then drive the action's generator, handing every request it
yields to ``send`` and the response back to it. ``send`` is the live sender (outbound) or
the dry-run sender, which records the request and answers with the action's sample.

:func:`run` sequences a dry run (:mod:`ledgerlink.engine.dryrun`). :func:`perform` sequences
a claimed run as a worker performs it: the steps an earlier attempt finished are skipped,
the lease is kept long enough for each step (:mod:`ledgerlink.engine.lease`), a step whose earlier write may have created its entity
looks it up first (:func:`earlier_writes`), and every attempt of a step is logged. How a
step's failure ends the attempt is raised as :mod:`ledgerlink.engine.retry` says; the
worker stores the outcome.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import jsonschema_rs

from ledgerlink import jsonio
from ledgerlink.contract import Action, ActionContext, Connection, Connector, IncomingEvent, Request, Response
from ledgerlink.connectors.catalog import Validator
from ledgerlink.engine.echo import after_step, asked_after, before_steps, trigger_value
from ledgerlink.engine.lease import LiveRun
from ledgerlink.engine.retry import Fail, LeaseLost, Retry, Skipped
from ledgerlink.errors import (EventError, InputError, LedgerlinkError, MappingError, NeedsNewKey, NeedsReauth,
                               NotSent, OutcomeUnknown, SignatureError, Throttled, VendorError)
from ledgerlink.io import keys, outbound
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
    return {"event": event.payload, "steps": {}, "lookups": recipe.lookups, "linked": {},
            "truth": recipe.truth, "recipe": {"id": recipe.id, "version": recipe.version}}


@dataclass
class StepResult:
    id: str
    action: str
    connection: str
    status: str  # "succeeded" | "skipped"
    input: Any = None
    output: Any = None
    requests: list[Any] = field(default_factory=list)


_VALIDATORS: dict[int, tuple[Action, jsonschema_rs.Validator, jsonschema.protocols.Validator]] = {}


def _validators(action: Action) -> tuple[jsonschema_rs.Validator, jsonschema.protocols.Validator]:
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


def drive(generator: Generator[Request, Response, Any], send: Callable[[Request], Response]) -> Any:
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
        send: Send, on_step: Callable[[StepResult], None] | None = None,
        key_generation: int = 0, linked: Mapping[str, Any] | None = None) -> list[StepResult]:
    """Run every step of ``recipe`` on ``event`` in order, ``$.linked`` being ``linked``;
    outputs feed later steps. Each step's idempotency key is the one of ``key_generation``
    (a run's, as a worker sends it)."""
    doc = document(recipe, event)
    doc["linked"] = dict(linked or {})
    results = []
    for step in recipe.steps:
        result = run_step(recipe, step, doc, event, connection_for(step.connection), send,
                          key_generation=key_generation)
        doc["steps"][step.id] = result.output if result.status == "succeeded" else None
        results.append(result)
        if on_step is not None:
            on_step(result)
    return results


# --- a claimed run, as a worker performs it -------------------------------------------------

def source_id(recipe: Recipe, payload: Any) -> str | None:
    """The id in the source system of what the event is about (the trigger's
    ``source_id_path``), which links the entities a run creates to it; None without one."""
    path_text = recipe.trigger.source_id_path
    value = trigger_value(path_text, payload) if path_text else None
    return value if isinstance(value, str) else None


def perform(live: LiveRun, recipe: Recipe, before: Callable[[Step, dict[str, Any]], None] | None = None) -> bool:
    """Perform the steps of ``live.run`` not done by an earlier attempt, in order, logging
    each. The last step's log marks the run succeeded in the same transaction.

    Returns False when the lease was lost before a step (the worker that took the run over
    finishes it). Raises :class:`Skipped` when the event is ledgerlink's own echo or a
    recipe ``skip`` rule holds, before the steps or after the step it is asked after
    (:mod:`ledgerlink.engine.echo`); :class:`Retry`, :class:`Fail` or :class:`LeaseLost` as a
    step ends the attempt, NeedsReauth when a connection must be connected again, and what
    reading the stored event raises when its text cannot be read. ``before(step, doc)`` is
    asked before each later step not done yet (a reviewed run's check), and may raise.
    """
    run, store = live.run, live.store
    payload = jsonio.loads(run.payload)
    event = IncomingEvent(run.event_id, run.trigger, payload)
    done = store.succeeded_steps(run.id) if run.attempts > 1 else {}
    doc = document(recipe, event)
    source = source_id(recipe, payload)
    skip = before_steps(store, recipe, run.connection, payload, doc, not done, live.may_have_written)
    if skip is not None:  # an echo of ledgerlink's own write, or a recipe's skip rule
        raise Skipped(*skip)
    for index, step in enumerate(recipe.steps):
        if step.id in done:
            doc["steps"][step.id] = done[step.id]
        else:
            if not live.keep_lease():  # renewed only when less than half a lease is left
                return False
            if index and before is not None:
                before(step, doc)
            last = index == len(recipe.steps) - 1 and not asked_after(recipe, step.id)
            doc["steps"][step.id] = _live_step(live, recipe, step, doc, event, source, last_step=last)
        skip = after_step(recipe, step.id, doc)
        if skip is not None:  # a rule asked after this step holds (a conflict, say)
            raise Skipped(*skip)
    if recipe.steps and (recipe.steps[-1].id in done or asked_after(recipe, recipe.steps[-1].id)):
        store.finish(run.id, live.worker, "succeeded")  # its log did not close the run
    return True


def earlier_writes(live: LiveRun, recipe: Recipe, step: Step, event: IncomingEvent,
                   connector: Connector) -> tuple[str, bool]:
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
      recipe version), whose earlier write may have created the entity;
    - the action's vendor keeps no idempotency key (``idempotency="lookup"``) and an
      earlier write may have been done: it failed without a 4xx refusal (a 5xx, a 429
      after a gateway's retry), or an earlier attempt of the run ended without a word (its
      worker killed, its lease lost) and may have been in the middle of it. Nothing at the
      vendor would answer a resend with it.
    """
    run = live.run
    key = idempotency_key(recipe.id, recipe.version, event.id, step.id, run.key_generation)
    if run.attempts <= 1 and not run.key_generation:
        return key, False  # a first attempt: nothing was sent before
    writes = live.store.earlier_writes(run.id, step.id)
    own = [w for w in writes if w.run_id == run.id and w.idempotency_key]
    replayed = any(w.idempotency_key != key for w in writes)
    if own and not (own[-1].status == "failed" and 400 <= (own[-1].response_status or 0) < 500):
        key = own[-1].idempotency_key or key
    if step.action.find_existing is None:
        return key, False
    keyless = step.action.idempotency == "lookup"
    in_doubt = [w for w in writes if w.status == "unknown"
                or (keyless and w.status == "failed" and w.response_status is not None
                    and not 400 <= w.response_status < 500)]
    unreadable = any(w.response_status is not None for w in in_doubt)
    # a vendor without keys forgets every write at once
    lifetime = 0.0 if keyless else connector.idempotency_key_lifetime
    first_sent = min((w.started_at for w in in_doubt if w.idempotency_key == key), default=None)
    forgotten = lifetime is not None and first_sent is not None and time.time() - first_sent >= lifetime
    silent = keyless and any(n not in live.store.ended_attempts(run.id) for n in range(1, run.attempts))
    return key, replayed or unreadable or forgotten or silent


def _live_step(live: LiveRun, recipe: Recipe, step: Step, doc: dict[str, Any], event: IncomingEvent,
               source_id: str | None, last_step: bool = False) -> Any:
    """Perform one step of a claimed run and log the attempt (its last request and answer,
    redacted); returns the step's output, None when ``when`` skipped it. How a failure ends
    the attempt is raised: Retry, Fail or LeaseLost."""
    run, store = live.run, live.store
    started = time.time()
    connection = live.connections.connection(step.connection)
    connector = live.connections.catalog.connectors[connection.connector]
    key = idempotency_key(recipe.id, recipe.version, event.id, step.id, run.key_generation)
    sent: list[outbound.Sent] = []
    transport = live.connections.transport(step.connection, sent)

    def send(step_: Step, action: Action, ctx: ActionContext, request: Request) -> Response:
        return transport(request)

    def log(status: str, error: str | None = None, output: Any = None, external_id: str | None = None,
            link: tuple[str, str, str, str, str] | None = None, input_: Any = None,
            finish: tuple[str, str] | None = None, wrote: list[tuple[str, str, str]] | None = None) -> bool:
        last = sent[-1] if sent else None
        return store.log_step(run.id, step.id, run.attempts, status, input=input_,
                              request=last.request if last else None,
                              response_status=last.status if last else None,
                              response_body=last.body_text if last else None, output=output,
                              external_id=external_id, idempotency_key=key, started_at=started,
                              finished_at=time.time(), error=error, link=link, wrote=wrote, finish=finish)

    mapped: list[Any] = [None]
    try:
        key, look_up = earlier_writes(live, recipe, step, event, connector)
        existing = None
        if look_up:
            live.metrics.add("lost_writes_looked_up", 1)
            existing = find_existing(recipe, step, doc, event, connection, send, key=key)
        if existing is not None:
            result = StepResult(step.id, step.action.name, step.connection, "succeeded",
                                input=step.input(doc), output=existing)
        else:
            result = run_step(recipe, step, doc, event, connection, send, on_input=mapped.__setitem__,
                              key=key)
    except Throttled as throttled:
        raise Retry(f"waiting for a {throttled.reason} slot of {connection.name!r}",
                     delay=max(0.0, getattr(throttled, "delay", 1.0)), count_attempt=False) from None
    except NotSent as exc:
        log("failed", error=str(exc), input_=mapped[0])
        raise Retry(f"step {step.id!r}: request not sent: {exc}") from None
    except OutcomeUnknown as exc:
        log("unknown", error=str(exc), input_=mapped[0])
        raise Retry(f"step {step.id!r}: outcome unknown, retrying with the same idempotency key: {exc}") from None
    except VendorError as exc:
        if exc.kind == "unknown":  # answered, but not readably: the write may have been done
            log("unknown", error=exc.message, input_=mapped[0])
            raise Retry(f"step {step.id!r}: outcome unknown, looking it up before resending: "
                         f"{exc.message}") from None
        log("failed", error=exc.message, input_=mapped[0])
        if exc.kind == "permanent":
            raise Fail(f"step {step.id!r}: {exc.message}") from None
        # an OAuth token refused: refresh it once, then retry; invalid_grant pauses the run
        if exc.kind == "reauth" and connector.oauth is not None and live.connections.expire(connection.name):
            raise Retry(f"step {step.id!r}: {exc.message}", delay=0.0) from None
        # a key refused: nothing to refresh; the run pauses until a new key is checked
        if exc.kind == "reauth" and connector.oauth is None:
            keys.refused(live.connections, connection.name, exc.message)
            raise NeedsNewKey(connection.name, exc.message) from None
        raise Retry(f"step {step.id!r}: {exc.message}", delay=exc.retry_after) from None
    except NeedsReauth:
        raise
    except (MappingError, EventError, SignatureError) as exc:
        log("failed", error=exc.message, input_=mapped[0])
        raise Fail(exc.message) from None
    except LedgerlinkError as exc:
        log("failed", error=exc.message, input_=mapped[0])
        raise Fail(f"step {step.id!r}: {exc.message}") from None
    finish = (live.worker, "succeeded") if last_step else None
    if result.status == "skipped":
        if not log("skipped", finish=finish):
            raise LeaseLost()
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
    wrote = [] if external_id is None or not step.action.entity else [(step.action.entity, str(external_id))]
    if step.action.changes is not None and isinstance(output, Mapping):
        wrote += step.action.changes(result.input, output)
    if not log("succeeded", output=output, external_id=None if external_id is None else str(external_id),
               link=link, wrote=[(step.connection, kind, str(i)) for kind, i in wrote], input_=result.input,
               finish=finish):
        raise LeaseLost()
    return output
