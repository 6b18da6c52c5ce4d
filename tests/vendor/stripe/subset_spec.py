"""Write the part of Stripe's OpenAPI spec that the tests read, as JSON.

Usage (from the repository root, with Stripe's ``openapi/spec3.yaml`` at the commit named in
``tests/vendor/SOURCES.md``)::

    python tests/vendor/stripe/subset_spec.py spec3.yaml > tests/vendor/stripe/spec3.2023-08-16.schemas.json

The output keeps ``openapi``, ``info`` and every ``components/schemas`` entry reachable through
``$ref`` from :data:`ROOTS`, unchanged; paths and the other components are left out (the whole
spec is 4.2 MB of YAML, the subset about 0.9 MB of JSON that loads in milliseconds).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import yaml

#: the components the trigger schemas and sample events are checked against
ROOTS = ("event", "invoice", "line_item", "credit_note", "credit_note_line_item", "charge", "refund",
         "payout")
PREFIX = "#/components/schemas/"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def subset(spec: dict[str, Any], roots: tuple[str, ...] = ROOTS) -> dict[str, Any]:
    """``spec`` with only the component schemas reachable from ``roots``."""
    schemas = spec["components"]["schemas"]
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for ref in _refs(schemas[name]):
            if not ref.startswith(PREFIX):
                raise SystemExit(f"unexpected $ref {ref!r} in {name}")
            todo.append(ref[len(PREFIX):])
    return {"openapi": spec["openapi"], "info": spec["info"],
            "components": {"schemas": {name: schemas[name] for name in sorted(seen)}}}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(argv[0], "rb") as f:
        spec = yaml.load(f, Loader=loader)
    sys.stdout.write(json.dumps(subset(spec), indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
