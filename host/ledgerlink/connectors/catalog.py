"""The catalog: every connector, trigger, action, transform and sandbox that plugins registered.

Plugins hand the host instances of :mod:`ledgerlink.contract.components` through the ``register`` callback
of each hook (see :mod:`ledgerlink.contract.hookspecs`). The host checks each one when it arrives:
its type, its name, that its schemas are valid JSON Schema (2020-12) and that its sample
validates against its schema. Every problem names the plugin that supplied the thing.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jsonschema
import jsonschema_rs
import pluggy

from ledgerlink.contract.components import (Action, Connector, KINDS, Poll, STATUSES, Sandbox,
                                            Transform, Trigger, _CONNECTOR, _DOTTED, _TRANSFORM)
from ledgerlink.errors import PluginError, quoted
from ledgerlink.recipes.paths import suggest

#: the distribution holding the built-in sandboxes (``ledgerlink_register_sandboxes``)
SANDBOXES_PACKAGE = "ledgerlink-sandboxes"


@functools.lru_cache(maxsize=512)
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled so that ``$`` means what it means in ECMAScript, the dialect of
    JSON Schema's ``pattern``: the end of the string. Python's ``$`` also matches before a
    final newline, so ``^[a-z]+$`` would accept ``"name\\n"``; here it becomes ``\\Z``."""
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
    return re.compile("".join(out))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{quoted(instance)} does not match {pattern!r}")


#: the JSON Schema (2020-12) validator every schema of the host and its plugins is checked
#: with: jsonschema's, whose ``pattern`` follows ECMAScript's ``$`` as JSON Schema says (and
#: as jsonschema-rs does), so no pattern anchored with ``$`` accepts a trailing newline
Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})

