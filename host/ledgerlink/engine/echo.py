"""Before a run's steps: is the event ledgerlink's own echo, or does a recipe rule skip it?

**Echo.** A step that writes an entity whose action declares ``Action.entity`` is recorded
(``writes``: connection, entity kind, id, when). When the vendor then tells of that entity —
its webhook or its poll about the payment ledgerlink itself booked — the trigger that declares
the same ``Trigger.entity`` and a ``changed_at_path`` lets the host compare: an event about
an entity ledgerlink wrote, whose change is no later than ledgerlink's last write of it (give
or take :data:`CLOCK_SKEW_SECONDS` between the vendor's clock and ours), is an echo. Its run
is closed as ``skipped`` with ``skipped_as = "echo"`` and the write that caused it named, so
nothing is written back to where the change came from. A change made after ledgerlink's
write (a person editing the entity later) is not an echo.

**Skip rules.** Then the recipe's ``linked`` ids are read from the links table and its
``skip`` rules asked (:mod:`ledgerlink.recipes.guards`): before the steps, and those asked
after a step once it has run.

The host knows no vendor: the entity kinds and the change time's path are the connectors'.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from ledgerlink.contract import Trigger
from ledgerlink.recipes.guards import Linked, first_skip, read_linked
from ledgerlink.recipes.paths import MISSING, CompiledPath, Scope, compile_path
from ledgerlink.recipes.recipe import Recipe
from ledgerlink.store import Store

#: how far the vendor's clock may run ahead of ours and a change still count as our echo
CLOCK_SKEW_SECONDS = 2.0

_PATHS: dict[str, CompiledPath | None] = {}

#: the JSON date form of Microsoft's serializers, ``/Date(ms)/`` or ``/Date(ms+hhmm)/``: the
#: milliseconds are Unix time (UTC) whatever the offset, which only says where it was written
_JSON_DATE = re.compile(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/")


def trigger_value(path_text: str, payload: Mapping[str, Any]) -> Any:
    """The value at a trigger's JSONPath (``$.x`` in the event) in ``payload``, or None."""
    if path_text not in _PATHS:
        scope = Scope(file="", recipe_id="", step_id="", transforms={}, lookups={})
        _PATHS[path_text] = compile_path("$.event" + path_text[1:], "", scope)
    path = _PATHS[path_text]
    value = path.get({"event": payload}) if path else None
    return None if value is MISSING else value


def changed_at(trigger: Trigger, payload: Mapping[str, Any]) -> float | None:
    """When the vendor made the change the event tells of (Unix seconds), or None when the
    trigger does not say or the event holds no readable time there: Unix seconds, ISO 8601
    with an offset, or the ``/Date(ms+0000)/`` form."""
    if not trigger.changed_at_path:
        return None
    value = trigger_value(trigger.changed_at_path, payload)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        json_date = _JSON_DATE.fullmatch(value)
        if json_date:
            return int(json_date.group(1)) / 1000
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return stamp.timestamp() if stamp.tzinfo is not None else None
    return None


#: ``may_have_written(connection, entity)``: False when no recipe step writes that entity kind
#: on that connection (:meth:`ledgerlink.recipes.registry.Registry.may_have_written`)
MayHaveWritten = Callable[[str, str], bool]


def echo(store: Store, trigger: Trigger, connection: str, payload: Mapping[str, Any],
         may_have_written: MayHaveWritten | None = None) -> str | None:
    """Why the event is ledgerlink's own echo (a sentence), or None when it is news.

    The ``writes`` table is read only when ``may_have_written`` (when given) says a recipe
    step writes the trigger's entity kind on ``connection``: a one-way recipe's event is never
    an echo, and costs no lookup."""
    if not trigger.entity or not trigger.source_id_path or not trigger.changed_at_path:
        return None
    if may_have_written is not None and not may_have_written(connection, trigger.entity):
        return None
    entity_id = trigger_value(trigger.source_id_path, payload)
    if not isinstance(entity_id, (str, int)) or isinstance(entity_id, bool):
        return None
    write = store.last_write(connection, trigger.entity, str(entity_id))
    if write is None:
        return None
    changed = changed_at(trigger, payload)
    if changed is None or changed > write.written_at + CLOCK_SKEW_SECONDS:
        return None  # changed after ledgerlink's write (or cannot tell): a person's change
    return (f"{trigger.entity} {entity_id} of connection {connection!r} was written by ledgerlink "
            f"(run {write.run_id}, step {write.step_id!r}); this event tells of that change "
            f"(changed at {_iso(changed)}, written at {_iso(write.written_at)}), not of a new one")


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="seconds")


def linked_in(store: Store):
    """``source_of`` reading the links table (:func:`ledgerlink.recipes.guards.read_linked`)."""
    def source_of(linked: Linked, entity_id: str) -> str | None:
        if linked.to_target:
            found = (store.linked_target(linked.connection, entity_id, kind) for kind in linked.created_by)
            return next((target for target in found if target is not None), None)
        return store.linked_source(linked.connection, entity_id, linked.created_by, linked.source)
    return source_of


def before_steps(store: Store, recipe: Recipe, connection: str, payload: Mapping[str, Any],
                 doc: dict[str, Any], first: bool,
                 may_have_written: MayHaveWritten | None = None) -> tuple[str, str] | None:
    """Fill ``doc["linked"]``; on a run's ``first`` attempt at its steps, ``(skipped as,
    reason)`` when the run is to be skipped: an echo (:func:`echo`), or the first ``skip``
    rule that holds."""
    doc["linked"] = read_linked(recipe.linked, doc, linked_in(store))
    if not first:
        return None
    reason = echo(store, recipe.trigger, connection, payload, may_have_written)
    if reason is not None:
        return "echo", reason
    return first_skip(recipe.skips, doc)


def asked_after(recipe: Recipe, step_id: str) -> bool:
    """Whether a ``skip`` rule of ``recipe`` is asked after step ``step_id``."""
    return any(rule.after == step_id for rule in recipe.skips)


def after_step(recipe: Recipe, step_id: str, doc: dict[str, Any]) -> tuple[str, str] | None:
    """``(skipped as, reason)`` when a ``skip`` rule asked after step ``step_id`` holds."""
    return first_skip(recipe.skips, doc, after=step_id) if asked_after(recipe, step_id) else None
