"""Xero's Accounting API OpenAPI, made strict: the check every body the sandbox reads or writes
passes.

``spec/xero_accounting.yaml`` is Xero's own spec (XeroAPI/Xero-OpenAPI, MIT, licence beside
it; https://github.com/XeroAPI/Xero-OpenAPI). It is loaded once per process (:func:`load`)
and its ``components/schemas`` rewritten as JSON Schema with these changes, so that what Xero
refuses the sandbox refuses too:

- **Strict objects.** Every object schema with ``properties`` gets ``additionalProperties:
  false`` (Xero's spec sets it nowhere, so a misspelt field would pass): ``"Contacts": [{"Nmae":
  …}]`` fails, naming the field.
- **Nullable.** The spec (16.1.0) declares no ``nullable`` field, so ``null`` passes no typed
  field here. Were one declared, ``nullable: true`` would widen its ``type`` to accept ``null``
  as OpenAPI 3.0 means it.
- **Dates.** Fields marked ``x-is-msdate`` (dates) or ``x-is-msdate-time`` (timestamps) are
  strings of two shapes: what a client sends, ISO 8601 (``2026-11-30``,
  ``2026-11-30T10:00:00`` or with an offset, ``…T10:00:00.5-08:00``), and what Xero answers, the Microsoft JSON date ``/Date(1573755038314)/``
  or ``/Date(1573755038314+0000)/`` (https://developer.xero.com/documentation/api/accounting/
  requests-and-responses#json-responses-and-date-formats). Each such field gets a ``pattern``
  accepting exactly those, so ``"30/11/2026"`` fails.
- **Names** are matched as the spec spells them: ``Lineitems`` for ``LineItems`` fails (a
  few of Xero's own examples spell fields so; the tests list them).
- **Formats** (``uuid``, ``double``, ``int32``) are not checked: types are; ids the sandbox
  does not know are refused by the sandbox itself, with Xero's messages.

Numbers arrive as :class:`~decimal.Decimal` (read by :mod:`ledgerlink.jsonio`); they are
JSON numbers to the validator, never floats.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator

#: Xero's files, shipped with the sandbox (see tests/vendor/SOURCES.md)
SPEC_DIR = Path(__file__).resolve().parent / "spec"
ACCOUNTING = SPEC_DIR / "xero_accounting.yaml"
IDENTITY = SPEC_DIR / "xero-identity.yaml"

#: ISO 8601 as clients send it, or Xero's ``/Date(ms[+-hhmm])/`` as Xero answers it
DATE_PATTERN = (r"^(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?"
                r"|/Date\(-?\d+([+-]\d{4})?\)/)$")

_lock = threading.Lock()


def _read(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as stream:
        document = yaml.load(stream, Loader=loader)  # noqa: S506 - a safe loader
    if not isinstance(document, dict):
        raise ValueError(f"{path.name} is not an OpenAPI document")
    return document


def strict(schema: Any) -> Any:
    """``schema`` (an OpenAPI 3.0 schema object, or any part of one) rewritten as described
    in the module docstring; the input is not changed."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()
           if key not in ("example", "default", "externalDocs", "nullable")}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if schema.get("x-is-msdate") or schema.get("x-is-msdate-time"):
        out["pattern"] = DATE_PATTERN
    if schema.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@cache
def _accounting() -> dict[str, Any]:
    with _lock:
        return _read(ACCOUNTING)


@cache
def load() -> dict[str, Any]:
    """The strict ``components/schemas`` of Xero's Accounting spec, by name (read once)."""
    return strict(_accounting()["components"]["schemas"])


@cache
def request_bodies() -> dict[tuple[str, str], tuple[str, Any]]:
    """(METHOD, path as the spec writes it) → (the schema its JSON body is, the spec's example
    of it or None), for every operation with a JSON request body."""
    found = {}
    for path, item in _accounting()["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            ref = ((content or {}).get("schema") or {}).get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                found[(method.upper(), path)] = (ref.rsplit("/", 1)[1], content.get("example"))
    return found


@cache
def identity_schemas() -> dict[str, Any]:
    """The strict ``components/schemas`` of Xero's Identity spec (``Connection``, ``RefreshToken`` …)."""
    return strict(_read(IDENTITY)["components"]["schemas"])


@cache
def _validator(name: str, identity: bool = False) -> Draft4Validator:
    schemas = identity_schemas() if identity else load()
    if name not in schemas:
        raise KeyError(f"Xero's spec has no schema {name!r}")
    # ``$ref: "#/components/schemas/X"`` resolves against this root document
    root = {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "components": {"schemas": schemas}}
    return Draft4Validator(root)


def problems(name: str, instance: Any, *, identity: bool = False) -> list[str]:
    """Why ``instance`` is not a valid ``name`` (a schema of the Accounting spec, or of the
    Identity spec with ``identity=True``): one line per error, ``path: message``, the path
    as Xero's field names joined by dots; ``[]`` when it is valid."""
    found = []
    for error in _validator(name, identity).iter_errors(instance):
        path = ".".join(str(part) for part in error.absolute_path) or "(body)"
        message = error.message
        if error.validator == "pattern" and error.validator_value == DATE_PATTERN:
            message = f"{error.instance!r} is not a date (YYYY-MM-DD or /Date(ms)/)"
        found.append(f"{path}: {message}")
    return sorted(found)


def schema_names() -> list[str]:
    """Every schema name of the Accounting spec."""
    return sorted(load())


__all__ = ["ACCOUNTING", "DATE_PATTERN", "IDENTITY", "SPEC_DIR", "identity_schemas", "load",
           "problems", "request_bodies", "schema_names", "strict"]
