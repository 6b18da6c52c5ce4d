"""Recipe expressions: compiled once when a recipe loads, applied to every event.

A JSON literal means itself. An object with a reserved ``$`` key is an expression:

``{"$path": "$.event.data.object.total"}``
    the value at a JSONPath (jsonpath-ng). A path without wildcards, slices, filters or
    ``..`` gives one value; any other path gives the list of every match.
``{"$lookup": "accounts", "key": "receivable"}``
    a value from the recipe's ``lookups`` tables; ``key`` may be an expression.
``{"$concat": [expr, ...], "separator": ""}``
    the parts written as strings and joined; a part that is a list (of strings and
    numbers, an ``$each`` say) gives each of its elements as a part.
``{"$each": "$.event.data.object.lines.data[*]", "map": expr, "filter": condition}``
    one mapped value per match; inside ``map`` and ``filter`` the paths ``$.item`` and
    ``$.index`` are the current element and its position.
``{"$if": condition, "then": expr, "else": expr}``
    a condition as in a trigger filter (see :mod:`ledgerlink.recipes.matching`).
``{"$value": literal}``
    the literal as it is (also a way to write an object whose keys start with ``$``).

Modifiers on any expression: ``"$default": expr`` when the value is missing or null;
``"$spread": true`` on a list element splices the element's list into the enclosing list
(a debit line, then one credit line per invoice line from ``$each``);
``"$as": "name"`` (or a list of names) applies transforms, whose parameters are the
expression's other keys; ``"$optional": true`` leaves the key (or list element) out when
the value is missing or null. ``$if`` without ``else`` leaves the key out when false.

Paths read the run's document: ``$.event`` (the trigger's event), ``$.steps.<id>``
(outputs of earlier steps), ``$.lookups`` and ``$.recipe`` (id, version). No expression
can run code: there is no ``eval`` and no template engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import Transform
from ledgerlink.errors import TransformError, quoted
from ledgerlink.recipes.matching import Condition, build_condition
from ledgerlink.recipes.paths import MISSING, Evaluator, Scope, compile_path, pointer_join, suggest

PRIMARY = ("$path", "$lookup", "$concat", "$each", "$if", "$value")
MODIFIERS = ("$default", "$as", "$optional", "$spread")
PRIMARY_PARAMS = {
    "$path": (), "$lookup": ("key",), "$concat": ("separator",), "$each": ("map", "filter"),
    "$if": ("then", "else"), "$value": (),
}

# --- expressions ------------------------------------------------------------------------

def is_expression(node: Any) -> bool:
    return isinstance(node, Mapping) and any(isinstance(k, str) and k.startswith("$") for k in node)


def compile_expr(node: Any, pointer: str, scope: Scope) -> tuple[Evaluator, bool]:
    """Compile one recipe value. Returns ``(evaluate, optional)``.

    ``evaluate(doc)`` gives the value, or MISSING when an optional value is absent.
    Problems are added to ``scope.problems``; a node with problems evaluates to MISSING.
    """
    if isinstance(node, Mapping):
        if is_expression(node):
            return _compile_operator(node, pointer, scope)
        fields = []
        for key, value in node.items():
            fields.append((key, *compile_expr(value, pointer_join(pointer, key), scope)))

        def evaluate_object(doc: Mapping[str, Any]) -> Any:
            out = {}
            for key, evaluate, _optional in fields:
                value = evaluate(doc)
                if value is not MISSING:
                    out[key] = value
            return out

        return evaluate_object, False
    if isinstance(node, list):
        items = []
        for i, v in enumerate(node):
            spread = is_expression(v) and v.get("$spread") is True
            items.append((compile_expr(v, pointer_join(pointer, i), scope)[0], spread, pointer_join(pointer, i)))

        def evaluate_list(doc: Mapping[str, Any]) -> Any:
            out: list[Any] = []
            for evaluate, spread, where in items:
                value = evaluate(doc)
                if value is MISSING:
                    continue
                if spread:
                    if not isinstance(value, list):
                        raise scope.fail(f"\"$spread\" needs a list to splice in, got {type(value).__name__}", where)
                    out.extend(value)
                else:
                    out.append(value)
            return out

        return evaluate_list, False
    return (lambda doc, _v=node: _v), False


def _compile_operator(node: Mapping[str, Any], pointer: str, scope: Scope) -> tuple[Evaluator, bool]:
    dollar = [k for k in node if isinstance(k, str) and k.startswith("$")]
    unknown = [k for k in dollar if k not in PRIMARY and k not in MODIFIERS]
    for key in unknown:
        scope.problem(pointer_join(pointer, key), f"unknown operator {key!r}" + suggest(key, PRIMARY + MODIFIERS))
    primaries = [k for k in dollar if k in PRIMARY]
    if len(primaries) != 1:
        if not unknown:
            what = "none" if not primaries else " and ".join(primaries)
            scope.problem(pointer, f"an expression needs exactly one of {', '.join(PRIMARY)}; found {what}")
        return (lambda doc: MISSING), True
    op = primaries[0]
    here = pointer_join(pointer, op)

    # transforms named by $as, and their parameters
    names: list[str] = []
    raw_as = node.get("$as")
    if raw_as is not None:
        names = [raw_as] if isinstance(raw_as, str) else list(raw_as) if isinstance(raw_as, list) else []
        if not names or not all(isinstance(n, str) for n in names):
            scope.problem(pointer_join(pointer, "$as"), "\"$as\" must be a transform name or a list of names")
            names = []
    transforms: list[Transform] = []
    for i, name in enumerate(names):
        where = pointer_join(pointer, "$as") if isinstance(raw_as, str) else pointer_join(pointer, "$as", i)
        if name not in scope.transforms:
            scope.problem(where, f"unknown transform {name!r}" + suggest(name, scope.transforms))
        else:
            transforms.append(scope.transforms[name])
    allowed_params = set(PRIMARY_PARAMS[op])
    transform_params: set[str] = set()
    for t in transforms:
        transform_params |= set(t.params_schema.get("properties", {}))
    params: dict[str, Evaluator] = {}
    for key in node:
        if key.startswith("$") or key in allowed_params:
            continue
        if key in transform_params:
            params[key] = compile_expr(node[key], pointer_join(pointer, key), scope)[0]
        else:
            scope.problem(pointer_join(pointer, key),
                          f"{key!r} is not a parameter of {op}"
                          + (f" or of transform {', '.join(repr(t.name) for t in transforms)}" if transforms else "")
                          + suggest(key, allowed_params | transform_params))
    for t in transforms:
        required = t.params_schema.get("required", [])
        for req in required:
            if req not in node and req not in t.recipe_defaults:
                scope.problem(pointer, f"transform {t.name!r} needs the parameter {req!r}")

    evaluate, optional, path_text = _compile_primary(op, node, here, pointer, scope)

    default: Evaluator | None = None
    if "$default" in node:
        default = compile_expr(node["$default"], pointer_join(pointer, "$default"), scope)[0]
    raw_optional = node.get("$optional", False)
    if not isinstance(raw_optional, bool):
        scope.problem(pointer_join(pointer, "$optional"), "\"$optional\" must be true or false")
    if "$spread" in node and node["$spread"] is not True:
        scope.problem(pointer_join(pointer, "$spread"), "\"$spread\" is true or left out")
    optional = optional or raw_optional is True
    timezone = scope.timezone

    def evaluate_full(doc: Mapping[str, Any]) -> Any:
        value = evaluate(doc)
        if (value is MISSING or value is None) and default is not None:
            value = default(doc)
        if value is MISSING or (value is None and optional):
            if optional:
                return MISSING
            raise scope.fail(f"{path_text or op} found nothing; fix the path or add \"$default\" "
                             f"or \"$optional\": true", pointer, path_text)
        for transform in transforms:
            args = {key: fn(doc) for key, fn in params.items()}
            if "timezone" in transform.recipe_defaults and args.get("timezone") in (None, MISSING):
                args["timezone"] = timezone
            args = {k: v for k, v in args.items() if v is not MISSING}
            try:
                value = transform.apply(value, args)
            except TransformError as exc:
                raise scope.fail(f"transform {transform.name!r}: {exc.reason}", pointer, path_text) from None
        return value

    return evaluate_full, optional


def _compile_primary(op: str, node: Mapping[str, Any], here: str, pointer: str,
                     scope: Scope) -> tuple[Evaluator, bool, str]:
    """The evaluator of the primary operator, whether it may be absent, and its path text."""
    arg = node[op]
    if op == "$path":
        path = compile_path(arg, here, scope)
        if path is None:
            return (lambda doc: MISSING), True, str(arg)
        return path.get, False, path.text

    if op == "$value":
        return (lambda doc, _v=arg: _v), False, ""

    if op == "$lookup":
        if not isinstance(arg, str):
            scope.problem(here, "\"$lookup\" names a table from the recipe's \"lookups\"")
            return (lambda doc: MISSING), True, ""
        if arg not in scope.lookups:
            scope.problem(here, f"unknown lookup table {arg!r}; define it under \"lookups\""
                                + suggest(arg, scope.lookups))
            return (lambda doc: MISSING), True, ""
        table = scope.lookups[arg]
        if "key" not in node:
            scope.problem(pointer, f"\"$lookup\" needs a \"key\" (one of {', '.join(map(str, table)) or 'none'})")
            return (lambda doc: MISSING), True, ""
        raw_key = node["key"]
        key_pointer = pointer_join(pointer, "key")
        if not is_expression(raw_key) and str(raw_key) not in table and "$default" not in node:
            scope.problem(key_pointer, f"lookup table {arg!r} has no key {raw_key!r}"
                                       + suggest(str(raw_key), table))
        key_eval = compile_expr(raw_key, key_pointer, scope)[0]
        where = f"/lookups/{arg}"

        def evaluate_lookup(doc: Mapping[str, Any]) -> Any:
            key = key_eval(doc)
            if key is MISSING or key is None:
                return MISSING
            if isinstance(key, bool):
                key = "true" if key else "false"
            value = table.get(str(key), MISSING)
            if value is MISSING and "$default" not in node:
                raise scope.fail(f"lookup table {arg!r} has no key {quoted(str(key))}; add it to {where} "
                                 f"or give \"$default\"", key_pointer, where)
            return value

        return evaluate_lookup, False, ""

    if op == "$concat":
        if not isinstance(arg, list):
            scope.problem(here, "\"$concat\" takes a list of values")
            return (lambda doc: MISSING), True, ""
        parts = [compile_expr(v, pointer_join(here, i), scope)[0] for i, v in enumerate(arg)]
        separator = node.get("separator", "")
        if not isinstance(separator, str):
            scope.problem(pointer_join(pointer, "separator"), "\"separator\" must be a string")
            separator = ""

        def evaluate_concat(doc: Mapping[str, Any]) -> Any:
            out = []
            for part in parts:
                value = part(doc)
                for each in value if isinstance(value, list) else [value]:
                    if each is MISSING or each is None:
                        continue
                    if isinstance(each, (dict, list)):
                        raise scope.fail("\"$concat\" can join only strings and numbers (or lists of them), "
                                         f"got a {type(each).__name__}", here)
                    out.append(("true" if each else "false") if isinstance(each, bool) else str(each))
            return separator.join(out)

        return evaluate_concat, False, ""

    if op == "$each":
        path = compile_path(arg, here, scope)
        if "map" not in node:
            scope.problem(pointer, "\"$each\" needs a \"map\": the value to make for each element "
                                   "(read it with $.item)")
        inner = Scope(**{**scope.__dict__, "in_each": True, "problems": scope.problems})
        mapper = compile_expr(node.get("map"), pointer_join(pointer, "map"), inner)[0]
        keep = None
        if "filter" in node:
            keep = compile_condition(node["filter"], pointer_join(pointer, "filter"), inner)
        if path is None:
            return (lambda doc: MISSING), True, str(arg)

        def evaluate_each(doc: Mapping[str, Any]) -> Any:
            found = path.get(doc)
            if found is MISSING or found is None:
                return MISSING
            items = found if isinstance(found, list) else [found]
            out = []
            for index, item in enumerate(items):
                local = {**doc, "item": item, "index": index}
                if keep is not None and not keep(local):
                    continue
                value = mapper(local)
                if value is not MISSING:
                    out.append(value)
            return out

        return evaluate_each, False, path.text

    # $if
    test = compile_condition(arg, here, scope)
    if "then" not in node:
        scope.problem(pointer, "\"$if\" needs \"then\" (and may have \"else\")")
    then = compile_expr(node.get("then"), pointer_join(pointer, "then"), scope)[0]
    otherwise = compile_expr(node["else"], pointer_join(pointer, "else"), scope)[0] if "else" in node else None

    def evaluate_if(doc: Mapping[str, Any]) -> Any:
        if test(doc):
            return then(doc)
        return otherwise(doc) if otherwise is not None else MISSING

    return evaluate_if, otherwise is None, ""


def compile_mapping(template: Any, pointer: str, scope: Scope) -> Evaluator:
    """Compile a step's whole ``input`` template; evaluate it with the run's document."""
    evaluate, _ = compile_expr(template, pointer, scope)

    def evaluate_top(doc: Mapping[str, Any]) -> Any:
        value = evaluate(doc)
        return {} if value is MISSING else value

    return evaluate_top


def compile_condition(node: Any, pointer: str, scope: Scope) -> Condition:
    """Compile a condition (trigger filter, step ``when``, ``$if``, ``$each`` filter) whose
    compared values are expressions; problems go to ``scope.problems``."""
    return build_condition(node, pointer, scope, _compile_value)


def _compile_value(node: Any, pointer: str, scope: Scope) -> Evaluator:
    return compile_expr(node, pointer, scope)[0]
