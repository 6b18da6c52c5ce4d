"""The API in OpenAPI 3.1, built from the declared routes (:mod:`ledgerlink.web.routes`).

Every answer an operation can give is described: the statuses its view answers itself, and
those every route shares (401 for admin routes, 400/413 for bodies, 404 for path ids, 503
when the database is away). The recipe schema is embedded as components.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledgerlink import __version__
from ledgerlink.config import load_schema
from ledgerlink.web.recipes import RECIPE_ID_PATTERN
from ledgerlink.web.routes import RULE_PARAM, Route

_SHARED_ANSWERS = {
    400: "the body is not JSON, or not UTF-8",
    401: "missing or wrong admin token (WWW-Authenticate: Bearer)",
    404: "nothing at that path",
    413: "the body is too large",
    503: "the database is unavailable; nothing was stored, try again shortly",
}


def _path_parameter(converter: str | None, args: str | None, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if converter == "recipe_id":
        schema = {"type": "string", "pattern": f"^{RECIPE_ID_PATTERN}$"}
    elif converter == "int":
        bounds = dict(part.split("=") for part in (args or "").replace(" ", "").split(",") if part)
        schema = {"type": "integer", "minimum": int(bounds.get("min", 0))}
        if "max" in bounds:
            schema["maximum"] = int(bounds["max"])
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _recipe_components() -> dict[str, Any]:
    """The recipe schema as OpenAPI components: each ``$defs`` entry becomes a component
    (``step`` → ``RecipeStep``) and every reference points there, so it resolves from the
    document's root as tools read it."""
    schema = load_schema("recipe.schema.json")
    defs = schema.pop("$defs", {})
    schema.pop("$schema", None)
    schema.pop("$id", None)
    names = {f"#/$defs/{name}": f"#/components/schemas/Recipe{name[:1].upper()}{name[1:]}" for name in defs}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: names.get(v, v) if k == "$ref" and isinstance(v, str) else rewrite(v)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    components = {"Recipe": rewrite(schema)}
    for ref, target in names.items():
        components[target.rsplit("/", 1)[1]] = rewrite(defs[ref.rsplit("/", 1)[1]])
    return components


def _answer(code: int, text: str, route: Route) -> dict[str, Any]:
    if code < 400:
        types = (route.media_type,) if isinstance(route.media_type, str) else route.media_type
        described = route.response_schema if code == 200 and route.response_schema is not None else {}
        return {"description": text,
                "content": {kind: {"schema": {"type": "string"} if kind.startswith("text/") else described}
                            for kind in types}}
    answer: dict[str, Any] = {"description": text,
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if code == 401 and route.admin:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}
    return answer


def openapi_document(routes: Iterable[Route]) -> dict[str, Any]:
    """The API of ``routes`` in OpenAPI 3.1: every answer each operation can give."""
    paths: dict[str, Any] = {}
    for r in routes:
        path = RULE_PARAM.sub(lambda m: "{" + m.group(3) + "}", r.rule)
        params = [_path_parameter(*m.groups()) for m in RULE_PARAM.finditer(r.rule)]
        params += [{"name": name, "in": "query", "required": False, "description": text, "schema": schema}
                   for name, (text, schema) in r.query.items()]
        codes = dict(r.responses) or {200: "OK"}
        if r.admin:
            codes.setdefault(401, _SHARED_ANSWERS[401])
        if r.request_schema is not None:
            codes.setdefault(400, _SHARED_ANSWERS[400])
            codes.setdefault(413, _SHARED_ANSWERS[413])
        if params and params[0]["in"] == "path":
            codes.setdefault(404, _SHARED_ANSWERS[404])
        if r.uses_store:
            codes.setdefault(503, _SHARED_ANSWERS[503])
        responses = {str(code): _answer(code, text, r) for code, text in sorted(codes.items())}
        for method in r.methods:
            operation: dict[str, Any] = {"summary": r.summary, "operationId": r.operation_id(method),
                                         "parameters": params, "responses": responses}
            if r.admin:
                operation["security"] = [{"bearer": []}]
            if r.request_schema is not None:
                operation["requestBody"] = {"content": {"application/json": {"schema": r.request_schema}}}
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "ledgerlink", "version": __version__,
                 "description": "Recipes move invoicing data into accounting software, exactly once."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["status", "code", "message"],
                    "properties": {"status": {"type": "integer"}, "code": {"type": "string"},
                                   "message": {"type": "string"}, "details": {}}}}},
                **_recipe_components(),
            },
        },
    }
