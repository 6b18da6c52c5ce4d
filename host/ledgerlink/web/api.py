"""The HTTP API: thin views over the runtime. Every error has the one JSON error shape.

Routes are declared once in :data:`ROUTES`; the Flask rules and ``/openapi.json`` are both
built from that table, so the description cannot miss a route.
"""

from __future__ import annotations

import hmac
import math
import os
import re
import threading

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response as FlaskResponse, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from ledgerlink import __version__, jsonio
from ledgerlink.contract import IncomingEvent
from ledgerlink.config import load_schema
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.errors import (ConfigError, EventError, InvalidRequest, LedgerlinkError, Problem, RecipeError,
                               SignatureError, error_body, error_body_for)
from ledgerlink.recipes.recipe import Recipe, check_recipe

#: the largest run id (and recipe version) the database's INTEGER columns hold
MAX_ID = 2_147_483_647
#: a recipe id as a file name: what recipe.schema.json allows, its pattern unanchored and its
#: reserved id ("reload", a route of its own) excluded, so the two cannot drift apart
_ID_SCHEMA = load_schema("recipe.schema.json")["properties"]["id"]
RECIPE_ID_PATTERN = (f"(?!{re.escape(_ID_SCHEMA['not']['const'])}(?![a-z0-9_-]))"
                     f"{_ID_SCHEMA['pattern'].removeprefix('^').removesuffix('$')}")
RECIPE_ID = re.compile(RECIPE_ID_PATTERN)
RUN_STATUSES = ("pending", "running", "retrying", "succeeded", "failed", "dead", "paused", "undone")


class RecipeIdConverter(BaseConverter):
    """``<recipe_id:…>``: only a recipe id routes to a recipe, so no other text names a file."""

    regex = RECIPE_ID_PATTERN


bp = Blueprint("ledgerlink", __name__)
# before any rule is added to the app, which reads its converters then
bp.record_once(lambda state: state.app.url_map.converters.setdefault("recipe_id", RecipeIdConverter))


def runtime():
    return current_app.config["LEDGERLINK_RUNTIME"]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> FlaskResponse:
    return FlaskResponse(jsonio.dumps(data), status=status, mimetype="application/json", headers=headers)


def error(status: int, code: str, message: str, details: Any = None,
          headers: dict[str, str] | None = None) -> FlaskResponse:
    return json_response(error_body(status, code, message, details), status, headers)


def ledgerlink_error(exc: LedgerlinkError, status: int | None = None) -> FlaskResponse:
    body = error_body_for(exc)
    status = status or exc.status
    body["error"]["status"] = status
    return json_response(body, status)


def bearer_is(*names: str) -> bool:
    """True when the request's Bearer token is the one configured under any of ``names``
    (app config keys); compared in constant time, and never true for an unset token."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    matches = [hmac.compare_digest(given.encode(), expected.encode())
               for expected in (current_app.config.get(name) or "" for name in names) if expected]
    return any(matches)


def require_admin() -> FlaskResponse | None:
    """Bearer token check in constant time; None when allowed."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if not current_app.config.get("LEDGERLINK_ADMIN_TOKEN"):
        return error(401, "unauthorized", "admin routes are disabled: set LEDGERLINK_ADMIN_TOKEN on the server",
                     headers=challenge)
    if not bearer_is("LEDGERLINK_ADMIN_TOKEN"):
        return error(401, "unauthorized", "send the admin token as Authorization: Bearer <token>",
                     headers=challenge)
    return None


def body_json() -> Any:
    raw = request.get_data(cache=False)
    if not raw:
        return {}
    try:
        return jsonio.loads(raw)
    except jsonio.JSONDecodeError as exc:
        raise EventError(f"request body is not valid JSON at line {exc.line}, column {exc.column}: {exc.msg}") from None
    except UnicodeDecodeError:
        raise EventError("request body is not UTF-8 JSON") from None


# --- route table ---------------------------------------------------------------------------

