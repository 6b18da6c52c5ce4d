"""``ledgerlink check``: before the first live event, do the accounts, items, classes and
customers a recipe names exist, and are they active, in the connected company?

Action input schemas mark reference fields with the annotation ``"x-ledgerlink-ref":
"<entity>"`` (``Account``, ``Item``, ``TaxCode``, ``Class``, ``Department``, ``Entity`` for a
``{Type, EntityRef}`` pair …). The recipe's step inputs are walked beside their schema;
every id that can reach a marked field — a literal, a ``$lookup`` with a literal key, or
every value of a table read with a computed key — is collected with the JSON pointer of
the recipe value it came from. The connector's ``check_references`` then asks the vendor,
read-only, which of them are missing or inactive. Problems are ``FILE:POINTER: message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import Problem
from .mapping import is_expression, pointer_join
from .recipes import Recipe

ANNOTATION = "x-ledgerlink-ref"


def _resolve(schema: Any, root: Mapping[str, Any]) -> Any:
    while isinstance(schema, Mapping) and "$ref" in schema and str(schema["$ref"]).startswith("#/"):
        target: Any = root
        for part in str(schema["$ref"])[2:].split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _ids(value: Any, entity: str) -> list[tuple[str, str]]:
    """(entity, id) pairs in a literal reference value."""
    if entity == "Entity" and isinstance(value, Mapping):
        kind = value.get("Type")
        inner = _ids(value.get("EntityRef"), str(kind) if isinstance(kind, str) else "Entity")
        return inner
    if isinstance(value, str) and value:
        return [(entity, value)]
    if isinstance(value, Mapping) and isinstance(value.get("value"), str):
        return [(entity, value["value"])]
    return []


def _from_template(template: Any, entity: str, lookups: Mapping[str, Any],
                   pointer: str) -> list[tuple[str, str, str]]:
    """(entity, id, pointer) for every id ``template`` can produce."""
    if not is_expression(template):
        return [(e, i, pointer) for e, i in _ids(template, entity)]
    out = []
    if "$lookup" in template and template["$lookup"] in lookups:
        table = lookups[template["$lookup"]]
        key = template.get("key")
        if not is_expression(key) and str(key) in table:
            out += [(e, i, pointer_join("/lookups", template["$lookup"], key))
                    for e, i in _ids(table[str(key)], entity)]
        else:  # computed key: any row of the table may be used
            for row_key, row in table.items():
                out += [(e, i, pointer_join("/lookups", template["$lookup"], row_key)) for e, i in _ids(row, entity)]
    if "$value" in template:
        out += [(e, i, pointer) for e, i in _ids(template["$value"], entity)]
    for branch in ("$default", "then", "else"):
        if branch in template:
            out += _from_template(template[branch], entity, lookups, pointer_join(pointer, branch))
    return out


def references(template: Any, schema: Any, root: Mapping[str, Any], lookups: Mapping[str, Any],
               pointer: str) -> list[tuple[str, str, str]]:
    """Every (entity, id, recipe pointer) a step input can send to a reference field."""
    schema = _resolve(schema, root)
    if not isinstance(schema, Mapping):
        return []
    entity = schema.get(ANNOTATION)
    if entity:
        return _from_template(template, entity, lookups, pointer)
    found: list[tuple[str, str, str]] = []
    if is_expression(template):
        if "$each" in template and "items" in schema:
            found += references(template.get("map"), schema["items"], root, lookups, pointer_join(pointer, "map"))
        for branch in ("then", "else", "$default"):
            if branch in template:
                found += references(template[branch], schema, root, lookups, pointer_join(pointer, branch))
        return found
    if isinstance(template, Mapping):
        properties = schema.get("properties", {})
        for key, value in template.items():
            if key in properties:
                found += references(value, properties[key], root, lookups, pointer_join(pointer, key))
    elif isinstance(template, list) and "items" in schema:
        for index, value in enumerate(template):
            found += references(value, schema["items"], root, lookups, pointer_join(pointer, index))
    return found


def check(recipe: Recipe, runtime: Any) -> list[Problem]:
    """Ask each step's connection whether every referenced id exists and is active."""
    from .runner import drive

    problems: list[Problem] = []
    wanted: dict[str, dict[tuple[str, str], list[str]]] = {}
    for step in recipe.steps:
        template = recipe.raw["steps"][int(step.pointer.split("/")[-1])].get("input", {})
        schema = step.action.input_schema
        for entity, ident, where in references(template, schema, schema, recipe.lookups, f"{step.pointer}/input"):
            wanted.setdefault(step.connection, {}).setdefault((entity, ident), []).append(where)
    for connection_name, refs in wanted.items():
        connection = runtime.connection(connection_name)
        connector = runtime.catalog.connectors[connection.connector]
        if connector.check_references is None:
            continue
        by_entity: dict[str, list[str]] = {}
        for entity, ident in refs:
            by_entity.setdefault(entity, []).append(ident)
        send = runtime.sender(connection_name)
        for entity, ids in sorted(by_entity.items()):
            verdicts = drive(connector.check_references(entity, sorted(set(ids)), connection), send) or {}
            for ident, message in sorted(verdicts.items()):
                for where in sorted(set(refs[(entity, ident)])):
                    problems.append(Problem(recipe.file, where, f"{entity} {ident!r} {message} in connection "
                                                                f"{connection_name!r}; fix the id or the company"))
    return problems
