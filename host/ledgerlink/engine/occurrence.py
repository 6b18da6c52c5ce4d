"""Occurrences: what makes two events one for a recipe.

A trigger's ``occurrence_path`` names, in the event as fetched, the object the event is
about (an invoice is paid once). Each run planned for the event carries the occurrence key
``"<trigger>:<value>"``; the store keeps at most one run per (recipe, occurrence), so the
same object delivered by webhook, polled and backfilled under different event ids plans one
run per recipe (:mod:`ledgerlink.store.events`). No ``occurrence_path``, or no value at it:
the key is None and every event id is an occurrence of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import Trigger
from ledgerlink.recipes.paths import MISSING, CompiledPath, Scope, compile_path

#: the longest key the ``runs.occurrence`` column holds; a longer one is stored hashed
MAX_KEY = 255

#: compiled ``occurrence_path`` by its text (None: it does not compile)
_PATHS: dict[str, CompiledPath | None] = {}


def _compiled(path_text: str) -> CompiledPath | None:
    if path_text not in _PATHS:
        scope = Scope(file="", recipe_id="", step_id="", transforms={}, lookups={})
        _PATHS[path_text] = compile_path("$.event" + path_text[1:], "", scope)
    return _PATHS[path_text]


def occurrence_key(trigger: Trigger | None, payload: Mapping[str, Any]) -> str | None:
    """The occurrence key of an event of ``trigger`` whose (fetched) payload is ``payload``;
    None when the trigger declares no ``occurrence_path`` or the event has no value there."""
    if trigger is None or not trigger.occurrence_path:
        return None
    path = _compiled(trigger.occurrence_path)
    if path is None:
        return None
    value = path.get({"event": payload})
    if path.multi:
        value = value[0] if len(value) == 1 else (MISSING if not value else value)
    if value is MISSING or value is None or value == "":
        return None
    text = value if isinstance(value, str) else jsonio.dumps(value, sort_keys=True)
    return key(trigger.name, text)


def key(trigger: str, value: str) -> str:
    """``"<trigger>:<value>"``, or ``"sha256:<hex of it>"`` when longer than :data:`MAX_KEY`."""
    text = f"{trigger}:{value}"
    if len(text) <= MAX_KEY:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
