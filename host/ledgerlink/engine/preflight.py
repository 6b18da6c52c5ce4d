"""``ledgerlink check``: before the first live event, do the accounts, items, classes and
customers a recipe names exist, and are they active, in the connected company?

Action input schemas mark reference fields with the annotation ``"x-ledgerlink-ref":
"<entity>"`` (``Account``, ``Item``, ``TaxCode``, ``Class``, ``Department``, ``Entity`` for a
``{Type, EntityRef}`` pair …). The recipe's step inputs are walked beside their schema;
every id that can reach a marked field — a literal, a ``$lookup`` with a literal key, or
every value of a table read with a computed key — is collected with the JSON pointer of
the recipe value it came from. The connector's ``check_references`` then asks the vendor,
read-only, which of them are missing or inactive. Problems are ``FILE:POINTER: message``.
:func:`company_notes` adds what each connection's ``check_company`` reports about the
company itself (QuickBooks: the date its books are closed through).

A reference field whose object form takes more than ``value`` and ``name`` (an account's
``AccountType``, say) lets a recipe declare what the object is beside its id; what each
reference declares there, or ``None`` where it declares nothing, is given to the connector as
``declared``, which confirms it against the company (and may report an object that needs a
declaration it lacks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.engine.runner import drive
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import Problem
from ledgerlink.recipes.mapping import is_expression
from ledgerlink.recipes.paths import pointer_join
from ledgerlink.recipes.recipe import Recipe

ANNOTATION = "x-ledgerlink-ref"


def _resolve(schema: Any, root: Mapping[str, Any]) -> Any:
    while isinstance(schema, Mapping) and "$ref" in schema and str(schema["$ref"]).startswith("#/"):
        target: Any = root
        for part in str(schema["$ref"])[2:].split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


#: a reference as ``check`` sees it: entity, id, recipe pointer, and what the recipe declares
#: about the object beside its id (``None``: its field takes no declaration)
Reference = tuple[str, str, str, Mapping[str, Any] | None]


def _declarable(schema: Any, root: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys besides ``value`` and ``name`` the object form of a reference field takes."""
    schema = _resolve(schema, root)
    if not isinstance(schema, Mapping):
        return ()
    for branch in [schema, *(_resolve(b, root) for b in schema.get("anyOf", ()))]:
        if isinstance(branch, Mapping) and isinstance(branch.get("properties"), Mapping):
            return tuple(k for k in branch["properties"] if k not in ("value", "name"))
    return ()


def _ids(value: Any, entity: str, declarable: tuple[str, ...] = ()
         ) -> list[tuple[str, str, Mapping[str, Any] | None]]:
    """(entity, id, declared) for a literal reference value."""
    if entity == "Entity" and isinstance(value, Mapping):
        kind = value.get("Type")
        return _ids(value.get("EntityRef"), str(kind) if isinstance(kind, str) else "Entity")
    declared = {k: value.get(k) if isinstance(value, Mapping) else None
                for k in declarable} if declarable else None
    if isinstance(value, str) and value:
        return [(entity, value, declared)]
    if isinstance(value, Mapping) and isinstance(value.get("value"), str):
        return [(entity, value["value"], declared)]
    return []


def _from_template(template: Any, entity: str, lookups: Mapping[str, Any], pointer: str,
                   declarable: tuple[str, ...]) -> list[Reference]:
    """(entity, id, pointer, declared) for every id ``template`` can produce."""
    if not is_expression(template):
        return [(e, i, pointer, d) for e, i, d in _ids(template, entity, declarable)]
    out = []
    if "$lookup" in template and template["$lookup"] in lookups:
        table = lookups[template["$lookup"]]
        key = template.get("key")
        rows = [str(key)] if not is_expression(key) and str(key) in table else list(table)
        for row_key in rows:  # a computed key may pick any row of the table
            out += [(e, i, pointer_join("/lookups", template["$lookup"], row_key), d)
                    for e, i, d in _ids(table[row_key], entity, declarable)]
    if "$value" in template:
        out += [(e, i, pointer, d) for e, i, d in _ids(template["$value"], entity, declarable)]
    for branch in ("$default", "then", "else"):
        if branch in template:
            out += _from_template(template[branch], entity, lookups, pointer_join(pointer, branch),
                                  declarable)
    return out


