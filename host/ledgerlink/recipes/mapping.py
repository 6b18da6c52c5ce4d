"""Recipe expressions: compiled once when a recipe loads, applied to every event.

A JSON literal means itself. An object with a reserved ``$`` key is an expression:

``{"$path": "$.event.data.object.total"}``
    the value at a JSONPath (jsonpath-ng). A path without wildcards, slices, filters or
    ``..`` gives one value; any other path gives the list of every match.
``{"$lookup": "accounts", "key": "receivable"}``
    a value from the recipe's ``lookups`` tables; ``key`` may be an expression.
``{"$concat": [expr, ...], "separator": ""}``
    the parts written as strings and joined.
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

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError

from ledgerlink.contract import Transform
from ledgerlink.errors import MappingError, Problem, TransformError, quoted


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: the value of a path that found nothing
MISSING: Any = _Missing()

PRIMARY = ("$path", "$lookup", "$concat", "$each", "$if", "$value")
MODIFIERS = ("$default", "$as", "$optional", "$spread")
PRIMARY_PARAMS = {
    "$path": (), "$lookup": ("key",), "$concat": ("separator",), "$each": ("map", "filter"),
    "$if": ("then", "else"), "$value": (),
}
ROOTS = ("event", "steps", "lookups", "recipe")
EACH_ROOTS = ("item", "index")

Evaluator = Callable[[Mapping[str, Any]], Any]


def pointer_join(pointer: str, *parts: Any) -> str:
    """Extend a JSON pointer, escaping ``~`` and ``/`` (RFC 6901)."""
    for part in parts:
        pointer += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return pointer


def suggest(name: str, choices: Any) -> str:
    """``; did you mean "x"?`` when something close exists, else a list of what does."""
    choices = sorted(str(c) for c in choices)
    close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    if close:  # quoted as JSON: a name holding a newline stays on the problem's one line
        return f"; did you mean {json.dumps(close[0], ensure_ascii=False)}?"
    if choices and len(choices) <= 12:
        return "; known: " + ", ".join(c if c.isprintable() else json.dumps(c) for c in choices)
    return ""


@dataclass
class Scope:
    """What an expression may refer to while it is compiled."""

    file: str
    recipe_id: str
    step_id: str
    transforms: Mapping[str, Transform]
    lookups: Mapping[str, Any]
    #: ids of the steps before this one
    earlier_steps: tuple[str, ...] = ()
    #: ids of every step of the recipe
    all_steps: tuple[str, ...] = ()
    timezone: str = "UTC"
    in_each: bool = False
    problems: list[Problem] = field(default_factory=list)

    def problem(self, pointer: str, message: str) -> None:
        self.problems.append(Problem(self.file, pointer, message))

    def fail(self, reason: str, pointer: str, path: str = "") -> MappingError:
        return MappingError(reason, recipe=self.recipe_id, step=self.step_id, pointer=pointer,
                            path=path)


# --- paths ------------------------------------------------------------------------------

_SIMPLE = (jsonpath_ng.Root, jsonpath_ng.Child, jsonpath_ng.Fields, jsonpath_ng.Index)


def _simple_steps(node: Any) -> list[Any] | None:
    """The key/index chain of a path with one value, or None for a multi-value path."""
    if isinstance(node, jsonpath_ng.Root):
        return []
    if isinstance(node, jsonpath_ng.Child):
        left = _simple_steps(node.left)
        if left is None:
            return None
        right = node.right
        if isinstance(right, jsonpath_ng.Fields) and len(right.fields) == 1 and right.fields[0] != "*":
            return left + [right.fields[0]]
        if (isinstance(right, jsonpath_ng.Index) and len(right.indices) == 1
                and isinstance(right.indices[0], int)):
            return left + [right.indices[0]]
        return None
    return None


def _first_fields(node: Any) -> list[str]:
    """The leading plain field names of a path (``$.steps.entry.id`` → steps, entry, id)."""
    chain: list[Any] = []
    while isinstance(node, jsonpath_ng.Child):
        chain.append(node.right)
        node = node.left
    if not isinstance(node, jsonpath_ng.Root):
        return []
    names = []
    for part in reversed(chain):
        if isinstance(part, jsonpath_ng.Fields) and len(part.fields) == 1:
            names.append(part.fields[0])
        else:
            break
    return names


@dataclass(frozen=True)
class CompiledPath:
    text: str
    steps: tuple[Any, ...] | None
    parsed: Any

    @property
    def multi(self) -> bool:
        return self.steps is None

    def get(self, doc: Any) -> Any:
        """The one value (or MISSING), or for a multi-value path the list of matches."""
        if self.steps is None:
            return [m.value for m in self.parsed.find(doc)]
        value = doc
        for step in self.steps:
            if type(value) is str:  # "abc"[0] must not read a character
                return MISSING
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                return MISSING
        return value


def compile_path(text: Any, pointer: str, scope: Scope) -> CompiledPath | None:
    """Parse a JSONPath once; a problem is recorded (and None returned) when it cannot be used."""
    if not isinstance(text, str) or not text.startswith("$"):
        scope.problem(pointer, f"a path must be a JSONPath string starting with \"$\", such as "
                               f"\"$.event.data.object.id\"; got {text!r}")
        return None
    try:
        parsed = jsonpath_ng.ext.parse(text)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # ply raises plain Exception
        scope.problem(pointer, f"JSONPath {text!r} does not parse: {exc}; write it like "
                               f"\"$.event.data.object.lines.data[*].amount\"")
        return None
    names = _first_fields(parsed)
    roots = ROOTS + (EACH_ROOTS if scope.in_each else ())
    if text.strip() != "$":
        if not names:
            scope.problem(pointer, f"path {text!r} must start with one of "
                                   + ", ".join(f"$.{r}" for r in roots))
            return None
        if names[0] not in roots:
            hint = suggest(names[0], roots)
            if names[0] in EACH_ROOTS:
                hint = f"; $.{names[0]} exists only inside \"$each\""
            scope.problem(pointer, f"path {text!r} starts at $.{names[0]}, which does not exist"
                                   f"{hint}")
            return None
        if names[0] == "steps":
            if len(names) < 2:
                scope.problem(pointer, f"path {text!r} must name a step: $.steps.<step id>.<field>")
                return None
            ref = names[1]
            if ref not in scope.earlier_steps:
                if ref == scope.step_id:
                    msg = f"path {text!r} refers to step {ref!r} itself; a step can only read earlier steps"
                elif ref in scope.all_steps:
                    msg = (f"path {text!r} refers to step {ref!r}, which runs later; move that step "
                           f"before {scope.step_id!r} or read something else")
                else:
                    msg = f"path {text!r} refers to unknown step {ref!r}" + suggest(ref, scope.earlier_steps)
                scope.problem(pointer, msg)
                return None
        if names[0] == "lookups" and len(names) >= 2 and names[1] not in scope.lookups:
            scope.problem(pointer, f"path {text!r} reads lookup table {names[1]!r}, which the recipe "
                                   f"does not define" + suggest(names[1], scope.lookups))
            return None
    steps = _simple_steps(parsed)
    return CompiledPath(text, None if steps is None else tuple(steps), parsed)


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
                if value is MISSING or value is None:
                    continue
                if isinstance(value, (dict, list)):
                    raise scope.fail("\"$concat\" can join only strings and numbers, got a "
                                     f"{type(value).__name__}", here)
                out.append(("true" if value else "false") if isinstance(value, bool) else str(value))
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
            from ledgerlink.recipes.matching import compile_condition
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
    from ledgerlink.recipes.matching import compile_condition
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