@dataclass
class Route:
    rule: str
    methods: tuple[str, ...]
    view: Callable[..., Any]
    summary: str
    admin: bool = True
    request_schema: dict[str, Any] | None = None
    #: query parameter → (description, JSON Schema of its value)
    query: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    #: every status the view itself answers → what it means; openapi_document() adds the
    #: answers every route shares (401 for admin routes, 400/413 for bodies, 404 for path ids, 503)
    responses: dict[int, str] = field(default_factory=dict)


ROUTES: list[Route] = []


def route(rule: str, methods: tuple[str, ...], summary: str, admin: bool = True, **kw: Any):
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append(Route(rule, methods, view, summary, admin, **kw))
        return view
    return decorate


# --- webhooks ------------------------------------------------------------------------------

@route("/webhooks/<connection>", ("POST",), "Receive a webhook; answered 2xx only once stored.", admin=False,
       responses={200: "stored (or a duplicate)", 401: "signature does not verify", 400: "unusable body",
                  404: "unknown connection", 413: "body too large", 415: "not JSON"})
def webhook(connection: str):
    rt = runtime()
    limit = rt.settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return error(413, "body_too_large", f"webhook bodies are limited to {limit} bytes")
    content_type = (request.mimetype or "").lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return error(415, "unsupported_media_type",
                     f"webhooks must be sent as application/json, not {content_type or 'no content type'}")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return error(413, "body_too_large", f"webhook bodies are limited to {limit} bytes")
    if connection not in rt.config.connections and connection not in rt.catalog.connectors:
        return error(404, "unknown_connection", f"no connection named {connection!r} is configured")
    try:
        result = rt.receive(connection, request.headers, body)
    except SignatureError as exc:
        return ledgerlink_error(exc, 401)
    except EventError as exc:
        return ledgerlink_error(exc, 400)
    except ConfigError as exc:
        return ledgerlink_error(exc, 400)
    return json_response(result, 200)


# --- recipes -------------------------------------------------------------------------------

def _recipe_summary(recipe) -> dict[str, Any]:
    return {"id": recipe.id, "version": recipe.version, "description": recipe.description,
            "trigger": recipe.trigger.name, "enabled": recipe.enabled, "file": recipe.file,
            "steps": [{"id": s.id, "action": s.action.name, "connection": s.connection} for s in recipe.steps]}


@route("/api/recipes", ("GET",), "List the active recipes.", responses={200: "the active recipes"})
def list_recipes():
    rt = runtime()
    return json_response({"recipes": [_recipe_summary(r) for r in sorted(rt.registry.active().values(),
                                                                          key=lambda r: r.id)],
                          "generation": rt.registry.generation})


@route("/api/recipes/<recipe_id:recipe_id>", ("GET",), "One active recipe, as written.",
       responses={200: "the recipe, with its body", 404: "no active recipe of that id"})
def get_recipe(recipe_id: str):
    recipe = runtime().registry.active().get(recipe_id)
    if recipe is None:
        return error(404, "not_found", f"no active recipe {recipe_id!r}")
    return json_response({**_recipe_summary(recipe), "body": recipe.raw})


def _recipes_dir() -> Path:
    rt = runtime()
    if rt.registry.directory is None:
        raise ConfigError("this server was started without --recipes; recipes cannot be written")
    return rt.registry.directory


#: one change to the recipes folder at a time, so a rollback never undoes another change
_RECIPE_WRITES = threading.Lock()


def _put_file(path: Path, data: bytes | None) -> None:
    """Replace ``path`` with ``data`` atomically (``None`` removes it); no temporary file stays."""
    if data is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _change_recipe_file(path: Path, data: bytes | None) -> list[Recipe]:
    """Write (or remove) one recipe file, then reload every recipe; returns them.

    Any failure, not only a refused recipe, puts the file back as it was before raising: the
    folder never keeps a file that would stop the next reload, or ``serve``, from starting.
    """
    with _RECIPE_WRITES:
        old = path.read_bytes() if path.exists() else None
        try:
            _put_file(path, data)
            return runtime().registry.reload()
        except BaseException:
            _put_file(path, old)
            raise