def declared_references(template: Any, schema: Any, root: Mapping[str, Any],
                        lookups: Mapping[str, Any], pointer: str) -> list[Reference]:
    """Every (entity, id, recipe pointer, declared) a step input can send to a reference field."""
    schema = _resolve(schema, root)
    if not isinstance(schema, Mapping):
        return []
    entity = schema.get(ANNOTATION)
    if entity:
        return _from_template(template, entity, lookups, pointer, _declarable(schema, root))
    found: list[Reference] = []
    if is_expression(template):
        if "$each" in template and "items" in schema:
            found += declared_references(template.get("map"), schema["items"], root, lookups,
                                         pointer_join(pointer, "map"))
        for branch in ("then", "else", "$default"):
            if branch in template:
                found += declared_references(template[branch], schema, root, lookups,
                                             pointer_join(pointer, branch))
        return found
    if isinstance(template, Mapping):
        properties = schema.get("properties", {})
        for key, value in template.items():
            if key in properties:
                found += declared_references(value, properties[key], root, lookups,
                                             pointer_join(pointer, key))
    elif isinstance(template, list) and "items" in schema:
        for index, value in enumerate(template):
            # a "$spread" element gives a list spliced into this one: it is read as the array
            spread = is_expression(value) and value.get("$spread") is True
            found += declared_references(value, schema if spread else schema["items"], root, lookups,
                                         pointer_join(pointer, index))
    return found


def references(template: Any, schema: Any, root: Mapping[str, Any], lookups: Mapping[str, Any],
               pointer: str) -> list[tuple[str, str, str]]:
    """Every (entity, id, recipe pointer) a step input can send to a reference field."""
    return [(e, i, where) for e, i, where, _ in declared_references(template, schema, root, lookups, pointer)]


def _merge(declarations: list[Mapping[str, Any] | None]) -> Mapping[str, Any] | None:
    """What the references to one object declare, together: a declared value wins over none."""
    fields = [d for d in declarations if d is not None]
    if not fields:
        return None
    merged: dict[str, Any] = {}
    for d in fields:
        for key, value in d.items():
            if merged.get(key) is None:
                merged[key] = value
    return merged


def check(recipe: Recipe, runtime: Runtime) -> list[Problem]:
    """Ask each step's connection whether every referenced id exists and is active."""
    problems: list[Problem] = []
    wanted: dict[str, dict[tuple[str, str], list[str]]] = {}
    declared: dict[str, dict[tuple[str, str], list[Mapping[str, Any] | None]]] = {}
    for step in recipe.steps:
        template = recipe.raw["steps"][int(step.pointer.split("/")[-1])].get("input", {})
        schema = step.action.input_schema
        for entity, ident, where, says in declared_references(template, schema, schema, recipe.lookups,
                                                              f"{step.pointer}/input"):
            wanted.setdefault(step.connection, {}).setdefault((entity, ident), []).append(where)
            declared.setdefault(step.connection, {}).setdefault((entity, ident), []).append(says)
    for connection_name, refs in wanted.items():
        connection = runtime.connections.connection(connection_name)
        connector = runtime.catalog.connectors[connection.connector]
        if connector.check_references is None:
            continue
        by_entity: dict[str, list[str]] = {}
        for entity, ident in refs:
            by_entity.setdefault(entity, []).append(ident)
        send = runtime.connections.sender(connection_name)
        for entity, ids in sorted(by_entity.items()):
            says = {ident: _merge(declared[connection_name][(entity, ident)]) for ident in ids}
            says = {ident: d for ident, d in says.items() if d is not None}
            # only a connector that may meet declarations is given them (the argument was added)
            extra = {"declared": says} if says else {}
            verdicts = drive(connector.check_references(entity, sorted(set(ids)), connection, **extra),
                             send) or {}
            for ident, message in sorted(verdicts.items()):
                # a verdict may carry its own fix after "; "; else the id or the company is wrong
                what, _, fix = message.partition("; ")
                for where in sorted(set(refs[(entity, ident)])):
                    problems.append(Problem(recipe.file, where, f"{entity} {ident!r} {what} in connection "
                                                                f"{connection_name!r}; "
                                                                f"{fix or 'fix the id or the company'}"))
    return problems


def company_notes(recipe: Recipe, runtime: Runtime) -> list[str]:
    """What each connection the recipe writes through says about its company
    (``Connector.check_company``: e.g. the date its books are closed through), as
    ``connection NAME: line``."""
    notes: list[str] = []
    for connection_name in sorted({step.connection for step in recipe.steps}):
        connection = runtime.connections.connection(connection_name)
        connector = runtime.catalog.connectors[connection.connector]
        if connector.check_company is None:
            continue
        lines = drive(connector.check_company(connection), runtime.connections.sender(connection_name))
        notes += [f"connection {connection_name!r}: {line}" for line in lines or []]
    return notes
