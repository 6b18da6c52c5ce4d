"""The HTTP API: thin views over the runtime. Every error has the one JSON error shape.

Routes are declared once in :data:`ROUTES`; the Flask rules and ``/openapi.json`` are both
built from that table, so the description cannot miss a route.
"""

from __future__ import annotations

import hmac
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

from . import __version__, jsonio
from .catalog import IncomingEvent
from .config import load_schema
from .dryrun import dry_run
from .errors import (ConfigError, EventError, LedgerlinkError, Problem, RecipeError, SignatureError,
                     error_body, error_body_for)
from .recipes import check_recipe

bp = Blueprint("ledgerlink", __name__)


def runtime():
    return current_app.config["LEDGERLINK_RUNTIME"]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> FlaskResponse:
    return FlaskResponse(jsonio.dumps(data), status=status, mimetype="application/json", headers=headers)


def error(status: int, code: str, message: str, details: Any = None) -> FlaskResponse:
    return json_response(error_body(status, code, message, details), status)


def ledgerlink_error(exc: LedgerlinkError, status: int | None = None) -> FlaskResponse:
    body = error_body_for(exc)
    status = status or exc.status
    body["error"]["status"] = status
    return json_response(body, status)


def require_admin() -> FlaskResponse | None:
    """Bearer token check in constant time; None when allowed."""
    expected = current_app.config.get("LEDGERLINK_ADMIN_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not expected:
        return error(401, "unauthorized", "admin routes are disabled: set LEDGERLINK_ADMIN_TOKEN on the server")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
        return error(401, "unauthorized", "send the admin token as Authorization: Bearer <token>")
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
    query: dict[str, str] = field(default_factory=dict)
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


@route("/api/recipes", ("GET",), "List the active recipes.")
def list_recipes():
    rt = runtime()
    return json_response({"recipes": [_recipe_summary(r) for r in sorted(rt.registry.active().values(),
                                                                          key=lambda r: r.id)],
                          "generation": rt.registry.generation})


@route("/api/recipes/<recipe_id>", ("GET",), "One active recipe, as written.")
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


#: a recipe id as a file name: what recipe.schema.json allows, matched to the end of the text
RECIPE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
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


def _change_recipe_file(path: Path, data: bytes | None) -> None:
    """Write (or remove) one recipe file, then reload every recipe.

    Any failure, not only a refused recipe, puts the file back as it was before raising: the
    folder never keeps a file that would stop the next reload, or ``serve``, from starting.
    """
    with _RECIPE_WRITES:
        old = path.read_bytes() if path.exists() else None
        try:
            _put_file(path, data)
            runtime().registry.reload()
        except BaseException:
            _put_file(path, old)
            raise


@route("/api/recipes/<recipe_id>", ("PUT",), "Create or replace a recipe file, then reload atomically.",
       request_schema={"$ref": "#/components/schemas/Recipe"})
def put_recipe(recipe_id: str):
    rt = runtime()
    raw = body_json()
    if not isinstance(raw, dict) or raw.get("id") != recipe_id:
        return error(422, "invalid_recipe", f"the body must be a recipe whose id is {recipe_id!r}")
    directory = _recipes_dir()
    path = directory / f"{recipe_id}.json"
    recipe, problems = check_recipe(raw, str(path), rt.catalog, rt.config)
    if problems:
        raise RecipeError(problems)
    if not RECIPE_ID.fullmatch(recipe_id) or path.resolve().parent != directory.resolve():
        raise RecipeError([Problem(str(path), "/id", "a recipe id is 1-100 lower-case letters, digits, "
                                                     "'-' and '_', starting with a letter or digit")])
    _change_recipe_file(path, (jsonio.dumps(raw, indent=2) + "\n").encode("utf-8"))
    return json_response(_recipe_summary(rt.registry.active()[recipe_id]), 200)


@route("/api/recipes/<recipe_id>", ("DELETE",), "Remove a recipe file and reload; its runs in flight finish.")
def delete_recipe(recipe_id: str):
    recipe = runtime().registry.active().get(recipe_id)
    if recipe is None:
        return error(404, "not_found", f"no active recipe {recipe_id!r}")
    _change_recipe_file(Path(recipe.file), None)
    return json_response({"deleted": recipe_id})


@route("/api/recipes/reload", ("POST",), "Reload every recipe file: all valid, or nothing changes (422).")
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


@route("/api/recipes/<recipe_id>/dry-run", ("POST",), "Dry-run an active recipe on an event (or its sample).",
       request_schema={"type": "object", "properties": {"event": {"type": "object"}}})
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
                       "properties": {"recipe": {"$ref": "#/components/schemas/Recipe"}, "event": {"type": "object"}}})
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
        return float(value)
    except ValueError:
        raise EventError(f"query parameter {name!r} must be a Unix time in seconds") from None


