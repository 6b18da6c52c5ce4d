"""Views of recipes: list, read, write, remove and reload the recipe files; dry-run a recipe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Response as FlaskResponse
from werkzeug.routing import BaseConverter

from ledgerlink.config import load_schema
from ledgerlink.contract import IncomingEvent
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.errors import EventError, RecipeError
from ledgerlink.recipes.folder import change_recipe_file, write_recipe
from ledgerlink.recipes.recipe import Recipe, check_recipe
from ledgerlink.web.responses import body_json, error, json_response, runtime
from ledgerlink.web.routes import ApiBlueprint

#: a recipe id as a file name: what recipe.schema.json allows, its pattern unanchored and its
#: reserved id ("reload", a route of its own) excluded, so the two cannot drift apart
_ID_SCHEMA = load_schema("recipe.schema.json")["properties"]["id"]
RECIPE_ID_PATTERN = (f"(?!{re.escape(_ID_SCHEMA['not']['const'])}(?![a-z0-9_-]))"
                     f"{_ID_SCHEMA['pattern'].removeprefix('^').removesuffix('$')}")
RECIPE_ID = re.compile(RECIPE_ID_PATTERN)


class RecipeIdConverter(BaseConverter):
    """``<recipe_id:…>``: only a recipe id routes to a recipe, so no other text names a file."""

    regex = RECIPE_ID_PATTERN


api = ApiBlueprint("recipes", __name__, operation_prefix="")
# before any rule is added to the app, which reads its converters then
api.record_once(lambda state: state.app.url_map.converters.setdefault("recipe_id", RecipeIdConverter))


def _recipe_summary(recipe: Recipe) -> dict[str, Any]:
    return {"id": recipe.id, "version": recipe.version, "description": recipe.description,
            "trigger": recipe.trigger.name, "enabled": recipe.enabled, "file": recipe.file,
            "steps": [{"id": s.id, "action": s.action.name, "connection": s.connection} for s in recipe.steps]}


@api.operation("/api/recipes", ("GET",), "List the active recipes.", responses={200: "the active recipes"})
def list_recipes() -> FlaskResponse:
    rt = runtime()
    return json_response({"recipes": [_recipe_summary(r) for r in sorted(rt.registry.active().values(),
                                                                          key=lambda r: r.id)],
                          "generation": rt.registry.generation})


@api.operation("/api/recipes/<recipe_id:recipe_id>", ("GET",), "One active recipe, as written.",
               responses={200: "the recipe, with its body", 404: "no active recipe of that id"})
def get_recipe(recipe_id: str) -> FlaskResponse:
    recipe = runtime().registry.active().get(recipe_id)
    if recipe is None:
        return error(404, "not_found", f"no active recipe {recipe_id!r}")
    return json_response({**_recipe_summary(recipe), "body": recipe.raw})


@api.operation("/api/recipes/<recipe_id:recipe_id>", ("PUT",),
               "Create or replace a recipe file, then reload atomically.",
               request_schema={"$ref": "#/components/schemas/Recipe"},
               responses={200: "written and loaded", 400: "the server was started without a recipes folder",
                          422: "the recipe has problems (each with its JSON pointer); nothing changed"})
def put_recipe(recipe_id: str) -> FlaskResponse:
    raw = body_json()
    if not isinstance(raw, dict) or raw.get("id") != recipe_id:
        return error(422, "invalid_recipe", f"the body must be a recipe whose id is {recipe_id!r}")
    return json_response(_recipe_summary(write_recipe(runtime().registry, raw)), 200)


@api.operation("/api/recipes/<recipe_id:recipe_id>", ("DELETE",),
               "Remove a recipe file and reload; its runs in flight finish.",
               responses={200: "removed", 404: "no active recipe of that id",
                          422: "the other recipes no longer load; nothing changed"})
def delete_recipe(recipe_id: str) -> FlaskResponse:
    recipe = runtime().registry.active().get(recipe_id)
    if recipe is None:
        return error(404, "not_found", f"no active recipe {recipe_id!r}")
    change_recipe_file(runtime().registry, Path(recipe.file), None)
    return json_response({"deleted": recipe_id})


@api.operation("/api/recipes/reload", ("POST",), "Reload every recipe file: all valid, or nothing changes (422).",
               responses={200: "every recipe loaded", 422: "the recipes have problems; nothing changed"})
def reload_recipes() -> FlaskResponse:
    rt = runtime()
    recipes = rt.registry.reload()
    return json_response({"loaded": [{"id": r.id, "version": r.version} for r in recipes],
                          "generation": rt.registry.generation})


def _event_for(recipe: Recipe, raw_event: Any) -> IncomingEvent | None:
    if raw_event is None:
        return None
    if not isinstance(raw_event, dict):
        raise EventError("\"event\" must be the event object as the webhook delivers it")
    return IncomingEvent(str(raw_event.get("id", "dry-run")), recipe.trigger.name, raw_event)


@api.operation("/api/recipes/<recipe_id:recipe_id>/dry-run", ("POST",),
               "Dry-run an active recipe on an event (or its sample).",
               request_schema={"type": "object", "properties": {"event": {"type": "object"}}},
               responses={200: "what the run would send", 400: "the event cannot be used",
                          404: "no active recipe of that id", 422: "the recipe cannot map the event"})
def dry_run_recipe(recipe_id: str) -> FlaskResponse:
    rt = runtime()
    recipe = rt.registry.active().get(recipe_id)
    if recipe is None:
        return error(404, "not_found", f"no active recipe {recipe_id!r}")
    data = body_json()
    event = _event_for(recipe, data.get("event") if isinstance(data, dict) else None)
    return json_response(dry_run(recipe, rt.catalog, rt.config, event))


@api.operation("/api/dry-run", ("POST",), "Dry-run an unsaved recipe on an event (or its trigger's sample).",
               request_schema={"type": "object", "required": ["recipe"],
                               "properties": {"recipe": {"$ref": "#/components/schemas/Recipe"},
                                              "event": {"type": "object"}}},
               responses={200: "what the run would send", 400: "the event cannot be used",
                          422: "the recipe has problems, or cannot map the event"})
def dry_run_unsaved() -> FlaskResponse:
    rt = runtime()
    data = body_json()
    if not isinstance(data, dict) or "recipe" not in data:
        return error(422, "invalid_request", "send {\"recipe\": {...}, \"event\": {...}}")
    recipe, problems = check_recipe(data["recipe"], "request", rt.catalog, rt.config)
    if problems:
        raise RecipeError(problems)
    return json_response(dry_run(recipe, rt.catalog, rt.config, _event_for(recipe, data.get("event"))))
