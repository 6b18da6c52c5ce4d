"""Writes that happen exactly once: create with an idempotency key, find what was created,
undo it, and ask the host what an earlier run created.

The host retries a write whose answer was lost. Two things keep that from making a twin:

1. **the idempotency key**: every create carries the step's ``ctx.idempotency_key`` where
   the vendor reads one (a header, a query parameter); the vendor answers a replay with the
   entity it made the first time;
2. **find_existing**: past the key's lifetime at the vendor (or when the answer was
   unreadable: :func:`ledgerlink.contract.http.unreadable_write`), the host first runs the
   action's read-only ``find_existing``, which looks the entity up by declared keys and
   matches it against what the step would send.

:func:`create_action` builds such an :class:`~ledgerlink.contract.Action` from small
vendor callables::

    ACTION = create_action(
        name="acme.create_invoice", summary="Creates an invoice.", what="an invoice",
        schemas=Schemas(input=..., output=..., sample=..., sample_response=...),
        steps=CreateSteps(
            build=build_invoice,        # (input, ctx) -> Built(body, total); problems raise
            request=post_invoice,       # (built, ctx) -> Request carrying ctx.idempotency_key
            classify=acme_classify,     # Response -> VendorError | None
            read=read_invoice,          # (answer, built) -> output; unreadable answers raise
            read_stored=stored_invoice, # (stored entity, built) -> output
            lookup=invoices_like,       # (built, ctx) -> generator returning stored entities
            matches=same_invoice,       # (stored, built, ctx) -> bool
        ),
        undo=read_then_delete(...),     # or any undo generator; None: cannot be undone
    )

:func:`read_then_delete` is the usual undo (read the entity's current version, then delete
or void it; already gone counts as undone), and :func:`linked_target` asks the host's links
table which entity an earlier run created for a source id (a :class:`LinkQuery`: no I/O).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from ledgerlink.contract.components import (Action, ActionContext, LinkQuery, Request,
                                            Response)
from ledgerlink.errors import VendorError

#: what ``build`` made of an input (the body and whatever ``read`` and ``matches`` need)
B = TypeVar("B")

#: ``classify(response) -> VendorError | None`` (:func:`ledgerlink.contract.http.classify`)
Classifier = Callable[[Response], VendorError | None]
#: ``undo(target_id, ctx)``, a generator like ``perform``
Undo = Callable[[str, ActionContext], Generator[Request, Response, dict[str, str]]]


@dataclass(frozen=True)
class Built:
    """A request body built from an input, and the total it adds up to (what the output
    reports when the vendor's answer names none)."""

    body: dict[str, Any]
    total: Decimal


@dataclass(frozen=True)
class Schemas:
    """An action's JSON schemas and samples: the input and output schemas, a valid input,
    and the vendor's answer to it (what dry-run and the conformance tests use)."""

    input: Mapping[str, Any]
    output: Mapping[str, Any]
    sample: Mapping[str, Any]
    sample_response: Any


@dataclass(frozen=True)
class CreateSteps(Generic[B]):
    """The vendor's part of a create: the callables :func:`create_action` combines."""

    #: ``build(input, ctx) -> B``: every input problem raises before a request exists
    build: Callable[[Mapping[str, Any], ActionContext], B]
    #: ``request(built, ctx) -> Request``: the one create, carrying ``ctx.idempotency_key``
    request: Callable[[B, ActionContext], Request]
    #: ``classify(response) -> VendorError | None``
    classify: Classifier
    #: ``read(answer, built) -> output``: the step output from the vendor's answer (a 2xx
    #: answer without the entity raises :func:`~ledgerlink.contract.http.unreadable_write`)
    read: Callable[[Response, B], dict[str, Any]]
    #: ``read_stored(stored, built) -> output``: the same output from a stored entity found
    read_stored: Callable[[Mapping[str, Any], B], dict[str, Any]]
    #: ``lookup(built, ctx)``: a read-only generator returning the stored entities that may
    #: be this step's (queried by the keys the body declares: customer, date …)
    lookup: Callable[[B, ActionContext], Generator[Request, Response, list[dict[str, Any]]]]
    #: ``matches(stored, built, ctx) -> bool``: is this stored entity what the step sends?
    matches: Callable[[Mapping[str, Any], B, ActionContext], bool]


def perform_create(steps: CreateSteps[B], input: Mapping[str, Any],
                   ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Build the body (problems raise first), yield the one create, return the output."""
    built = steps.build(input, ctx)
    response = yield steps.request(built, ctx)
    error = steps.classify(response)
    if error is not None:
        raise error
    return steps.read(response, built)


def find_created(steps: CreateSteps[B], input: Mapping[str, Any],
                 ctx: ActionContext) -> Generator[Request, Response, dict[str, Any] | None]:
    """Read back the entity this step created, if any: the first stored entity that
    ``matches`` what the step would send, as the step's output; None when there is none."""
    built = steps.build(input, ctx)
    found = yield from steps.lookup(built, ctx)
    for stored in found:
        if steps.matches(stored, built, ctx):
            return steps.read_stored(stored, built)
    return None


def create_action(*, name: str, summary: str, what: str, schemas: Schemas,
                  steps: CreateSteps[B], undo: Undo | None, lookup_keys: str = "",
                  status: str = "stable", idempotency: str = "key", entity: str = "",
                  changes: Callable[[Mapping[str, Any], Mapping[str, Any]], list[tuple[str, str]]] | None = None
                  ) -> Action:
    """The :class:`Action` that creates ``what`` exactly once.

    Its ``perform`` is :func:`perform_create`, its ``find_existing`` :func:`find_created`
    (``lookup_keys`` names, for its docstring, what the lookup queries by), its ``undo``
    the declared one. ``idempotency`` is ``"key"`` when the vendor honours the step's
    idempotency key, ``"lookup"`` when it has none: then the host runs ``find_existing``
    before any resend of a write that may have been done (a lost answer, a 5xx), and the
    vendor's ``request`` need not carry the key. ``entity`` is the kind of entity created
    (:attr:`Action.entity`: its echo is then recognised), ``changes`` the other entities
    the write changes (:attr:`Action.changes`).
    """

    def perform(input: Mapping[str, Any],
                ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
        return (yield from perform_create(steps, input, ctx))

    def find_existing(input: Mapping[str, Any],
                      ctx: ActionContext) -> Generator[Request, Response, dict[str, Any] | None]:
        return (yield from find_created(steps, input, ctx))

    short = name.split(".", 1)[-1]
    perform.__name__ = f"perform_{short}"
    perform.__doc__ = (f"Create {what}: yield one request carrying the step's idempotency key, "
                       f"receive the answer, return the output. Input problems raise before "
                       f"any request.")
    find_existing.__name__ = f"find_existing_{short}"
    find_existing.__doc__ = (f"Look {what} this step created up (read-only), when an earlier "
                             f"attempt's answer was lost"
                             + (f": the entities of the same {lookup_keys}" if lookup_keys else "")
                             + ", matched on what the step sends.")
    return Action(name=name, summary=summary, input_schema=schemas.input,
                  output_schema=schemas.output, sample=schemas.sample, perform=perform,
                  sample_response=schemas.sample_response, status=status, idempotency=idempotency,
                  find_existing=find_existing, undo=undo, entity=entity, changes=changes)


def read_then_delete(*, read: Callable[[str, ActionContext], Request],
                     delete: Callable[[str, Response, ActionContext], Request],
                     gone: Callable[[Response], bool], classify: Classifier,
                     name: str = "undo") -> Undo:
    """The undo of a created entity: ``read`` its current version (a GET), then ``delete``
    it (built from what was read: an ETag, a version, a sync token). An entity already gone
    (``gone(response)`` on either answer) counts as undone. Returns ``{"id", "status"}``
    with status ``"deleted"`` or ``"already gone"``."""

    def undo(target_id: str, ctx: ActionContext) -> Generator[Request, Response, dict[str, str]]:
        current = yield read(target_id, ctx)
        if gone(current):
            return {"id": target_id, "status": "already gone"}
        error = classify(current)
        if error is not None:
            raise error
        deleted = yield delete(target_id, current, ctx)
        if gone(deleted):
            return {"id": target_id, "status": "already gone"}
        error = classify(deleted)
        if error is not None:
            raise error
        return {"id": target_id, "status": "deleted"}

    undo.__name__ = name
    return undo


def linked_target(source_id: str,
                  target_type: str) -> Generator[LinkQuery, Response, str | None]:
    """The id of the ``target_type`` entity this connection created (or found) for
    ``source_id`` in an earlier run, from the host's links table; None when there is none.
    No request reaches the vendor."""
    linked = yield LinkQuery(source_id=source_id, target_type=target_type)
    target = linked.json.get("target_id") if isinstance(linked.json, Mapping) else None
    return str(target) if target else None


__all__ = ["Built", "Classifier", "CreateSteps", "Schemas", "Undo", "create_action",
           "find_created", "linked_target", "perform_create", "read_then_delete"]


def update_output_schema(*, vendor: str, what: str, id_is: str) -> dict[str, Any]:
    """The output schema of an action that changes a few fields of an entity, sending only
    those that differ (nothing when it holds them all): ``{"id", "status", "changed"}``.
    ``what`` names the entity ("the client"), ``id_is`` its id ("The client's id.")."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["id", "status", "changed"],
        "properties": {
            "id": {"type": "string", "description": id_is},
            "status": {"enum": ["updated", "unchanged"],
                       "description": f"\"updated\": {vendor} took the change; \"unchanged\": {what} "
                                      f"already held every value given, so nothing was sent."},
            "changed": {"type": "array", "items": {"type": "string"},
                        "description": "The fields sent (those whose value differed)."},
        },
    }
