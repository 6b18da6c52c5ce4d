"""Conditions: trigger filters, ``$if`` and ``$each`` filters.

A condition is one of::

    {"path": "$.event.data.object.amount_paid", "gt": 0}     one test on one value
    {"all": [condition, ...]}                                 every one holds
    {"any": [condition, ...]}                                 at least one holds
    {"not": condition}

Tests: ``eq``, ``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``in``, ``not_in``, ``exists``,
``contains``, ``starts_with``, ``ends_with``. The compared value may itself be an
expression. A path that finds nothing makes every test false except ``exists: false``
and ``ne``. Ordering a string against a number is a mapping error, not a silent false.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink.errors import quoted
from ledgerlink.recipes.paths import MISSING, Evaluator, Scope, compile_path, pointer_join, suggest

TESTS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "contains",
         "starts_with", "ends_with")
GROUPS = ("all", "any", "not")

Condition = Callable[[Mapping[str, Any]], bool]
#: compiles a compared value (an expression or a literal) into an evaluator
ValueCompiler = Callable[[Any, str, Scope], Evaluator]


def _number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _equal(a: Any, b: Any) -> bool:
    if _number(a) and _number(b):
        return Decimal(a) == Decimal(b)
    return type(a) is type(b) and a == b or (a is None and b is None)


def build_condition(node: Any, pointer: str, scope: Scope, compile_value: ValueCompiler) -> Condition:
    """Compile a condition once; problems go to ``scope.problems``.

    ``compile_value`` compiles each compared value. Expressions hold conditions (``$if``,
    ``$each`` filters) and conditions hold expressions, so the expression compiler
    (:func:`ledgerlink.recipes.mapping.compile_condition`) hands itself in here rather than
    the two modules importing each other."""
    if not isinstance(node, Mapping):
        scope.problem(pointer, "a condition is an object such as {\"path\": \"$.event.type\", \"eq\": \"invoice.paid\"}")
        return lambda doc: False
    groups = [k for k in node if k in GROUPS]
    if groups:
        if len(node) != 1:
            scope.problem(pointer, f"\"{groups[0]}\" must be the only key of its condition object")
            return lambda doc: False
        key = groups[0]
        if key == "not":
            inner = build_condition(node["not"], pointer_join(pointer, "not"), scope, compile_value)
            return lambda doc: not inner(doc)
        parts = node[key]
        if not isinstance(parts, list) or not parts:
            scope.problem(pointer_join(pointer, key), f"\"{key}\" takes a non-empty list of conditions")
            return lambda doc: False
        compiled = [build_condition(p, pointer_join(pointer, key, i), scope, compile_value) for i, p in enumerate(parts)]
        if key == "all":
            return lambda doc: all(c(doc) for c in compiled)
        return lambda doc: any(c(doc) for c in compiled)

    if "path" not in node:
        scope.problem(pointer, "a condition needs \"path\" and one test (" + ", ".join(TESTS)
                               + "), or one of \"all\", \"any\", \"not\"")
        return lambda doc: False
    path = compile_path(node["path"], pointer_join(pointer, "path"), scope)
    tests = [k for k in node if k != "path"]
    unknown = [k for k in tests if k not in TESTS]
    for key in unknown:
        scope.problem(pointer_join(pointer, key), f"unknown test {key!r}" + suggest(key, TESTS + GROUPS))
    tests = [k for k in tests if k in TESTS]
    if len(tests) != 1:
        if not unknown:
            scope.problem(pointer, f"a condition needs exactly one test ({', '.join(TESTS)}); "
                                   f"found {', '.join(tests) or 'none'}")
        return lambda doc: False
    test = tests[0]
    raw = node[test]
    test_pointer = pointer_join(pointer, test)
    if test == "exists" and not isinstance(raw, bool):
        scope.problem(test_pointer, "\"exists\" takes true or false")
    if test in ("in", "not_in") and not (isinstance(raw, list) or isinstance(raw, Mapping)):
        scope.problem(test_pointer, f"\"{test}\" takes a list of values")
    expected = compile_value(raw, test_pointer, scope)
    if path is None:
        return lambda doc: False
    path_text = path.text

    def compare(doc: Mapping[str, Any]) -> bool:
        value = path.get(doc)
        if test == "exists":
            return (value is not MISSING and value is not None) == raw
        if value is MISSING:
            return test in ("ne", "not_in")
        want = expected(doc)
        if test == "eq":
            return _equal(value, want)
        if test == "ne":
            return not _equal(value, want)
        if test in ("in", "not_in"):
            if not isinstance(want, list):
                raise scope.fail(f"\"{test}\" needs a list, got {type(want).__name__}", test_pointer, path_text)
            found = any(_equal(value, w) for w in want)
            return found if test == "in" else not found
        if test in ("contains", "starts_with", "ends_with"):
            if isinstance(value, list) and test == "contains":
                return any(_equal(v, want) for v in value)
            if not isinstance(value, str) or not isinstance(want, str):
                return False
            return {"contains": want in value, "starts_with": value.startswith(want),
                    "ends_with": value.endswith(want)}[test]
        # ordering
        if value is None:
            return False
        if _number(value) and _number(want):
            a, b = Decimal(value), Decimal(want)
        elif isinstance(value, str) and isinstance(want, str):
            a, b = value, want
        else:
            raise scope.fail(f"cannot compare {type(value).__name__} {quoted(value)} with "
                             f"{type(want).__name__} {quoted(want)} using \"{test}\"", test_pointer, path_text)
        return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[test]

    return compare
