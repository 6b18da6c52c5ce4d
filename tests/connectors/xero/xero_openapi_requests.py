"""Xero's verdict on a request, from its OpenAPI made strict: the conformance suite's
``request_schema``, and the check every test of the connector's requests runs.

Not a test module. The spec is Xero's own (``xero_accounting.yaml``, shipped with the Xero
sandbox, see ``tests/vendor/SOURCES.md``), made strict by the sandbox's
``ledgerlink_sandboxes.xero.spec`` (``additionalProperties: false`` on every object, dates
as Xero reads them). A request is held to its operation: the path must be one the spec
declares for the method, every query parameter and Xero header one the operation declares
(with its type), and the JSON body — as the host serialises it — a valid instance of the
operation's request schema.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import yaml

from ledgerlink import jsonio
from ledgerlink.contract import Request
from ledgerlink.io import outbound
from ledgerlink_sandboxes.xero import spec

#: the part of a URL before the spec's paths (Xero's base is https://api.xero.com/api.xro/2.0)
BASE_PATH = "/api.xro/2.0"
#: headers the spec declares that a request may carry (the others are HTTP's own)
XERO_HEADERS = ("Idempotency-Key", "If-Modified-Since")


@cache
def operations() -> dict[str, dict[str, Any]]:
    """The spec's ``paths``, read once."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with spec.ACCOUNTING.open("rb") as stream:
        document = yaml.load(stream, Loader=loader)  # noqa: S506 - a safe loader
    return document["paths"]


@cache
def _parameters() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with spec.ACCOUNTING.open("rb") as stream:
        return yaml.load(stream, Loader=loader)["components"]["parameters"]  # noqa: S506


def operation(method: str, url: str) -> tuple[str, dict[str, Any]] | None:
    """The spec's path template and operation for a request, or None when none matches."""
    path = urlsplit(url).path
    if BASE_PATH not in path:
        return None
    path = path.split(BASE_PATH, 1)[1]
    # a literal path before a templated one: /Reports/TrialBalance is not /Reports/{ReportID}
    for template, item in sorted(operations().items(), key=lambda pair: pair[0].count("{")):
        pattern = "^" + re.sub(r"\\\{[A-Za-z]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    return None


def _declared(op: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for parameter in op.get("parameters", []):
        if "$ref" in parameter:
            parameter = _parameters()[parameter["$ref"].rsplit("/", 1)[1]]
        out[(parameter["in"], parameter["name"].lower())] = parameter
    return out


def _value(text: str, schema: dict[str, Any]) -> Any:
    """A query string's text as the type its schema declares (``"4"`` an integer; an array
    comma-separated, as Xero's ``IDs``, ``ContactIDs`` and ``Statuses`` are written)."""
    wanted = schema.get("type")
    if wanted == "array":
        return [_value(part, schema.get("items", {})) for part in text.split(",")]
    if wanted == "boolean" and text in ("true", "false"):
        return text == "true"
    if wanted == "integer" and re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return text


def problems(request: Request) -> list[str]:
    """Why Xero would refuse ``request``; empty when its spec accepts it."""
    found = operation(request.method, request.url)
    if found is None:
        return [f"Xero's spec has no operation {request.method} {urlsplit(request.url).path}"]
    template, op = found
    declared = _declared(op)
    issues = []
    for name, value in (request.params or {}).items():
        parameter = declared.get(("query", name.lower()))
        if parameter is None:
            issues.append(f"query: {template} declares no parameter {name!r}")
            continue
        schema = parameter.get("schema", {})
        for error in jsonschema.Draft4Validator(schema).iter_errors(_value(str(value), schema)):
            issues.append(f"query/{name}: {error.message}")
    for name, value in (request.headers or {}).items():
        if name.lower() not in (h.lower() for h in XERO_HEADERS):
            continue
        parameter = declared.get(("header", name.lower()))
        if parameter is None:
            issues.append(f"header: {template} declares no header {name!r}")
            continue
        for error in jsonschema.Draft4Validator(parameter.get("schema", {})).iter_errors(value):
            issues.append(f"header/{name}: {error.message}")
    body_spec = spec.request_bodies().get((request.method.upper(), template))
    if request.json is not None:
        if body_spec is None:
            return issues + [f"{template}: {request.method} takes no JSON body"]
        sent = jsonio.loads(outbound.build(request, {}).content)
        issues += [f"body/{problem}" for problem in spec.problems(body_spec[0], sent)]
    elif body_spec is not None and request.method in ("PUT", "POST"):
        issues.append(f"{template}: {request.method} needs a {body_spec[0]} body")
    return issues


__all__ = ["operation", "operations", "problems"]
