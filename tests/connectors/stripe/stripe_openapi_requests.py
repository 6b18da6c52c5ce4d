"""Stripe's verdict on a request, from its OpenAPI spec: the conformance suite's ``request_schema``.

Not a test module. The operations the connector calls are copied from Stripe's spec
(``tests/vendor/stripe/spec3.2023-08-16.operations.json``, see ``tests/vendor/SOURCES.md``).
A form body (or a query) is read the way Stripe reads it — ``metadata[a]=1`` a hash,
``expand[]=x`` or ``expand[0]=x`` an array, ``true`` a boolean where the schema wants one —
and the result is validated against the operation's request body schema (or each query
parameter's schema). A name the operation does not declare is a problem, as Stripe answers
it with ``parameter_unknown``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from ledgerlink.contract import Request
from vendor_files import STRIPE

OPERATIONS = STRIPE / "spec3.2023-08-16.operations.json"
FORM = "application/x-www-form-urlencoded"


@cache
def operations() -> dict[str, Any]:
    """The ``paths`` of the copied operations."""
    return json.loads(OPERATIONS.read_text("utf-8"))["paths"]


def operation(method: str, url: str) -> tuple[str, dict[str, Any]] | None:
    """The spec's path template and operation for a request, or None when none matches."""
    path = urlsplit(url).path
    for template, item in operations().items():
        pattern = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    return None


def nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Pairs read as Stripe reads them: ``a[b]`` a hash, ``a[]`` an appended array item;
    ``a[0]`` is kept as a hash key ``"0"`` until :func:`coerce` sees the schema wants an array."""
    root: dict[str, Any] = {}
    for name, value in pairs:
        head, _, rest = name.partition("[")
        keys = [head, *(rest[:-1].split("][") if rest else [])]
        node: Any = root
        for key, following in zip(keys, keys[1:] + [None]):
            if following is None:
                node.append(value) if key == "" else node.__setitem__(key, value)
            elif key == "":
                raise ValueError(f"{name}: an array of hashes needs indices")
            else:
                node = node.setdefault(key, [] if following == "" else {})
    return root


def coerce(value: Any, schema: dict[str, Any]) -> Any:
    """``value`` (strings, hashes, lists from a form) turned into what ``schema`` wants,
    where the form's text stands for it (``"true"`` a boolean, ``"12"`` an integer)."""
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            candidate = coerce(value, option)
            if jsonschema.Draft4Validator(option).is_valid(candidate):
                return candidate
        return value
    wanted = schema.get("type")
    if wanted == "boolean" and value in ("true", "false"):
        return value == "true"
    if wanted == "integer" and isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    if wanted == "array" and isinstance(value, dict) and all(k.isdigit() for k in value):
        value = [value[k] for k in sorted(value, key=int)]
    if wanted == "array" and isinstance(value, list):
        return [coerce(item, schema.get("items", {})) for item in value]
    if wanted == "object" and isinstance(value, dict):
        extra = schema.get("additionalProperties")
        return {k: coerce(v, schema.get("properties", {}).get(k, extra if isinstance(extra, dict) else {}))
                for k, v in value.items()}
    return value


def _errors(schema: dict[str, Any], instance: Any, where: str) -> list[str]:
    return [f"{where}/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
            for error in jsonschema.Draft4Validator(schema).iter_errors(instance)]


def problems(request: Request) -> list[str]:
    """Why Stripe would refuse ``request``'s body or query; empty when it would accept them."""
    found = operation(request.method, request.url)
    if found is None:
        return [f"Stripe's spec has no operation {request.method} {urlsplit(request.url).path}"]
    template, spec = found
    if request.method == "POST":
        if request.json is not None or request.form is None:
            return [f"{template}: Stripe takes a {FORM} body (Request.form)"]
        schema = spec["requestBody"]["content"][FORM]["schema"]
        return _errors(schema, coerce(nest(list(request.form)), schema), "body")
    declared = {p["name"]: p for p in spec.get("parameters", []) if p["in"] == "query"}
    query = nest(list(request.params.items()))
    issues = [f"query: Stripe declares no parameter {name!r} for {template}"
              for name in query if name not in declared]
    for name, value in query.items():
        if name in declared:
            schema = declared[name]["schema"]
            issues += _errors(schema, coerce(value, schema), f"query/{name}")
    return issues


__all__ = ["OPERATIONS", "coerce", "nest", "operation", "operations", "problems"]