@route("/api/runs", ("GET",), "List runs, newest first; filter by status, recipe and time; paginated.",
       query={"status": "pending|running|retrying|succeeded|failed|dead", "recipe": "recipe id",
              "since": "Unix time", "until": "Unix time", "limit": "1-500 (default 50)",
              "after": "continue after this run id (from next)"})
def list_runs():
    rt = runtime()
    try:
        limit = max(1, min(500, int(request.args.get("limit", 50))))
        after = int(request.args["after"]) if "after" in request.args else None
    except ValueError:
        return error(400, "invalid_request", "limit and after must be integers")
    rows = rt.store.list_runs(status=request.args.get("status"), recipe_id=request.args.get("recipe"),
                              since=_float_arg("since"), until=_float_arg("until"), after_id=after, limit=limit)
    return json_response({"runs": rows, "next": rows[-1]["id"] if len(rows) == limit else None})


@route("/api/runs/<int:run_id>", ("GET",), "One run with its event, every step attempt and the links it created.")
def get_run(run_id: int):
    row = runtime().store.run(run_id)
    if row is None:
        return error(404, "not_found", f"no run {run_id}")
    return json_response(row)


@route("/api/runs/<int:run_id>/replay", ("POST",),
       "Replay a run on its own recipe version or on the latest; as a dry-run first with dry_run=true.",
       request_schema={"type": "object", "properties": {"version": {"enum": ["own", "latest"]},
                                                        "dry_run": {"type": "boolean"}}})
def replay_run(run_id: int):
    from .service import replay
    data = body_json()
    if not isinstance(data, dict):
        return error(422, "invalid_request", "send {\"version\": \"own\"|\"latest\", \"dry_run\": true|false}")
    result = replay(runtime(), run_id, data.get("version", "own"), bool(data.get("dry_run", False)))
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


@route("/api/connections", ("GET",), "Connections and their state (ok, needs_reauth, not_connected).")
def list_connections():
    return json_response({"connections": connection_rows(runtime())})


@route("/oauth/callback", ("GET",), "Where the vendor's consent screen sends the person back; stores the tokens.",
       admin=False, query={"code": "authorization code", "state": "the state ledgerlink issued",
                           "realmId": "QuickBooks company id"},
       responses={200: "connected", 400: "unknown or expired state, or consent refused"})
def oauth_callback():
    from .oauth import complete

    rt = runtime()
    name = complete(rt, dict(request.args))
    rt.forget(name)
    return json_response({"connected": name, "status": "ok"})


@route("/api/runs/<int:run_id>/undo", ("POST",), "Void or delete every entity the run created, newest first.")
def undo_run(run_id: int):
    from .service import undo
    return json_response(undo(runtime(), run_id))


# --- catalog, health, metrics, description -------------------------------------------------

@route("/api/connectors", ("GET",), "The catalog: connectors, triggers, actions, transforms with schemas.")
def connectors():
    return json_response(runtime().catalog.as_json())


@route("/healthz", ("GET",), "Liveness and database check.", admin=False)
def healthz():
    rt = runtime()
    try:
        counts = rt.store.counts()
    except Exception as exc:
        return error(503, "unhealthy", f"database unavailable: {type(exc).__name__}")
    return json_response({"status": "ok", "version": __version__, "runs": counts,
                          "recipes": len(rt.registry.active())})


@route("/metrics", ("GET",), "Prometheus metrics (text exposition format).", admin=False)
def metrics():
    from .metrics import render
    body, content_type = render(runtime())
    return FlaskResponse(body, status=200, content_type=content_type)


@route("/openapi.json", ("GET",), "This API described in OpenAPI 3.1.", admin=False)
def openapi():
    return json_response(openapi_document())


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for r in ROUTES:
        path = r.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in [p.split("}")[0] for p in path.split("{")[1:]]]
        params += [{"name": name, "in": "query", "required": False, "description": text,
                    "schema": {"type": "string"}} for name, text in r.query.items()]
        responses = {str(code): {"description": text,
                                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                     for code, text in r.responses.items() if code >= 400}
        responses.setdefault("200", {"description": "OK"})
        if r.admin:
            responses["401"] = {"description": "missing or wrong admin token",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
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
                "Recipe": load_schema("recipe.schema.json"),
            },
        },
    }


# --- errors --------------------------------------------------------------------------------

@bp.app_errorhandler(LedgerlinkError)
def handle_ledgerlink_error(exc: LedgerlinkError):
    return ledgerlink_error(exc)


@bp.app_errorhandler(HTTPException)
def handle_http_error(exc: HTTPException):
    code = (exc.name or "error").lower().replace(" ", "_")
    return error(exc.code or 500, code, exc.description or exc.name)


@bp.app_errorhandler(sa.exc.DBAPIError)
def handle_database_away(exc: sa.exc.DBAPIError):
    # the database is restarting or unreachable: nothing was stored, and a 503 tells the
    # vendor to resend (as Stripe and Intuit do) instead of giving up
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

