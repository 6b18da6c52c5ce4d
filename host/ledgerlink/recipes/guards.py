"""What a recipe asks before its steps: ``linked`` ids and ``skip`` rules.

``linked`` names ids read from the links table. With ``id``, the other way round from an
action's ``LinkQuery``: "the source id the entity ``id`` of ``connection`` was created (or
found) for"::

    "linked": {
      "stripe_invoice": {
        "connection": "quickbooks",                                   the entity's connection
        "id": {"$path": "$.event.data.Line[0].LinkedTxn[0].TxnId"},   its id (an expression)
        "created_by": ["quickbooks.create_invoice"],                  link types (optional)
        "source": "stripe"                                            the source's connection (optional)
      }
    }

With ``source_id`` instead of ``id``, the way an action's ``LinkQuery`` asks: "the entity of
``connection`` an earlier run created (``created_by``, required then) for this source id",
e.g. the ledger invoice made when the Stripe invoice was finalized, which its payment then
pays instead of a new one.

Each is read once per run, before the steps, into ``$.linked.<name>`` (the id found, or
null when nothing links it). ``skip`` rules then close the run as ``skipped`` — not failed —
when their condition holds, saying why in a word (``as``) and a sentence (``reason``, an
expression)::

    "skip": [{"if": {"path": "$.linked.stripe_invoice", "exists": false}, "as": "not_linked",
              "reason": {"$concat": ["QuickBooks invoice ", {"$path": "..."}, " did not come from Stripe"]}}]

The first rule that holds decides. A rule with ``"after": "<step id>"`` is asked once that
step has run instead (reading ``$.steps``): a read step, then a rule that compares what it read
with the event — e.g. a ledger customer changed by a person on a field the source of truth
(``$.truth``, ``[source_of_truth]`` in ledgerlink.toml) owns is skipped as ``conflict`` with
both values; the steps before stay logged. ``echo`` is the host's own
(:mod:`ledgerlink.engine.echo`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledgerlink.config import Config
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.errors import ConfigError, MappingError
from ledgerlink.recipes.mapping import compile_condition, compile_mapping
from ledgerlink.recipes.matching import Condition
from ledgerlink.recipes.paths import Evaluator, Scope, pointer_join


@dataclass(frozen=True)
class Linked:
    """One ``linked`` id: the source id the entity ``id`` of ``connection`` is linked to, or
    (``to_target``) the entity of ``connection`` linked to the source id ``id``."""

    name: str
    connection: str
    id: Evaluator
    created_by: tuple[str, ...] = ()
    source: str | None = None
    to_target: bool = False


@dataclass(frozen=True)
class Skip:
    """One ``skip`` rule: when ``when`` holds before the steps, the run is skipped."""

    when: Condition
    skipped_as: str
    reason: Evaluator
    pointer: str
    #: the step after which it is asked; None: before the steps
    after: str | None = None


#: ``source_of(linked, entity_id) -> source id | None``: the links table, or a dry-run's answer
SourceOf = Callable[[Linked, str], "str | None"]


def compile_linked(raw: Any, scope: Scope, catalog: Catalog, config: Config) -> list[Linked]:
    """The recipe's ``linked`` ids, compiled; problems go to ``scope.problems``."""
    if not isinstance(raw, Mapping):
        return []
    out = []
    for name, spec in raw.items():
        pointer = pointer_join("/linked", name)
        if not isinstance(spec, Mapping):
            continue  # the recipe schema says what is wrong
        connection = spec.get("connection")
        if isinstance(connection, str):
            try:
                config.connection(connection, catalog)
            except ConfigError as exc:
                scope.problem(pointer_join(pointer, "connection"), exc.message)
        source = spec.get("source")
        if isinstance(source, str):
            try:
                config.connection(source, catalog)
            except ConfigError as exc:
                scope.problem(pointer_join(pointer, "source"), exc.message)
        to_target = "source_id" in spec
        key = "source_id" if to_target else "id"
        raw_types = spec.get("created_by")
        created_by = tuple(str(t) for t in raw_types) if isinstance(raw_types, list) else ()
        if to_target and not created_by:
            scope.problem(pointer, "a linked id read by \"source_id\" names the link types in \"created_by\" "
                                   "(e.g. the action that created the entity)")
        evaluate = compile_mapping(spec.get(key), pointer_join(pointer, key), scope)
        out.append(Linked(str(name), str(connection), evaluate, created_by,
                          source if isinstance(source, str) else None, to_target))
    return out


def compile_skips(raw: Any, scope_after: Callable[[tuple[str, ...]], Scope], steps: tuple[str, ...]) -> list[Skip]:
    """The recipe's ``skip`` rules, compiled; problems go to the scope ``scope_after(steps run
    before the rule)`` gives each (``steps``: the recipe's step ids, in order)."""
    if not isinstance(raw, list):
        return []
    out = []
    for index, rule in enumerate(raw):
        pointer = pointer_join("/skip", index)
        if not isinstance(rule, Mapping) or "if" not in rule:
            continue  # the recipe schema says what is wrong
        after = rule.get("after")
        scope = scope_after(steps[:steps.index(after) + 1] if isinstance(after, str) and after in steps else ())
        if isinstance(after, str) and after not in steps:
            scope.problem(pointer_join(pointer, "after"), f"no step {after!r} to ask the rule after; name one of "
                                                          f"{', '.join(steps) or 'the steps'}")
        when = compile_condition(rule["if"], pointer_join(pointer, "if"), scope)
        reason = compile_mapping(rule.get("reason", ""), pointer_join(pointer, "reason"), scope)
        out.append(Skip(when, str(rule.get("as", "skipped")), reason, pointer,
                        after if isinstance(after, str) else None))
    return out


def read_linked(linked: list[Linked], doc: Mapping[str, Any], source_of: SourceOf) -> dict[str, str | None]:
    """Each ``linked`` id for this run: the source id, or None when the entity's id cannot be
    read from the event or nothing links it."""
    found: dict[str, str | None] = {}
    for lookup in linked:
        try:
            entity_id = lookup.id(doc)
        except MappingError:
            entity_id = None
        ok = isinstance(entity_id, (str, int)) and not isinstance(entity_id, bool) and str(entity_id)
        found[lookup.name] = source_of(lookup, str(entity_id)) if ok else None
    return found


def first_skip(skips: list[Skip], doc: Mapping[str, Any], after: str | None = None) -> tuple[str, str] | None:
    """``(as, reason)`` of the first ``skip`` rule asked ``after`` that step (None: before the
    steps) that holds, or None: the run goes on.

    A reason that cannot be mapped still skips the run, with the rule's pointer instead."""
    for rule in skips:
        if rule.after == after and rule.when(doc):
            try:
                reason = rule.reason(doc)
            except MappingError as exc:
                reason = f"the rule at {rule.pointer} holds (its reason could not be written: {exc.message})"
            return rule.skipped_as, str(reason) if reason not in (None, {}) else f"the rule at {rule.pointer} holds"
    return None