_CHECKED_SCHEMAS: set[str] = set()
_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def _patterns(node: Any) -> Iterator[str]:
    """Every string that may be a regular expression in a schema: each ``pattern`` value and
    each ``patternProperties`` name, wherever they are (data in ``enum`` or ``default``
    included, which only costs a needless look)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            elif key == "patternProperties" and isinstance(value, Mapping):
                yield from (name for name in value if isinstance(name, str))
            yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def _plainly_valid(schema: Any) -> bool:
    """True when ``schema`` is valid JSON Schema 2020-12 by jsonschema-rs's meta-schema check
    and every regular expression in it compiles in Python: what jsonschema's
    ``check_schema`` checks (its only format check on a schema is ``regex``), in
    milliseconds for every connector together instead of seconds. False says nothing; the
    caller asks jsonschema, which is the judge and words the error."""
    if isinstance(schema, Mapping) and schema.get("$schema", _DRAFT_2020_12) != _DRAFT_2020_12:
        return False  # jsonschema checks it against 2020-12 whatever it declares; so must we
    try:
        if not jsonschema_rs.meta.is_valid(schema):
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # re's FutureWarning on "[[", as jsonschema's check
            for pattern in _patterns(schema):
                re.compile(pattern)
    except (re.error, ValueError, TypeError, OverflowError, RecursionError):
        return False
    return True


def _check_schema(schema: Any, what: str, plugin: str) -> None:
    # checking against the 2020-12 meta-schema is slow in jsonschema (about 11 ms a schema,
    # 2 s for the built-in connectors' 174 at every start); jsonschema-rs answers "valid?" in
    # microseconds, and a schema seen once need not be seen again
    key = json.dumps(schema, sort_keys=True, default=str)
    if key in _CHECKED_SCHEMAS:
        return
    if not _plainly_valid(schema):
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise PluginError(f"plugin {plugin!r}: {what} is not a valid JSON Schema: {exc.message}") from None
    _CHECKED_SCHEMAS.add(key)


def _check_sample(schema: Mapping[str, Any], sample: Any, what: str, plugin: str) -> None:
    error = jsonschema.exceptions.best_match(
        Validator(schema).iter_errors(sample))
    if error is not None:
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        raise PluginError(f"plugin {plugin!r}: {what} does not validate against its own schema "
                          f"at {where}: {error.message}")


class Catalog:
    """Everything registered, by kind and name. Built by :func:`ledgerlink.connectors.manager.load_catalog`."""

    def __init__(self) -> None:
        #: the behaviour hooks of the plugins this catalog was loaded from (None: no plugins)
        self.hooks: pluggy.HookRelay | None = None
        self.connectors: dict[str, Connector] = {}
        self.triggers: dict[str, Trigger] = {}
        self.actions: dict[str, Action] = {}
        self.transforms: dict[str, Transform] = {}
        #: loopback imitations of vendors, by the connector they stand in for
        self.sandboxes: dict[str, Sandbox] = {}

    def _table(self, kind: str) -> dict[str, Any]:
        return {"connector": self.connectors, "trigger": self.triggers,
                "action": self.actions, "transform": self.transforms,
                "sandbox": self.sandboxes}[kind]

    def registrar(self, kind: str, plugin: str) -> Callable[[Any], None]:
        """The ``register`` callback handed to one plugin's implementation of one hook."""
        expected = KINDS[kind]

        def register(thing: Any) -> None:
            if not isinstance(thing, expected):
                raise PluginError(
                    f"plugin {plugin!r} registered {thing!r} as a {kind}; "
                    f"register only ledgerlink.connectors.catalog.{expected.__name__} objects from this hook")
            self.add(kind, thing, plugin)

        return register

    def add(self, kind: str, thing: Any, plugin: str) -> None:
        name = thing.name
        pattern = {"connector": _CONNECTOR, "sandbox": _CONNECTOR, "transform": _TRANSFORM}.get(kind, _DOTTED)
        if not isinstance(name, str) or not pattern.fullmatch(name):
            raise PluginError(f"plugin {plugin!r}: {kind} name {name!r} must match {pattern.pattern}")
        if not isinstance(thing.summary, str) or not thing.summary.strip():
            raise PluginError(f"plugin {plugin!r}: {kind} {name!r} needs a one-line summary")
        status = getattr(thing, "status", "stable")
        if status not in STATUSES:
            raise PluginError(f"plugin {plugin!r}: {kind} {name!r} has status {status!r}; "
                              f"use one of {', '.join(STATUSES)}")
        table = self._table(kind)
        if name in table:
            raise PluginError(f"{kind} {name!r} is registered by both plugin {table[name].plugin!r} "
                              f"and plugin {plugin!r}; uninstall one of them or rename its {kind}")
        if kind == "trigger":
            _check_schema(thing.event_schema, f"trigger {name!r} event_schema", plugin)
            _check_sample(thing.event_schema, thing.sample, f"trigger {name!r} sample", plugin)
            if thing.options_schema is not None:
                _check_schema(thing.options_schema, f"trigger {name!r} options_schema", plugin)
            for hook in ("fetch", "fetch_for", "history", "check_options", "tick", "schedule"):
                if getattr(thing, hook) is not None and not callable(getattr(thing, hook)):
                    raise PluginError(f"plugin {plugin!r}: trigger {name!r} {hook} must be callable or None")
            if thing.schedule is not None and thing.tick is None:
                raise PluginError(f"plugin {plugin!r}: trigger {name!r} has schedule but no tick")
            if thing.fetch_for is not None and thing.fetch is None:
                raise PluginError(f"plugin {plugin!r}: trigger {name!r} has fetch_for but no fetch")
            for path_name in ("source_id_path", "occurrence_path"):
                path_text = getattr(thing, path_name)
                if path_text and (not isinstance(path_text, str) or not path_text.startswith("$")):
                    raise PluginError(f"plugin {plugin!r}: trigger {name!r} {path_name} must be a "
                                      f"JSONPath starting with $; got {path_text!r}")
        elif kind == "action":
            _check_schema(thing.input_schema, f"action {name!r} input_schema", plugin)
            _check_schema(thing.output_schema, f"action {name!r} output_schema", plugin)
            _check_sample(thing.input_schema, thing.sample, f"action {name!r} sample", plugin)
            if not callable(thing.perform):
                raise PluginError(f"plugin {plugin!r}: action {name!r} perform must be callable")
            if thing.idempotency not in ("key", "lookup", "none"):
                raise PluginError(f"plugin {plugin!r}: action {name!r} idempotency must be "
                                  f"'key', 'lookup' or 'none'")
        elif kind == "transform":
            _check_schema(thing.params_schema, f"transform {name!r} params_schema", plugin)
            if not callable(thing.apply):
                raise PluginError(f"plugin {plugin!r}: transform {name!r} apply must be callable")
        elif kind == "sandbox":
            if not callable(thing.factory):
                raise PluginError(f"plugin {plugin!r}: sandbox {name!r} factory must be callable")
            if not isinstance(thing.options, Mapping) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in thing.options.items()):
                raise PluginError(f"plugin {plugin!r}: sandbox {name!r} options must map each "
                                  f"option name to a line saying what it does")
        elif kind == "connector":
            _check_schema(thing.settings_schema, f"connector {name!r} settings_schema", plugin)
            if thing.poll is not None and not (isinstance(thing.poll, Poll) and callable(thing.poll.poll)):
                raise PluginError(f"plugin {plugin!r}: connector {name!r} poll must be a "
                                  f"ledgerlink.connectors.catalog.Poll with a callable poll")
        table[name] = _with_plugin(thing, plugin)

    def sandbox(self, name: str) -> Sandbox:
        """The sandbox standing in for connector ``name``.

        Raises :class:`PluginError` when none is registered, naming the package to install
        when no sandbox is installed at all, else the sandboxes there are.
        """
        found = self.sandboxes.get(name)
        if found is not None:
            return found
        if not self.sandboxes:
            raise PluginError(f"no sandbox is installed, so none for {name!r}; install the "
                              f"sandboxes with: pip install {SANDBOXES_PACKAGE}")
        raise PluginError(f"no sandbox for {name!r}" + suggest(name, sorted(self.sandboxes)))

    def check(self) -> None:
        """Cross-checks once every plugin has registered."""
        for kind, table in (("trigger", self.triggers), ("action", self.actions)):
            for name, thing in table.items():
                if thing.connector not in self.connectors:
                    raise PluginError(
                        f"plugin {thing.plugin!r}: {kind} {name!r} belongs to connector "
                        f"{thing.connector!r}, which no plugin registers; register it with "
                        f"ledgerlink_register_connectors")

    def as_json(self) -> dict[str, Any]:
        """The catalog as served by ``ledgerlink connectors --json`` and ``GET /api/connectors``."""
        out = []
        for cname, conn in sorted(self.connectors.items()):
            out.append({
                "name": cname, "summary": conn.summary, "version": conn.version,
                "status": conn.status, "plugin": conn.plugin,
                "webhooks": conn.webhook is not None,
                "polls": conn.poll is not None,
                "settings_schema": conn.settings_schema,
                "triggers": [
                    {"name": t.name, "summary": t.summary, "status": t.status, "plugin": t.plugin,
                     "fetches": t.fetch is not None, "backfills": t.history is not None,
                     "ticks": t.tick is not None, "options_schema": t.options_schema,
                     "event_schema": t.event_schema, "sample": t.sample}
                    for t in sorted(self.triggers.values(), key=lambda t: t.name)
                    if t.connector == cname],
                "actions": [
                    {"name": a.name, "summary": a.summary, "status": a.status, "plugin": a.plugin,
                     "idempotency": a.idempotency, "input_schema": a.input_schema,
                     "output_schema": a.output_schema, "sample": a.sample}
                    for a in sorted(self.actions.values(), key=lambda a: a.name)
                    if a.connector == cname],
            })
        transforms = [{"name": t.name, "summary": t.summary, "plugin": t.plugin,
                       "params_schema": t.params_schema}
                      for t in sorted(self.transforms.values(), key=lambda t: t.name)]
        return {"connectors": out, "transforms": transforms}


def _with_plugin(thing: Any, plugin: str) -> Any:
    from dataclasses import replace
    return replace(thing, plugin=plugin)
