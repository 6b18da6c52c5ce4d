"""Loading and checking recipes: every problem, each with its file and JSON pointer.

:func:`load_recipes` reads recipe files (or directories of ``*.json``), checks each against
``schemas/recipe.schema.json`` and against the catalog and config (trigger, action,
transform, lookup and connection names, JSONPaths, step references, literal values
against the action's input schema, ``$.event`` paths against the trigger's event schema,
duplicate ids), and compiles every expression once.
It never stops at the first problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

from ledgerlink.contract import Action, Trigger
from ledgerlink.connectors.catalog import Catalog, Validator
from ledgerlink.config import Config, load_schema
from ledgerlink.errors import ConfigError, Problem, RecipeError
from ledgerlink.recipes.guards import Linked, Skip, compile_linked, compile_skips
from ledgerlink.recipes.mapping import compile_condition, compile_mapping, is_expression
from ledgerlink.recipes.matching import Condition
from ledgerlink.recipes.options import option_problems
from ledgerlink.recipes.reading import expand_paths, read_json_file
from ledgerlink.recipes.paths import Evaluator, Scope, pointer_join, suggest

_RECIPE_SCHEMA: dict[str, Any] | None = None
#: how deep a recipe's arrays and objects may nest; far more than any recipe needs, and little
#: enough that checking, compiling and running it stay well inside Python's recursion limit
MAX_DEPTH = 64


def recipe_schema() -> dict[str, Any]:
    global _RECIPE_SCHEMA
    if _RECIPE_SCHEMA is None:
        _RECIPE_SCHEMA = load_schema("recipe.schema.json")
    return _RECIPE_SCHEMA


@dataclass
class Step:
    id: str
    action: Action
    connection: str
    input: Evaluator
    when: Condition | None
    pointer: str


@dataclass
class Recipe:
    id: str
    version: int
    description: str
    file: str
    trigger: Trigger
    connection: str
    filter: Condition | None
    lookups: dict[str, dict[str, Any]]
    steps: list[Step]
    timezone: str = "UTC"
    enabled: bool = True
    #: runs wait in awaiting_review with the requests they would send until a person approves them
    review: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    #: the trigger's options (``trigger.options``), valid against its ``options_schema``
    trigger_options: dict[str, Any] = field(default_factory=dict)
    #: ``$.linked`` ids and ``skip`` rules, asked before the steps (:mod:`ledgerlink.recipes.guards`)
    linked: list[Linked] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    #: ``$.truth``: the configured source of truth per entity type (``[source_of_truth]``)
    truth: dict[str, str] = field(default_factory=dict)

    def matches(self, doc: Mapping[str, Any]) -> bool:
        return self.filter is None or self.filter(doc)


# --- reading -------------------------------------------------------------------------------

# --- schema problems, said so that they can be fixed --------------------------------------

def _schema_problem(error: jsonschema.ValidationError, file: str) -> Problem:
    pointer = pointer_join("", *error.absolute_path)
    description = error.schema.get("description") if isinstance(error.schema, Mapping) else None
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        prop = error.schema.get("properties", {}).get(missing, {})
        hint = f": {prop['description']}" if isinstance(prop, Mapping) and prop.get("description") else ""
        return Problem(file, pointer, f"missing required property {missing!r}{hint}")
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed] if isinstance(error.instance, Mapping) else []
        name = extra[0] if extra else "?"
        return Problem(file, pointer_join(pointer, name),
                       f"unknown property {name!r}" + (suggest(name, allowed) or
                                                       f"; allowed: {', '.join(allowed)}"))
    message = error.message
    if description:
        message += f" — expected: {description}"
    return Problem(file, pointer, message)


def _schema_problems(raw: Any, file: str) -> list[Problem]:
    validator = Validator(recipe_schema())
    return [_schema_problem(e, file) for e in
            sorted(validator.iter_errors(raw), key=lambda e: [str(p) for p in e.absolute_path])]


# --- literal values against an action's input schema ---------------------------------------

class _Placeholder:
    """Stands for an expression's value, unknown until the recipe runs."""

    def __repr__(self) -> str:
        return "<expression>"


_PLACEHOLDER = _Placeholder()


def _partial(template: Any) -> Any:
    if is_expression(template):
        return _PLACEHOLDER
    if isinstance(template, Mapping):
        return {k: _partial(v) for k, v in template.items()}
    if isinstance(template, list):
        return [_partial(v) for v in template]
    return template