@route("/api/recipes/<recipe_id:recipe_id>", ("PUT",), "Create or replace a recipe file, then reload atomically.",
       request_schema={"$ref": "#/components/schemas/Recipe"},
       responses={200: "written and loaded", 400: "the server was started without a recipes folder",
                  422: "the recipe has problems (each with its JSON pointer); nothing changed"})
def put_recipe(recipe_id: str):
    rt = runtime()
    raw = body_json()
    if not isinstance(raw, dict) or raw.get("id") != recipe_id:
        return error(422, "invalid_recipe", f"the body must be a recipe whose id is {recipe_id!r}")
    directory = _recipes_dir()
    current = rt.registry.active().get(recipe_id)  # replaced in its own file, whatever its name
    path = Path(current.file) if current is not None else directory / f"{recipe_id}.json"
    recipe, problems = check_recipe(raw, str(path), rt.catalog, rt.config)
    if problems:
        raise RecipeError(problems)
    if path.resolve().parent != directory.resolve():  # the route takes only ids; this is a link
        raise RecipeError([Problem(str(path), "", "is a link out of the recipes folder; replace it with the file")])
    loaded = _change_recipe_file(path, (jsonio.dumps(raw, indent=2) + "\n").encode("utf-8"))
    return json_response(_recipe_summary(next(r for r in loaded if r.id == recipe_id)), 200)


@route("/api/recipes/<recipe_id:recipe_id>", ("DELETE",), "Remove a recipe file and reload; its runs in flight finish.",
       responses={200: "removed", 404: "no active recipe of that id",
                  422: "the other recipes no longer load; nothing changed"})
def delete_recipe(recipe_id: str):
    recipe = runtime().registry.active().get(recipe_id)
    if recipe is None:
        return error(404, "not_found", f"no active recipe {recipe_id!r}")
    _change_recipe_file(Path(recipe.file), None)
    return json_response({"deleted": recipe_id})


@route("/api/recipes/reload", ("POST",), "Reload every recipe file: all valid, or nothing changes (422).",
       responses={200: "every recipe loaded", 422: "the recipes have problems; nothing changed"})
def reload_recipes():
    rt = runtime()
    recipes = rt.registry.reload()
    return json_response({"loaded": [{"id": r.id, "version": r.version} for r in recipes],
                          "generation": rt.registry.generation})


def _event_for(recipe, raw_event: Any) -> IncomingEvent | None:
    if raw_event is None:
        return None
    if not isinstance(raw_event, dict):
        raise EventError("\"event\" must be the event object as the webhook delivers it")
    return IncomingEvent(str(raw_event.get("id", "dry-run")), recipe.trigger.name, raw_event)


@route("/api/recipes/<recipe_id:recipe_id>/dry-run", ("POST",), "Dry-run an active recipe on an event (or its sample).",
       request_schema={"type": "object", "properties": {"event": {"type": "object"}}},
       responses={200: "what the run would send", 400: "the event cannot be used",
                  404: "no active recipe of that id", 422: "the recipe cannot map the event"})
def dry_run_recipe(recipe_id: str):
    rt = runtime()
    recipe = rt.registry.active().get(recipe_id)
    if recipe is None:
        return error(404, "not_found", f"no active recipe {recipe_id!r}")
    data = body_json()
    event = _event_for(recipe, data.get("event") if isinstance(data, dict) else None)
    return json_response(dry_run(recipe, rt.catalog, rt.config, event))


@route("/api/dry-run", ("POST",), "Dry-run an unsaved recipe on an event (or its trigger's sample).",
       request_schema={"type": "object", "required": ["recipe"],
                       "properties": {"recipe": {"$ref": "#/components/schemas/Recipe"}, "event": {"type": "object"}}},
       responses={200: "what the run would send", 400: "the event cannot be used",
                  422: "the recipe has problems, or cannot map the event"})
