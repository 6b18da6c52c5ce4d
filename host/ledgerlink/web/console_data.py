"""What the console's pages read, as JSON: a run's links into the vendors' applications, the
health page's hourly series, and a recipe's stored versions and the diff between two.

Thin views over :mod:`ledgerlink.engine.deeplinks`, :mod:`ledgerlink.engine.health_series`
and :mod:`ledgerlink.recipes.text`; admin-only, like the rest of the API.
"""

from __future__ import annotations

from flask import Response as FlaskResponse, request

from ledgerlink.engine.deeplinks import links_of_runs
from ledgerlink.engine.health_series import HOURS, health_series, rejection_reasons
from ledgerlink.errors import InvalidRequest
from ledgerlink.recipes.text import version_diff
from ledgerlink.web.responses import error, json_response, runtime
from ledgerlink.web.routes import ApiBlueprint
from ledgerlink.web.runs import MAX_ID

api = ApiBlueprint("console_data", __name__, operation_prefix="")


def _whole(name: str, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    number = int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else None
    if number is None or not low <= number <= high:
        raise InvalidRequest(f"query parameter {name!r} must be an integer from {low} to {high}")
    return number


@api.operation(f"/api/runs/<int(max={MAX_ID}):run_id>/links", ("GET",),
               "A run's links into the vendors' own applications: the source object its event is about, "
               "then every entity its steps wrote, each as a label and an address the connector built.",
               responses={200: "the links (none when no connector gives one)", 404: "no run of that id"})
def run_links(run_id: int) -> FlaskResponse:
    rt = runtime()
    if not rt.store.run_sources([run_id]):
        return error(404, "not_found", f"no run {run_id}")
    links = links_of_runs(rt, [run_id])[run_id]
    return json_response({"run": run_id, "links": [link.to_json() for link in links]})


@api.operation("/api/health/series", ("GET",),
               "Runs per hour by status (by the hour each was created), webhook deliveries refused per hour "
               "and connection, and the queue now, over the last hours (7 days unless told); the refusals by "
               "connection and reason over the last day and week, and since when the longest-waiting due run "
               "has been due (null: none).",
               query={"hours": ("how many hours, ending with the current one",
                                {"type": "integer", "minimum": 1, "maximum": HOURS, "default": HOURS})},
               responses={200: "the hourly series", 400: "hours is out of its range"})
def get_health_series() -> FlaskResponse:
    hours = _whole("hours", 1, HOURS) or HOURS
    rt = runtime()
    now = rt.clock()
    body = health_series(rt.store, now, hours).to_json()
    body["reasons"] = [reason.to_json() for reason in rejection_reasons(rt.store, now)]
    body["oldest_due"] = rt.store.oldest_due(now)
    return json_response(body)


@api.operation("/api/recipes/<recipe_id:recipe_id>/versions", ("GET",),
               "Every stored version of a recipe, newest first (a version is stored when it is first loaded).",
               responses={200: "the versions", 404: "no version of that recipe was ever loaded"})
def list_recipe_versions(recipe_id: str) -> FlaskResponse:
    versions = runtime().store.recipe_versions(recipe_id)
    if not versions:
        return error(404, "not_found", f"no version of recipe {recipe_id!r} was ever loaded")
    return json_response({"recipe": recipe_id, "versions": versions})


@api.operation("/api/recipes/<recipe_id:recipe_id>/diff", ("GET",),
               "The unified diff between two stored versions of a recipe, both pretty-printed alike "
               "(default: the newest and the one before it).",
               query={"from": ("the older version", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
                      "to": ("the newer version", {"type": "integer", "minimum": 1, "maximum": MAX_ID})},
               responses={200: "the diff (empty when the two read alike)", 400: "a version is not a whole number",
                          404: "the recipe, or one of the versions, was never loaded"})
def diff_recipe_versions(recipe_id: str) -> FlaskResponse:
    store = runtime().store
    stored = [v["version"] for v in store.recipe_versions(recipe_id)]
    new = _whole("to", 1, MAX_ID) or (stored[0] if stored else None)
    old = _whole("from", 1, MAX_ID) or next((v for v in stored if new is not None and v < new), new)
    bodies = {}
    for version in (old, new):
        row = store.recipe_version(recipe_id, version) if version is not None else None
        if row is None:
            return error(404, "not_found", f"recipe {recipe_id!r} has no stored version {version}; "
                                           f"stored: {', '.join(map(str, stored)) or 'none'}")
        bodies[version] = row["body"]
    return json_response({"recipe": recipe_id, "from": old, "to": new,
                          "diff": version_diff(recipe_id, (old, bodies[old]), (new, bodies[new]))})