def _relevant(error: jsonschema.ValidationError) -> bool:
    """False when the error is only about a placeholder, whose value is not known yet."""
    if error.instance is _PLACEHOLDER:
        return False
    if error.validator in ("anyOf", "oneOf"):
        if not error.context:
            return False  # "valid under more than one": placeholders may explain it
        branches: dict[Any, list[jsonschema.ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        return all(any(_relevant(s) for s in subs) for subs in branches.values()) and \
            len(branches) >= len(error.validator_value)
    return True


def _leaf(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """The error to point at: inside anyOf/oneOf, the deepest relevant one when there is one path."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        relevant = [s for s in error.context if _relevant(s)]
        deeper = [s for s in relevant if len(s.absolute_path) > len(error.absolute_path)]
        if deeper:
            return _leaf(jsonschema.exceptions.best_match(deeper))
    return error


def _explain(error: jsonschema.ValidationError) -> str:
    """A message for one error; for anyOf/oneOf, what each allowed form wanted."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        wants = []
        for sub in error.context:
            if not _relevant(sub):
                continue
            text = sub.message.replace(repr(_PLACEHOLDER), "an expression")
            description = sub.schema.get("description") if isinstance(sub.schema, Mapping) else None
            wants.append(f"{text} ({description})" if description else text)
        value = repr(error.instance) if not isinstance(error.instance, Mapping) else "the value"
        return f"{value} fits none of the allowed forms: " + "; ".join(dict.fromkeys(wants))
    message = error.message.replace(repr(_PLACEHOLDER), "an expression")
    description = error.schema.get("description") if isinstance(error.schema, Mapping) else None
    return message + (f" — expected: {description}" if description else "")


def check_literals(template: Any, schema: Mapping[str, Any], pointer: str, file: str,
                   action: str) -> list[Problem]:
    """Problems with the literal parts of a step's input; expressions are checked at run time."""
    validator = Validator(schema)
    problems = []
    for error in validator.iter_errors(_partial(template)):
        if not _relevant(error):
            continue
        leaf = _leaf(error)
        where = pointer_join(pointer, *leaf.absolute_path)
        if leaf.validator == "additionalProperties":
            allowed = sorted(leaf.schema.get("properties", {}))
            extra = [k for k in leaf.instance if k not in allowed] if isinstance(leaf.instance, Mapping) else []
            for name in extra:
                problems.append(Problem(file, pointer_join(where, name),
                                        f"action {action!r} has no input {name!r}"
                                        + (suggest(name, allowed) or f"; its inputs: {', '.join(allowed)}")))
            continue
        problems.append(Problem(file, where, f"input of action {action!r}: {_explain(leaf)}"))
    return problems


# --- one recipe ----------------------------------------------------------------------------

def _too_deep(raw: Any, limit: int) -> str | None:
    """The pointer of the first array or object nested deeper than ``limit``, or None."""
    stack: list[tuple[Any, str, int]] = [(raw, "", 0)]
    while stack:
        node, pointer, depth = stack.pop()
        if not isinstance(node, (Mapping, list)):
            continue
        if depth >= limit:
            return pointer
        items = node.items() if isinstance(node, Mapping) else enumerate(node)
        stack.extend((value, pointer_join(pointer, key), depth + 1) for key, value in items)
    return None


def check_recipe(raw: Any, file: str, catalog: Catalog, config: Config) -> tuple[Recipe | None, list[Problem]]:
    """Check and compile one parsed recipe. Returns the recipe (None if any problem) and problems."""
    deep = _too_deep(raw, MAX_DEPTH)
    if deep is not None:
        return None, [Problem(file, deep, f"arrays and objects nest more than {MAX_DEPTH} deep here; "
                                          f"a recipe never needs that many levels: flatten it")]
    problems = _schema_problems(raw, file)
    if not isinstance(raw, Mapping):
        return None, problems or [Problem(file, "", "a recipe is a JSON object")]

    def add(pointer: str, message: str) -> None:
        problems.append(Problem(file, pointer, message))

    recipe_id = raw.get("id") if isinstance(raw.get("id"), str) else "?"
    timezone = raw.get("timezone", "UTC")
    if isinstance(timezone, str):
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            add("/timezone", f"unknown time zone {timezone!r}; use an IANA name such as Europe/Paris")
            timezone = "UTC"
    else:
        timezone = "UTC"
    lookups = raw.get("lookups") if isinstance(raw.get("lookups"), Mapping) else {}
    lookups = {k: v for k, v in lookups.items() if isinstance(v, Mapping)}

    def connection_connector(name: Any, pointer: str, wanted: str, what: str) -> None:
        if not isinstance(name, str):
            return
        try:
            connection = config.connection(name, catalog)
        except ConfigError as exc:
            add(pointer, exc.message)
            return
        if connection.connector != wanted:
            add(pointer, f"connection {name!r} is a {connection.connector!r} connection, but {what} "
                         f"needs a {wanted!r} one; name a {wanted} connection")

    # trigger
    trigger_raw = raw.get("trigger") if isinstance(raw.get("trigger"), Mapping) else {}
    trigger = None
    event = trigger_raw.get("event")
    if isinstance(event, str):
        trigger = catalog.triggers.get(event)
        if trigger is None:
            add("/trigger/event", f"unknown trigger {event!r}" + suggest(event, catalog.triggers)
                + "; `ledgerlink connectors` lists the triggers")
        else:
            connection_connector(trigger_raw.get("connection"), "/trigger/connection",
                                 trigger.connector, f"trigger {event!r}")
    base_scope = dict(file=file, recipe_id=recipe_id, transforms=catalog.transforms, lookups=lookups,
                      timezone=timezone, trigger=event if trigger else "",
                      event_schema=trigger.event_schema if trigger else None,
                      linked=tuple(raw["linked"]) if isinstance(raw.get("linked"), Mapping) else ())
    guard_scopes = [Scope(step_id="", **base_scope)]
    linked = compile_linked(raw.get("linked"), guard_scopes[0], catalog, config)
    options = trigger_raw.get("options") if isinstance(trigger_raw.get("options"), Mapping) else {}
    problems.extend(option_problems(trigger, trigger_raw, timezone, file) if trigger else [])
    filter_ = None
    if "filter" in trigger_raw:
        scope = Scope(step_id="", **base_scope)
        filter_ = compile_condition(trigger_raw["filter"], "/trigger/filter", scope)
        problems.extend(scope.problems)

    # steps
    steps_raw = raw.get("steps") if isinstance(raw.get("steps"), list) else []
    all_ids = tuple(s.get("id") for s in steps_raw if isinstance(s, Mapping) and isinstance(s.get("id"), str))
    steps: list[Step] = []
    seen: dict[str, int] = {}
    for index, step_raw in enumerate(steps_raw):
        pointer = f"/steps/{index}"
        if not isinstance(step_raw, Mapping):
            continue
        step_id = step_raw.get("id") if isinstance(step_raw.get("id"), str) else f"#{index}"
        if step_id in seen:
            add(f"{pointer}/id", f"step id {step_id!r} is already used by /steps/{seen[step_id]}; "
                                 f"give each step its own id")
        seen.setdefault(step_id, index)
        action = None
        name = step_raw.get("action")
        if isinstance(name, str):
            action = catalog.actions.get(name)
            if action is None:
                add(f"{pointer}/action", f"unknown action {name!r}" + suggest(name, catalog.actions)
                    + "; `ledgerlink connectors` lists the actions")
            else:
                connection_connector(step_raw.get("connection"), f"{pointer}/connection",
                                     action.connector, f"action {name!r}")
        earlier = tuple(s for s in all_ids[:index])
        scope = Scope(step_id=step_id, earlier_steps=earlier, all_steps=all_ids, **base_scope)
        template = step_raw.get("input", {})
        evaluate = compile_mapping(template, f"{pointer}/input", scope)
        when = None
        if "when" in step_raw:
            when = compile_condition(step_raw["when"], f"{pointer}/when", scope)
        problems.extend(scope.problems)
        if action is not None and isinstance(template, Mapping):
            problems.extend(check_literals(template, action.input_schema, f"{pointer}/input",
                                           file, action.name))
        if action is not None:
            steps.append(Step(step_id, action, step_raw.get("connection", ""), evaluate, when, pointer))

    def scope_after(ran: tuple[str, ...]) -> Scope:
        guard_scopes.append(Scope(step_id="", earlier_steps=ran, all_steps=all_ids, **base_scope))
        return guard_scopes[-1]

    skips = compile_skips(raw.get("skip"), scope_after, all_ids)
    problems.extend(problem for scope in guard_scopes for problem in scope.problems)
    if problems or trigger is None:
        return None, problems
    return Recipe(
        id=raw["id"], version=raw["version"], description=raw["description"], file=file,
        trigger=trigger, connection=trigger_raw["connection"], filter=filter_,
        lookups={k: dict(v) for k, v in lookups.items()}, steps=steps, timezone=timezone,
        enabled=raw.get("enabled", True), review=raw.get("review", False),
        raw=dict(raw), trigger_options=dict(options), linked=linked, skips=skips,
        truth=dict(config.source_of_truth)), []


def validate(paths: Iterable[str | Path], catalog: Catalog, config: Config) -> tuple[list[Recipe], list[Problem]]:
    """Every recipe that is valid, and every problem of those that are not."""
    files, problems = expand_paths(paths)
    recipes: list[Recipe] = []
    ids: dict[str, str] = {}
    for path in files:
        file = str(path)
        raw, read_problems = read_json_file(path, file)
        if read_problems:
            problems.extend(read_problems)
            continue
        recipe, found = check_recipe(raw, file, catalog, config)
        problems.extend(found)
        rid = raw.get("id") if isinstance(raw, Mapping) else None
        if isinstance(rid, str):
            if rid in ids:
                problems.append(Problem(file, "/id", f"recipe id {rid!r} is also used by {ids[rid]}; "
                                                     f"recipe ids must be unique"))
                continue
            ids[rid] = file
        if recipe is not None:
            recipes.append(recipe)
    return recipes, problems


def load_recipes(paths: Iterable[str | Path], catalog: Catalog, config: Config) -> list[Recipe]:
    """All recipes, or a RecipeError carrying every problem."""
    recipes, problems = validate(paths, catalog, config)
    if problems:
        raise RecipeError(problems)
    return recipes


def load_recipe(path: str | Path, catalog: Catalog, config: Config) -> Recipe:
    return load_recipes([path], catalog, config)[0]