def dry_run_unsaved():
    rt = runtime()
    data = body_json()
    if not isinstance(data, dict) or "recipe" not in data:
        return error(422, "invalid_request", "send {\"recipe\": {...}, \"event\": {...}}")
    recipe, problems = check_recipe(data["recipe"], "request", rt.catalog, rt.config)
    if problems:
        raise RecipeError(problems)
    return json_response(dry_run(recipe, rt.catalog, rt.config, _event_for(recipe, data.get("event"))))


# --- runs ----------------------------------------------------------------------------------

def _float_arg(name: str) -> float | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidRequest(f"query parameter {name!r} must be a Unix time in seconds")
    return number


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None:
        return default
    number = int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else None
    if number is None or not low <= number <= high:
        raise InvalidRequest(f"query parameter {name!r} must be an integer from {low} to {high}")
    return number


@route("/api/runs", ("GET",), "List runs, newest first; filter by status, recipe and time; paginated.",
       query={"status": ("only runs in this state", {"enum": list(RUN_STATUSES)}),
              "recipe": ("only runs of this recipe id", {"type": "string", "pattern": f"^{RECIPE_ID_PATTERN}$"}),
              "since": ("only runs created at or after this Unix time", {"type": "number"}),
              "until": ("only runs created before this Unix time", {"type": "number"}),
              "limit": ("page size", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
              "after": ("continue after this run id (the page's next)",
                        {"type": "integer", "minimum": 0, "maximum": MAX_ID})},
       responses={200: "a page of runs", 400: "a query parameter is out of its range"})
def list_runs():
    rt = runtime()
    limit = _int_arg("limit", 50, 1, 500)
    after = _int_arg("after", None, 0, MAX_ID)
    status, recipe_id = request.args.get("status"), request.args.get("recipe")
    if status is not None and status not in RUN_STATUSES:
        raise InvalidRequest(f"query parameter 'status' must be one of {', '.join(RUN_STATUSES)}")
    if recipe_id is not None and not RECIPE_ID.fullmatch(recipe_id):
        raise InvalidRequest("query parameter 'recipe' must be a recipe id")
    rows = rt.store.list_runs(status=status, recipe_id=recipe_id, since=_float_arg("since"),
                              until=_float_arg("until"), after_id=after, limit=limit)
    return json_response({"runs": rows, "next": rows[-1]["id"] if len(rows) == limit else None})


@route(f"/api/runs/<int(max={MAX_ID}):run_id>", ("GET",),
       "One run with its event, every step attempt and the links it created.",
       responses={200: "the run", 404: "no run of that id"})
def get_run(run_id: int):
    row = runtime().store.run(run_id)
    if row is None:
        return error(404, "not_found", f"no run {run_id}")
    return json_response(row)


@route(f"/api/runs/<int(max={MAX_ID}):run_id>/replay", ("POST",),
       "Replay a run on its own recipe version or on the latest; as a dry-run first with dry_run=true.",
       request_schema={"type": "object", "properties": {"version": {"enum": ["own", "latest"]},
                                                        "dry_run": {"type": "boolean"}}},
       responses={200: "the dry-run report", 202: "the run is pending again", 404: "no run of that id",
                  409: "the run is not failed or dead, or the event already ran on that version",
                  422: "the body is not an object, or the recipe version no longer loads"})
def replay_run(run_id: int):
    from ledgerlink.engine.operations import replay
    data = body_json()
    version, dry = (data.get("version", "own"), data.get("dry_run", False)) if isinstance(data, dict) else (0, 0)
    if version not in ("own", "latest") or not isinstance(dry, bool):
        return error(422, "invalid_request", "send {\"version\": \"own\"|\"latest\", \"dry_run\": true|false}")
    result = replay(runtime(), run_id, version, dry)
    return json_response(result, 200 if result.get("dry_run") else 202)


# --- connections ---------------------------------------------------------------------------

def connection_rows(rt) -> list[dict[str, Any]]:
    """Every connection with its state: ok, needs_reauth, not_connected (OAuth) or configured."""
    statuses = rt.store.connection_statuses()
    names = sorted(set(rt.config.connections) | set(statuses))
    rows = []
    for name in names:
        try:
            connection = rt.connection(name)
        except LedgerlinkError:
            continue
        connector = rt.catalog.connectors[connection.connector]
        state = statuses.get(name, ("not_connected" if connector.oauth else "configured", None))
        rows.append({"name": name, "connector": connection.connector, "status": state[0],
                     "oauth": connector.oauth is not None, "updated_at": state[1],
                     "paused_runs": rt.store.count_paused(name)})
    return rows


@route("/api/connections", ("GET",), "Connections and their state (ok, needs_reauth, not_connected).",
       responses={200: "every connection"})
def list_connections():
    return json_response({"connections": connection_rows(runtime())})


@route("/oauth/callback", ("GET",), "Where the vendor's consent screen sends the person back; stores the tokens.",
       admin=False, query={"code": ("the authorization code", {"type": "string"}),
                           "state": ("the state ledgerlink issued", {"type": "string"}),
                           "realmId": ("the company id, for vendors that send one", {"type": "string"}),
                           "error": ("why consent was not given", {"type": "string"})},
       responses={200: "connected", 400: "unknown or expired state, or consent refused",
                  502: "the vendor refused to exchange the code"})
def oauth_callback():
    from ledgerlink.io.oauth import complete

    rt = runtime()
    name = complete(rt, dict(request.args))
    rt.forget(name)
    return json_response({"connected": name, "status": "ok"})


@route(f"/api/runs/<int(max={MAX_ID}):run_id>/undo", ("POST",),
       "Void or delete every entity the run created, newest first.",
       responses={200: "undone", 404: "no run of that id",
                  409: "the run has not finished, created entities that cannot be undone, or its "
                       "connection needs reconnecting",
                  422: "the vendor refused a void or delete", 502: "the vendor is failing; try again"})
def undo_run(run_id: int):
    from ledgerlink.engine.operations import undo
    return json_response(undo(runtime(), run_id))


# --- catalog, health, metrics, description -------------------------------------------------

@route("/api/connectors", ("GET",), "The catalog: connectors, triggers, actions, transforms with schemas.",
       responses={200: "the catalog"})
def connectors():
    return json_response(runtime().catalog.as_json())


@route("/healthz", ("GET",), "Up or down: whether the store takes a write; the details with the admin token.",
       admin=False, responses={200: "up (with the admin token: version, store, runs, recipes and warnings)",
                               503: "down: the store cannot take a write (with the admin token: why)"})
def healthz():
    rt = runtime()
    health = rt.store.health()
    if not bearer_is("LEDGERLINK_ADMIN_TOKEN"):  # anyone may ask; only up or down is said
        if not health.writable:
            return error(503, "unhealthy", "down: the store cannot take a write")
        return json_response({"status": "ok"})
    store = {"writable": health.writable, "error": health.error, "since": health.since}
    if not health.writable:
        return error(503, "unhealthy", f"down: the store cannot take a write: {health.error}",
                     {"version": __version__, "store": store})
    try:
        counts: dict[str, int] | None = rt.store.counts()
    except sa.exc.DBAPIError:
        counts = None
    idle = rt.registry.idle_reason()
    return json_response({"status": "ok", "version": __version__, "store": store, "runs": counts,
                          "recipes": len(rt.registry.active()), "warnings": [idle] if idle else []})


@route("/metrics", ("GET",), "Prometheus metrics (text exposition format); Bearer $LEDGERLINK_METRICS_TOKEN "
       "or the admin token (serve --metrics-listen also serves them on an address of their own).",
       admin=False, responses={200: "the metrics", 401: "missing or wrong metrics token"})
def metrics():
    from ledgerlink.web.metrics import render

    if not bearer_is("LEDGERLINK_METRICS_TOKEN", "LEDGERLINK_ADMIN_TOKEN"):
        return error(401, "unauthorized", "send LEDGERLINK_METRICS_TOKEN (or the admin token) as "
                                          "Authorization: Bearer <token>, or scrape serve's --metrics-listen address")
    body, content_type = render(runtime())
    return FlaskResponse(body, status=200, content_type=content_type)


@route("/openapi.json", ("GET",), "This API described in OpenAPI 3.1.", admin=False)
def openapi():
    return json_response(openapi_document())


#: one ``<converter(args):name>`` placeholder of a Flask rule
_RULE_PARAM = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
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
        if route.view is metrics:
            return {"description": text, "content": {"text/plain": {"schema": {"type": "string"}}}}
        return {"description": text, "content": {"application/json": {"schema": {}}}}
    answer: dict[str, Any] = {"description": text,
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if code == 401 and route.admin:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}
    return answer


def openapi_document() -> dict[str, Any]:
    """This API in OpenAPI 3.1, built from :data:`ROUTES`: every answer each operation can give."""
    paths: dict[str, Any] = {}
    for r in ROUTES:
        path = _RULE_PARAM.sub(lambda m: "{" + m.group(3) + "}", r.rule)
        params = [_path_parameter(*m.groups()) for m in _RULE_PARAM.finditer(r.rule)]
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
        if r.view is not openapi:
            codes.setdefault(503, _SHARED_ANSWERS[503])
        responses = {str(code): _answer(code, text, r) for code, text in sorted(codes.items())}
        for method in r.methods:
            operation: dict[str, Any] = {"summary": r.summary, "operationId": f"{r.view.__name__}_{method.lower()}",
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


# --- headers -------------------------------------------------------------------------------

@bp.after_app_request
def security_headers(response: FlaskResponse) -> FlaskResponse:
    """Every answer: never content-sniffed as something else, never kept by a cache or proxy
    (run logs, recipes and metrics are the operator's data)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# --- errors --------------------------------------------------------------------------------

@bp.app_errorhandler(LedgerlinkError)
def handle_ledgerlink_error(exc: LedgerlinkError):
    return ledgerlink_error(exc)


@bp.app_errorhandler(HTTPException)
def handle_http_error(exc: HTTPException):
    code = (exc.name or "error").lower().replace(" ", "_")
    # keep what the exception says in headers (a 405's Allow), but answer in JSON
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error(exc.code or 500, code, exc.description or exc.name, headers=headers)


@bp.app_errorhandler(sa.exc.DBAPIError)
def handle_database_away(exc: sa.exc.DBAPIError):
    # the database is restarting or unreachable: nothing was stored, and a 503 tells the
    # vendor to resend (as Stripe and Intuit do) instead of giving up
    from ledgerlink.store import unavailable

    if unavailable(exc):
        runtime().store.note_unavailable(exc)  # logged once, when it starts
    else:
        current_app.logger.warning("database unavailable: %s", exc.orig)
    return error(503, "database_unavailable", "the database is unavailable; nothing was stored, try again shortly")


@bp.app_errorhandler(Exception)
def handle_unexpected(exc: Exception):
    current_app.logger.exception("unexpected error")
    return error(500, "internal_error", "internal error; the server log has the details")


def register(blueprint: Blueprint) -> None:
    for r in ROUTES:
        view = r.view
        if r.admin:
            view = _admin_only(view)
        blueprint.add_url_rule(r.rule, endpoint=f"{r.view.__name__}_{'_'.join(r.methods).lower()}",
                               view_func=view, methods=list(r.methods))


def _admin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        denied = require_admin()
        if denied is not None:
            return denied
        return view(*args, **kwargs)
    wrapped.__name__ = view.__name__
    return wrapped


register(bp)

